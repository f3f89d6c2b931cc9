"""Export parity: ONNX graph names/axes, and onnxruntime-node runs it like PyTorch (fp32 and int8)."""
import json
import os
import shutil
import subprocess

import numpy as np
import onnx
import pytest
import torch

from export import SHORT_STEP_ROWS, export_onnx, io_names, parity_reference
from model import GPT, GPTConfig
from quantize import quantize_int8

from paths import REPO
ORT = os.path.join(REPO, 'node_modules', 'onnxruntime-node')

# runs parity.json through onnxruntime-node: prefill with an empty cache, then decode with the cache
# (several tokens at once, then the fixture's extra cases: a token at a time)
NODE_SCRIPT = r"""
const ort = require(process.argv[2]);
const fs = require('fs');
const dir = process.argv[3];
const ref = JSON.parse(fs.readFileSync(dir + '/parity.json', 'utf8'));
const meta = JSON.parse(fs.readFileSync(dir + '/kestrel.json', 'utf8')).architecture;
const buf = Buffer.from(ref.logits_b64, 'base64');
const want = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
const C = ref.vocab_ids.length, V = meta.vocabSize;
(async () => {
  const res = {};
  for (const file of ['model.onnx', 'model.int8.onnx', 'model.all-logits.onnx']) {
    const s = await ort.InferenceSession.create(dir + '/' + file);
    const empty = {};
    for (let i = 0; i < meta.numLayers; i++) for (const kv of ['key', 'value'])
      empty[`past_key_values.${i}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [1, meta.numKvHeads, 0, meta.headDim]);
    const pastAt = { 0: empty };  // each case continues from the cache of the positions before it
    let maxAbs = 0, agree = 0, rows = 0;
    const shapes = [];  // [tokens fed, logit rows returned] per case
    for (const c of ref.cases) {
      const ids = ref.tokens.slice(c.start, c.end);
      const feeds = { ...pastAt[c.start],
        input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(c.end).fill(1n), [1, c.end]),
        position_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map((_, i) => BigInt(c.start + i))), [1, ids.length]) };
      const out = await s.run(feeds);
      const past = {};
      for (let i = 0; i < meta.numLayers; i++) for (const kv of ['key', 'value'])
        past[`past_key_values.${i}.${kv}`] = out[`present.${i}.${kv}`];
      pastAt[c.end] = past;
      const L = out.logits.data;
      // logits hold the last out.logits.dims[1] input positions
      const n = out.logits.dims[1], first = c.end - n;
      shapes.push([ids.length, n]);
      for (let r = 0; r < n; r++) {
        let best = 0;
        for (let v = 0; v < V; v++) if (L[r * V + v] > L[r * V + best]) best = v;
        agree += best === ref.argmax[first + r]; rows++;
        for (let k = 0; k < C; k++) maxAbs = Math.max(maxAbs, Math.abs(L[r * V + ref.vocab_ids[k]] - want[(first + r) * C + k]));
      }
    }
    res[file] = { maxAbs, agreement: agree / rows, shapes };
  }
  console.log(JSON.stringify(res));
})();
"""


@pytest.fixture(scope='module')
def exported(tmp_path_factory):
    torch.manual_seed(0)
    cfg = GPTConfig(vocab_size=512, block_size=128, n_layer=2, n_head=4, n_kv_head=2, n_embd=64, ffn_hidden=128)
    model = GPT(cfg).eval()
    d = tmp_path_factory.mktemp('onnx')
    export_onnx(model, str(d / 'model.onnx'))
    onnx.save(quantize_int8(onnx.load(str(d / 'model.onnx'))), str(d / 'model.int8.onnx'))
    export_onnx(model, str(d / 'model.all-logits.onnx'), short_rows=None)
    ref = parity_reference(model, list(range(5, 45)), n_prefix=32, vocab_slice=64)
    # a prefill returns its last position only: a token at a time from position 32 checks the rest
    ref['cases'] += [{'name': 'one token', 'start': p, 'end': p + 1} for p in range(32, 40)]
    (d / 'parity.json').write_text(json.dumps(ref))
    (d / 'kestrel.json').write_text(json.dumps({'architecture': {
        'numLayers': 2, 'numKvHeads': 2, 'headDim': 16, 'vocabSize': 512}}))
    return d, model


def test_graph_io_follows_optimum_naming(exported):
    d, _ = exported
    m = onnx.load(str(d / 'model.onnx'))
    ins, outs = io_names(2)
    assert [i.name for i in m.graph.input] == ins
    assert [o.name for o in m.graph.output] == outs
    assert ins[3:5] == ['past_key_values.0.key', 'past_key_values.0.value'] and outs[1] == 'present.0.key'
    dims = lambda v: [x.dim_param or x.dim_value for x in v.type.tensor_type.shape.dim]
    g = {v.name: dims(v) for v in list(m.graph.input) + list(m.graph.output)}
    assert g['input_ids'] == ['batch_size', 'sequence_length']
    assert g['past_key_values.1.value'] == ['batch_size', 2, 'past_sequence_length', 16]
    assert g['present.1.value'] == ['batch_size', 2, 'total_sequence_length', 16]
    assert g['logits'] == ['batch_size', 'logit_rows', 512]  # every position of a short step, else the last
    full = onnx.load(str(d / 'model.all-logits.onnx'))
    assert [v.name for v in full.graph.input] == ins and [v.name for v in full.graph.output] == outs
    assert dims(full.graph.output[0]) == ['batch_size', 'sequence_length', 512]


def test_embedding_stored_once_and_int8_is_smaller(exported):
    d, model = exported
    m = onnx.load(str(d / 'model.onnx'))
    big = [t for t in m.graph.initializer if 512 in t.dims and 64 in t.dims]
    assert len(big) == 1  # the tied output projection reuses the embedding
    q = onnx.load(str(d / 'model.int8.onnx'))
    assert any(n.op_type == 'MatMulInteger' for n in q.graph.node)
    assert not any(t.data_type == onnx.TensorProto.FLOAT and len(t.dims) == 2 for t in q.graph.initializer)
    assert os.path.getsize(d / 'model.int8.onnx') < 0.4 * os.path.getsize(d / 'model.onnx')


@pytest.mark.skipif(shutil.which('node') is None or not os.path.isdir(ORT), reason='needs node + onnxruntime-node')
def test_onnxruntime_node_parity_with_and_without_cache(exported):
    d, _ = exported
    script = d / 'parity.cjs'
    script.write_text(NODE_SCRIPT)
    out = subprocess.run(['node', str(script), ORT, str(d)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res['model.onnx']['maxAbs'] < 1e-4 and res['model.onnx']['agreement'] == 1.0
    assert res['model.int8.onnx']['maxAbs'] < 0.5 and res['model.int8.onnx']['agreement'] >= 0.8
    assert res['model.all-logits.onnx']['maxAbs'] < 1e-4 and res['model.all-logits.onnx']['agreement'] == 1.0
    # rows: the 32-token prefill gets its last position, the 8-token step (a speculative check) all 8
    for fed, rows in res['model.onnx']['shapes'] + res['model.int8.onnx']['shapes']:
        assert rows == (fed if fed <= SHORT_STEP_ROWS else 1), (fed, rows)
    assert {(8, 8), (32, 1), (1, 1)} <= {tuple(x) for x in res['model.onnx']['shapes']}
    assert all(fed == rows for fed, rows in res['model.all-logits.onnx']['shapes'])
