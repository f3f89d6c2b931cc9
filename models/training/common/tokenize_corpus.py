"""
Tokenize the corpus into the flat token files the training scripts read.

  python3 models/training/common/tokenize_corpus.py [--tokenizer models/kestrel-py-tiny/tokenizer.json] [--jobs 2]

Reads WORK/corpus/{valid,train}.jsonl (WORK: $KESTREL_WORK or models/training/work) and writes
WORK/data/{split}.bin (uint16 token ids, documents back to back, no separators) and
WORK/data/{split}.idx (int64 document start offsets, plus the total length at the end), then
WORK/data/summary.json (files, bytes, tokens and seconds per split, the tokenizer's sha256).
End-of-text separators and fill-in-the-middle are applied at batch time (completion/data.py), so
one tokenization serves every FIM setting.

Encoding runs in --jobs processes, documents in order. The encoder is tokenizer.py: Hugging Face's
native `tokenizers` where it is installed, else the pure-Python BPE with its word cache, which on the
2-core machine (Debian, no Python `tokenizers`) measured 1.4 MB/s per process once warm, faster than
npm `tokenizers`' binding from Node (0.33-0.42 MB/s, encodeBatch): 923 MB take minutes, not hours.
"""

import argparse
import json
import os
import sys
import time
from multiprocessing import Pool

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from paths import MODELS, WORK  # noqa: E402
from provenance import sha256  # noqa: E402
from tokenizer import Tokenizer  # noqa: E402

_tok = None


def _init(path):
    global _tok
    _tok = Tokenizer(path)


def _encode(line):
    text = json.loads(line)['text']
    return np.asarray(_tok.encode(text), dtype=np.uint16), len(text.encode())


def tokenize_split(pool, work, split, chunksize=64):
    t0 = time.time()
    out = os.path.join(work, 'data', split)
    starts, files, nbytes = [0], 0, 0
    with open(os.path.join(work, 'corpus', f'{split}.jsonl')) as src, open(out + '.bin.tmp', 'wb') as bin_:
        for ids, size in pool.imap(_encode, src, chunksize=chunksize):
            bin_.write(ids.tobytes())
            starts.append(starts[-1] + len(ids))
            files += 1
            nbytes += size
            if files % 5000 == 0:
                print(f'  {split}: {files} files, {nbytes / 1e6:.0f} MB, {starts[-1] / 1e6:.1f}M tokens, '
                      f'{time.time() - t0:.0f} s', flush=True)
    np.asarray(starts, dtype=np.int64).tofile(out + '.idx.tmp')
    os.replace(out + '.bin.tmp', out + '.bin')  # .bin first: a reader that finds the .idx finds a complete pair
    os.replace(out + '.idx.tmp', out + '.idx')
    seconds = time.time() - t0
    print(f'{split}: {files} files, {nbytes / 1e6:.1f} MB -> {starts[-1]:,} tokens '
          f'({nbytes / max(1, starts[-1]):.2f} bytes/token) in {seconds:.0f} s', flush=True)
    return {'files': files, 'bytes': nbytes, 'tokens': starts[-1], 'seconds': round(seconds)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--work', default=WORK)
    ap.add_argument('--tokenizer', default=os.path.join(MODELS, 'kestrel-py-tiny', 'tokenizer.json'))
    ap.add_argument('--jobs', type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    tok = Tokenizer(args.tokenizer)
    assert tok.vocab_size <= 65536, 'uint16 token files'
    os.makedirs(os.path.join(args.work, 'data'), exist_ok=True)
    summary = {'tokenizer': os.path.relpath(args.tokenizer, os.path.dirname(MODELS)),
               'tokenizerSha256': sha256(args.tokenizer), 'vocabSize': tok.vocab_size}
    corpus_summary = os.path.join(args.work, 'corpus', 'summary.json')
    if os.path.exists(corpus_summary):
        with open(corpus_summary) as f:
            summary['manifestSha256'] = json.load(f)['manifest_sha256']
    with Pool(args.jobs, initializer=_init, initargs=(args.tokenizer,)) as pool:
        for split in ('valid', 'train'):
            summary[split] = tokenize_split(pool, args.work, split)
    with open(os.path.join(args.work, 'data', 'summary.json'), 'w') as f:
        json.dump(summary, f, indent=1)


if __name__ == '__main__':
    main()
