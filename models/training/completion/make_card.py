"""
Write a completion model's kestrel.json and model card (README.md) from a training run.

  python3 models/training/completion/make_card.py --run ~/.cache/kestrel-training/runs/tiny-decay \
      --out ../kestrel-py-tiny --id kestrel-py-tiny --display-name "Kestrel Python tiny (CPU-trained)" \
      --eval-left LEFT.json --eval-suffix SUFFIX.json

Reads: run/ckpt.pt (config, model args, tokens trained), run/log.csv and run/loss.png (curves),
the line-completion reports of `kestrel eval-completion --out` (left context, and with the suffix),
WORK/corpus/summary.json and manifest.jsonl (data), WORK/data (unigram reference); the ONNX files
and parity.json already in --out (export.py). Copies loss.png and log.csv into --out (and the
tokenizer, when --tokenizer names another file); records the code commit. The card keeps a history:
one row per shipped version (tokens trained, validation loss, EM and ES), carried over from the
kestrel.json it replaces, with its curve in history.png.
"""

import argparse
import csv
import datetime
import json
import os
import shutil
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(os.path.dirname(HERE), 'common')]
from paths import WORK, from_training  # noqa: E402
from provenance import git, sha256  # noqa: E402
from model import GPT, GPTConfig  # noqa: E402

# the completion recipe's own files (models/training also holds other recipes)
RECIPE = ['common', 'completion']  # relative to models/training

SPECIALS = {'endOfText': '<|endoftext|>', 'fimPrefix': '<fim_prefix>', 'fimMiddle': '<fim_middle>',
            'fimSuffix': '<fim_suffix>'}


def history_of(previous, tokens, val_loss, left, suffix):
    """The shipped versions so far (from the kestrel.json being replaced), plus this one."""
    rows = list(previous.get('history', []))
    if not rows and previous.get('training'):  # a card from before the history: its own figures
        lc = previous.get('metrics', {}).get('lineCompletion', {})
        rows.append({'date': None, 'tokens': previous['training'].get('tokensTrained'),
                     'validLoss': previous.get('metrics', {}).get('validLoss'),
                     'exactMatch': lc.get('exactMatch'), 'editSimilarity': lc.get('editSimilarity'),
                     'note': f"{lc.get('lines')} lines, Python evaluation"})
    rows.append({'date': datetime.date.today().isoformat(), 'tokens': tokens, 'validLoss': round(val_loss, 4),
                 'exactMatch': left['exactMatch'], 'editSimilarity': left['editSimilarity'],
                 'exactMatchWithSuffix': suffix['exactMatch'] if suffix else None,
                 'editSimilarityWithSuffix': suffix['editSimilarity'] if suffix else None,
                 'note': f"{left['lines']} lines, kestrel eval-completion"})
    return rows


def plot_history(rows, png):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    pts = [r for r in rows if r.get('tokens') and r.get('exactMatch') is not None]
    fig, ax = plt.subplots(figsize=(6, 3.4), dpi=100)
    tok = [r['tokens'] / 1e6 for r in pts]
    ax.plot(tok, [r['exactMatch'] for r in pts], marker='o', label='exact match (%)')
    ax.plot(tok, [r['editSimilarity'] for r in pts], marker='s', label='edit similarity')
    ax.set_xscale('log')
    ax.set_xlabel('training tokens (millions, log scale)')
    ax.set_title('Line completion on the valid packages, left context')
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(png)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--run', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--id', required=True)
    ap.add_argument('--display-name', required=True)
    ap.add_argument('--work', default=WORK)
    ap.add_argument('--eval-left', default=None,
                    help='kestrel eval-completion --out report, left context (without: a candidate, no metrics yet)')
    ap.add_argument('--eval-suffix', default=None, help='the same with --with-suffix')
    ap.add_argument('--tokenizer', default=None, help='tokenizer.json to ship (default: keep the one in --out)')
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
    ev = json.load(open(args.eval_left)) if args.eval_left else {'lines': 0, 'seed': None, 'exactMatch': None,
                                                                 'editSimilarity': None, 'examples': []}
    ev_suffix = json.load(open(args.eval_suffix)) if args.eval_suffix else None
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
    tokens_trained = int(ckpt.get('tokens', int(last['iter']) * cfg['batch_size'] * cfg['seq_len'] * cfg['grad_accum']))
    previous = json.load(open(os.path.join(out, 'kestrel.json'))) if os.path.exists(os.path.join(out, 'kestrel.json')) else {}
    history = history_of(previous, tokens_trained, float(last['val_loss']), ev, ev_suffix) if args.eval_left else []
    if history:
        plot_history(history, os.path.join(out, 'history.png'))

    if args.tokenizer and os.path.abspath(args.tokenizer) != os.path.abspath(os.path.join(out, 'tokenizer.json')):
        shutil.copy(args.tokenizer, os.path.join(out, 'tokenizer.json'))
    shutil.copy(os.path.join(run, 'loss.png'), os.path.join(out, 'loss.png'))
    shutil.copy(os.path.join(run, 'log.csv'), os.path.join(out, 'training-log.csv'))
    vocab = json.load(open(os.path.join(out, 'tokenizer.json')))
    sid = {t['content']: t['id'] for t in vocab['added_tokens']}

    files = {}
    # (common/fp16.py adds the half-precision graph afterwards)
    for variant, name, providers in (('fp32', 'model.onnx', ['cuda', 'cpu']), ('int8', 'model.int8.onnx', ['cpu'])):
        p = os.path.join(out, name)
        if os.path.exists(p):
            files[variant] = {'path': name, 'providers': providers, 'bytes': os.path.getsize(p), 'sha256': sha256(p),
                              'pastDtype': 'float32'}

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
            'cpuSeconds': int(ckpt.get('cpu_seconds', 0)),
            'decayedFrom': ckpt.get('decayed_from'),
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
                                           'greedy, through the engine (kestrel eval-completion, int8, '
                                           'project cache off)',
                               'lines': ev['lines'], 'seed': ev['seed'],
                               'exactMatch': ev['exactMatch'], 'editSimilarity': ev['editSimilarity'],
                               'withSuffix': {'exactMatch': ev_suffix['exactMatch'], 'editSimilarity': ev_suffix['editSimilarity']} if ev_suffix else None,
                               'packages': summary['valid_packages']},
            'onnxParityTolerance': parity['tolerance'],
        },
        'history': history,
    }
    if 'projectCache' in previous:  # the engine's tuned mix with the project cache: retune after shipping
        meta['projectCache'] = previous['projectCache']
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
    ex = '\n'.join(f'| `{json.dumps(e["contextTail"][-40:])[1:-1]}` | `{json.dumps(e["target"])[1:-1]}` | '
                   f'`{json.dumps(e["prediction"])[1:-1]}` |' for e in ev['examples'][:8]).replace('|`', '| `')
    fmt = lambda v: '-' if v is None else v
    history_rows = '\n'.join(
        f"| {fmt(r.get('date'))} | {r['tokens']:,} | {fmt(r.get('validLoss'))} | {fmt(r.get('exactMatch'))} | "
        f"{fmt(r.get('editSimilarity'))} | {fmt(r.get('exactMatchWithSuffix'))} | {fmt(r.get('editSimilarityWithSuffix'))} | "
        f"{fmt(r.get('note'))} |" for r in history)
    stdlib_text = ", plus Debian's Python 3.11 standard library" if summary.get('stdlib') else ''
    decayed = meta['training']['decayedFrom']
    decay_steps = int(last['iter']) - decayed['iter'] if decayed else 0
    decay_text = (' This version is the run at that point with the learning rate decayed to its floor over '
                  f'{decay_steps} steps (warmup-stable-decay: the run itself goes on at a constant rate).'
                  if decay_steps else '')
    card = f"""# {args.display_name}

`{args.id}`: a decoder-only Python completion transformer for Kestrel's inline completions, with
fill-in-the-middle, trained on CPU with the recipe in `models/training/completion/`
(`config/{cfg.get('model_size', 'tiny')}_cpu.py`: an open-ended run that continues across machines from
its checkpoint or from these weights, {tokens_trained:,} tokens so far).{decay_text}

## Files
| file | what | size |
| --- | --- | --- |
| `model.onnx` | fp32 ONNX decoder with KV cache (Optimum decoder-with-past naming) | {mb('fp32')} |
| `model.int8.onnx` | int8 weights (per-column), dynamic int8 activations for matrix products | {mb('int8')} |
| `model.fp16.onnx` | float16 weights behind Cast nodes (`common/fp16.py`), for GPU providers | |
| `tokenizer.json` | byte-level BPE, {gc.vocab_size} tokens | {os.path.getsize(os.path.join(out, 'tokenizer.json')) / 1e6:.1f} MB |
| `kestrel.json` | Kestrel model contract: files, special tokens, FIM mode, shapes, training record, metrics | |
| `parity.json` | PyTorch reference logits for the ONNX parity test | |
| `loss.png`, `training-log.csv` | training curves | |
| `history.png` | line completion of each shipped version against tokens trained | |

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
  {summary['train_packages']} Debian bookworm packages (the train list){stdlib_text};
  exact and near duplicates removed; manifest sha256 `{manifest_digest}`.
- Tokens seen: {tokens_trained:,}, in rows of {cfg['seq_len']} tokens, batches of {cfg['batch_size']},
  FIM rate {cfg['fim_rate']}; AdamW (weight decay {cfg['weight_decay']}), learning rate warmed up to
  {cfg['learning_rate']:g} and then constant{f", decayed to {cfg['min_lr']:g} over the last {decay_steps} steps of this copy only" if decay_steps else ''};
  fp32 on a 2-core CPU ({cfg.get('workers', 1)} worker threads), {ckpt.get('cpu_seconds', 0) / 3600:.1f} CPU hours in
  this run's record.
- Code: trained from commit `{train_commit}`; exported and described from
  `{meta['training']['exportCommit']}`{' (with uncommitted recipe changes)' if dirty else ''}.

![training curves](loss.png)

## Evaluation (valid packages: {', '.join(summary['valid_packages'])}; never trained on)
| metric | value |
| --- | --- |
| validation loss (nats/token, training mix) | {float(last['val_loss']):.3f} |
| reference: train unigram frequencies on the valid tokens | {unigram:.3f} |
| line completion, left context: exact match (%) / edit similarity | {ev['exactMatch']} / {ev['editSimilarity']} |
| line completion, with the suffix (FIM): exact match (%) / edit similarity | {ev_suffix['exactMatch'] if ev_suffix else '-'} / {ev_suffix['editSimilarity'] if ev_suffix else '-'} |

Line completion follows CodeXGLUE's line-level protocol through Kestrel's own engine
(`kestrel eval-completion --files VALID --n {ev['lines']} --seed {ev['seed']} --no-cache`, int8 on the CPU,
the project cache off so the figures are the model's): cursor at a random character inside a line,
the engine's prompt (left context, or with `--with-suffix` the rest of the file as FIM suffix), greedy
decoding of the rest of the line; exact match of the stripped text and edit similarity (difflib's
ratio x 100, as fuzzywuzzy's `fuzz.ratio` in CodeXGLUE).

## History
| date | tokens trained | validation loss | EM | ES | EM with suffix | ES with suffix | evaluation |
| --- | --- | --- | --- | --- | --- | --- | --- |
{history_rows}

![line completion against tokens trained](history.png)

## Examples (left context)
| context (end) | target | prediction |
| --- | --- | --- |
{ex}

## Limitations
A {n_params / 1e6:.1f}M-parameter model trained on {tokens_trained / 1e6:.1f}M tokens: it completes common
idioms and names it has seen often, and little else (see the examples). Quality grows with every CPU
hour the run gets (History) and with Kestrel's project cache, which mixes the user's own code into
each decoding step.
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
