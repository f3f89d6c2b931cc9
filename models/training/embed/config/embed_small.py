# Embedder on one accelerator (H100/H200). A device call lasts at most 10 minutes: each call runs
# with --init_from=resume and stops itself after max_seconds with a checkpoint. Larger batches give
# more in-batch negatives; the code-only objective keeps the same weight.
out_dir = 'work/embed/runs/small'
model_size = 'small'
batch_size = 256
code_batch_size = 128
learning_rate = 5e-4
min_lr = 2e-5
warmup_iters = 200
max_iters = 6000
eval_interval = 250
eval_pairs = 1000
max_seconds = 480
init_from = 'resume'
device = 'cuda'
