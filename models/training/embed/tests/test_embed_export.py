"""Export parity: the ONNX graph (fp32 and int8) run by onnxruntime-node against PyTorch, and the
tokenizer's type markers. Skipped where Node or onnxruntime-node is missing."""

import json
import os
import shutil
import subprocess

import numpy as np
import onnx
import pytest
import torch

from embed_export import CODE_MARKER, QUERY_MARKER, embed_tokenizer_spec, export_onnx
from embed_model import Encoder, EncoderConfig
from quantize import quantize_int8
from tokenizer import PyBPE

from paths import REPO
ORT = os.path.join(REPO, 'node_modules', 'onnxruntime-node')

RUN_ORT = r'''
const ort = require(process.env.ORT);
const fs = require('fs');
(async () => {
  const inp = JSON.parse(fs.readFileSync(process.env.INPUTS, 'utf8'));
  const [B, T] = [inp.ids.length, inp.ids[0].length];
  const t = (rows) => new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [B, T]);
  const out = {};
  for (const f of process.env.MODELS.split(',')) {
    const s = await ort.InferenceSession.create(f);
    const r = await s.run({ input_ids: t(inp.ids), attention_mask: t(inp.mask) });
    out[f] = { dims: r.embeddings.dims, data: Array.from(r.embeddings.data) };
  }
  console.log(JSON.stringify(out));
})();
'''


def tiny_spec():
    """A byte-level BPE with no merges: every byte is a token, ids 0-3 are the FIM/EOT specials."""
    from tokenizer import bytes_to_unicode
    vocab = {t: i for i, t in enumerate(['<|endoftext|>', '<fim_prefix>', '<fim_middle>', '<fim_suffix>'])}
    for ch in bytes_to_unicode().values():
        vocab[ch] = len(vocab)
    added = [{'id': i, 'content': t, 'special': True, 'single_word': False, 'lstrip': False, 'rstrip': False,
              'normalized': False} for t, i in list(vocab.items())[:4]]
    return {'added_tokens': added, 'model': {'type': 'BPE', 'vocab': vocab, 'merges': []}}


def test_type_markers_are_single_special_tokens():
    spec = embed_tokenizer_spec(tiny_spec())
    assert [t['content'] for t in spec['added_tokens'][-2:]] == [QUERY_MARKER, CODE_MARKER]
    assert [t['id'] for t in spec['added_tokens'][-2:]] == [260, 261]
    assert embed_tokenizer_spec(spec) == spec  # idempotent
    bpe = PyBPE(spec)
    ids = bpe.encode(QUERY_MARKER + 'def f')
    assert ids[0] == 260 and len(ids) == 1 + len('def f') and bpe.decode(ids) == QUERY_MARKER + 'def f'


@pytest.mark.skipif(not (shutil.which('node') and os.path.isdir(ORT)), reason='needs node and onnxruntime-node')
def test_onnx_matches_pytorch_in_onnxruntime_node(tmp_path):
    torch.manual_seed(0)
    cfg = EncoderConfig(vocab_size=1000, max_len=64, n_layer=2, n_head=4, n_embd=64, ffn_hidden=128, dropout=0.1)
    model = Encoder(cfg).eval()
    fp32 = str(tmp_path / 'model.onnx')
    export_onnx(model, fp32)
    g = onnx.load(fp32).graph
    assert [i.name for i in g.input] == ['input_ids', 'attention_mask'] and [o.name for o in g.output] == ['embeddings']
    int8 = str(tmp_path / 'model.int8.onnx')
    onnx.save(quantize_int8(onnx.load(fp32), ), int8)
    # a longer sequence than the export example, with padding in one row
    ids = torch.randint(4, 1000, (3, 40))
    mask = torch.ones_like(ids)
    mask[1, 25:] = 0
    ids[1, 25:] = 0
    with torch.no_grad():
        ref = model(ids, mask).numpy()
    (tmp_path / 'in.json').write_text(json.dumps({'ids': ids.tolist(), 'mask': mask.tolist()}))
    env = dict(os.environ, ORT=ORT, INPUTS=str(tmp_path / 'in.json'), MODELS=f'{fp32},{int8}')
    r = subprocess.run(['node', '-e', RUN_ORT], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    got = np.asarray(out[fp32]['data'], dtype=np.float32).reshape(out[fp32]['dims'])
    assert got.shape == (3, 64)
    assert np.abs(got - ref).max() < 1e-5
    q = np.asarray(out[int8]['data'], dtype=np.float32).reshape(3, 64)
    assert np.allclose(np.linalg.norm(q, axis=1), 1, atol=1e-5)
    assert (q * ref).sum(axis=1).min() > 0.99  # cosine to the fp32 PyTorch embedding
