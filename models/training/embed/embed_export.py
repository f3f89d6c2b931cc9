"""
Export a trained Kestrel embedder to a model folder (the model contract of DESIGN.md).

  python3 models/training/embed_export.py --ckpt work/embed/runs/tiny/ckpt.pt --out ../kestrel-embed-tiny

Writes into --out:
  model.onnx          fp32 graph: input_ids, attention_mask (int64 [batch, sequence]) -> embeddings [batch, dim]
  model.int8.onnx     the same graph with int8 weights (transformer: quantize.py, the completion models'
                      quantiser; neural bag of words: embed_model.NBoWInt8, an int8 table with row scales)
  tokenizer.json      the project's code tokenizer + the two type markers as added special tokens
  reference.json      a few inputs and PyTorch's embeddings for them (the JS parity test reads it)
kestrel.json and README.md are written afterwards by embed_card.py, once the evaluation and the
onnxruntime-node throughput are measured on these files.
"""

import argparse
import json
import os
import sys

import numpy as np
import onnx
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(os.path.dirname(HERE), 'common')]
from paths import MODELS, WORK, from_training  # noqa: E402
from embed_model import Encoder, EncoderConfig, NBoWEncoder, NBoWInt8, build_encoder  # noqa: E402
from quantize import quantize_int8  # noqa: E402  (the model factory's quantiser)
from tokenizer import Tokenizer  # noqa: E402

QUERY_MARKER = '<|query|>'
CODE_MARKER = '<|code|>'
QUERY_MAX_LEN = 64  # tokens, marker included
CODE_MAX_LEN = 256


def embed_tokenizer_spec(base_spec):
    """The code tokenizer plus the two type markers as special added tokens (ids after the vocabulary)."""
    spec = json.loads(json.dumps(base_spec))
    next_id = max([*spec['model']['vocab'].values(), *(t['id'] for t in spec['added_tokens'])]) + 1
    for i, content in enumerate((QUERY_MARKER, CODE_MARKER)):
        if any(t['content'] == content for t in spec['added_tokens']):
            continue
        spec['added_tokens'].append({'id': next_id + i, 'content': content, 'single_word': False, 'lstrip': False,
                                     'rstrip': False, 'normalized': False, 'special': True})
    return spec


def export_onnx(model, path, opset=14):
    model.eval()
    ids = torch.randint(4, 1000, (2, 16), dtype=torch.int64)
    mask = torch.ones(2, 16, dtype=torch.int64)
    mask[1, 10:] = 0
    torch.onnx.export(model, (ids, mask), path, input_names=['input_ids', 'attention_mask'],
                      output_names=['embeddings'], opset_version=opset, do_constant_folding=True,
                      dynamic_axes={'input_ids': {0: 'batch', 1: 'sequence'},
                                    'attention_mask': {0: 'batch', 1: 'sequence'},
                                    'embeddings': {0: 'batch'}})
    onnx.checker.check_model(onnx.load(path))


def right_pad(rows):
    """Token rows of different lengths -> (ids, mask) int64 arrays (B, T), padded with 0 on the right."""
    T = max(len(r) for r in rows)
    ids = np.zeros((len(rows), T), dtype=np.int64)
    mask = np.zeros((len(rows), T), dtype=np.int64)
    for i, r in enumerate(rows):
        ids[i, :len(r)] = r
        mask[i, :len(r)] = 1
    return ids, mask


def encode_batch(tok, texts, marker, max_len):
    """Marker + text ids, truncated to max_len, right-padded with 0 -> (ids, mask) int64 arrays."""
    return right_pad([([tok.token_to_id(marker)] + tok.encode(t))[:max_len] for t in texts])


REFERENCE_TEXTS = {
    'queries': ['Return the number of lines in a file.', 'parse an ISO 8601 date string'],
    'code': ['def count_lines(path):\n    with open(path) as f:\n        return sum(1 for _ in f)\n',
             'class Cache:\n    def __init__(self):\n        self.items = {}\n\n    def get(self, key, default=None):\n'
             '        """Cached value or default."""\n        return self.items.get(key, default)\n'],
}


def reference(model, tok):
    """Inputs and PyTorch outputs for the JS parity test: one padded query batch, one code batch."""
    model.eval()
    out = {'query_prefix': QUERY_MARKER, 'code_prefix': CODE_MARKER, 'batches': []}
    for side, marker, max_len in (('queries', QUERY_MARKER, QUERY_MAX_LEN), ('code', CODE_MARKER, CODE_MAX_LEN)):
        texts = REFERENCE_TEXTS[side]
        ids, mask = encode_batch(tok, texts, marker, max_len)
        with torch.no_grad():
            emb = model(torch.from_numpy(ids), torch.from_numpy(mask)).numpy()
        out['batches'].append({'texts': [marker + t for t in texts], 'input_ids': ids.tolist(),
                               'attention_mask': mask.tolist(),
                               'embeddings': [[round(float(v), 7) for v in row] for row in emb]})
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--ckpt', default=os.path.join(WORK, 'embed', 'runs', 'tiny', 'ckpt.pt'))
    ap.add_argument('--out', default=os.path.join(MODELS, 'kestrel-embed-tiny'))
    ap.add_argument('--random', default='', help='skip the checkpoint: random weights of this size (speed tests)')
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    if args.random:
        from embed_model import CONFIGS
        cfg = EncoderConfig(**CONFIGS[args.random])
        model, ckpt = Encoder(cfg), {'config': {'tokenizer': 'work/tokenizer.json'}}
    else:
        ckpt = torch.load(args.ckpt, map_location='cpu')
        model = build_encoder(ckpt['model_args'])
        model.load_state_dict(ckpt['model'])
        cfg = model.cfg
    model.eval()

    base_spec = json.load(open(from_training(ckpt['config']['tokenizer']), encoding='utf-8'))
    spec = embed_tokenizer_spec(base_spec)
    tok_path = os.path.join(args.out, 'tokenizer.json')
    with open(tok_path, 'w', encoding='utf-8') as f:
        json.dump(spec, f, ensure_ascii=False)
    tok = Tokenizer(tok_path, backend='py')
    assert tok.vocab_size == cfg.vocab_size, (tok.vocab_size, cfg.vocab_size)

    fp32 = os.path.join(args.out, 'model.onnx')
    export_onnx(model, fp32)
    int8 = os.path.join(args.out, 'model.int8.onnx')
    if isinstance(model, NBoWEncoder):
        export_onnx(NBoWInt8(model), int8)
    else:
        onnx.save(quantize_int8(onnx.load(fp32)), int8)
    ref = reference(model, tok)
    with open(os.path.join(args.out, 'reference.json'), 'w') as f:
        json.dump(ref, f, separators=(',', ':'))
    print(f'wrote {fp32} ({os.path.getsize(fp32) / 1e6:.1f} MB), {int8} ({os.path.getsize(int8) / 1e6:.1f} MB)')


if __name__ == '__main__':
    main()
