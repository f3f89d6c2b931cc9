"""
Tokenize the corpus into flat token files, nanoGPT style.

  python3 models/training/prepare.py [--tokenizer work/tokenizer.json]

Reads work/corpus/{train,valid}.jsonl and writes work/data/{split}.bin (uint16 token ids, documents
back to back, no separators) and work/data/{split}.idx (int64 document start offsets, plus the
total length at the end). The end-of-text separators and the FIM transform are applied at batch
time (data.py), so one tokenization serves every FIM setting.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(os.path.dirname(HERE), 'common')]
from paths import WORK  # noqa: E402
from tokenizer import Tokenizer  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--work', default=WORK)
    ap.add_argument('--tokenizer', default=None)
    args = ap.parse_args()
    tok = Tokenizer(args.tokenizer or os.path.join(args.work, 'tokenizer.json'))
    assert tok.vocab_size <= 65536, 'uint16 storage'
    os.makedirs(os.path.join(args.work, 'data'), exist_ok=True)
    for split in ('valid', 'train'):
        t0 = time.time()
        ids, starts, nbytes = [], [0], 0
        with open(os.path.join(args.work, 'corpus', f'{split}.jsonl')) as f:
            for n, line in enumerate(f):
                text = json.loads(line)['text']
                ids.append(np.asarray(tok.encode(text), dtype=np.uint16))
                starts.append(starts[-1] + len(ids[-1]))
                nbytes += len(text.encode())
                if n % 1000 == 999:
                    print(f'  {split}: {n + 1} files, {starts[-1] / 1e6:.1f}M tokens, '
                          f'{time.time() - t0:.0f}s', flush=True)
        out = os.path.join(args.work, 'data', split)
        np.concatenate(ids).tofile(out + '.bin')
        np.asarray(starts, dtype=np.int64).tofile(out + '.idx')
        print(f'{split}: {len(ids)} files, {nbytes / 1e6:.1f} MB -> {starts[-1]:,} tokens '
              f'({nbytes / max(1, starts[-1]):.2f} bytes/token) in {time.time() - t0:.0f}s', flush=True)


if __name__ == '__main__':
    main()
