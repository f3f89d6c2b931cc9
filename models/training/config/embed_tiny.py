# Embedder on one CPU core (Debian python3-torch 1.13, fp32): run with OMP_NUM_THREADS=1 and
# openblas-pthread first on LD_LIBRARY_PATH. ~40 minutes of wall time; stops itself with a checkpoint.
out_dir = 'work/embed/runs/tiny'
model_size = 'tiny'
batch_size = 32
code_batch_size = 16
learning_rate = 1e-3
min_lr = 5e-5
warmup_iters = 50
max_iters = 750
eval_interval = 150
eval_pairs = 1000
max_seconds = 2450
device = 'cpu'
