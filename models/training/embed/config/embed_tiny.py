# Embedder on one CPU core (Debian python3-torch 1.13, fp32): run with OMP_NUM_THREADS=1 and
# openblas-pthread first on LD_LIBRARY_PATH. The core is shared, so the learning rate follows wall
# time (cosine over max_seconds) and the run stops itself with a checkpoint; max_iters is a ceiling.
# Steps are kept cheap: code cut to 96 tokens in most steps (the full 256 every 8th step trains every
# position), 8 functions x 2 views of 48 tokens for the code-only objective.
out_dir = 'work/embed/runs/tiny'
model_size = 'tiny'
batch_size = 32
code_batch_size = 8
code_view_len = 48
train_code_len = 96
full_len_every = 8
learning_rate = 5e-4
min_lr = 2e-5
warmup_iters = 40
lr_schedule = 'time'
max_iters = 3000
max_seconds = 2400
eval_interval = 100
eval_pairs = 1000
device = 'cpu'
