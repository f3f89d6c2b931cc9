# The 3-layer transformer (tiny) on one CPU core with twice the in-batch negatives of embed_tiny.py
# and one BM25-mined hard negative per query, budget in CPU time (max_cpu_seconds; the learning rate
# decays over it): the transformer side of the encoder comparison at equal CPU time.
out_dir = 'work/embed/runs/tiny-hardneg'
tokenizer = '../kestrel-py-tiny/tokenizer.json'
model_type = 'transformer'
model_size = 'tiny'
batch_size = 64
code_batch_size = 8
code_view_len = 48
train_code_len = 96
full_len_every = 8
hard_negatives = 1
learning_rate = 5e-4
min_lr = 2e-5
warmup_iters = 20
lr_schedule = 'cpu'
max_cpu_seconds = 900
max_iters = 1000000
eval_interval = 25
eval_pairs = 1000
device = 'cpu'
use_undocumented = 0  # the 351k undocumented functions were not tokenized in time on the shared CPU
