"""
Train a Kestrel completion model. One straight script, nanoGPT style:
setup -> data -> model (resume, shipped weights or scratch) -> optimizer -> DDP -> helpers -> loop.

  python3 models/training/completion/train.py config/tiny_cpu.py      # start or continue the CPU run
  python3 models/training/completion/train.py config/tiny_cpu.py --max_cpu_seconds=1200   # overrides
  python3 models/training/completion/train.py config/tiny_cpu.py --decay_iters=300 --out_dir=...decay
  torchrun --standalone --nproc_per_node=8 models/training/completion/train.py config/small_gpu.py

Open-ended: with init_from='auto' the same command continues from out_dir/ckpt.pt when there is one,
else from the weights of the shipped model (init_model, read back from its fp32 ONNX file) when its
shape matches, else from scratch. Checkpoints (model, optimizer, iteration, tokens, clocks, config)
are written atomically after every evaluation, at least every checkpoint_minutes, and on SIGTERM or
SIGINT, after which the script exits cleanly. Batches are a pure function of (seed, iteration), so a
resumed run sees exactly the data it would have seen.

Learning rate: warmup-stable-decay. The main run warms up once and then stays at learning_rate for
good, so continuing it never restarts a schedule. An exportable model is a copy: --decay_iters=N
branches off the main run's checkpoint (decay_from, default out_dir/ckpt.pt), decays the rate to
min_lr over N iterations in its own out_dir and stops; the main run is not touched.

On the CPU, each batch is split into `workers` row shards trained at the same time, one thread each
(shards.py); bench_train.py measures why.
"""

import csv
import json
import os
import signal
import sys
import time
from contextlib import nullcontext

os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')  # before torch loads OpenBLAS: threads are ours (workers)

import numpy as np  # noqa: E402
import torch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(os.path.dirname(HERE), 'common')]
from paths import COMMON, MODELS, WORK, from_training  # noqa: E402
from data import Specials, get_batch_np, load_split  # noqa: E402
from model import CONFIGS, GPT, GPTConfig  # noqa: E402
from schedule import cosine_lr, wsd_lr  # noqa: E402
from shards import Shards  # noqa: E402
from provenance import git  # noqa: E402
from tokenizer import Tokenizer  # noqa: E402

# -----------------------------------------------------------------------------
# default config values; config/*.py and --key=value override them
# I/O
work_dir = WORK  # corpus, token files (data/), tokenizer.json
tokenizer = ''  # tokenizer.json; default: work_dir/tokenizer.json, else init_model's
out_dir = 'work/runs/tiny'  # relative paths are taken from models/training; '~' is expanded
init_from = 'auto'  # 'auto' (checkpoint, else shipped weights, else scratch), 'resume', 'scratch', 'shipped'
init_model = os.path.relpath(os.path.join(MODELS, 'kestrel-py-tiny'), from_training('.'))  # shipped weights
eval_interval = 100  # iterations between validation runs (and checkpoints)
eval_iters = 8  # validation batches; always the same batches (seeded), so values are comparable
log_interval = 10
checkpoint_minutes = 10.0  # a checkpoint at least this often (wall time), evaluations aside
max_seconds = 0  # stop (with a checkpoint) after this much wall time in this process; 0 = no limit
max_cpu_seconds = 0  # stop after this much CPU time of the whole run (all threads); for comparisons
# model
model_size = 'tiny'  # a key of model.CONFIGS (a checkpoint or the shipped model brings its own shape)
dropout = 0.0  # unused: at these data sizes and token counts, dropout only slows learning
# data
batch_size = 4  # sequences per micro-batch
seq_len = 1024  # training context (the model supports up to block_size = 2048)
grad_accum = 1  # micro-batches per optimizer step (per process)
fim_rate = 0.5  # share of documents turned into fill-in-the-middle examples, half PSM half SPM
seed = 1337
# optimizer: AdamW
learning_rate = 2e-3
min_lr = 1e-4
max_iters = 0  # stop at this iteration; 0 = open-ended
warmup_iters = 30
lr_schedule = 'wsd'  # 'wsd' (warmup, then constant; decay only in a --decay_iters copy), 'iters' or 'time' (cosine)
decay_iters = 0  # > 0: branch off decay_from and decay the rate to min_lr over this many iterations
decay_from = ''  # checkpoint to branch from; default: out_dir/ckpt.pt, the main run's
decay_out_dir = ''  # where the decayed copy goes; default: out_dir + '-decay'
weight_decay = 0.1
beta1, beta2 = 0.9, 0.95
grad_clip = 1.0
# system
device = 'cuda' if torch.cuda.is_available() else 'cpu'
dtype = 'bfloat16' if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else 'float32'
compile = hasattr(torch, 'compile') and torch.cuda.is_available()
workers = 1  # CPU: shards of each batch trained at once, one thread each
threads = 1  # PyTorch threads per worker
nice = 0  # raise the process's niceness to this (19: the machine stays usable while it trains)
# -----------------------------------------------------------------------------
exec(open(os.path.join(COMMON, 'configurator.py')).read())  # config files, then --key=value; sets `config`
config['code_commit'] = git('rev-parse', 'HEAD')  # the code version this run trains with, kept in every checkpoint
main_out_dir = out_dir = from_training(os.path.expanduser(out_dir))
work_dir = from_training(os.path.expanduser(work_dir))
init_model = from_training(init_model)
decaying = decay_iters > 0
if decaying:  # the export copy lives beside the main run, never in it
    decay_from = decay_from or os.path.join(main_out_dir, 'ckpt.pt')
    out_dir = from_training(os.path.expanduser(decay_out_dir)) if decay_out_dir else main_out_dir + '-decay'


def lower_priority(n):
    """Niceness n for this run, against every other process on the machine. Under autogroup
    scheduling (Linux's default) niceness only ranks processes within one session, and each session
    competes as a whole: a run started from a shell would share its shell's weight. So the run takes
    a session of its own (when it can) and sets that session's group niceness too."""
    os.nice(max(0, n - os.nice(0)))
    try:
        os.setsid()
    except OSError:  # already a process-group leader (a job-control shell's job): keep its session
        pass
    if os.getsid(0) == os.getpid():  # only a session of our own; never renice the caller's
        try:
            with open('/proc/self/autogroup', 'w') as f:
                f.write(str(n))
        except OSError:  # no autogroup scheduling here: plain niceness is what counts
            pass


if nice > 0:
    lower_priority(nice)
torch.set_num_threads(threads)

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
    print(f'tokens per iteration: {tokens_per_iter:,}; out_dir {out_dir}')
torch.manual_seed(seed + rank)
device_type = 'cuda' if 'cuda' in device else 'cpu'
if device_type == 'cuda':
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
ptdtype = {'float32': torch.float32, 'bfloat16': torch.bfloat16, 'float16': torch.float16}[dtype]
autocast = nullcontext() if dtype == 'float32' else torch.autocast(device_type=device_type, dtype=ptdtype)

# data
tokenizer_path = tokenizer or next((p for p in (os.path.join(work_dir, 'tokenizer.json'),
                                                os.path.join(init_model, 'tokenizer.json')) if os.path.exists(p)), '')
tok = Tokenizer(tokenizer_path)
specials = Specials.from_tokenizer(tok)
splits = {'train': load_split(work_dir, 'train'), 'valid': load_split(work_dir, 'valid')}


def get_batch(split, step, seed_=None):
    x, y = get_batch_np(splits[split], specials, batch_size, seq_len,
                        seed if seed_ is None else seed_, step, fim_rate, rank)
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    if device_type == 'cuda':
        return x.pin_memory().to(device, non_blocking=True), y.pin_memory().to(device, non_blocking=True)
    return x, y


# model: a checkpoint, the shipped weights, or scratch
iter_num, tokens_seen, best_val_loss, prev_seconds, prev_cpu = 0, 0, float('inf'), 0.0, 0.0
ckpt_path = os.path.join(out_dir, 'ckpt.pt')
source_ckpt = decay_from if decaying else ckpt_path
init = init_from
if init == 'auto':
    init = 'resume' if os.path.exists(source_ckpt) else (
        'shipped' if os.path.exists(os.path.join(init_model, 'model.onnx')) else 'scratch')
ckpt = None
if init == 'resume':
    ckpt = torch.load(source_ckpt, map_location='cpu')
    model_args = ckpt['model_args']
    model = GPT(GPTConfig(**model_args))
    model.load_state_dict(ckpt['model'])
    iter_num, best_val_loss = ckpt['iter_num'], ckpt['best_val_loss']
    tokens_seen = ckpt.get('tokens', iter_num * tokens_per_iter)
    prev_seconds, prev_cpu = ckpt.get('seconds', 0.0), ckpt.get('cpu_seconds', 0.0)
    print(f'resumed from {source_ckpt} at iteration {iter_num} ({tokens_seen:,} tokens)')
elif init == 'shipped':  # the shipped model brings its own shape (model_size is not used)
    from onnx_weights import model_from_onnx
    model, model_args = model_from_onnx(init_model)
    with open(os.path.join(init_model, 'kestrel.json')) as f:
        tokens_seen = int(json.load(f).get('training', {}).get('tokensTrained', 0))
    print(f'continuing from the shipped weights of {init_model} ({tokens_seen:,} tokens trained)')
else:
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
shards = Shards(workers if device_type == 'cpu' else 1)


@torch.no_grad()
def evaluate():
    """The one validation function: mean loss over the same eval_iters valid batches every time."""
    model.eval()

    def batch_loss(k):
        x, y = get_batch('valid', k, seed_=0)  # fixed seed: identical batches at every evaluation
        with autocast:
            _, loss, _ = raw_model(x, y)
        return loss.item()
    losses = torch.tensor(shards.map(batch_loss, eval_iters))
    model.train()
    val = losses.mean()
    if ddp:  # each rank drew different rows (rank is part of the batch seed): average them
        val = val.to(device)
        torch.distributed.all_reduce(val)  # SUM: gloo has no AVG
        val = val / world
    return val.item()


decay_start = iter_num if decaying else None
stable_lr = learning_rate


def get_lr(it, elapsed):
    if lr_schedule == 'wsd':
        return wsd_lr(it, learning_rate=stable_lr, warmup_iters=warmup_iters, decay_start=decay_start,
                      decay_iters=decay_iters, min_lr=min_lr)
    return cosine_lr(it, elapsed, learning_rate=learning_rate, min_lr=min_lr, warmup_iters=warmup_iters,
                     max_iters=max_iters, max_seconds=max_seconds, lr_schedule=lr_schedule)


def cpu_seconds():
    return prev_cpu + time.process_time() - cpu_start


def wall_seconds():
    return prev_seconds + time.time() - t_start


def save_checkpoint():
    ckpt = {'model': raw_model.state_dict(), 'optimizer': optimizer.state_dict(), 'model_args': model_args,
            'iter_num': iter_num, 'tokens': tokens_seen, 'best_val_loss': best_val_loss,
            'seconds': wall_seconds(), 'cpu_seconds': cpu_seconds(), 'config': config,
            'decayed_from': {'path': decay_from, 'iter': decay_start} if decaying else None}
    torch.save(ckpt, ckpt_path + '.tmp')
    os.replace(ckpt_path + '.tmp', ckpt_path)  # never leave a half-written checkpoint


LOG_FIELDS = ['iter', 'tokens', 'train_loss', 'val_loss', 'lr', 'seconds', 'cpu_seconds']


def log_row(row):
    path = os.path.join(out_dir, 'log.csv')
    new = not os.path.exists(path)
    with open(path, 'a', newline='') as f:
        w = csv.DictWriter(f, fieldnames=LOG_FIELDS)
        if new:
            w.writeheader()
        w.writerow(row)


stop_signal = []
for sig in (signal.SIGTERM, signal.SIGINT):
    signal.signal(sig, lambda signum, frame: stop_signal.append(signum))

# training loop
t_start, cpu_start = time.time(), time.process_time()
log_path = os.path.join(out_dir, 'log.csv')
if decaying and not os.path.exists(log_path) and os.path.exists(os.path.join(main_out_dir, 'log.csv')):
    with open(os.path.join(main_out_dir, 'log.csv')) as f:  # the copy's curve starts with the main run's
        for r in csv.DictReader(f):
            if int(r['iter']) <= iter_num:
                log_row({k: r.get(k, '') for k in LOG_FIELDS})
if os.path.exists(log_path) and iter_num > 0:  # drop rows past the checkpoint (a run killed without one)
    with open(log_path) as f:
        rows = [r for r in csv.DictReader(f) if int(r['iter']) <= iter_num]
    os.remove(log_path)
    for r in rows:
        log_row({k: r.get(k, '') for k in LOG_FIELDS})
recent = []
start_iter = iter_num
last_ckpt = time.time()
t0, tokens_at_t0 = time.time(), tokens_seen
while True:
    lr = get_lr(iter_num, wall_seconds())
    for g in optimizer.param_groups:
        g['lr'] = lr
    last = (max_iters and iter_num >= max_iters) or (decaying and iter_num >= decay_start + decay_iters)
    out_of_time = (max_seconds and time.time() - t_start > max_seconds) or \
        (max_cpu_seconds and cpu_seconds() > max_cpu_seconds)
    stopping = bool(last or out_of_time or stop_signal)
    fresh_resume = iter_num == start_iter and iter_num > 0  # this step was evaluated before the stop
    if (iter_num % eval_interval == 0 and not fresh_resume) or (stopping and not fresh_resume):
        val = evaluate()
        if master:
            train_loss = float(np.mean(recent)) if recent else float('nan')
            print(f'step {iter_num}: train {train_loss:.4f} val {val:.4f} ({tokens_seen:,} tokens, '
                  f'{wall_seconds():.0f} s, {cpu_seconds():.0f} CPU s)', flush=True)
            log_row({'iter': iter_num, 'tokens': tokens_seen, 'train_loss': f'{train_loss:.4f}',
                     'val_loss': f'{val:.4f}', 'lr': f'{lr:.6f}', 'seconds': f'{wall_seconds():.0f}',
                     'cpu_seconds': f'{cpu_seconds():.0f}'})
            best_val_loss = min(best_val_loss, val)
            if iter_num > 0:
                save_checkpoint()
                last_ckpt = time.time()
            try:
                from plot import plot_log
                plot_log(log_path, os.path.join(out_dir, 'loss.png'))
            except Exception as e:  # a plot must never stop a run
                print(f'plot failed: {e}')
            recent = []
    elif master and (stopping or time.time() - last_ckpt > checkpoint_minutes * 60) and iter_num > start_iter:
        save_checkpoint()
        last_ckpt = time.time()
        print(f'checkpoint at iteration {iter_num} ({tokens_seen:,} tokens)', flush=True)
    if stopping:
        if stop_signal:
            print(f'stopped by signal {stop_signal[0]} at iteration {iter_num}, checkpoint written', flush=True)
        break

    for micro in range(grad_accum):
        x, y = get_batch('train', iter_num * grad_accum + micro)
        if ddp:  # sync gradients on the last micro-step only
            model.require_backward_grad_sync = micro == grad_accum - 1
        loss_value = shards.forward_backward(model, x, y, scale=1.0 / grad_accum, autocast=autocast)
    if grad_clip:
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    recent.append(loss_value)
    iter_num += 1
    tokens_seen += tokens_per_iter
    if master and iter_num % log_interval == 0:
        dt = time.time() - t0
        print(f'iter {iter_num}: loss {loss_value:.4f}, lr {lr:.2e}, '
              f'{(tokens_seen - tokens_at_t0) / dt:,.0f} tokens/s', flush=True)
        t0, tokens_at_t0 = time.time(), tokens_seen

shards.close()
if ddp:
    torch.distributed.destroy_process_group()
