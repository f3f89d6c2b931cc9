"""train.py end to end on a micro corpus: checkpoints, exact resume, CSV log and PNG curve."""
import csv
import json
import os
import subprocess
import sys

import numpy as np

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


def run(work, out, *extra):
    args = [sys.executable, os.path.join(HERE, 'train.py'), f'--work_dir={work}', f'--out_dir={out}',
            '--device=cpu', '--dtype=float32', '--compile=False', '--batch_size=2', '--seq_len=32',
            '--eval_interval=2', '--eval_iters=1', '--warmup_iters=1', '--log_interval=1', '--max_iters=4', *extra]
    env = dict(os.environ, OMP_NUM_THREADS='1')
    r = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    with open(os.path.join(out, 'log.csv')) as f:
        return list(csv.DictReader(f))


def test_resume_continues_exactly(tmp_path):
    work = make_work(tmp_path)
    straight = run(work, tmp_path / 'a')
    run(work, tmp_path / 'b', '--max_iters=2')
    resumed = run(work, tmp_path / 'b', '--init_from=resume')
    assert [r['iter'] for r in straight] == ['0', '2', '4']
    assert [r['iter'] for r in resumed] == ['0', '2', '4']  # no duplicate row for the resumed step
    assert [r['val_loss'] for r in resumed] == [r['val_loss'] for r in straight]
    assert float(straight[-1]['val_loss']) < float(straight[0]['val_loss'])
    assert (tmp_path / 'a' / 'loss.png').stat().st_size > 1000
    assert (tmp_path / 'a' / 'ckpt.pt').exists()
