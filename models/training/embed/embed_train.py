"""
Train Kestrel's code-search embedder. One straight script, nanoGPT style:
setup -> data -> model (scratch or resume) -> optimizer -> eval/lr helpers -> loop.

  python3 models/training/embed_train.py config/embed_tiny.py                 # CPU, one core
  python3 models/training/embed_train.py config/embed_tiny.py --max_iters=20  # overrides
  python3 models/training/embed_train.py config/embed_small.py                # accelerator

Objective (SimCSE-style contrastive learning, Gao et al. 2021; CodeSearchNet pairs):
  pair loss  InfoNCE with in-batch negatives over (query, code) pairs, temperature `temperature`,
             symmetric (query -> code and code -> query);
  code loss  the same over two random windows of one function, functions with or without a
             docstring (dropout adds the SimCSE noise), weight `code_loss_weight`: code without
             a docstring must embed well too, since most of a workspace has none.
  hard negatives  with hard_negatives = 1, each query's batch also holds the code BM25 ranks first
             for it among a random sub-pool of train codes (embed_mine.py): the query must pick its
             own code over the one that shares its words.
Encoders (model_type): 'transformer' (embed_model.Encoder, configs tiny/small) or 'nbow' (the
neural bag of words, embed_model.NBoWEncoder).
Budgets: max_iters, max_seconds (wall) and max_cpu_seconds (this process's CPU time, evaluation
excluded: the fair measure on a shared machine, where wall time depends on the other jobs);
lr_schedule 'cpu' decays the learning rate over max_cpu_seconds.
Validation: embed_eval.evaluate (the one evaluation function) on a fixed seeded subset of the valid
pairs every eval_interval iterations: MRR, recall@k of the model, BM25 and hybrid, to log.csv and
curves.png. Checkpoints (out_dir/ckpt.pt) hold the model args, optimizer, iteration and resolved
config; batches are a pure function of (seed, iteration), so --init_from=resume continues exactly.
"""

import csv
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(os.path.dirname(HERE), 'common')]
from paths import COMMON, WORK, from_training  # noqa: E402
from embed_data import (Embedder, code_views, embed_tokenizer, pad, pair_batch_indices,  # noqa: E402
                        tokenize_file)
from embed_eval import evaluate, read_pairs  # noqa: E402
from embed_export import CODE_MARKER, CODE_MAX_LEN, QUERY_MARKER, QUERY_MAX_LEN  # noqa: E402
from embed_model import CONFIGS, build_encoder  # noqa: E402
from schedule import cosine_lr  # noqa: E402
from provenance import git  # noqa: E402

# -----------------------------------------------------------------------------
# default config values; config/embed_*.py and --key=value override them
# I/O
work_dir = 'work'  # corpus, tokenizer; relative paths are taken from models/training
tokenizer = 'work/tokenizer.json'  # the project's code tokenizer (the type markers are added to it)
out_dir = 'work/embed/runs/tiny'
init_from = 'scratch'  # 'scratch' or 'resume'
init_tok_emb = ''  # optional checkpoint of the completion model (train.py): copy its token embeddings
eval_interval = 100  # iterations between validations (and checkpoints)
eval_pairs = 1000  # valid pairs used during training (a seeded subset: the same every time)
log_interval = 10
max_seconds = 0  # stop (with a checkpoint) after this much wall time; 0 = no limit
max_cpu_seconds = 0  # stop after this much CPU time of this process, evaluations excluded; 0 = no limit
# model
model_type = 'transformer'  # 'transformer' (model_size picks the config) or 'nbow'
model_size = 'tiny'  # a key of embed_model.CONFIGS
n_embd = 256  # nbow: the output dimension
dropout = 0.1  # also the SimCSE noise of the code-only objective
# data and objective
batch_size = 32  # (query, code) pairs per step: 31 in-batch negatives per query
code_batch_size = 16  # functions per step for the code-only objective
code_loss_weight = 0.5
use_undocumented = 1  # 0: the code objective draws from the pairs' code only (code-train.jsonl is not tokenized)
train_code_len = 128  # code tokens (marker included) in most training steps: attention and MLP cost grow with it
full_len_every = 4  # every n-th step uses the full 256 code tokens, so every position embedding is trained
code_view_len = 64  # tokens per code-only view
span_min_frac = 0.5  # each view covers at least this share of the function's tokens
temperature = 0.05
hard_negatives = 0  # 1: one BM25-mined negative code per query (embed_mine.py)
hard_pool = 50000  # train codes the negatives are mined from
hard_sub_pool = 8192  # of which each step searches this many
seed = 1337
# optimizer: AdamW, linear warmup then cosine decay to min_lr
learning_rate = 1e-3
min_lr = 5e-5
max_iters = 1000
warmup_iters = 50
lr_schedule = 'iters'  # 'iters': cosine over max_iters; 'time': over max_seconds of wall time; 'cpu': over max_cpu_seconds
weight_decay = 0.01
beta1, beta2 = 0.9, 0.98
grad_clip = 1.0
device = 'cuda' if torch.cuda.is_available() else 'cpu'
# -----------------------------------------------------------------------------
exec(open(os.path.join(COMMON, 'configurator.py')).read())  # config files, then --key=value; sets `config`
# `config` keeps paths as given: relative to models/training
out_dir, work_dir, tokenizer = (from_training(p) for p in (out_dir, work_dir, tokenizer))
os.makedirs(out_dir, exist_ok=True)
print(json.dumps(config, indent=1))
torch.manual_seed(seed)

# data
embed_dir = os.path.join(work_dir, 'embed')
tok = embed_tokenizer(tokenizer, embed_dir)
Q_ID, C_ID = tok.token_to_id(QUERY_MARKER), tok.token_to_id(CODE_MARKER)
t0 = time.time()
pairs = tokenize_file(tok, os.path.join(embed_dir, 'pairs-train.jsonl'), ('query', 'code'), embed_dir)
undocumented = (tokenize_file(tok, os.path.join(embed_dir, 'code-train.jsonl'), ('code',), embed_dir)
                if use_undocumented else {"code": []})
code_pool = [t for t in pairs['code'] + undocumented['code'] if len(t) >= 8]
code_lens = np.asarray([min(len(t), CODE_MAX_LEN) for t in pairs['code']])
valid_all = read_pairs(os.path.join(embed_dir, 'pairs-valid.jsonl'))
valid = [valid_all[i] for i in sorted(np.random.default_rng(0).permutation(len(valid_all))[:eval_pairs])]
data_summary = json.load(open(os.path.join(embed_dir, 'pairs-summary.json')))
print(f'{len(code_lens):,} train pairs, {len(code_pool):,} functions for the code objective, '
      f'{len(valid)} valid pairs for validation (tokenized in {time.time() - t0:.0f}s)', flush=True)


miner = None
if hard_negatives:
    from embed_mine import HardNegativeMiner
    t0 = time.time()
    miner = HardNegativeMiner(os.path.join(embed_dir, 'pairs-train.jsonl'), embed_dir, hard_pool, seed)
    print(f'hard negatives mined from {len(miner.pool):,} train codes (ready in {time.time() - t0:.0f}s)', flush=True)


def get_batch(step):
    idx = pair_batch_indices(code_lens, batch_size, seed, step)
    if miner is not None:  # the mined codes follow the batch's own: rows B..2B-1 of the code side
        idx_codes = np.concatenate([idx, miner.negatives(idx, seed, step, hard_sub_pool)])
    else:
        idx_codes = idx
    q = pad([pairs['query'][i] for i in idx], Q_ID, QUERY_MAX_LEN)
    cap = CODE_MAX_LEN if step % full_len_every == full_len_every - 1 else train_code_len
    c = pad([pairs['code'][i] for i in idx_codes], C_ID, cap)
    va, vb = code_views(code_pool, code_batch_size, seed, step, span_min_frac, code_view_len)
    a, b = pad(va, C_ID, CODE_MAX_LEN), pad(vb, C_ID, CODE_MAX_LEN)
    return [tuple(t.to(device) for t in x) for x in (q, c, a, b)]


# model
iter_num, best_mrr = 0, 0.0
ckpt_path = os.path.join(out_dir, 'ckpt.pt')
ckpt = None
if init_from == 'resume' and os.path.exists(ckpt_path):
    ckpt = torch.load(ckpt_path, map_location='cpu')
    model_args = ckpt['model_args']
    iter_num, best_mrr = ckpt['iter_num'], ckpt['best_mrr']
    print(f'resumed from {ckpt_path} at iteration {iter_num}')
elif model_type == 'nbow':
    model_args = dict(model_type='nbow', vocab_size=tok.vocab_size, max_len=CODE_MAX_LEN, n_embd=n_embd, query_id=Q_ID,
                      dropout=dropout)
else:
    model_args = dict(CONFIGS[model_size], vocab_size=tok.vocab_size, max_len=CODE_MAX_LEN, dropout=dropout)
model = build_encoder(model_args)
if ckpt is not None:
    model.load_state_dict(ckpt['model'])
elif init_tok_emb:
    # the completion model's token embeddings (same tokenizer) as a warm start, when widths match
    src = torch.load(from_training(init_tok_emb), map_location='cpu')['model']['embed.weight']
    assert src.shape[1] == model.cfg.n_embd, 'init_tok_emb: width differs'
    with torch.no_grad():
        model.tok_emb.weight[:src.shape[0]] = src
    print(f'token embeddings initialised from {init_tok_emb} ({src.shape[0]} rows)')
model.to(device)
print(f'parameters: {model.num_params():,} ({model.num_params(non_embedding=True):,} non-embedding)')
optimizer = model.configure_optimizer(weight_decay, learning_rate, (beta1, beta2))
if ckpt is not None:
    optimizer.load_state_dict(ckpt['optimizer'])
ckpt = None
embedder = Embedder(model, tok)


def info_nce(a, b):
    """Symmetric InfoNCE, row i of a matches row i of b; the other rows are the negatives. b may have
    more rows than a (mined negatives): they count as negatives of a -> b only."""
    logits = a @ b.T / temperature  # (B, B') with B' >= B
    labels = torch.arange(a.shape[0], device=a.device)
    return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits[:, :a.shape[0]].T, labels))


def get_lr(it, elapsed, cpu):
    if lr_schedule == 'cpu':
        return cosine_lr(it, cpu, learning_rate=learning_rate, min_lr=min_lr, warmup_iters=warmup_iters,
                         max_iters=max_iters, max_seconds=max_cpu_seconds, lr_schedule='time')
    return cosine_lr(it, elapsed, learning_rate=learning_rate, min_lr=min_lr, warmup_iters=warmup_iters,
                     max_iters=max_iters, max_seconds=max_seconds, lr_schedule=lr_schedule)


commit_at_start = git('rev-parse', 'HEAD') or 'unknown'  # the code this run executes (HEAD may move while it trains)


def save_checkpoint(seconds):
    ck = {'model': model.state_dict(), 'optimizer': optimizer.state_dict(), 'model_args': model_args,
          'iter_num': iter_num, 'best_mrr': best_mrr, 'config': config, 'seconds': round(seconds),
          'cpu_seconds': round(train_cpu()),
          'manifest_sha256': data_summary.get('manifest_sha256'), 'data_summary': data_summary,
          'commit': commit_at_start}
    torch.save(ck, ckpt_path + '.tmp')
    os.replace(ckpt_path + '.tmp', ckpt_path)  # never leave a half-written checkpoint


LOG_FIELDS = ['iter', 'pairs_seen', 'train_loss', 'pair_loss', 'code_loss', 'val_mrr', 'val_r1', 'val_r10',
              'bm25_mrr', 'hybrid_mrr', 'lr', 'seconds', 'cpu_seconds']


def log_row(row):
    path = os.path.join(out_dir, 'log.csv')
    new = not os.path.exists(path)
    with open(path, 'a', newline='') as f:
        w = csv.DictWriter(f, fieldnames=LOG_FIELDS)
        if new:
            w.writeheader()
        w.writerow(row)


# training loop
log_path = os.path.join(out_dir, 'log.csv')
prev_seconds = prev_cpu = 0.0
if os.path.exists(log_path) and iter_num > 0:  # continue the wall clock (and the log) of a resumed run
    with open(log_path) as f:
        rows = [r for r in csv.DictReader(f) if int(r['iter']) <= iter_num]
    prev_seconds = float(rows[-1]['seconds']) if rows else 0.0
    prev_cpu = float(rows[-1].get('cpu_seconds') or 0.0) if rows else 0.0
    with open(log_path, 'w', newline='') as f:  # drop rows logged after the checkpoint
        w = csv.DictWriter(f, fieldnames=LOG_FIELDS)
        w.writeheader()
        w.writerows(rows)
elif os.path.exists(log_path):
    os.remove(log_path)
t_start = time.time()
cpu_start = time.process_time()
eval_cpu = 0.0  # CPU time spent in evaluations: not part of the training budget


def train_cpu():
    """CPU seconds this run has trained (resumed runs included), evaluations excluded."""
    return prev_cpu + time.process_time() - cpu_start - eval_cpu


resumed_at = iter_num if iter_num > 0 else -1  # that validation is already in the log
recent = []
t0 = time.time()
model.train()
while True:
    elapsed = prev_seconds + time.time() - t_start
    lr = get_lr(iter_num, elapsed, train_cpu())
    for g in optimizer.param_groups:
        g['lr'] = lr
    last = iter_num >= max_iters
    out_of_time = (max_seconds and elapsed > max_seconds) or (max_cpu_seconds and train_cpu() > max_cpu_seconds)
    if (iter_num % eval_interval == 0 or last or out_of_time) and iter_num != resumed_at:
        te, tc = time.time(), time.process_time()
        res = evaluate(valid, embedder, group_size=len(valid))
        v = res['vector']['csn']
        seconds = prev_seconds + time.time() - t_start
        means = np.mean(recent, axis=0) if recent else [float('nan')] * 3
        print(f'step {iter_num}: train {means[0]:.4f} val MRR {v["mrr"]:.4f} R@1 {v["recall@1"]:.3f} '
              f'R@10 {v["recall@10"]:.3f} (bm25 {res["bm25"]["csn"]["mrr"]:.4f}, hybrid '
              f'{res["hybrid"]["csn"]["mrr"]:.4f}; eval {time.time() - te:.0f}s, {seconds:.0f}s)', flush=True)
        log_row({'iter': iter_num, 'pairs_seen': iter_num * batch_size, 'train_loss': f'{means[0]:.4f}',
                 'pair_loss': f'{means[1]:.4f}', 'code_loss': f'{means[2]:.4f}', 'val_mrr': v['mrr'],
                 'val_r1': v['recall@1'], 'val_r10': v['recall@10'], 'bm25_mrr': res['bm25']['csn']['mrr'],
                 'hybrid_mrr': res['hybrid']['csn']['mrr'], 'lr': f'{lr:.6f}', 'seconds': f'{seconds:.0f}',
                 'cpu_seconds': f'{train_cpu() - (time.process_time() - tc):.0f}'})
        best_mrr = max(best_mrr, v['mrr'])
        if iter_num > 0:
            save_checkpoint(seconds)
        try:
            from embed_plot import plot_curves
            plot_curves(log_path, os.path.join(out_dir, 'curves.png'))
        except Exception as e:  # a plot must never stop a run
            print(f'plot failed: {e}')
        recent = []
        t0 += time.time() - te  # the s/iter figure counts training steps only
        eval_cpu += time.process_time() - tc
    if last or out_of_time:
        break

    q, c, a, b = get_batch(iter_num)
    pair_loss = info_nce(model(*q), model(*c))
    code_loss = info_nce(model(*a), model(*b)) if code_loss_weight > 0 else torch.zeros(())
    loss = pair_loss + code_loss_weight * code_loss
    loss.backward()
    if grad_clip:
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    recent.append((loss.item(), pair_loss.item(), code_loss.item()))
    iter_num += 1
    if iter_num % log_interval == 0:
        dt = time.time() - t0
        t0 = time.time()
        print(f'iter {iter_num}: loss {loss.item():.4f} (pair {pair_loss.item():.4f}, code {code_loss.item():.4f}), '
              f'lr {lr:.2e}, {dt / log_interval:.2f} s/iter', flush=True)
