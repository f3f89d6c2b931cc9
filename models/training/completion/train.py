"""
Train a Kestrel completion model. One straight script, nanoGPT style:
setup -> data -> model (scratch or resume) -> optimizer -> DDP -> eval/lr helpers -> loop.

  python3 models/training/train.py config/tiny_cpu.py                 # one process
  python3 models/training/train.py config/tiny_cpu.py --max_iters=20  # overrides
  torchrun --standalone --nproc_per_node=8 models/training/train.py config/small_gpu.py

Checkpoints (out_dir/ckpt.pt) hold the model args, optimizer, iteration and resolved config, and
batches are a pure function of (seed, iteration), so `--init_from=resume` continues exactly where a
run stopped (an accelerator call lasts at most 10 minutes: set max_seconds below that).
"""

import csv
import json
import os
import sys
import time
from contextlib import nullcontext

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(os.path.dirname(HERE), 'common')]
from paths import COMMON, WORK, from_training  # noqa: E402
from data import Specials, get_batch_np, load_split  # noqa: E402
from model import CONFIGS, GPT, GPTConfig  # noqa: E402
from schedule import cosine_lr  # noqa: E402
from provenance import git  # noqa: E402
from tokenizer import Tokenizer  # noqa: E402

# -----------------------------------------------------------------------------
# default config values; config/*.py and --key=value override them
# I/O
work_dir = WORK  # corpus, tokenized data, tokenizer
out_dir = 'work/runs/tiny'  # relative paths are taken from models/training
init_from = 'scratch'  # 'scratch' or 'resume'
eval_interval = 100  # iterations between validation runs (and checkpoints)
eval_iters = 8  # validation batches; always the same batches (seeded), so values are comparable
log_interval = 10
max_seconds = 0  # stop (with a checkpoint) after this much wall time; 0 = no limit
# model
model_size = 'tiny'  # a key of model.CONFIGS
dropout = 0.0  # unused: at these data sizes and token counts, dropout only slows learning
# data
batch_size = 4  # sequences per micro-batch
seq_len = 1024  # training context (the model supports up to block_size = 2048)
grad_accum = 1  # micro-batches per optimizer step (per process)
fim_rate = 0.5  # share of documents turned into fill-in-the-middle examples, half PSM half SPM
seed = 1337
# optimizer: AdamW, linear warmup then cosine decay to min_lr
learning_rate = 2e-3
min_lr = 1e-4
max_iters = 600
warmup_iters = 30
# 'iters': cosine over max_iters (reproducible). 'time': cosine over max_seconds of wall time, for a
# shared CPU whose speed is not known in advance (the run ends when the time is up).
lr_schedule = 'iters'
weight_decay = 0.1
beta1, beta2 = 0.9, 0.95
grad_clip = 1.0
# system
device = 'cuda' if torch.cuda.is_available() else 'cpu'
dtype = 'bfloat16' if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else 'float32'
compile = hasattr(torch, 'compile') and torch.cuda.is_available()
# -----------------------------------------------------------------------------
exec(open(os.path.join(COMMON, 'configurator.py')).read())  # config files, then --key=value; sets `config`
config['code_commit'] = git('rev-parse', 'HEAD')  # the code version this run trains with, kept in every checkpoint
out_dir = from_training(out_dir)
work_dir = from_training(work_dir)

# DDP when launched by torchrun
ddp = int(os.environ.get('RANK', -1)) != -1
if ddp:
    torch.distributed.init_process_group(backend='nccl' if device.startswith('cuda') else 'gloo')
    rank, local_rank, world = int(os.environ['RANK']), int(os.environ['LOCAL_RANK']), int(os.environ['WORLD_SIZE'])
    if device.startswith('cuda'):
        device = f'cuda:{local_rank}'
        torch.cuda.set_device(device)
else:
    rank, local_rank, world = 0, 0, 1
master = rank == 0
tokens_per_iter = grad_accum * world * batch_size * seq_len
if master:
    os.makedirs(out_dir, exist_ok=True)
    print(json.dumps(config, indent=1))
    print(f'tokens per iteration: {tokens_per_iter:,}')
torch.manual_seed(seed + rank)
device_type = 'cuda' if 'cuda' in device else 'cpu'
if device_type == 'cuda':
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
ptdtype = {'float32': torch.float32, 'bfloat16': torch.bfloat16, 'float16': torch.float16}[dtype]
autocast = nullcontext() if dtype == 'float32' else torch.autocast(device_type=device_type, dtype=ptdtype)

# data
tok = Tokenizer(os.path.join(work_dir, 'tokenizer.json'))
specials = Specials.from_tokenizer(tok)
splits = {'train': load_split(work_dir, 'train'), 'valid': load_split(work_dir, 'valid')}


def get_batch(split, step, seed_=None):
    x, y = get_batch_np(splits[split], specials, batch_size, seq_len,
                        seed if seed_ is None else seed_, step, fim_rate, rank)
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    if device_type == 'cuda':
        return x.pin_memory().to(device, non_blocking=True), y.pin_memory().to(device, non_blocking=True)
    return x, y


# model
iter_num, best_val_loss = 0, float('inf')
ckpt_path = os.path.join(out_dir, 'ckpt.pt')
if init_from == 'resume' and os.path.exists(ckpt_path):
    ckpt = torch.load(ckpt_path, map_location='cpu')
    model_args = ckpt['model_args']
    model = GPT(GPTConfig(**model_args))
    model.load_state_dict(ckpt['model'])
    iter_num, best_val_loss = ckpt['iter_num'], ckpt['best_val_loss']
    print(f'resumed from {ckpt_path} at iteration {iter_num}')
else:
    ckpt = None
    model_args = dict(CONFIGS[model_size], vocab_size=tok.vocab_size)
    model = GPT(GPTConfig(**model_args))
model.to(device)
if master:
    print(f'parameters: {model.num_params():,} ({model.num_params(non_embedding=True):,} non-embedding)')

optimizer = model.configure_optimizer(weight_decay, learning_rate, (beta1, beta2), device_type)
if ckpt is not None:
    optimizer.load_state_dict(ckpt['optimizer'])
ckpt = None
raw_model = model
if compile:
    model = torch.compile(model)
if ddp:
    model = torch.nn.parallel.DistributedDataParallel(model, device_ids=[local_rank] if device_type == 'cuda' else None)


@torch.no_grad()
def evaluate():
    """The one validation function: mean loss over the same eval_iters valid batches every time."""
    model.eval()
    losses = torch.zeros(eval_iters)
    for k in range(eval_iters):
        x, y = get_batch('valid', k, seed_=0)  # fixed seed: identical batches at every evaluation
        with autocast:
            _, loss, _ = raw_model(x, y)
        losses[k] = loss.item()
    model.train()
    val = losses.mean()
    if ddp:  # each rank drew different rows (rank is part of the batch seed): average them
        val = val.to(device)
        torch.distributed.all_reduce(val)  # SUM: gloo has no AVG
        val = val / world
    return val.item()


def get_lr(it, elapsed):
    return cosine_lr(it, elapsed, learning_rate=learning_rate, min_lr=min_lr, warmup_iters=warmup_iters,
                     max_iters=max_iters, max_seconds=max_seconds, lr_schedule=lr_schedule)


def save_checkpoint():
    ckpt = {'model': raw_model.state_dict(), 'optimizer': optimizer.state_dict(), 'model_args': model_args,
            'iter_num': iter_num, 'best_val_loss': best_val_loss, 'config': config}
    torch.save(ckpt, ckpt_path + '.tmp')
    os.replace(ckpt_path + '.tmp', ckpt_path)  # never leave a half-written checkpoint


def log_row(row):
    path = os.path.join(out_dir, 'log.csv')
    new = not os.path.exists(path)
    with open(path, 'a', newline='') as f:
        w = csv.DictWriter(f, fieldnames=['iter', 'tokens', 'train_loss', 'val_loss', 'lr', 'seconds'])
        if new:
            w.writeheader()
        w.writerow(row)


# training loop
t_start = time.time()
prev_seconds = 0.0
log_path = os.path.join(out_dir, 'log.csv')
if os.path.exists(log_path) and iter_num > 0:  # continue the wall clock of a resumed run
    with open(log_path) as f:
        rows = [r for r in csv.DictReader(f) if int(r['iter']) <= iter_num]
    prev_seconds = float(rows[-1]['seconds']) if rows else 0.0
recent = []
start_iter = iter_num
t0 = time.time()
while True:
    lr = get_lr(iter_num, prev_seconds + time.time() - t_start)
    for g in optimizer.param_groups:
        g['lr'] = lr
    last = iter_num >= max_iters
    out_of_time = max_seconds and prev_seconds + time.time() - t_start > max_seconds
    fresh_resume = iter_num == start_iter and iter_num > 0  # this step was evaluated before the stop
    if (iter_num % eval_interval == 0 and not fresh_resume) or last or out_of_time:
        val = evaluate()
        if master:
            train_loss = float(np.mean(recent)) if recent else float('nan')
            seconds = prev_seconds + time.time() - t_start
            print(f'step {iter_num}: train {train_loss:.4f} val {val:.4f} ({seconds:.0f}s)', flush=True)
            log_row({'iter': iter_num, 'tokens': iter_num * tokens_per_iter, 'train_loss': f'{train_loss:.4f}',
                     'val_loss': f'{val:.4f}', 'lr': f'{lr:.6f}', 'seconds': f'{seconds:.0f}'})
            best_val_loss = min(best_val_loss, val)
            if iter_num > 0:
                save_checkpoint()
            try:
                from plot import plot_log
                plot_log(log_path, os.path.join(out_dir, 'loss.png'))
            except Exception as e:  # a plot must never stop a run
                print(f'plot failed: {e}')
            recent = []
    if last or out_of_time:
        break

    for micro in range(grad_accum):
        x, y = get_batch('train', iter_num * grad_accum + micro)
        if ddp:  # sync gradients on the last micro-step only
            model.require_backward_grad_sync = micro == grad_accum - 1
        with autocast:
            _, loss, _ = model(x, y)
        (loss / grad_accum).backward()
    if grad_clip:
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    recent.append(loss.item())
    iter_num += 1
    if master and iter_num % log_interval == 0:
        dt = time.time() - t0
        t0 = time.time()
        print(f'iter {iter_num}: loss {loss.item():.4f}, lr {lr:.2e}, '
              f'{tokens_per_iter * log_interval / dt:,.0f} tokens/s', flush=True)

if ddp:
    torch.distributed.destroy_process_group()
