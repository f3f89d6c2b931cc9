"""
Training batches: document-level fill-in-the-middle (Bavarian et al. 2022), packed sequences.

Each document (a file, or a random window of at most seq_len - 4 tokens of a longer file) is, with
probability fim_rate, cut at two random token boundaries into prefix P, middle M, suffix S and
rearranged; half of those in PSM order, half in SPM order:

  PSM: <fim_prefix> P <fim_suffix> S <fim_middle> M <|endoftext|>
  SPM: <fim_prefix> <fim_suffix> S <fim_middle> P M <|endoftext|>

(the SPM variant of the paper's appendix where P and M are contiguous: while a user types, the
suffix and the start of the prefix stay fixed, so an inference engine keeps them in its KV cache).
Other documents stay plain: D <|endoftext|>. Documents are packed back to back into rows of
seq_len + 1 tokens. Cuts are made on token boundaries, so the three parts tokenize exactly as they
did in the file (nothing is re-tokenized) and the middle is recoverable by moving tokens back.

Batches are a pure function of (split, seed, step): resuming at a step reproduces the same data.
"""

import os

import numpy as np


class Specials:
    def __init__(self, eot, prefix, middle, suffix):
        self.eot, self.prefix, self.middle, self.suffix = eot, prefix, middle, suffix

    @classmethod
    def from_tokenizer(cls, tok):
        return cls(*(tok.token_to_id(t) for t in ('<|endoftext|>', '<fim_prefix>', '<fim_middle>', '<fim_suffix>')))


def fim_transform(doc, rng, sp, fim_rate=0.5, spm_rate=0.5):
    """doc: 1-D int array. Returns (tokens, mode) with mode in 'plain', 'psm', 'spm'; no trailing EOT."""
    if rng.random() >= fim_rate:
        return doc, 'plain'
    i, j = sorted(rng.integers(0, len(doc) + 1, size=2))
    p, m, s = doc[:i], doc[i:j], doc[j:]
    t = lambda x: np.asarray([x], dtype=doc.dtype)
    if rng.random() < spm_rate:
        return np.concatenate([t(sp.prefix), t(sp.suffix), s, t(sp.middle), p, m]), 'spm'
    return np.concatenate([t(sp.prefix), p, t(sp.suffix), s, t(sp.middle), m]), 'psm'


def fim_invert(tokens, sp):
    """Recovers the original document from a transformed one (the invariant the tests check)."""
    tokens = list(tokens)
    if not tokens or tokens[0] != sp.prefix:
        return tokens
    if tokens[1] == sp.suffix:  # SPM
        k = tokens.index(sp.middle)
        s, pm = tokens[2:k], tokens[k + 1:]
        return pm + s
    a, b = tokens.index(sp.suffix), tokens.index(sp.middle)
    return tokens[1:a] + tokens[b + 1:] + tokens[a + 1:b]


class TokenData:
    """Memory-mapped token file plus document offsets, as written by common/tokenize_corpus.mjs."""

    def __init__(self, path_prefix):
        self.tokens = np.memmap(path_prefix + '.bin', dtype=np.uint16, mode='r')
        self.starts = np.fromfile(path_prefix + '.idx', dtype=np.int64)
        self.n_docs = len(self.starts) - 1

    @classmethod
    def from_docs(cls, docs):
        """In-memory variant for tests."""
        self = cls.__new__(cls)
        self.tokens = np.concatenate(docs).astype(np.uint16)
        self.starts = np.concatenate([[0], np.cumsum([len(d) for d in docs])]).astype(np.int64)
        self.n_docs = len(docs)
        return self

    def doc(self, i):
        return np.asarray(self.tokens[self.starts[i]:self.starts[i + 1]], dtype=np.int64)


def pack_row(data, rng, sp, seq_len, fim_rate):
    """One row of seq_len + 1 tokens: random documents, FIM-transformed, EOT-separated."""
    row, n = [], 0
    max_doc = seq_len - 4  # room for three sentinels and the EOT
    while n < seq_len + 1:
        doc = data.doc(int(rng.integers(data.n_docs)))
        if len(doc) == 0:
            continue
        if len(doc) > max_doc:  # long file: a random window of it is the document
            o = int(rng.integers(len(doc) - max_doc + 1))
            doc = doc[o:o + max_doc]
        toks, _ = fim_transform(doc, rng, sp, fim_rate)
        row.append(toks)
        row.append(np.asarray([sp.eot], dtype=np.int64))
        n += len(toks) + 1
    return np.concatenate(row)[:seq_len + 1]


def get_batch_np(data, sp, batch_size, seq_len, seed, step, fim_rate=0.5, rank=0):
    """(x, y) int64 arrays of shape (batch_size, seq_len); deterministic in (seed, step, rank)."""
    rng = np.random.default_rng([seed, step, rank])
    rows = np.stack([pack_row(data, rng, sp, seq_len, fim_rate) for _ in range(batch_size)])
    return np.ascontiguousarray(rows[:, :-1]), np.ascontiguousarray(rows[:, 1:])


def load_split(work, split):
    return TokenData(os.path.join(work, 'data', split))
