"""
Byte-level BPE encoder/decoder for Kestrel's tokenizer.json.

Uses the Hugging Face `tokenizers` library when it is importable (the accelerator machine) and
otherwise a small pure-Python implementation of the same algorithm (GPT-2 byte-level BPE, no
prefix space, added tokens split out first), so the recipe also runs where only Debian's Python is
available. test/unit/tokenizer.test.ts checks that these ids equal @huggingface/tokenizers' ids.
"""

import json
from functools import lru_cache

import regex

# the GPT-2 pre-tokenizer pattern that tokenizers' ByteLevel(use_regex=True) applies
GPT2_PATTERN = regex.compile(
    r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")

EOT = '<|endoftext|>'
FIM_PREFIX = '<fim_prefix>'
FIM_MIDDLE = '<fim_middle>'
FIM_SUFFIX = '<fim_suffix>'


def bytes_to_unicode():
    """The GPT-2 byte -> printable character table used by ByteLevel."""
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + \
        list(range(ord('®'), ord('ÿ') + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


class PyBPE:
    def __init__(self, spec):
        m = spec['model']
        self.vocab = m['vocab']
        self.inv = {i: t for t, i in self.vocab.items()}
        merges = [tuple(x) if isinstance(x, list) else tuple(x.split(' ')) for x in m['merges']]
        self.ranks = {pair: i for i, pair in enumerate(merges)}
        self.added = {t['content']: t['id'] for t in spec['added_tokens']}
        for c, i in self.added.items():
            self.inv[i] = c
        self.b2u = bytes_to_unicode()
        self.u2b = {u: b for b, u in self.b2u.items()}
        alts = sorted(self.added, key=len, reverse=True)
        self.added_re = regex.compile('(' + '|'.join(regex.escape(a) for a in alts) + ')') if alts else None
        self._bpe = lru_cache(maxsize=1 << 18)(self._bpe_word)

    def _bpe_word(self, word):
        parts = list(word)
        while len(parts) > 1:
            best, bi = None, -1
            for i in range(len(parts) - 1):
                r = self.ranks.get((parts[i], parts[i + 1]))
                if r is not None and (best is None or r < best):
                    best, bi = r, i
            if best is None:
                break
            a, b = parts[bi], parts[bi + 1]
            # merge every occurrence of the best pair, left to right (as tokenizers does)
            out, i = [], 0
            while i < len(parts):
                if i < len(parts) - 1 and parts[i] == a and parts[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(parts[i])
                    i += 1
            parts = out
        return tuple(self.vocab[p] for p in parts)

    def _encode_plain(self, text, out):
        for piece in GPT2_PATTERN.findall(text):
            out.extend(self._bpe(''.join(self.b2u[b] for b in piece.encode('utf-8'))))

    def encode(self, text):
        out = []
        if self.added_re is None:
            self._encode_plain(text, out)
            return out
        for i, chunk in enumerate(self.added_re.split(text)):
            if i % 2:
                out.append(self.added[chunk])
            elif chunk:
                self._encode_plain(chunk, out)
        return out

    def decode(self, ids):
        data = bytearray()
        for i in ids:
            t = self.inv[i]
            if i in self.added.values() and t in self.added:
                data.extend(t.encode('utf-8'))
            else:
                data.extend(self.u2b[c] for c in t)
        return data.decode('utf-8', errors='replace')


class Tokenizer:
    """encode(text) -> list[int], decode(ids) -> str, token_to_id(str), vocab_size."""

    def __init__(self, path, backend='auto'):
        self.spec = json.load(open(path, encoding='utf-8'))
        self.hf = None
        if backend in ('auto', 'hf'):
            try:
                import tokenizers  # only on machines that have it
                self.hf = tokenizers.Tokenizer.from_file(path)
            except ImportError:
                if backend == 'hf':
                    raise
        self.py = PyBPE(self.spec)
        self.vocab_size = len(self.py.inv)

    def encode(self, text):
        if self.hf is not None:
            return self.hf.encode(text, add_special_tokens=False).ids
        return self.py.encode(text)

    def decode(self, ids):
        if self.hf is not None:
            return self.hf.decode(ids, skip_special_tokens=False)
        return self.py.decode(ids)

    def token_to_id(self, t):
        return self.py.added.get(t, self.py.vocab.get(t))


# -----------------------------------------------------------------------------
# round-trip fixture for test/unit/tokenizer.test.ts: texts and the ids this module produces

FIXTURE_TEXTS = [
    'def add(a, b):\n    """Sum."""\n    if a:\n        return a + b\n    return b\n',
    'class T:\n\tdef f(self):\n\t\tpass\n\n\n\n',
    'x = 1\r\ny = 2\r\nif x:\r\n    print(y)\r\n',
    "name = 'naïve café — 日本語 Ελληνικά Привет'\n",
    'msg = "👩\u200d💻 🐍 🇫🇷 ✓"  # emoji\n',
    '<fim_prefix>def f(x):\n    return <fim_suffix>\n<fim_middle>x * 2<|endoftext|>',
    'trailing   \n   \n\x0c\x0b\x00\x7f end',
    '    ' * 12 + 'deeply_nested()\n' + ' ' * 37 + 'odd\n',
    "s = f'{value!r:>{width}}' + r'\\d+\\s*' + b'\\x00'.hex()\n",
]


def _random_text(seed, n=300):
    import random
    r = random.Random(seed)
    pools = [(0x20, 0x7e), (0x09, 0x0d), (0xa0, 0x2ff), (0x370, 0x4ff), (0x4e00, 0x4fff), (0x1f300, 0x1f64f)]
    out = []
    for _ in range(n):
        lo, hi = r.choice(pools)
        out.append(chr(r.randint(lo, hi)))
    return ''.join(out)


def write_fixture(tokenizer_path, out_path):
    tok = Tokenizer(tokenizer_path, backend='py')
    texts = FIXTURE_TEXTS + [_random_text(s) for s in range(3)]
    cases = []
    for t in texts:
        ids = tok.encode(t)
        assert tok.decode(ids) == t, repr(t)
        cases.append({'text': t, 'ids': ids})
    with open(out_path, 'w', encoding='utf-8') as f:
        json.dump({'tokenizer_sha256': __import__('hashlib').sha256(open(tokenizer_path, 'rb').read()).hexdigest(),
                   'cases': cases}, f, ensure_ascii=True, indent=0)
    print(f'wrote {out_path}: {len(cases)} texts')


if __name__ == '__main__':
    import sys
    write_fixture(sys.argv[1], sys.argv[2])
