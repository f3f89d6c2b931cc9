"""
Code-search evaluation for Kestrel's embedder: the one function, `evaluate`, used by embed_train.py
during training and standalone on any JSONL of {query, code} pairs.

  python3 models/training/embed_eval.py work/embed/pairs-valid.jsonl --ckpt work/embed/runs/tiny/ckpt.pt \
      [--metrics OUT.json]        # without --ckpt: BM25 only
  python3 models/training/embed_eval.py work/embed/pairs-valid.jsonl --vectors work/embed/valid-int8.bin
                                  # an ONNX variant as run in onnxruntime-node (embed_bench.mjs --vectors)

Two protocols, three retrievers, every number from one score matrix per retriever:
  csn    CodeSearchNet: pairs are shuffled (seeded) and cut into groups of 1,000; each query ranks
         its own code among the group's 999 other codes. Incomplete trailing groups are left out
         (a split with fewer than group_size pairs is one smaller group).
  full   each query ranks its code among every code of the split.
  bm25   Okapi BM25 (k1 1.2, b 0.75) over identifier-split tokens: snake_case and camelCase are
         split, lower-cased; the query goes through the same splitter. IDF over the whole split.
  vector cosine of the embedder's unit vectors (query side with the query marker, code with the code marker).
  hybrid reciprocal-rank fusion of the two: 1/(k + rank_bm25) + 1/(k + rank_vector), k = 60, ranks
         taken inside the candidate set being evaluated (the group, or the whole split).
Rank of the right code = 1 + number of other candidates scoring >= it (ties count against the
model), so a retriever that scores everything 0 gets the worst rank, not a lucky one.
Reported: MRR and recall@1/5/10.
"""

import argparse
import json
import os
import re
import sys
from collections import Counter

import numpy as np
from scipy import sparse

HERE = os.path.dirname(os.path.abspath(__file__))

RRF_K = 60
_WORD = re.compile(r'[A-Za-z0-9]+')
_CAMEL = re.compile(r'[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+')


def identifier_tokens(text):
    """'parseHTTPResponse(raw_bytes)' -> ['parse', 'http', 'response', 'raw', 'bytes']."""
    out = []
    for w in _WORD.findall(text):  # '_' is not in the class: snake_case splits here
        out.extend(p.lower() for p in _CAMEL.findall(w))
    return out


class BM25:
    """Okapi BM25 over a fixed document list, as a sparse (docs x terms) weight matrix."""

    def __init__(self, docs_tokens, k1=1.2, b=0.75):
        self.vocab = {}
        rows, cols, tfs = [], [], []
        lengths = np.zeros(len(docs_tokens), dtype=np.float64)
        for i, toks in enumerate(docs_tokens):
            lengths[i] = len(toks)
            for t, c in Counter(toks).items():
                rows.append(i)
                cols.append(self.vocab.setdefault(t, len(self.vocab)))
                tfs.append(c)
        n, V = len(docs_tokens), max(1, len(self.vocab))
        tf = np.asarray(tfs, dtype=np.float64)
        rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
        df = np.bincount(cols, minlength=V)
        idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5))
        avgdl = max(lengths.mean(), 1e-9) if n else 1.0
        w = idf[cols] * tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths[rows] / avgdl))
        self.W = sparse.csr_matrix((w, (rows, cols)), shape=(n, V))

    def scores(self, queries_tokens, docs=None):
        """(Q, N) dense scores; a query term repeated counts once per occurrence. docs: only these documents."""
        rows, cols, vals = [], [], []
        for i, toks in enumerate(queries_tokens):
            for t, c in Counter(toks).items():
                j = self.vocab.get(t)
                if j is not None:
                    rows.append(i)
                    cols.append(j)
                    vals.append(c)
        Q = sparse.csr_matrix((vals, (rows, cols)), shape=(len(queries_tokens), self.W.shape[1]))
        W = self.W if docs is None else self.W[docs]
        return np.asarray((Q @ W.T).todense(), dtype=np.float32)


def ranks_of(S, right):
    """S (Q, N) scores, right (Q,) column of each query's right answer -> 1-based pessimistic ranks (Q,)."""
    s_right = S[np.arange(len(right)), right][:, None]
    return (S >= s_right).sum(axis=1)  # includes the right answer itself, so rank 1 = strictly best


def rank_matrix(S):
    """Per row, the 1-based rank of every column (best = 1; ties broken by column order)."""
    order = np.argsort(-S, axis=1, kind='stable')
    R = np.empty_like(order)
    np.put_along_axis(R, order, np.arange(1, S.shape[1] + 1)[None].repeat(S.shape[0], 0), axis=1)
    return R


def rrf(*score_mats, k=RRF_K):
    return sum(1.0 / (k + rank_matrix(S)) for S in score_mats)


def summarize(ranks):
    ranks = np.asarray(ranks, dtype=np.float64)
    if len(ranks) == 0:
        return {'n': 0}
    return {'mrr': round(float(np.mean(1.0 / ranks)), 4),
            'recall@1': round(float(np.mean(ranks <= 1)), 4),
            'recall@5': round(float(np.mean(ranks <= 5)), 4),
            'recall@10': round(float(np.mean(ranks <= 10)), 4),
            'n': int(len(ranks))}


def evaluate(pairs, embed=None, group_size=1000, seed=0, block=1000):
    """
    pairs: list of dicts with 'query' and 'code'. embed: None (BM25 only) or a function
    (texts, side) -> float array (n, dim) of unit vectors, side in {'query', 'code'}.
    Returns {'pairs', 'groups', 'group_size', 'bm25'|'vector'|'hybrid': {'csn': {...}, 'full': {...}}}.
    """
    n = len(pairs)
    perm = np.random.default_rng(seed).permutation(n)
    pairs = [pairs[i] for i in perm]
    g = group_size if n >= group_size else n
    n_groups = n // g if g else 0
    bm = BM25([identifier_tokens(p['code']) for p in pairs])
    q_toks = [identifier_tokens(p['query']) for p in pairs]
    if embed is not None:
        qv = np.asarray(embed([p['query'] for p in pairs], 'query'), dtype=np.float32)
        cv = np.asarray(embed([p['code'] for p in pairs], 'code'), dtype=np.float32)
    methods = ['bm25'] + (['vector', 'hybrid'] if embed is not None else [])
    ranks = {m: {'csn': [], 'full': []} for m in methods}
    def score(qs, qe, cs, ce):
        """Score matrices of queries qs:qe against codes cs:ce, one per method."""
        mats = {'bm25': bm.scores(q_toks[qs:qe])[:, cs:ce]}
        if embed is not None:
            mats['vector'] = qv[qs:qe] @ cv[cs:ce].T
            mats['hybrid'] = rrf(mats['bm25'], mats['vector'])  # ranks inside this candidate set
        return mats

    for gi in range(n_groups):  # csn: each group is its own candidate set
        gs, ge = gi * g, (gi + 1) * g
        for m, S in score(gs, ge, gs, ge).items():
            ranks[m]['csn'].append(ranks_of(S, np.arange(ge - gs)))
    for s in range(0, n, block):  # full: every code of the split, in blocks of queries
        e = min(n, s + block)
        for m, S in score(s, e, 0, n).items():
            ranks[m]['full'].append(ranks_of(S, np.arange(s, e)))
    out = {'pairs': n, 'groups': n_groups, 'group_size': g, 'seed': seed, 'rank_ties': 'pessimistic'}
    for m in methods:
        out[m] = {p: summarize(np.concatenate(r) if r else []) for p, r in ranks[m].items()}
    return out


def read_pairs(path):
    with open(path, encoding='utf-8') as f:
        return [json.loads(l) for l in f if l.strip()]


def format_table(res):
    lines = [f"{res['pairs']} pairs; csn = {res['groups']} group(s) of {res['group_size']}, full = whole split",
             f"{'':8} {'protocol':8} {'MRR':>7} {'R@1':>7} {'R@5':>7} {'R@10':>7}"]
    for m in ('bm25', 'vector', 'hybrid'):
        for p in ('csn', 'full'):
            if m in res and res[m][p].get('n'):
                r = res[m][p]
                lines.append(f"{m:8} {p:8} {r['mrr']:7.4f} {r['recall@1']:7.4f} {r['recall@5']:7.4f} {r['recall@10']:7.4f}")
    return '\n'.join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('pairs')
    ap.add_argument('--ckpt', default=None, help='embedder checkpoint (embed_train.py); none = BM25 only')
    ap.add_argument('--group_size', type=int, default=1000)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--vectors', default=None, help='embeddings written by embed_bench.mjs --vectors for this '
                    'pairs file (float32 [2, n, dim]: queries, codes), instead of --ckpt')
    ap.add_argument('--metrics', default=None, help='write the result here as JSON')
    args = ap.parse_args()
    pairs = read_pairs(args.pairs)
    embed = None
    if args.vectors:
        vecs = np.fromfile(args.vectors, dtype=np.float32).reshape(2, len(pairs), -1)
        rows = {side: {p[field]: vecs[k, i] for i, p in enumerate(pairs)}
                for k, (side, field) in enumerate((('query', 'query'), ('code', 'code')))}
        embed = lambda texts, side: np.stack([rows[side][t] for t in texts])  # noqa: E731
    elif args.ckpt:
        sys.path[:0] = [HERE, os.path.join(os.path.dirname(HERE), 'common')]
        from embed_data import load_embedder
        embed = load_embedder(args.ckpt)
    res = evaluate(pairs, embed, args.group_size, args.seed)
    res['file'] = os.path.relpath(os.path.abspath(args.pairs), HERE)
    print(format_table(res))
    if args.metrics:
        with open(args.metrics, 'w') as f:
            json.dump(res, f, indent=1)


if __name__ == '__main__':
    main()
