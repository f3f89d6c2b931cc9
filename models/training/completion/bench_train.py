"""
Training-speed benchmark for the completion recipe: how close a full training step comes to the
CPU's own matmul ceiling.

  /usr/bin/python3 models/training/completion/bench_train.py                 # ceiling + every configuration
  /usr/bin/python3 models/training/completion/bench_train.py --quick         # < 1 min: ceiling + one
  /usr/bin/python3 models/training/completion/bench_train.py --baseline 86738ed   # + another revision's model.py

Prints, in one run:
- the ceiling: float32 matmul GFLOP/s of the model's own shapes (tokens x width x ffn, tokens x width x
  vocabulary, 1024^3) with OpenBLAS on both cores, and two single-threaded matmuls at once;
- per configuration (model shape, batch x sequence, threading): tokens/s and achieved GFLOP/s of a full
  training step (forward, backward, gradient clipping, AdamW), and that as a share of the ceiling.
Threading is either 'threads' (PyTorch's OpenMP and OpenBLAS each with --cores threads, the usual
way) or 'workers' (--cores row shards at once, one single-threaded worker each: shards.py).

FLOPs per token are counted as in PaLM's appendix B: 6 x (matmul parameters, the output projection
included) + 12 x layers x width x sequence (attention scores and values, forward and backward).
Times are medians over the timed steps after warm-up; the machine may be shared, so compare ratios
within one run.
"""

import argparse
import ctypes
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')  # set per mode below, at run time

import torch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(os.path.dirname(HERE), 'common')]
import model as current_model  # noqa: E402
from shards import Shards  # noqa: E402

OPENBLAS = '/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3'


def set_threads(torch_threads, blas_threads):
    torch.set_num_threads(torch_threads)
    try:  # the copy of OpenBLAS torch already loaded (dlopen returns the same handle)
        ctypes.CDLL(OPENBLAS).openblas_set_num_threads(blas_threads)
    except (OSError, AttributeError):
        os.environ['OPENBLAS_NUM_THREADS'] = str(blas_threads)  # another BLAS: best effort


def median_time(fn, reps):
    fn()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def ceiling(cores, reps, d, ffn, vocab):
    shapes = {f'2048x{d}x{ffn}': (2048, d, ffn), f'2048x{d}x{vocab}': (2048, d, vocab), '1024x1024x1024': (1024, 1024, 1024)}
    rows = []
    for name, (m, k, n) in shapes.items():
        mats = [(torch.randn(m, k), torch.randn(k, n)) for _ in range(cores)]
        flops = 2 * m * k * n
        set_threads(cores, cores)
        threaded = flops / median_time(lambda: torch.mm(*mats[0]), reps) / 1e9
        set_threads(1, 1)

        def concurrent():
            ts = [threading.Thread(target=torch.mm, args=mats[i]) for i in range(cores)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
        parallel = cores * flops / median_time(concurrent, reps) / 1e9
        rows.append({'shape': name, 'threads_gflops': round(threaded, 1), 'concurrent_gflops': round(parallel, 1)})
        print(f'ceiling  matmul {name:>16}: {threaded:6.1f} GFLOP/s with {cores} OpenBLAS threads, '
              f'{parallel:6.1f} as {cores} single-thread matmuls at once', flush=True)
    return rows


def flops_per_token(m, T):
    cfg = m.cfg
    matmul_params = sum(p.numel() for n, p in m.named_parameters() if p.dim() == 2 and not n.startswith('embed'))
    matmul_params += cfg.vocab_size * cfg.n_embd  # the tied output projection is a matmul too
    return 6 * matmul_params + 12 * cfg.n_layer * cfg.n_embd * T


def load_baseline(rev):
    """The completion model.py of another revision, as a module (its folder moved once: try both)."""
    for path in ('models/training/completion/model.py', 'models/training/model.py'):
        r = subprocess.run(['git', 'show', f'{rev}:{path}'], cwd=HERE, capture_output=True, text=True)
        if r.returncode == 0:
            f = tempfile.NamedTemporaryFile('w', suffix='.py', delete=False)
            f.write(r.stdout)
            f.close()
            spec = importlib.util.spec_from_file_location(f'model_at_{rev}', f.name)
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            return mod
    raise SystemExit(f'no completion model.py at revision {rev}')


def time_step(mod, shape, B, T, steps, threading_mode, cores):
    torch.manual_seed(0)
    if threading_mode == 'threads':
        set_threads(cores, cores)
        shards = Shards(1)
    else:
        set_threads(1, 1)
        shards = Shards(cores)
    m = mod.GPT(mod.GPTConfig(**current_model.CONFIGS[shape]))
    opt = m.configure_optimizer(0.1, 1e-3, (0.9, 0.95), 'cpu')
    x = torch.randint(0, m.cfg.vocab_size, (B, T))
    y = torch.randint(0, m.cfg.vocab_size, (B, T))

    def step():
        shards.forward_backward(m, x, y)
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
    step()  # a second warm-up step inside median_time
    dt = median_time(step, steps)
    shards.close()
    tps = B * T / dt
    return {'shape': shape, 'batch': B, 'seq': T, 'threading': threading_mode, 'params': m.num_params(),
            'step_s': round(dt, 3), 'tokens_per_s': round(tps), 'gflops': round(tps * flops_per_token(m, T) / 1e9, 1)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--cores', type=int, default=2)
    ap.add_argument('--quick', action='store_true', help='the ceiling and one configuration, under a minute')
    ap.add_argument('--steps', type=int, default=0, help='timed steps per configuration (default 5, quick 2)')
    ap.add_argument('--shapes', default='tiny', help='comma-separated keys of model.CONFIGS')
    ap.add_argument('--batches', default='', help='comma-separated BxT, e.g. 8x512,16x256 (default: a sweep)')
    ap.add_argument('--threading', default='', help="'threads', 'workers' or both (default both; quick: workers)")
    ap.add_argument('--baseline', default='', help='git revision whose completion model.py is timed beside this one')
    ap.add_argument('--json', default='', help='also write the results here')
    args = ap.parse_args()

    print(f'torch {torch.__version__}, {args.cores} cores, load average {os.getloadavg()[0]:.2f}', flush=True)
    tiny = current_model.CONFIGS['tiny']
    ceil = ceiling(args.cores, 3 if args.quick else 8, tiny['n_embd'], tiny['ffn_hidden'], current_model.GPTConfig.vocab_size)
    best = max(max(r['threads_gflops'], r['concurrent_gflops']) for r in ceil)
    if args.batches:
        batches = [tuple(int(v) for v in b.split('x')) for b in args.batches.split(',')]
    else:
        batches = [(8, 512)] if args.quick else [(4, 512), (8, 512), (16, 512), (16, 256), (32, 256), (8, 1024)]
    steps = args.steps or (2 if args.quick else 5)
    modes = (args.threading or ('workers' if args.quick else 'threads,workers')).split(',')
    impls = [('current', current_model)] + ([(args.baseline, load_baseline(args.baseline))] if args.baseline else [])
    results = []
    print(f'{"model.py":>10} {"shape":>8} {"B x T":>10} {"threading":>9} {"step s":>7} {"tokens/s":>9} {"GFLOP/s":>8} {"of ceiling":>10}')
    for shape in args.shapes.split(','):
        for B, T in batches:
            for mode in modes:
                for label, mod in impls:
                    r = time_step(mod, shape, B, T, steps, mode, args.cores)
                    r['model_py'] = label
                    r['share_of_ceiling'] = round(r['gflops'] / best, 3)
                    results.append(r)
                    print(f'{label:>10} {shape:>8} {B:>4} x {T:<4} {mode:>9} {r["step_s"]:7.3f} {r["tokens_per_s"]:9,} '
                          f'{r["gflops"]:8.1f} {r["share_of_ceiling"]:9.0%}', flush=True)
    print(f'load average at the end {os.getloadavg()[0]:.2f}')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump({'cores': args.cores, 'ceiling': ceil, 'steps': results}, f, indent=1)


if __name__ == '__main__':
    main()
