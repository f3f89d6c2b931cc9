# Neural bag of words on one CPU core (OMP_NUM_THREADS=1), budget in CPU time (max_cpu_seconds; the
# learning rate decays over it), so runs on a shared machine compare fairly. A step is table lookups:
# large batches (511 in-batch negatives + one BM25-mined negative per query) and whole functions.
out_dir = 'work/embed/runs/nbow'
tokenizer = '../kestrel-py-tiny/tokenizer.json'  # the completion model's BPE; the type markers are added
model_type = 'nbow'
n_embd = 256
dropout = 0.1
batch_size = 512
code_batch_size = 64
code_view_len = 64
train_code_len = 256
full_len_every = 1
hard_negatives = 1
learning_rate = 2e-3
min_lr = 1e-4
warmup_iters = 50
lr_schedule = 'cpu'
max_cpu_seconds = 900
max_iters = 1000000
eval_interval = 100
eval_pairs = 1000
device = 'cpu'
use_undocumented = 0  # the 351k undocumented functions were not tokenized in time on the shared CPU
