"""
Write a shipped model's kestrel.json and model card (README.md) from a finished run.

  python3 models/training/make_card.py --run work/runs/tiny --out ../kestrel-py-tiny \
      --id kestrel-py-tiny --display-name "Kestrel Python tiny (CPU-trained)"

Reads: run/ckpt.pt (config, model args), run/log.csv and run/loss.png (curves),
run/eval_completion.json (eval_completion.py), work/corpus/summary.json and manifest.jsonl (data),
work/tokenizer.json; the ONNX files and parity.json already in --out (export.py).
Copies tokenizer.json, loss.png and log.csv into --out; records the code commit (git HEAD, and
whether models/training had uncommitted changes).
"""

import argparse
import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(os.path.dirname(HERE), 'common')]
from paths import WORK, from_training  # noqa: E402
from provenance import git, sha256  # noqa: E402
from model import GPT, GPTConfig  # noqa: E402

# the completion recipe's own files (models/training also holds other recipes)
RECIPE = ['build_corpus.py', 'train_tokenizer.mjs', 'tokenizer.py', 'prepare.py', 'model.py', 'data.py',
          'train.py', 'plot.py', 'export.py', 'quantize.py', 'eval_completion.py', 'make_card.py',
          'config/tiny_cpu.py', 'config/small_gpu.py']

SPECIALS = {'endOfText': '<|endoftext|>', 'fimPrefix': '<fim_prefix>', 'fimMiddle': '<fim_middle>',
            'fimSuffix': '<fim_suffix>'}


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def git(*args):
    try:
        return subprocess.run(['git', *args], cwd=HERE, capture_output=True, text=True, check=True).stdout.strip()
    except Exception:
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--run', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--id', required=True)
    ap.add_argument('--display-name', required=True)
    ap.add_argument('--work', default=WORK)
    ap.add_argument('--train-commit', default=None,
                    help='commit the training ran from (default: the one train.py recorded, else HEAD)')
    args = ap.parse_args()
    run = from_training(args.run)
    out = from_training(args.out)

    ckpt = torch.load(os.path.join(run, 'ckpt.pt'), map_location='cpu')
    cfg, margs = ckpt['config'], ckpt['model_args']
    model = GPT(GPTConfig(**margs))
    n_params, n_non_emb = model.num_params(), model.num_params(non_embedding=True)
    gc = model.cfg
    head_dim = gc.n_embd // gc.n_head
    rows = list(csv.DictReader(open(os.path.join(run, 'log.csv'))))
    last = rows[-1]
    best_val = min(float(r['val_loss']) for r in rows)
    ev_path = os.path.join(run, 'eval_completion.json')
    ev = json.load(open(ev_path)) if os.path.exists(ev_path) else {  # evaluation still to run
        'lines': 0, 'seed': None, 'context_tokens': None, 'exact_match': None, 'edit_similarity': None,
        'examples': []}
    summary = json.load(open(os.path.join(args.work, 'corpus', 'summary.json')))
    manifest_digest = sha256(os.path.join(args.work, 'corpus', 'manifest.jsonl'))
    assert manifest_digest == summary['manifest_sha256']
    # reference point for the loss: the valid tokens' cross-entropy under train unigram frequencies
    import numpy as np
    tr = np.bincount(np.fromfile(os.path.join(args.work, 'data', 'train.bin'), dtype=np.uint16),
                     minlength=margs['vocab_size']) + 0.5
    va = np.bincount(np.fromfile(os.path.join(args.work, 'data', 'valid.bin'), dtype=np.uint16),
                     minlength=margs['vocab_size'])
    unigram = float(-(va / va.sum() * np.log(tr / tr.sum())).sum())
    tokens_trained = int(last['iter']) * cfg['batch_size'] * cfg['seq_len'] * cfg['grad_accum']

    shutil.copy(os.path.join(args.work, 'tokenizer.json'), os.path.join(out, 'tokenizer.json'))
    shutil.copy(os.path.join(run, 'loss.png'), os.path.join(out, 'loss.png'))
    shutil.copy(os.path.join(run, 'log.csv'), os.path.join(out, 'training-log.csv'))
    vocab = json.load(open(os.path.join(out, 'tokenizer.json')))
    sid = {t['content']: t['id'] for t in vocab['added_tokens']}

    files = {}
    for variant, name, providers in (('fp32', 'model.onnx', ['cuda', 'cpu']), ('int8', 'model.int8.onnx', ['cpu']),
                                     ('fp16', 'model.fp16.onnx', ['cuda'])):
        p = os.path.join(out, name)
        if os.path.exists(p):
            files[variant] = {'path': name, 'providers': providers, 'bytes': os.path.getsize(p), 'sha256': sha256(p),
                              'pastDtype': 'float16' if variant == 'fp16' else 'float32'}

    dirty = git('status', '--porcelain', '--', *RECIPE)
    train_commit = args.train_commit or cfg.get('code_commit') or git('rev-parse', 'HEAD')
    if train_commit and len(train_commit) < 40:
        train_commit = git('rev-parse', train_commit) or train_commit
    parity = json.load(open(os.path.join(out, 'parity.json')))
    meta = {
        'id': args.id,
        'displayName': args.display_name,
        'kind': 'completion',
        'languages': ['python'],
        # positions the model was trained on; the architecture accepts up to maxPositionEmbeddings
        'contextLength': cfg['seq_len'],
        'tokenizer': 'tokenizer.json',
        'files': files,
        'specialTokens': {role: {'token': tok, 'id': sid[tok]} for role, tok in SPECIALS.items()},
        'fimMode': 'spm',
        'fimModesTrained': ['psm', 'spm'],
        'fimTemplates': {
            'spm': '<fim_prefix><fim_suffix>{suffix}<fim_middle>{prefix}',
            'psm': '<fim_prefix>{prefix}<fim_suffix>{suffix}<fim_middle>',
        },
        'stopTokens': [sid['<|endoftext|>']],
        'architecture': {
            'type': 'decoder-with-past',
            'numLayers': gc.n_layer, 'numHeads': gc.n_head, 'numKvHeads': gc.n_kv_head, 'headDim': head_dim,
            'hiddenSize': gc.n_embd, 'vocabSize': gc.vocab_size, 'maxPositionEmbeddings': gc.block_size,
            'pastKeyValues': {'shape': ['batch_size', gc.n_kv_head, 'past_sequence_length', head_dim],
                              'dtype': 'float32', 'emptyPastLength': 0},
            'positionEncoding': 'rope', 'ropeTheta': gc.rope_theta,
        },
        'training': {
            'dataManifestSha256': manifest_digest,
            'data': {k: summary[k] for k in ('train_packages', 'train_files', 'train_bytes', 'valid_packages',
                                             'valid_files', 'valid_bytes', 'stdlib')},
            'config': cfg,
            'modelArgs': margs,
            'codeCommit': train_commit,
            'exportCommit': git('rev-parse', 'HEAD'),
            'exportCodeDirty': bool(dirty),
            'iterations': int(last['iter']),
            'tokensTrained': tokens_trained,
            'wallSeconds': int(float(last['seconds'])),
            'device': 'cpu' if cfg['device'] == 'cpu' else cfg['device'],
        },
        'metrics': {
            'parameters': n_params,
            'nonEmbeddingParameters': n_non_emb,
            'validLoss': float(last['val_loss']),
            'bestValidLoss': best_val,
            'unigramBaselineLoss': round(unigram, 4),
            'validLossNote': 'mean cross-entropy (nats/token) on fixed valid batches with the training '
                             'mix: 50% FIM documents (half PSM, half SPM), packed',
            'lineCompletion': {'protocol': 'CodeXGLUE line-level: rest of the line from a random cursor, '
                                           'left context only, greedy',
                               'lines': ev['lines'], 'seed': ev['seed'], 'contextTokens': ev['context_tokens'],
                               'exactMatch': ev['exact_match'], 'editSimilarity': ev['edit_similarity'],
                               'packages': summary['valid_packages']},
            'onnxParityTolerance': parity['tolerance'],
        },
    }
    json.dump(meta, open(os.path.join(out, 'kestrel.json'), 'w'), indent=2)

    # model card
    lic = {}
    for pkg, l in summary['licences'].items():
        if pkg in summary['valid_packages']:
            continue
        lic.setdefault(l, []).append(pkg)
    lic_rows = '\n'.join(f'| {l} | {len(p)} | {", ".join(sorted(p)[:6])}{" ..." if len(p) > 6 else ""} |'
                         for l, p in sorted(lic.items(), key=lambda kv: -len(kv[1])))
    mb = lambda v: f'{files[v]["bytes"] / 1e6:.1f} MB' if v in files else '-'
    ex = '\n'.join(f'| `{json.dumps(e["context_tail"][-40:])[1:-1]}` | `{json.dumps(e["target"])[1:-1]}` | '
                   f'`{json.dumps(e["prediction"])[1:-1]}` |' for e in ev['examples'][:8]).replace('|`', '| `')
    card = f"""# {args.display_name}

`{args.id}`: a decoder-only Python completion transformer for Kestrel's inline completions, with
fill-in-the-middle. Trained from scratch on CPU with the recipe in `models/training/` (one core,
{int(float(last['seconds'])) // 60} minutes). It is a bootstrap model: small and briefly trained, it
exercises the whole pipeline and the engine contract; quality comes from longer accelerator runs of the
same recipe (`config/small_gpu.py`).

## Files
| file | what | size |
| --- | --- | --- |
| `model.onnx` | fp32 ONNX decoder with KV cache (Optimum decoder-with-past naming) | {mb('fp32')} |
| `model.int8.onnx` | int8 weights (per-column), dynamic int8 activations for matrix products | {mb('int8')} |
| `tokenizer.json` | byte-level BPE, {gc.vocab_size} tokens | {os.path.getsize(os.path.join(out, 'tokenizer.json')) / 1e6:.1f} MB |
| `kestrel.json` | Kestrel model contract: files, special tokens, FIM mode, shapes, training record, metrics | |
| `parity.json` | PyTorch reference logits for the ONNX parity test | |
| `loss.png`, `training-log.csv` | training curves | |

## Model
| | |
| --- | --- |
| architecture | pre-norm decoder: RMSNorm, RoPE (theta {gc.rope_theta:g}), grouped-query attention, SwiGLU, tied embeddings |
| layers / hidden / heads / KV heads / head dim | {gc.n_layer} / {gc.n_embd} / {gc.n_head} / {gc.n_kv_head} / {head_dim} |
| MLP hidden | {gc.ffn_hidden} |
| parameters | {n_params:,} ({n_non_emb:,} non-embedding) |
| context | trained on {cfg['seq_len']} tokens (`contextLength`); positions up to {gc.block_size} are accepted |
| KV cache per token | {2 * gc.n_layer * gc.n_kv_head * head_dim} floats (all layers, K and V) |

## Prompt format
Special tokens: `<|endoftext|>` = {sid['<|endoftext|>']}, `<fim_prefix>` = {sid['<fim_prefix>']},
`<fim_middle>` = {sid['<fim_middle>']}, `<fim_suffix>` = {sid['<fim_suffix>']}. Trained on both FIM
orders (50% of documents, half each), SPM preferred at inference because the suffix and the start of
the prefix stay fixed while typing, so they stay in the KV cache:

- SPM: `<fim_prefix><fim_suffix>{{suffix}}<fim_middle>{{prefix}}` then generate the middle
- PSM: `<fim_prefix>{{prefix}}<fim_suffix>{{suffix}}<fim_middle>` then generate the middle
- plain left-to-right: `{{prefix}}`

Generation stops at `<|endoftext|>`.

## Training
- Data: {summary['train_files']:,} Python files ({summary['train_bytes'] / 1e6:.1f} MB) from
  {summary['train_packages']} Debian bookworm packages sampled (seed 0) from the train list, plus
  Debian's Python 3.11 standard library; exact and near duplicates removed; manifest sha256
  `{manifest_digest}`.
- Tokens seen: {tokens_trained:,} ({int(last['iter'])} steps of {cfg['batch_size']} x {cfg['seq_len']}),
  FIM rate {cfg['fim_rate']}, AdamW (lr {cfg['learning_rate']:g} -> {cfg['min_lr']:g}, cosine over
  {'wall time' if cfg.get('lr_schedule') == 'time' else 'steps'}, weight decay {cfg['weight_decay']}),
  fp32 on one CPU core, {int(float(last['seconds']))} s.
- Code: trained from commit `{train_commit}`; exported and described from
  `{meta['training']['exportCommit']}`{' (with uncommitted recipe changes)' if dirty else ''}.

![training curves](loss.png)

## Evaluation (valid packages: {', '.join(summary['valid_packages'])}; never trained on)
| metric | value |
| --- | --- |
| validation loss (nats/token, training mix) | {float(last['val_loss']):.3f} |
| reference: train unigram frequencies on the valid tokens | {unigram:.3f} |
| line completion exact match (%) | {ev['exact_match']} |
| line completion edit similarity | {ev['edit_similarity']} |

Line completion follows CodeXGLUE's line-level protocol: {ev['lines']} lines sampled with seed
{ev['seed']}, cursor at a random character inside the line, the model sees the file before the
cursor (last {ev['context_tokens']} tokens at most) and greedily writes the rest of the line; exact
match of the stripped text and edit similarity (difflib ratio x 100, as fuzzywuzzy's `fuzz.ratio`).

| context (end) | target | prediction |
| --- | --- | --- |
{ex}

## Limitations
{'This model saw ' + f'{tokens_trained:,}' + ' tokens: its loss is only a little below that of unigram frequencies, and greedy decoding falls into repetition (see the examples). It is not useful as a completion model; it is the first end-to-end output of the recipe, with the real contract (ONNX with KV cache, tokenizer, FIM tokens, kestrel.json) for the engine to run and test against. Train `config/small_gpu.py` on an accelerator for a usable model.' if tokens_trained < 50_000_000 else 'Trained briefly; quality is limited by model size.'}
The context it was trained on is {cfg['seq_len']} tokens; longer prompts use RoPE positions it never saw.

## Data licences
The training data is DFSG-free source from Debian main; each package's licence (from its Debian
copyright file, `Files: *` paragraph) is recorded per file in the corpus manifest. Licences of the
train packages:

| licence | packages | examples |
| --- | --- | --- |
{lic_rows}
"""
    open(os.path.join(out, 'README.md'), 'w').write(card)
    print(f'wrote {out}/kestrel.json and README.md')


if __name__ == '__main__':
    main()
