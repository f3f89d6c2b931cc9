"""Encoder pooling, normalisation and padding invariance (embed_model.py), batching (embed_data.py)."""

import numpy as np
import torch

from embed_data import code_views, pair_batch_indices
from embed_model import Encoder, EncoderConfig, mean_pool_normalize

CFG = EncoderConfig(vocab_size=300, max_len=32, n_layer=2, n_head=2, n_embd=32, ffn_hidden=64, dropout=0.0)


def test_mean_pool_ignores_padding_and_normalises():
    h = torch.tensor([[[3.0, 0.0], [1.0, 4.0], [100.0, -100.0]]])  # (1, 3, 2); the last token is padding
    out = mean_pool_normalize(h, torch.tensor([[1, 1, 0]]))
    mean = torch.tensor([2.0, 2.0])
    assert torch.allclose(out[0], mean / mean.norm())
    assert torch.allclose(out.norm(dim=-1), torch.ones(1))
    # an all-padding row gives zeros, not NaN
    assert torch.equal(mean_pool_normalize(h, torch.zeros(1, 3, dtype=torch.long)), torch.zeros(1, 2))


def test_encoder_outputs_unit_vectors_independent_of_padding():
    torch.manual_seed(0)
    m = Encoder(CFG).eval()
    ids = torch.randint(4, 300, (1, 9))
    with torch.no_grad():
        alone = m(ids, torch.ones_like(ids))
        padded_ids = torch.cat([ids, torch.zeros(1, 7, dtype=torch.long)], dim=1)
        mask = torch.cat([torch.ones(1, 9, dtype=torch.long), torch.zeros(1, 7, dtype=torch.long)], dim=1)
        batch = m(torch.cat([padded_ids, torch.randint(4, 300, (1, 16))]),
                  torch.cat([mask, torch.ones(1, 16, dtype=torch.long)]))
    assert alone.shape == (1, CFG.n_embd)
    assert torch.allclose(batch.norm(dim=-1), torch.ones(2), atol=1e-6)
    assert torch.allclose(alone[0], batch[0], atol=1e-5)


def test_pair_batches_cover_an_epoch_once_and_are_deterministic():
    lens = np.random.default_rng(0).integers(5, 300, size=200)
    per_epoch = 200 // 8
    batches = [pair_batch_indices(lens, 8, seed=1, step=s) for s in range(per_epoch)]
    flat = np.concatenate(batches)
    assert len(flat) == len(set(flat.tolist())) == per_epoch * 8
    assert all(np.array_equal(b, pair_batch_indices(lens, 8, seed=1, step=s)) for s, b in enumerate(batches))
    # length bucketing: a batch spans far less than the whole length range
    assert np.median([np.ptp(lens[b]) for b in batches]) < 0.5 * np.ptp(lens)


def test_code_views_are_windows_of_the_function():
    fns = [np.arange(100, 100 + n) for n in (10, 40, 200)]
    a, b = code_views(fns, 3, seed=0, step=5, span_min_frac=0.5, view_len=64)
    for va, vb in zip(a, b):
        for v in (va, vb):
            assert len(v) <= 64 and np.all(np.diff(v) == 1)  # contiguous
    # the 10-token function: each view has at least half of it
    sizes = {len(f): f for f in fns}
    for va, vb in zip(a, b):
        src = next(f for f in fns if va[0] in f)
        assert min(len(va), len(vb)) >= min(64, int(np.ceil(0.5 * len(sizes[len(src)]))))
