"""The neural bag of words encoder (embed_model.NBoWEncoder, NBoWInt8) and BM25-mined negatives (embed_mine.py)."""

import json

import numpy as np
import torch

from embed_mine import HardNegativeMiner
from embed_model import NBoWConfig, NBoWEncoder, NBoWInt8, build_encoder

CFG = NBoWConfig(vocab_size=300, n_embd=16, query_id=298, dropout=0.0)


def model():
    torch.manual_seed(0)
    m = NBoWEncoder(CFG).eval()
    with torch.no_grad():
        m.weight_logit.weight.normal_()  # weights that differ per token, so the weighting is exercised
    return m


def test_training_path_equals_graph_path_and_ignores_padding():
    m = model()
    ids = torch.randint(4, 290, (3, 12))
    mask = torch.ones_like(ids)
    mask[1, 7:] = 0
    with torch.no_grad():
        fast = m(ids, mask)  # embedding_bag
        r = m.rows(ids)
        graph = m.pool(m.emb(r), m.weight_logit(r).squeeze(-1), mask)  # what the ONNX export runs
        alone = m(ids[1:2, :7], mask[1:2, :7])
    assert torch.allclose(fast, graph, atol=1e-6)
    assert torch.allclose(fast[1], alone[0], atol=1e-6), 'padding changes nothing'
    assert torch.allclose(fast.norm(dim=-1), torch.ones(3))


def test_the_query_marker_selects_the_query_tables():
    m = model()
    text = torch.randint(4, 290, (1, 10))
    as_code = torch.cat([torch.tensor([[299]]), text], dim=1)
    as_query = torch.cat([torch.tensor([[298]]), text], dim=1)
    with torch.no_grad():
        c, q = m(as_code, torch.ones_like(as_code)), m(as_query, torch.ones_like(as_query))
    assert float((c * q).sum()) < 0.9, 'the same text embeds differently on the two sides'
    assert isinstance(build_encoder(dict(model_type='nbow', vocab_size=300, n_embd=16, query_id=298)), NBoWEncoder)


def test_int8_graph_is_close_to_fp32():
    m = model()
    ids = torch.randint(4, 290, (4, 20))
    ids[0, 0] = 298
    mask = torch.ones_like(ids)
    with torch.no_grad():
        cos = (m(ids, mask) * NBoWInt8(m)(ids, mask)).sum(-1)
    assert float(cos.min()) > 0.999


def test_mined_negative_shares_the_query_words_and_is_never_its_own_code(tmp_path):
    pairs = [{'query': 'parse the http request header', 'code': 'def parse_request(raw):\n    return raw.split()'},
             {'query': 'compress bytes with zlib', 'code': 'def pack(data):\n    return zlib.compress(data)'},
             {'query': 'read the request body', 'code': 'def http_request_header(h):\n    return h.parse()'},
             {'query': 'resize an image', 'code': 'def thumb(img):\n    return img.resize((8, 8))'}]
    path = tmp_path / 'pairs.jsonl'
    path.write_text(''.join(json.dumps(p) + '\n' for p in pairs))
    miner = HardNegativeMiner(str(path), str(tmp_path), pool_size=10, seed=0)
    neg = miner.negatives([0, 2], seed=0, step=0, sub_pool=10)
    assert list(neg) == [2, 0]  # query 0's best other match names http/request/header; query 2's is parse_request
    again = HardNegativeMiner(str(path), str(tmp_path), pool_size=10, seed=0)  # from the cache
    assert np.array_equal(again.negatives([0, 2], seed=0, step=0, sub_pool=10), neg)
