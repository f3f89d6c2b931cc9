# The open-ended CPU run of the tiny model (Debian python3-torch 1.13, fp32, two cores).
#   KESTREL_WORK=~/.cache/kestrel-training/work setsid nohup python3 train.py config/tiny_cpu.py >> LOG 2>&1 &
# The same command continues the run: from its checkpoint, else from the shipped model's weights.
# Shapes chosen by bench_train.py (tokens/s) and by the equal-CPU-time comparison in the README.
out_dir = '~/.cache/kestrel-training/runs/tiny'
model_size = 'tiny'
batch_size = 8
seq_len = 512
grad_accum = 1
workers = 2  # two shards of each batch at once, one core each
threads = 1
nice = 19
learning_rate = 2e-3
min_lr = 1e-4
warmup_iters = 50
lr_schedule = 'wsd'
eval_interval = 100
eval_iters = 8
log_interval = 10
checkpoint_minutes = 10
device = 'cpu'
dtype = 'float32'
compile = False
