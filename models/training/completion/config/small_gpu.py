# ~30M-parameter model on one accelerator (H100/H200), bf16. A device call lasts at most 10 minutes:
# each call runs with --init_from=resume and stops itself after max_seconds with a checkpoint.
# 32 x 2048 tokens per step; 4000 steps = 262M tokens.
out_dir = 'work/runs/small'
model_size = 'small'
batch_size = 32
seq_len = 2048
grad_accum = 1
learning_rate = 1e-3
min_lr = 6e-5
warmup_iters = 200
max_iters = 4000
lr_schedule = 'iters'  # cosine over max_iters: a run of known length
eval_interval = 250
eval_iters = 20
max_seconds = 480
init_from = 'resume'
