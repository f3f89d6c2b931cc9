# tiny model on one CPU core (Debian python3-torch 1.13, fp32): run with OMP_NUM_THREADS=1 and
# openblas-pthread first on LD_LIBRARY_PATH. On a shared 2-core machine this ran at ~200 tokens/s,
# so the learning-rate schedule follows wall time (48 minutes) rather than a fixed step count.
out_dir = 'work/runs/tiny'
model_size = 'tiny'
batch_size = 4
seq_len = 512
grad_accum = 1
learning_rate = 3e-3
min_lr = 1e-4
warmup_iters = 20
lr_schedule = 'time'
max_seconds = 2880
max_iters = 100000  # not reached: max_seconds ends the run
eval_interval = 40
eval_iters = 4
log_interval = 10
device = 'cpu'
dtype = 'float32'
compile = False
