"""The weights read back from an fp32 ONNX export are the model's: the same logits."""
import base64
import json
import os

import numpy as np
import torch

from export import export_onnx
from model import GPT, GPTConfig
from onnx_weights import model_from_onnx
from paths import MODELS

SHIPPED = os.path.join(MODELS, 'kestrel-py-tiny')


def test_read_back_weights_give_the_same_logits(tmp_path):
    torch.manual_seed(0)
    args = dict(vocab_size=300, block_size=64, n_layer=2, n_head=4, n_kv_head=2, n_embd=32, ffn_hidden=64)
    model = GPT(GPTConfig(**args)).eval()
    export_onnx(model, str(tmp_path / 'model.onnx'))
    (tmp_path / 'kestrel.json').write_text(json.dumps({'training': {'modelArgs': args}}))
    back, back_args = model_from_onnx(str(tmp_path))
    assert back_args == args
    x = torch.randint(0, 300, (2, 20))
    with torch.no_grad():
        assert torch.equal(back.eval()(x)[0], model(x)[0])


def test_shipped_model_read_back_matches_its_parity_reference():
    model, _ = model_from_onnx(SHIPPED)
    with open(os.path.join(SHIPPED, 'parity.json')) as f:
        ref = json.load(f)
    with torch.no_grad():
        logits = model.eval()(torch.tensor([ref['tokens']]))[0][0].numpy()
    expected = np.frombuffer(base64.b64decode(ref['logits_b64']), dtype=np.float32).reshape(len(ref['tokens']), -1)
    assert np.abs(logits[:, ref['vocab_ids']] - expected).max() < 1e-4
    assert logits.argmax(-1).tolist() == ref['argmax']
