"""Learning-rate schedule shared by the training scripts (train.py, embed_train.py).

Linear warm-up, then cosine decay to min_lr. CPU runs have a wall-time budget rather than a step
budget, so the decay can follow elapsed seconds (lr_schedule='time') instead of steps ('iter').
"""
import math


def cosine_lr(it, elapsed, *, learning_rate, min_lr, warmup_iters, max_iters, max_seconds, lr_schedule):
    if it < warmup_iters:
        return learning_rate * (it + 1) / (warmup_iters + 1)
    if lr_schedule == 'time':
        ratio = min(1.0, elapsed / max_seconds)
    elif it >= max_iters:
        return min_lr
    else:
        ratio = (it - warmup_iters) / (max_iters - warmup_iters)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (learning_rate - min_lr)


def wsd_lr(it, *, learning_rate, warmup_iters, decay_start=None, decay_iters=0, min_lr=0.0):
    """Warmup-stable-decay (Hu et al. 2024, MiniCPM): linear warm-up, then constant for as long as the
    run goes on, so an open-ended run never has to know its end; a decay to min_lr over decay_iters,
    starting at decay_start, is applied only to a copy branched off for export."""
    if it < warmup_iters:
        return learning_rate * (it + 1) / (warmup_iters + 1)
    if decay_start is None or it < decay_start:
        return learning_rate
    done = min(1.0, (it - decay_start) / max(1, decay_iters))
    return min_lr + (learning_rate - min_lr) * (1.0 - done)
