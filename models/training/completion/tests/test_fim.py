import numpy as np

from data import Specials, TokenData, fim_invert, fim_transform, get_batch_np, pack_row

SP = Specials(eot=0, prefix=1, middle=2, suffix=3)


def docs(n=20, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(4, 500, size=int(rng.integers(1, 300))) for _ in range(n)]


def test_middle_is_recoverable_and_tokens_aligned():
    rng = np.random.default_rng(0)
    modes = {'plain': 0, 'psm': 0, 'spm': 0}
    for doc in docs(400):
        out, mode = fim_transform(doc, rng, SP, fim_rate=0.5)
        modes[mode] += 1
        # every original token appears exactly once, in order within each part
        assert list(fim_invert(out, SP)) == list(doc)
        n_sentinels = {'plain': 0, 'psm': 3, 'spm': 3}[mode]
        assert len(out) == len(doc) + n_sentinels
        if mode == 'spm':
            assert list(out[:2]) == [SP.prefix, SP.suffix]
        if mode == 'psm':
            assert out[0] == SP.prefix
        assert SP.eot not in out
    # rate 0.5, half PSM and half SPM (400 draws: generous bounds)
    assert 150 < modes['plain'] < 250 and 60 < modes['psm'] < 140 and 60 < modes['spm'] < 140


def test_spm_keeps_prefix_and_middle_contiguous():
    rng = np.random.default_rng(3)
    doc = np.arange(10, 60)
    for _ in range(50):
        out, mode = fim_transform(doc, rng, SP, fim_rate=1.0, spm_rate=1.0)
        assert mode == 'spm'
        k = list(out).index(SP.middle)
        pm = list(out[k + 1:])
        assert pm == list(doc[:len(pm)])  # P then M: a prefix of the document


def test_rate_zero_is_identity():
    rng = np.random.default_rng(1)
    for doc in docs(20):
        out, mode = fim_transform(doc, rng, SP, fim_rate=0.0)
        assert mode == 'plain' and out is doc


def test_packing_and_targets_are_shifted_by_one():
    data = TokenData.from_docs(docs(30))
    x, y = get_batch_np(data, SP, batch_size=3, seq_len=64, seed=5, step=7)
    assert x.shape == y.shape == (3, 64)
    assert np.array_equal(x[:, 1:], y[:, :-1])
    assert (x == SP.eot).any()  # documents are separated by end-of-text
    x2, y2 = get_batch_np(data, SP, batch_size=3, seq_len=64, seed=5, step=7)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)  # resumable: pure function of (seed, step)
    x3, _ = get_batch_np(data, SP, batch_size=3, seq_len=64, seed=5, step=8)
    assert not np.array_equal(x, x3)


def test_pack_row_segments_invert_to_documents():
    ds = docs(10)
    data = TokenData.from_docs(ds)
    row = pack_row(data, np.random.default_rng(2), SP, seq_len=4000, fim_rate=0.5)
    segs, cur = [], []
    for t in row:
        if t == SP.eot:
            segs.append(cur)
            cur = []
        else:
            cur.append(int(t))
    originals = {tuple(int(v) for v in d) for d in ds}
    for s in segs:  # every complete segment is a whole (short) document after inversion
        assert tuple(fim_invert(s, SP)) in originals


def test_long_documents_are_windowed():
    data = TokenData.from_docs([np.arange(4, 5000)])
    row = pack_row(data, np.random.default_rng(0), SP, seq_len=100, fim_rate=0.0)
    assert len(row) == 101
    first = list(row[:row.tolist().index(SP.eot)])
    assert len(first) == 96 and first == list(range(first[0], first[0] + 96))
