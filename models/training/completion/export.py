"""
Export a trained checkpoint to Kestrel's completion ONNX contract and write parity references.

  python3 models/training/export.py --ckpt work/runs/tiny/ckpt.pt --out ../kestrel-py-tiny

Writes into --out:
  model.onnx        fp32 decoder with KV cache, Hugging Face Optimum naming:
                    inputs  input_ids, attention_mask, position_ids, past_key_values.{i}.key|value
                    outputs logits, present.{i}.key|value
                    (past tensors are (batch, kv_heads, past_sequence_length, head_dim); a first call
                    passes past_sequence_length = 0; logits are (batch, rows, vocab): every input
                    position for steps of up to SHORT_STEP_ROWS tokens, the last one for longer
                    ones; --all-logits: every position always)
  model.int8.onnx   the same graph with int8 weights (quantize.py)
  model.fp16.onnx   only with --fp16 on a CUDA machine
  parity.json       reference inputs and PyTorch logits for test/unit/completion-onnx-parity.test.ts
The ONNX graph is self-contained: no external data files.
"""

import argparse
import base64
import json
import os
import sys

import numpy as np
import onnx
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(os.path.dirname(HERE), 'common')]
from paths import WORK, from_training  # noqa: E402
from model import GPT, GPTConfig  # noqa: E402
from quantize import quantize_int8, dedupe_tied_head  # noqa: E402

OPSET = 14
# Steps of at most this many tokens get logits for every input position: decoding feeds one token, a
# speculative step feeds a token plus the draft tokens it checks, and typing feeds the few new ones.
# A longer step is a prompt's prefill, where only the last position is ever read.
SHORT_STEP_ROWS = 8
# what test/unit/completion-onnx-parity.test.ts accepts, per variant: largest |onnx - torch| logit
# difference over the stored positions and vocabulary columns, and the share of positions whose
# argmax (greedy next token) agrees. fp32 differs only by float summation order. int8 rounds every
# weight and (dynamic mode) every matrix input to 8 bits, so its logits move by a few tenths.
TOLERANCE = {'fp32': {'max_abs': 1e-3, 'min_argmax_agreement': 1.0},
             'int8': {'max_abs': 1.5, 'min_argmax_agreement': 0.8}}


class OnnxDecoder(torch.nn.Module):
    """Flat-argument wrapper: (input_ids, attention_mask, position_ids, k0, v0, k1, v1, ...)."""

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.n_layer = model.cfg.n_layer

    def forward(self, input_ids, attention_mask, position_ids, *past):
        pkv = [(past[2 * i], past[2 * i + 1]) for i in range(self.n_layer)]
        logits, _, presents = self.model(input_ids, past_key_values=pkv, position_ids=position_ids,
                                         attention_mask=attention_mask)
        out = [logits]
        for k, v in presents:
            out += [k, v]
        return tuple(out)


def io_names(n_layer):
    past = [f'past_key_values.{i}.{kv}' for i in range(n_layer) for kv in ('key', 'value')]
    present = [f'present.{i}.{kv}' for i in range(n_layer) for kv in ('key', 'value')]
    return ['input_ids', 'attention_mask', 'position_ids'] + past, ['logits'] + present


def logit_rows(x, short_rows):
    """
    x (B, T, C) -> the rows to project onto the vocabulary: all T when T <= short_rows, else the
    last one. Written with tensor arithmetic so that tracing keeps it a function of T.
    """
    T = x.shape[1]
    start = (T - 1) * (T > short_rows)
    return x.index_select(1, torch.arange(start, T, device=x.device))


def export_onnx(model, path, dtype=torch.float32, device='cpu', short_rows=SHORT_STEP_ROWS):
    """
    short_rows: logits for every input position of a step of up to short_rows tokens, for the last
    position only in longer steps (None: every position always). A prompt's other rows cost as much
    as the rest of this small model (the output matrix is vocab x n_embd) plus 64 KB each to hand
    back (a 500-token prefill: 32 MB of logits), and nothing reads them; a short step's rows are what
    speculative decoding checks its draft tokens against. Runtimes that take logits[:, -1] (Kestrel,
    transformers.js, Optimum) read (batch, 1, vocab) and (batch, T, vocab) alike.
    """
    cfg = model.cfg
    hd = cfg.n_embd // cfg.n_head
    wrapper = OnnxDecoder(model).to(device=device, dtype=dtype).eval()
    inputs, outputs = io_names(cfg.n_layer)
    B, T, P = 1, 3, 4  # trace shapes; every axis below is dynamic
    args = [torch.randint(0, cfg.vocab_size, (B, T), device=device),
            torch.ones(B, P + T, dtype=torch.int64, device=device),
            torch.arange(P, P + T, device=device)[None]]
    args += [torch.randn(B, cfg.n_kv_head, P, hd, device=device, dtype=dtype) for _ in range(2 * cfg.n_layer)]
    axes = {'input_ids': {0: 'batch_size', 1: 'sequence_length'},
            'attention_mask': {0: 'batch_size', 1: 'total_sequence_length'},
            'position_ids': {0: 'batch_size', 1: 'sequence_length'},
            'logits': {0: 'batch_size', 1: 'logit_rows' if short_rows is not None else 'sequence_length'}}
    for n in inputs[3:]:
        axes[n] = {0: 'batch_size', 2: 'past_sequence_length'}
    for n in outputs[1:]:
        axes[n] = {0: 'batch_size', 2: 'total_sequence_length'}
    # a hook rather than a second forward pass: the model's own forward stays the one copy of it
    hook = model.lm_head.register_forward_pre_hook(lambda _, a: (logit_rows(a[0], short_rows),)) if short_rows is not None else None
    try:
        with torch.no_grad():
            torch.onnx.export(wrapper, tuple(args), path, input_names=inputs, output_names=outputs,
                              dynamic_axes=axes, opset_version=OPSET, do_constant_folding=True)
    finally:
        if hook is not None:
            hook.remove()
    m = onnx.load(path)
    dedupe_tied_head(m)  # the tied output matrix is the embedding, transposed: store it once
    onnx.checker.check_model(m)
    onnx.save(m, path)


def b64(a):
    return base64.b64encode(np.ascontiguousarray(a, dtype=np.float32).tobytes()).decode()


@torch.no_grad()
def parity_reference(model, token_ids, n_prefix, vocab_slice=512, seed=0):
    """
    Two cases the JS test replays through onnxruntime-node:
      prefill: the first n_prefix tokens with an empty cache (past_sequence_length 0);
      decode:  the remaining tokens fed with the prefill's present.* as past_key_values.
    Reference logits come from ONE full forward pass over all tokens (no cache), so the check also
    covers cache equivalence. Stored: logits at every position for a fixed random subset of the
    vocabulary plus every position's argmax (files stay small).
    """
    ids = torch.tensor([token_ids])
    logits, _, _ = model(ids)  # (1, T, V)
    logits = logits[0].float().numpy()
    V = logits.shape[-1]
    rng = np.random.default_rng(seed)
    cols = sorted(set(rng.choice(V, size=vocab_slice, replace=False).tolist()) | set(logits.argmax(-1).tolist()))
    T = len(token_ids)
    return {
        'tokens': token_ids,
        'vocab_ids': cols,
        'cases': [
            {'name': 'prefill (empty cache)', 'start': 0, 'end': n_prefix},
            {'name': 'decode with past_key_values', 'start': n_prefix, 'end': T},
        ],
        'logits_b64': b64(logits[:, cols]),  # (T, len(cols)) float32 little-endian
        'argmax': logits.argmax(-1).tolist(),
        'tolerance': TOLERANCE,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ckpt', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--tokenizer', default=os.path.join(WORK, 'tokenizer.json'))
    ap.add_argument('--fp16', action='store_true', help='also export model.fp16.onnx (needs CUDA)')
    ap.add_argument('--all-logits', action='store_true',
                    help='logits for every input position of every step, (batch, sequence_length, vocab)')
    ap.add_argument('--parity-text', default=os.path.join(HERE, 'tests', 'fixtures', 'parity_snippet.py'))
    args = ap.parse_args()
    out = from_training(args.out)
    os.makedirs(out, exist_ok=True)

    ckpt = torch.load(args.ckpt, map_location='cpu')
    model = GPT(GPTConfig(**ckpt['model_args']))
    model.load_state_dict(ckpt['model'])
    model.eval()

    fp32 = os.path.join(out, 'model.onnx')
    short_rows = None if args.all_logits else SHORT_STEP_ROWS
    export_onnx(model, fp32, short_rows=short_rows)
    print(f'wrote {fp32} ({os.path.getsize(fp32) / 1e6:.1f} MB)')
    int8 = os.path.join(out, 'model.int8.onnx')
    onnx.save(quantize_int8(onnx.load(fp32)), int8)
    print(f'wrote {int8} ({os.path.getsize(int8) / 1e6:.1f} MB)')
    if args.fp16:
        if torch.cuda.is_available():
            fp16 = os.path.join(out, 'model.fp16.onnx')
            export_onnx(model, fp16, dtype=torch.float16, device='cuda', short_rows=short_rows)
            print(f'wrote {fp16}')
        else:
            print('--fp16 needs CUDA here; skipped')

    from tokenizer import Tokenizer
    tok = Tokenizer(args.tokenizer)
    ids = tok.encode(open(args.parity_text).read())[:40]
    ref = parity_reference(model, ids, n_prefix=32)
    with open(os.path.join(out, 'parity.json'), 'w') as f:
        json.dump(ref, f)
    print(f'wrote parity.json ({len(ids)} tokens, {len(ref["vocab_ids"])} vocabulary columns)')


if __name__ == '__main__':
    main()
