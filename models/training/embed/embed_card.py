"""
Write the shipped embedder's kestrel.json and model card (README.md) from a finished run.

  python3 models/training/embed_card.py --run work/embed/runs/tiny --out ../kestrel-embed-tiny

Reads: run/ckpt.pt (config, model args, data record), run/log.csv and run/curves.png,
run/fusion-tuning.json (`kestrel eval-search --tune-fusion --json` on the valid pairs with the
exported model: its tuned weights become kestrel.json's embedding.fusion), run/search-seed{0,1,2}.json
(`kestrel eval-search --json`, seeds 0 1 2, once kestrel.json holds the fusion). eval-search needs a
kestrel.json, so this script runs three times: first (no fusion yet), after the tuning, and after
the three seeds; the missing parts are left out until then.
run/eval-valid.json (embed_eval.py with the checkpoint: PyTorch fp32), run/eval-valid-int8.json
(embed_eval.py --vectors: the int8 ONNX graph as run in onnxruntime-node), run/bench.json and
run/bench-1thread.json (embed_bench.mjs: throughput and parity), work/corpus/summary.json and
manifest.jsonl; the ONNX files, tokenizer.json and reference.json already in --out (embed_export.py).
Copies curves.png and log.csv into --out.
"""

import argparse
import csv
import json
import os
import shutil
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(os.path.dirname(HERE), 'common')]
from paths import WORK, from_training  # noqa: E402
from embed_export import CODE_MARKER, CODE_MAX_LEN, QUERY_MARKER, QUERY_MAX_LEN  # noqa: E402
from embed_model import NBoWEncoder, build_encoder  # noqa: E402
from provenance import git, sha256  # noqa: E402

# reference.json tolerances, checked by test/unit/embedding-onnx-parity.test.ts
FP32_MAX_ABS = 1e-4
INT8_MIN_COSINE = 0.98


def table(res, methods=(('bm25', 'BM25 (identifier-split)'), ('vector', 'embedder'), ('hybrid', 'hybrid (RRF)'))):
    rows = ['| retriever | protocol | MRR | recall@1 | recall@5 | recall@10 | queries |',
            '| --- | --- | --- | --- | --- | --- | --- |']
    for p, pname in (('csn', f'1 vs 999 ({res["groups"]} x {res["group_size"]})'),
                     ('full', f'whole split ({res["pairs"]})')):
        for m, mname in methods:
            if m in res:
                r = res[m][p]
                rows.append(f'| {mname} | {pname} | {r["mrr"]:.3f} | {r["recall@1"]:.3f} | {r["recall@5"]:.3f} | '
                            f'{r["recall@10"]:.3f} | {r["n"]} |')
    return '\n'.join(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--run', default='work/embed/runs/tiny')
    ap.add_argument('--out', default='../kestrel-embed-tiny')
    ap.add_argument('--id', default='kestrel-embed-tiny')
    ap.add_argument('--display-name', default='Kestrel code-search embedder, tiny (CPU-trained)')
    ap.add_argument('--work', default=WORK)
    args = ap.parse_args()
    run = from_training(args.run)
    out = from_training(args.out)

    ckpt = torch.load(os.path.join(run, 'ckpt.pt'), map_location='cpu')
    cfg, margs = ckpt['config'], ckpt['model_args']
    model = build_encoder(margs)
    nbow = isinstance(model, NBoWEncoder)
    n_params, n_non_emb = model.num_params(), model.num_params(non_embedding=True)
    mc = model.cfg
    tuning_file = os.path.join(run, 'fusion-tuning.json')
    tuning = json.load(open(tuning_file))['tunedFusion'] if os.path.exists(tuning_file) else None
    fusion = tuning['weights'] if tuning else None
    search_files = [os.path.join(run, f'search-seed{s}.json') for s in (0, 1, 2)]
    search = [json.load(open(f)) for f in search_files] if all(map(os.path.exists, search_files)) else []
    assert all(r.get('fusion') == fusion for r in search), 'search-seed*.json ran without the tuned fusion: rerun them'
    rows = list(csv.DictReader(open(os.path.join(run, 'log.csv'))))
    last = rows[-1]
    cpu_seconds = int(float(last.get('cpu_seconds') or 0))
    import numpy as np
    n_valid = json.load(open(os.path.join(run, 'eval-valid-int8.json')))['pairs']
    vecs = np.fromfile(os.path.join(run, 'valid-int8.bin'), dtype=np.float32).reshape(2, n_valid, -1)
    min_similarity = round(float(np.percentile((vecs[0] * vecs[1]).sum(axis=1), 10)), 3)
    ev = json.load(open(os.path.join(run, 'eval-valid.json')))
    ev8 = json.load(open(os.path.join(run, 'eval-valid-int8.json')))
    bench = json.load(open(os.path.join(run, 'bench.json')))
    bench1 = json.load(open(os.path.join(run, 'bench-1thread.json')))
    summary = json.load(open(os.path.join(args.work, 'corpus', 'summary.json')))
    manifest_digest = sha256(os.path.join(args.work, 'corpus', 'manifest.jsonl'))
    assert manifest_digest == summary['manifest_sha256'] == ckpt['manifest_sha256'], 'corpus changed since training'
    pairs = ckpt['data_summary']

    shutil.copy(os.path.join(run, 'curves.png'), os.path.join(out, 'curves.png'))
    shutil.copy(os.path.join(run, 'log.csv'), os.path.join(out, 'training-log.csv'))
    spec = json.load(open(os.path.join(out, 'tokenizer.json'), encoding='utf-8'))
    sid = {t['content']: t['id'] for t in spec['added_tokens']}
    ref = json.load(open(os.path.join(out, 'reference.json')))
    ref['tolerance'] = {'fp32_max_abs': FP32_MAX_ABS, 'int8_min_cosine': INT8_MIN_COSINE}
    with open(os.path.join(out, 'reference.json'), 'w') as f:
        json.dump(ref, f, separators=(',', ':'))

    files = {}
    for variant, name, providers in (('fp32', 'model.onnx', ['cpu', 'cuda', 'webgpu']), ('int8', 'model.int8.onnx', ['cpu'])):
        p = os.path.join(out, name)
        files[variant] = {'path': name, 'providers': providers, 'bytes': os.path.getsize(p), 'sha256': sha256(p)}
    parity = {v: bench['variants'][v]['parity'] for v in files}
    assert parity['fp32']['maxAbsDiff'] <= FP32_MAX_ABS and parity['int8']['minCosine'] >= INT8_MIN_COSINE, parity
    dirty = git('status', '--porcelain', '--', HERE)
    pairs_seen = int(last['iter']) * cfg['batch_size']
    through = {f'{v}_{t}thread': {k: b['variants'][v][k] for k in ('chunksPerSecond', 'chunksPerSecondModelOnly',
                                                                    'chunksPerCpuSecondModelOnly')}
               for t, b in ((2, bench), (1, bench1)) for v in files}

    meta = {
        'id': args.id,
        'displayName': args.display_name,
        'kind': 'embedding',
        'languages': ['python'],
        'contextLength': CODE_MAX_LEN,
        'tokenizer': 'tokenizer.json',
        'files': files,
        'specialTokens': {'endOfText': '<|endoftext|>', 'query': QUERY_MARKER, 'code': CODE_MARKER},
        'embedding': {
            'inputs': ['input_ids', 'attention_mask'],
            'output': 'embeddings',
            'dimension': mc.n_embd,
            'normalized': True,
            'pooling': ('softmax-weighted mean of token vectors over attention_mask (a learned weight per token), inside the graph'
                        if nbow else 'mean over attention_mask, inside the graph'),
            'queryPrefix': QUERY_MARKER,
            'codePrefix': CODE_MARKER,
            'prefixIds': {'query': sid[QUERY_MARKER], 'code': sid[CODE_MARKER]},
            'queryMaxTokens': QUERY_MAX_LEN,
            'codeMaxTokens': CODE_MAX_LEN,
            'padId': 0,
            'prefixHandling': 'The prefixes are special added tokens of tokenizer.json (type markers, one id each): '
                              'encode prefix + text with no other special tokens, keep the first queryMaxTokens / '
                              'codeMaxTokens ids (prefix included), right-pad with padId and attention_mask 0. '
                              'Score by dot product (vectors are unit length).',
            # weighted reciprocal-rank fusion for Kestrel's search, tuned on the valid pairs (src/index/fusion.ts)
            **({'fusion': fusion} if fusion else {}),
            # search's relevance floor for a chunk only the vectors found: the 10th percentile of the
            # cosines between valid queries and their own code (int8 vectors), so 90% of right codes clear it
            'minVectorSimilarity': min_similarity,
        },
        'architecture': ({
            'type': 'neural-bag-of-words', 'hiddenSize': mc.n_embd, 'vocabSize': mc.vocab_size,
            'tables': 'one vector table and one token-weight table per side (query, code), chosen by the type marker',
        } if nbow else {
            'type': 'bidirectional-encoder', 'numLayers': mc.n_layer, 'numHeads': mc.n_head,
            'hiddenSize': mc.n_embd, 'ffnHidden': mc.ffn_hidden, 'vocabSize': mc.vocab_size,
            'maxPositionEmbeddings': mc.max_len, 'positionEncoding': 'learned', 'norm': 'pre-LayerNorm',
        }),
        'training': {
            'dataManifestSha256': manifest_digest,
            'data': {'pairs': pairs, **{k: summary[k] for k in ('train_packages', 'train_files', 'valid_packages',
                                                                 'valid_files', 'stdlib')}},
            'baseTokenizerSha256': sha256(from_training(cfg['tokenizer'])),
            'config': cfg,
            'modelArgs': margs,
            'codeCommit': ckpt.get('commit'),
            'exportCommit': git('rev-parse', 'HEAD'),
            'codeDirty': bool(dirty),
            'iterations': int(last['iter']),
            'pairsSeen': pairs_seen,
            'wallSeconds': int(float(last['seconds'])),
            'cpuSeconds': cpu_seconds,
            'device': cfg['device'],
        },
        'metrics': {
            'parameters': n_params,
            'nonEmbeddingParameters': n_non_emb,
            'valid': {'protocol': 'CodeSearchNet: each query ranks its code among 999 distractors (groups of 1,000, '
                                  'seeded shuffle), and among every code of the split; pessimistic ties',
                      'packages': summary['valid_packages'], 'pytorchFp32': ev, 'onnxInt8': ev8,
                      'kestrelEvalSearch': {'what': 'kestrel eval-search (the product\'s BM25, int8 vectors and '
                                                    'tuned fusion), groups of 1,000, seeds 0 1 2',
                                            'fusionTuning': tuning,
                                            'seeds': [{'seed': r['seed'], **{m: r['rankers'][m]['mrr'] for m in r['rankers']}}
                                                      for r in search]}},
            'throughput': {'what': 'code chunks of the valid pairs, tokenized + embedded by onnxruntime-node, '
                                   f'batches of {bench["batch"]} sorted by length',
                           'meanTokens': bench['meanTokens'], 'loadAverage': bench['loadAverage'], **through},
            'onnxParity': parity,
        },
    }
    with open(os.path.join(out, 'kestrel.json'), 'w') as f:
        json.dump(meta, f, indent=2)
        f.write('\n')

    lic = {}
    for pkg in pairs_packages(args.work):
        lic.setdefault(summary['licences'].get(pkg, 'unknown'), []).append(pkg)
    lic_rows = '\n'.join(f'| {l} | {len(p)} | {", ".join(sorted(p)[:6])}{" ..." if len(p) > 6 else ""} |'
                         for l, p in sorted(lic.items(), key=lambda kv: -len(kv[1])))
    mb = lambda v: f'{files[v]["bytes"] / 1e6:.1f} MB'  # noqa: E731
    tv = lambda b, v, k: b['variants'][v][k]  # noqa: E731
    vec, hyb, bm = ev['vector']['csn'], ev['hybrid']['csn'], ev['bm25']['csn']
    epochs = pairs_seen / pairs['train']['pairs']
    verdict = (f"on the valid packages the embedder alone {'beats' if vec['mrr'] > bm['mrr'] else 'ranks below'} "
               f"BM25 (MRR {vec['mrr']:.3f} vs {bm['mrr']:.3f})")
    what = ('A neural bag of words (CodeSearchNet\'s NBoW) embeds search queries and code chunks into '
            f'{mc.n_embd}-dimensional unit vectors: the softmax-weighted mean of per-token vectors, with separate '
            'tables for the query and the code side, chosen by the type marker token an input starts with.'
            if nbow else
            f'One small bidirectional transformer embeds both search queries and code chunks into {mc.n_embd}-dimensional '
            'unit vectors; a type marker token at the start says which side an input is.')
    if search:
        rows = '\n'.join('| ' + name + ' | ' + ' / '.join(format(r['rankers'][m]['mrr'], '.3f') for r in search)
                         + ' | ' + format(sum(r['rankers'][m]['mrr'] for r in search) / 3, '.3f') + ' |'
                         for m, name in (('bm25', 'BM25 (the index\'s)'), ('vector', 'vectors (int8)'), ('hybrid', 'hybrid (tuned fusion)')))
        search_table = f"""| ranker | MRR, seeds 0 / 1 / 2 | mean |
| --- | --- | --- |
{rows}"""
    else:
        search_table = '(not measured yet: run eval-search, then this script again)'
    card = f"""# {args.display_name}

`{args.id}`: the embedder behind Kestrel's semantic code search. {what} Trained from scratch on one
shared CPU core with the recipe in `models/training/` ({cpu_seconds // 60} CPU-minutes, {pairs_seen:,}
query/code pairs seen, {epochs:.2f} passes over the train pairs): {verdict}.
"""
    card += f"""
## Files
| file | what | size |
| --- | --- | --- |
| `model.onnx` | fp32 ONNX graph: `input_ids`, `attention_mask` (int64 [batch, sequence]) -> `embeddings` [batch, {mc.n_embd}], unit length | {mb('fp32')} |
| `model.int8.onnx` | the same with int8 weights ({'int8 vector table with a float scale per row' if nbow else 'per-column matrices, per-row token table; dynamic int8 activations'}) | {mb('int8')} |
| `tokenizer.json` | Kestrel's byte-level BPE code tokenizer + the type markers `{QUERY_MARKER}` = {sid[QUERY_MARKER]}, `{CODE_MARKER}` = {sid[CODE_MARKER]} | {os.path.getsize(os.path.join(out, 'tokenizer.json')) / 1e6:.1f} MB |
| `kestrel.json` | Kestrel model contract: files, prefixes, max lengths, dimension, training record, metrics | |
| `reference.json` | inputs and PyTorch embeddings for `test/unit/embedding-onnx-parity.test.ts` | |
| `curves.png`, `training-log.csv` | training curves | |

## Use
- Query: `{QUERY_MARKER}` + query text, at most {QUERY_MAX_LEN} tokens (marker included).
- Code chunk: `{CODE_MARKER}` + code, at most {CODE_MAX_LEN} tokens (marker included).
- The markers are special tokens of `tokenizer.json`: prepending the string gives one id. Encode
  without other special tokens, truncate, right-pad with 0 and `attention_mask` 0.
- Pooling and L2 normalisation are inside the graph: score with a dot product.
- Kestrel's search fuses the vectors with BM25 by weighted reciprocal rank, bm25 / (k + rank) +
  vector / (k + rank), with the weights tuned on the valid pairs and recorded in kestrel.json
  (`embedding.fusion`): {f"bm25 {fusion['bm25']}, vector {fusion['vector']}, k {fusion['k']}" if fusion else 'not tuned yet'}.

## Model
| | |
| --- | --- |
{'| architecture | neural bag of words: per side a token vector table and a token weight table; softmax over the weights of the real tokens, weighted mean, L2 norm |' if nbow else '| architecture | pre-LayerNorm transformer encoder, bidirectional attention with a padding mask, GELU MLP, learned positions, mean pooling, L2 norm |'}
{'' if nbow else f'| layers / hidden / heads / MLP hidden | {mc.n_layer} / {mc.n_embd} / {mc.n_head} / {mc.ffn_hidden} |'}
| parameters | {n_params:,} ({n_non_emb:,} non-embedding) |
| output | {mc.n_embd} floats, unit length |

## Training
- Pairs (`embed_pairs.py`, CodeSearchNet rules): functions and methods with a docstring; query = the
  docstring's first paragraph (at least 3 tokens); code = the function without its docstring; names
  starting with `test` and bodies under 3 lines skipped; deduplicated on whitespace-normalised code
  (valid code seen in train dropped). Train: {pairs['train']['pairs']:,} pairs from
  {pairs['train']['packages']} packages, plus {pairs['train']['code_only']:,} undocumented functions for the
  code-only objective. Valid: {pairs['valid']['pairs']:,} pairs from {', '.join(summary['valid_packages'])}.
  Corpus: {summary['train_files']:,} files from {summary['train_packages']} Debian bookworm packages sampled
  from the train list plus the Python 3.11 standard library; manifest sha256 `{manifest_digest}`.
- Objective (SimCSE-style): symmetric InfoNCE with in-batch negatives over (query, code), batch
  {cfg['batch_size']}, temperature {cfg['temperature']}{', and for each query one BM25-mined hard negative (the best BM25 match among ' + format(cfg['hard_sub_pool'], ',') + ' random train codes, its own excluded; embed_mine.py)' if cfg.get('hard_negatives') else ''}; plus, weight {cfg['code_loss_weight']}, the same loss
  between two random windows (at least {cfg['span_min_frac']:.0%} of the tokens, at most {cfg['code_view_len']})
  of one function, {cfg['code_batch_size']} functions per step, documented or not, with dropout
  {cfg['dropout']} as noise, so code without a docstring embeds well too.
- Code cut to {cfg['train_code_len']} tokens in most steps, the full {CODE_MAX_LEN} every {cfg['full_len_every']}th.
  {'Adam' if nbow else 'AdamW'} (lr {cfg['learning_rate']:g} -> {cfg['min_lr']:g}, cosine over {dict(time='wall time', cpu='CPU time').get(cfg['lr_schedule'], 'steps')}),
  fp32, one CPU core at nice 19 shared with other jobs: {int(last['iter'])} steps, {cpu_seconds} CPU-seconds of
  training ({int(float(last['seconds']))} s of wall time, validations included).
- Code: commit `{ckpt.get('commit')}`; exported at `{meta['training']['exportCommit']}`{' (with uncommitted changes in models/training)' if dirty else ''}.

![training curves](curves.png)

## Evaluation (valid packages, never trained on)
CodeSearchNet protocol: the {ev['pairs']} valid pairs are shuffled (seed {ev['seed']}) and cut into groups
of 1,000; each query ranks its own code among the group's 999 others. Also: each query against every
code of the split. BM25 (k1 1.2, b 0.75) indexes identifier-split code (snake_case and camelCase split,
lower-cased); hybrid here is plain reciprocal-rank fusion (k = 60) of BM25 and the embedder (the
product's tuned fusion is measured below). A tie counts against the right answer.

PyTorch fp32:

{table(ev)}

int8 ONNX graph as run in onnxruntime-node (the variant the CPU index uses):

{table(ev8, (('vector', 'embedder int8'), ('hybrid', 'hybrid int8 (RRF)')))}

Kestrel's own ranking (`kestrel eval-search --pairs pairs-valid.jsonl --model {args.id} --seed S`: the
index's BM25 with its name bonus and stop words, the int8 vectors, the tuned fusion; groups of 1,000;
a right code outside the 100 candidates of both lists counts as reciprocal rank 0). Fusion tuned with
`--tune-fusion` on seed 0's group: {f"MRR {tuning['mrr']:.3f} against BM25 {tuning['bm25Mrr']:.3f}" if tuning else 'not run yet'}.

{search_table}


## Speed (onnxruntime-node {bench.get('ortVersion', '')}, this 2-core machine)
{bench['chunks']} code chunks of the valid pairs (mean {bench['meanTokens']} tokens after truncation),
tokenized by @huggingface/tokenizers and embedded in batches of {bench['batch']} sorted by length
(`node models/training/embed_bench.mjs`). The machine was shared with other jobs (load average
{bench['loadAverage'][0]} with 2 threads, {bench1['loadAverage'][0]} with 1), so wall-clock figures are
lower bounds; chunks per CPU-second of the model is the contention-free figure for one core.

| variant | threads | chunks/s (tokenize + embed) | chunks/s (model only) | chunks per CPU-second (model) |
| --- | --- | --- | --- | --- |
| fp32 | 2 | {tv(bench, 'fp32', 'chunksPerSecond')} | {tv(bench, 'fp32', 'chunksPerSecondModelOnly')} | {tv(bench, 'fp32', 'chunksPerCpuSecondModelOnly')} |
| int8 | 2 | {tv(bench, 'int8', 'chunksPerSecond')} | {tv(bench, 'int8', 'chunksPerSecondModelOnly')} | {tv(bench, 'int8', 'chunksPerCpuSecondModelOnly')} |
| fp32 | 1 | {tv(bench1, 'fp32', 'chunksPerSecond')} | {tv(bench1, 'fp32', 'chunksPerSecondModelOnly')} | {tv(bench1, 'fp32', 'chunksPerCpuSecondModelOnly')} |
| int8 | 1 | {tv(bench1, 'int8', 'chunksPerSecond')} | {tv(bench1, 'int8', 'chunksPerSecondModelOnly')} | {tv(bench1, 'int8', 'chunksPerCpuSecondModelOnly')} |

ONNX parity against PyTorch (`reference.json`): fp32 max |difference| {parity['fp32']['maxAbsDiff']:g}
(tolerance {FP32_MAX_ABS:g}); int8 min cosine {parity['int8']['minCosine']} (tolerance {INT8_MIN_COSINE}).

## Data licences
Training data is DFSG-free Python from Debian main; each package's licence (its Debian copyright
file, `Files: *` paragraph) is recorded per file in the corpus manifest. Licences of the train
packages that gave pairs or functions:

| licence | packages | examples |
| --- | --- | --- |
{lic_rows}
"""
    open(os.path.join(out, 'README.md'), 'w').write(card)
    print(f'wrote {out}/kestrel.json and README.md')


def pairs_packages(work):
    pk = set()
    for name in ('pairs-train.jsonl', 'code-train.jsonl'):
        with open(os.path.join(work, 'embed', name), encoding='utf-8') as f:
            for line in f:
                pk.add(json.loads(line)['package'])
    return sorted(pk)


if __name__ == '__main__':
    main()
