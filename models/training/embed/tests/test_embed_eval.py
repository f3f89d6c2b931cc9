"""The evaluation (embed_eval.evaluate) on hand-made cases with known ranks."""

import numpy as np
import pytest

from embed_eval import BM25, evaluate, identifier_tokens, ranks_of, rrf


def test_identifier_split():
    assert identifier_tokens('parseHTTPResponse(raw_bytes, maxLen=3)') == \
        ['parse', 'http', 'response', 'raw', 'bytes', 'max', 'len', '3']


def test_ranks_are_pessimistic_on_ties():
    S = np.array([[0.9, 0.1, 0.9], [0.0, 0.0, 0.0]])
    assert list(ranks_of(S, np.array([0, 1]))) == [2, 3]


def fixed_embedder(table):
    def embed(texts, side):
        return np.stack([table[side][t] for t in texts])
    return embed


def test_known_mrr():
    # three pairs; the query vectors are built so that the right code ranks 1, 2 and 3
    e = np.eye(3, dtype=np.float32)
    codes = {'c0': e[0], 'c1': e[1], 'c2': e[2]}
    queries = {'q0': e[0],                                   # c0 first
               'q1': np.array([0.8, 0.6, 0.0], np.float32),  # c0 0.8 > c1 0.6 > c2: rank 2
               'q2': np.array([0.6, 0.5, 0.4], np.float32)}  # rank 3
    pairs = [{'query': q, 'code': c} for q, c in (('q0', 'c0'), ('q1', 'c1'), ('q2', 'c2'))]
    res = evaluate(pairs, fixed_embedder({'query': queries, 'code': codes}), group_size=1000)
    for protocol in ('csn', 'full'):
        v = res['vector'][protocol]
        assert v['mrr'] == pytest.approx((1 + 1 / 2 + 1 / 3) / 3, abs=1e-4)
        assert (v['recall@1'], v['recall@5'], v['n']) == (pytest.approx(1 / 3, abs=1e-4), 1.0, 3)
    assert res['groups'] == 1 and res['group_size'] == 3


def test_csn_groups_leave_out_the_remainder():
    pairs = [{'query': f'word{i} alpha', 'code': f'def f{i}(): return word{i}'} for i in range(5)]
    res = evaluate(pairs, None, group_size=2)
    assert res['groups'] == 2 and res['bm25']['csn']['n'] == 4 and res['bm25']['full']['n'] == 5
    # each query shares exactly one distinctive word with its code: BM25 ranks it first
    assert res['bm25']['full']['mrr'] == 1.0 and 'vector' not in res


def test_bm25_prefers_matching_identifiers():
    bm = BM25([identifier_tokens(c) for c in ('def read_file(path)', 'def writeFile(path, data)', 'x = 1')])
    s = bm.scores([identifier_tokens('write a file')])[0]
    assert s.argmax() == 1 and s[2] == 0


def test_hybrid_is_reciprocal_rank_fusion():
    a = np.array([[3.0, 2.0, 1.0]])  # ranks 1 2 3
    b = np.array([[1.0, 3.0, 2.0]])  # ranks 3 1 2
    fused = rrf(a, b, k=60)[0]
    assert fused == pytest.approx([1 / 61 + 1 / 63, 1 / 62 + 1 / 61, 1 / 63 + 1 / 62])
    assert fused.argmax() == 1
