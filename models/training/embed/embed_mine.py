"""
BM25-mined hard negatives for the embedder's contrastive training: for each query of a batch, the
code that BM25 (embed_eval.BM25, identifier-split) ranks highest among a random sub-pool of train
codes, its own code excluded. Such a code shares the query's words but is the wrong answer, which
in-batch negatives (random codes) rarely are; the encoder has to learn more than word overlap.

The pool is a fixed seeded sample of the train pairs (pool_size codes), indexed once and cached in
work/embed/ (identifier-splitting 100k functions takes a minute or two); each step draws sub_pool of
them (seeded by step, so a resumed run mines the same negatives) and scores the batch's queries
against those only: a (batch x sub_pool) sparse product, milliseconds.
"""
import hashlib
import json
import os
import pickle

import numpy as np

from embed_eval import BM25, identifier_tokens


class HardNegativeMiner:
    def __init__(self, pairs_path, cache_dir, pool_size=100_000, seed=0):
        key = hashlib.sha1(f'{os.path.getsize(pairs_path)}:{os.path.getmtime(pairs_path)}:{pool_size}:{seed}'.encode()).hexdigest()[:12]
        cache = os.path.join(cache_dir, f'hardneg-pool-{key}.pkl')
        self.queries, codes = [], []
        with open(pairs_path, encoding='utf-8') as f:
            for line in f:
                r = json.loads(line)
                self.queries.append(r['query'])
                codes.append(r['code'])
        if os.path.exists(cache):
            self.pool, self.bm25 = pickle.load(open(cache, 'rb'))
            return
        n = len(codes)
        self.pool = np.sort(np.random.default_rng(seed).permutation(n)[:min(pool_size, n)])
        self.bm25 = BM25([identifier_tokens(codes[i]) for i in self.pool])
        pickle.dump((self.pool, self.bm25), open(cache + '.tmp', 'wb'))
        os.replace(cache + '.tmp', cache)

    def negatives(self, pair_indices, seed, step, sub_pool=8192):
        """For each pair index, the pair index of its mined negative code (BM25 best of the step's sub-pool)."""
        rng = np.random.default_rng([seed, step, 11])
        sub = rng.choice(len(self.pool), size=min(sub_pool, len(self.pool)), replace=False)
        S = self.bm25.scores([identifier_tokens(self.queries[i]) for i in pair_indices], docs=sub)  # (B, sub_pool)
        own = self.pool[sub][None, :] == np.asarray(pair_indices)[:, None]
        S[own] = -np.inf  # never the query's own code
        best = S.argmax(axis=1)
        return self.pool[sub[best]]
