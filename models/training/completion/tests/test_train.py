"""train.py end to end on a micro corpus: exact resume, SIGTERM, continuing from ONNX weights, the
decayed export copy, the CPU-time budget, CSV log and PNG curve."""
import csv
import hashlib
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import torch

from test_tokenizer import micro_tokenizer

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def make_work(tmp_path):
    tok = micro_tokenizer()
    spec = {'model': {'vocab': tok.vocab, 'merges': [list(k) for k in sorted(tok.ranks, key=tok.ranks.get)]},
            'added_tokens': [{'content': c, 'id': i} for c, i in tok.added.items()]}
    (tmp_path / 'tokenizer.json').write_text(json.dumps(spec))
    (tmp_path / 'data').mkdir()
    rng = np.random.default_rng(0)
    for split, n in (('train', 40), ('valid', 10)):
        docs = [rng.integers(4, len(tok.inv), size=int(rng.integers(10, 120))) for _ in range(n)]
        np.concatenate(docs).astype(np.uint16).tofile(tmp_path / 'data' / f'{split}.bin')
        np.concatenate([[0], np.cumsum([len(d) for d in docs])]).astype(np.int64).tofile(
            tmp_path / 'data' / f'{split}.idx')
    return tmp_path


def train_args(work, out, *extra):
    return [sys.executable, os.path.join(HERE, 'train.py'), f'--work_dir={work}', f'--out_dir={out}',
            '--device=cpu', '--dtype=float32', '--compile=False', '--batch_size=2', '--seq_len=32',
            '--eval_interval=2', '--eval_iters=1', '--warmup_iters=1', '--log_interval=1', '--max_iters=4',
            f'--init_model={work}/no-shipped-model', *extra]


def read_log(out):
    with open(os.path.join(out, 'log.csv')) as f:
        return list(csv.DictReader(f))


def run(work, out, *extra):
    r = subprocess.run(train_args(work, out, *extra), capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert r.returncode == 0, r.stderr[-2000:]
    return read_log(out)


def digest(path):
    return hashlib.sha256(open(path, 'rb').read()).hexdigest()


def test_resume_continues_exactly(tmp_path):
    work = make_work(tmp_path)
    straight = run(work, tmp_path / 'a')
    run(work, tmp_path / 'b', '--max_iters=2')
    resumed = run(work, tmp_path / 'b')  # the same command continues the run
    assert [r['iter'] for r in straight] == ['0', '2', '4']
    assert [r['iter'] for r in resumed] == ['0', '2', '4']  # no duplicate row for the resumed step
    assert [r['val_loss'] for r in resumed] == [r['val_loss'] for r in straight]
    assert [r['tokens'] for r in resumed] == ['0', '128', '256']
    assert float(straight[-1]['val_loss']) < float(straight[0]['val_loss'])
    assert (tmp_path / 'a' / 'loss.png').stat().st_size > 1000
    assert (tmp_path / 'a' / 'ckpt.pt').exists()


def test_two_workers_train_exactly_like_one(tmp_path):
    work = make_work(tmp_path)
    one = run(work, tmp_path / 'one')
    two = run(work, tmp_path / 'two', '--workers=2')
    # the same batches, the rows split over two threads: the same curve up to float rounding
    assert np.allclose([float(r['val_loss']) for r in two], [float(r['val_loss']) for r in one], atol=2e-4)


def test_sigterm_stops_with_a_checkpoint_that_continues(tmp_path):
    work = make_work(tmp_path)
    out = tmp_path / 'run'
    p = subprocess.Popen(train_args(work, out, '--max_iters=0', '--eval_interval=1000000'),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         env=dict(os.environ, OMP_NUM_THREADS='1'))
    seen = []
    for line in p.stdout:  # wait until it is training, then stop it as a shutdown would
        seen.append(line)
        if line.startswith('iter 3:'):
            p.send_signal(signal.SIGTERM)
            break
    rest = p.communicate(timeout=60)[0]
    assert p.returncode == 0, ''.join(seen) + rest
    assert 'stopped by signal' in rest
    ckpt = torch.load(out / 'ckpt.pt', map_location='cpu')
    assert ckpt['iter_num'] >= 3
    rows = run(work, out, f'--max_iters={ckpt["iter_num"] + 2}', '--eval_interval=1000000')
    assert int(rows[-1]['iter']) == ckpt['iter_num'] + 2


def test_continues_from_the_shipped_onnx_weights(tmp_path):
    from export import export_onnx
    from model import GPT, GPTConfig
    work = make_work(tmp_path)
    run(work, tmp_path / 'a', '--max_iters=2')
    ckpt = torch.load(tmp_path / 'a' / 'ckpt.pt', map_location='cpu')
    model = GPT(GPTConfig(**ckpt['model_args']))
    model.load_state_dict(ckpt['model'])
    shipped = tmp_path / 'shipped'
    shipped.mkdir()
    export_onnx(model.eval(), str(shipped / 'model.onnx'))
    (shipped / 'kestrel.json').write_text(json.dumps({'training': {'modelArgs': ckpt['model_args'], 'tokensTrained': 128}}))
    rows = run(work, tmp_path / 'b', f'--init_model={shipped}', '--max_iters=2')
    # the first evaluation of the continued run sees exactly the weights the first run stopped with
    assert abs(float(rows[0]['val_loss']) - float(read_log(tmp_path / 'a')[-1]['val_loss'])) < 1e-3
    assert rows[0]['tokens'] == '128' and rows[-1]['tokens'] == '256'


def test_decayed_copy_leaves_the_main_run_alone(tmp_path):
    work = make_work(tmp_path)
    main = tmp_path / 'main'
    run(work, main, '--max_iters=2')
    before = digest(main / 'ckpt.pt')
    run(work, main, '--decay_iters=2', '--min_lr=0.0001', '--max_iters=0')
    assert digest(main / 'ckpt.pt') == before
    decayed = read_log(tmp_path / 'main-decay')
    assert [r['iter'] for r in decayed] == ['0', '2', '4']  # the main run's curve, then the copy's
    assert float(decayed[-1]['lr']) <= 0.0001 + 1e-9  # decayed to min_lr
    assert torch.load(tmp_path / 'main-decay' / 'ckpt.pt', map_location='cpu')['decayed_from']['iter'] == 2


def test_cpu_time_budget_stops_the_run(tmp_path):
    work = make_work(tmp_path)
    t = time.time()
    rows = run(work, tmp_path / 'c', '--max_iters=0', '--max_cpu_seconds=3', '--eval_interval=1000000')
    assert time.time() - t < 60
    assert float(rows[-1]['cpu_seconds']) >= 3
