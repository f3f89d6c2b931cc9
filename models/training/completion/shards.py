"""
Data parallelism inside one process, for CPU training: each batch is split into row shards whose
forward and backward passes run at the same time on worker threads (PyTorch releases the GIL in its
kernels), each thread single-threaded. The gradients of the shards add up in the shared parameters
(autograd locks each accumulation); with two shards the sum is the same whichever finishes first.

On a 2-core machine this beats PyTorch's OpenMP and OpenBLAS's threads: their barriers spin and stall
whenever another process holds a core, and OpenBLAS's yield loop burns system time (bench_train.py).
"""

from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext


class Shards:
    def __init__(self, workers):
        self.workers = max(1, workers)
        self.pool = ThreadPoolExecutor(self.workers) if self.workers > 1 else None

    def map(self, fn, n):
        """[fn(i) for i < n], on the worker threads when there are several."""
        return list(self.pool.map(fn, range(n))) if self.pool else [fn(i) for i in range(n)]

    def forward_backward(self, model, x, y, scale=1.0, autocast=None):
        """Backpropagates scale x the mean loss of batch (x, y) over its row shards; returns that loss."""
        n = min(self.workers, x.shape[0])

        def shard(i):
            with autocast or nullcontext():
                _, loss, _ = model(x[i::n], y[i::n])
            (loss * (scale / n)).backward()
            return loss.item()
        losses = self.map(shard, n)
        return sum(losses) / n

    def close(self):
        if self.pool:
            self.pool.shutdown()
