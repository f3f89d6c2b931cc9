"""
Token data and batches for Kestrel's embedder, and the embed() used by evaluation and export.

Inputs are  marker + text tokens, truncated (marker included) to 64 tokens for queries and 256 for
code, right-padded with id 0 and attention_mask 0. The markers are added special tokens of the
embedder's tokenizer (embed_export.embed_tokenizer_spec), so the JS side gets the same ids by
prepending the marker string to the text.

Training batches (pure functions of (seed, step), so a resumed run sees the same data):
  pairs  each epoch is a seeded permutation of the train pairs; consecutive windows of
         batch_size * BUCKET pairs are sorted by code length and cut into batches (little padding),
         and those batches are shuffled within the window.
  code   code-only views: a function (documented or not) and two random token windows of it, each
         at least span_min_frac of its tokens, then cut to code_view_len; positives are the two
         views of one function, the other functions of the batch are the negatives.
"""

import hashlib
import json
import os
import pickle

import numpy as np
import torch

from paths import from_training
from embed_export import CODE_MARKER, CODE_MAX_LEN, QUERY_MARKER, QUERY_MAX_LEN, embed_tokenizer_spec, right_pad
from tokenizer import Tokenizer

BUCKET = 32  # batches per length-sorting window


def embed_tokenizer(base_path, cache_dir):
    """The code tokenizer with the type markers added (written once into cache_dir)."""
    spec = embed_tokenizer_spec(json.load(open(base_path, encoding='utf-8')))
    os.makedirs(cache_dir, exist_ok=True)
    path = os.path.join(cache_dir, 'tokenizer-embed.json')
    blob = json.dumps(spec, ensure_ascii=False)
    if not os.path.exists(path) or open(path, encoding='utf-8').read() != blob:
        with open(path, 'w', encoding='utf-8') as f:
            f.write(blob)
    return Tokenizer(path)


def tokenize_file(tok, path, fields, cache_dir):
    """Token ids (lists, no marker, truncated to what any use needs) of fields in a JSONL, cached."""
    key = hashlib.sha1(open(path, 'rb').read() + json.dumps(tok.spec['added_tokens']).encode()
                       + str(len(tok.spec['model']['merges'])).encode()).hexdigest()[:16]
    cache = os.path.join(cache_dir, f'tokens-{os.path.basename(path)}-{key}.pkl')
    if os.path.exists(cache):
        return pickle.load(open(cache, 'rb'))
    limits = {'query': QUERY_MAX_LEN - 1, 'code': 4 * CODE_MAX_LEN}  # code views crop from longer functions
    out = native_tokens(tok, path, fields, cache, limits)
    if out is None:  # no node: the pure-Python BPE (1-2 MB/s)
        out = {f: [] for f in fields}
        with open(path, encoding='utf-8') as fh:
            for line in fh:
                r = json.loads(line)
                for f in fields:
                    out[f].append(np.asarray(tok.encode(r[f])[:limits[f]], dtype=np.int32))
    pickle.dump(out, open(cache + '.tmp', 'wb'))
    os.replace(cache + '.tmp', cache)
    return out


def native_tokens(tok, path, fields, prefix, limits):
    """Token ids by tokenize_pairs.mjs (npm tokenizers, native), or None when node cannot run it."""
    import shutil
    import subprocess
    node = shutil.which('node')
    if node is None:
        return None
    base = prefix + '.tokenizer.json'  # the tokenizer without the markers (the markers never occur in text)
    spec = json.loads(json.dumps(tok.spec))
    spec['added_tokens'] = [t for t in spec['added_tokens'] if t['content'] not in (QUERY_MARKER, CODE_MARKER)]
    with open(base, 'w', encoding='utf-8') as f:
        json.dump(spec, f, ensure_ascii=False)
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'tokenize_pairs.mjs')
    try:
        subprocess.run([node, script, '--input', path, '--fields', ','.join(fields), '--tokenizer', base,
                        '--out', prefix], check=True, cwd=os.path.dirname(script))
    except (OSError, subprocess.CalledProcessError) as e:
        print(f'native tokenization failed ({e}); using the Python tokenizer')
        return None
    out = {}
    for f in fields:
        ids = np.fromfile(f'{prefix}.{f}.bin', dtype=np.uint16).astype(np.int32)
        starts = np.fromfile(f'{prefix}.{f}.idx', dtype=np.int64)
        out[f] = [ids[s:min(e, s + limits[f])] for s, e in zip(starts[:-1], starts[1:])]
        os.remove(f'{prefix}.{f}.bin')
        os.remove(f'{prefix}.{f}.idx')
    os.remove(base)
    return out


def pad(rows, marker_id, max_len):
    """rows: token arrays without marker -> (ids, mask) LongTensors (B, T)."""
    ids, mask = right_pad([np.concatenate([[marker_id], r[:max_len - 1]]) for r in rows])
    return torch.from_numpy(ids), torch.from_numpy(mask)


def pair_batch_indices(code_lens, batch_size, seed, step):
    """Indices of the pairs in batch `step` (length-bucketed epochs, see the module docstring)."""
    n = len(code_lens)
    per_epoch = n // batch_size
    epoch, b = divmod(step, per_epoch)
    window = batch_size * BUCKET
    perm = np.random.default_rng([seed, epoch]).permutation(n)[:per_epoch * batch_size]
    w0 = (b // BUCKET) * window
    win = perm[w0:w0 + window]
    win = win[np.argsort(code_lens[win], kind='stable')]
    batches = [win[i:i + batch_size] for i in range(0, len(win), batch_size)]
    order = np.random.default_rng([seed, epoch, b // BUCKET]).permutation(len(batches))
    return batches[order[b % BUCKET]] if b % BUCKET < len(batches) else batches[-1]


def code_views(code_tokens, batch_size, seed, step, span_min_frac, view_len):
    """Two random windows of each of batch_size random functions -> (views_a, views_b) token lists."""
    rng = np.random.default_rng([seed, step, 7])
    idx = rng.choice(len(code_tokens), size=batch_size, replace=False)
    a, b = [], []
    for i in idx:
        t = code_tokens[i]
        n = len(t)
        for out in (a, b):
            m = int(rng.integers(max(1, int(np.ceil(span_min_frac * n))), n + 1))
            m = min(m, view_len)
            s = int(rng.integers(0, n - m + 1))
            out.append(t[s:s + m])
    return a, b


class Embedder:
    """embed(texts, side) -> unit vectors (n, dim) as numpy; side in {'query', 'code'}."""

    def __init__(self, model, tok, batch_size=64):
        self.model, self.tok, self.batch_size = model, tok, batch_size
        self.marker = {'query': tok.token_to_id(QUERY_MARKER), 'code': tok.token_to_id(CODE_MARKER)}
        self.max_len = {'query': QUERY_MAX_LEN, 'code': CODE_MAX_LEN}

    def embed_tokens(self, rows, side):
        was_training = self.model.training
        self.model.eval()
        order = np.argsort([len(r) for r in rows], kind='stable')  # similar lengths together: less padding
        out = np.zeros((len(rows), self.model.cfg.n_embd), dtype=np.float32)
        with torch.no_grad():
            for s in range(0, len(rows), self.batch_size):
                sel = order[s:s + self.batch_size]
                ids, mask = pad([rows[i] for i in sel], self.marker[side], self.max_len[side])
                out[sel] = self.model(ids, mask).numpy()
        self.model.train(was_training)
        return out

    def __call__(self, texts, side):
        limit = self.max_len[side] - 1
        return self.embed_tokens([np.asarray(self.tok.encode(t)[:limit]) for t in texts], side)


def load_embedder(ckpt_path):
    from embed_model import build_encoder
    ckpt = torch.load(ckpt_path, map_location='cpu')
    model = build_encoder(ckpt['model_args'])
    model.load_state_dict(ckpt['model'])
    tok = embed_tokenizer(from_training(ckpt['config']['tokenizer']), os.path.dirname(os.path.abspath(ckpt_path)))
    return Embedder(model, tok)
