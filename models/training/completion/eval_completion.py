"""
Line-level completion on the valid packages, CodeXGLUE protocol (exact match and edit similarity).

  python3 models/training/eval_completion.py --ckpt work/runs/tiny/ckpt.pt --lines 500 --seed 0

For each of N sampled lines (fixed seed) from work/corpus/valid.jsonl: the cursor is put at a random
character inside the line's non-blank text, the model sees the file before the cursor (left context
only, truncated to the context the model was trained with minus the generation budget) and greedily
generates until a newline; the generated rest of the line is compared with the true rest of the line.
  exact match:     stripped prediction == stripped target
  edit similarity: difflib ratio x 100 (the fuzzywuzzy fuzz.ratio CodeXGLUE reports)
Lines whose rest is blank or shorter than 2 characters after stripping are not sampled.
Writes a JSON report (metrics plus a few examples) to --out.
"""

import argparse
import difflib
import json
import os
import random
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(os.path.dirname(HERE), 'common')]
from paths import WORK  # noqa: E402
from model import GPT, GPTConfig  # noqa: E402
from tokenizer import Tokenizer  # noqa: E402


def edit_similarity(a, b):
    return 100.0 * difflib.SequenceMatcher(None, a, b).ratio()


def sample_cases(docs, n, seed):
    """(prefix, target) pairs: prefix = file text before the cursor, target = rest of that line."""
    rng = random.Random(seed)
    cases = []
    while len(cases) < n:
        d = docs[rng.randrange(len(docs))]
        lines = d.split('\n')
        i = rng.randrange(len(lines))
        line = lines[i]
        body_start = len(line) - len(line.lstrip())
        if len(line.strip()) < 4:
            continue
        cut = rng.randrange(body_start, len(line.rstrip()) - 1)
        target = line[cut:]
        if len(target.strip()) < 2:
            continue
        prefix = '\n'.join(lines[:i]) + ('\n' if i else '') + line[:cut]
        cases.append((prefix, target))
    return cases


@torch.no_grad()
def complete_line(model, tok, prefix, max_context, max_new=48):
    ids = tok.encode(prefix)[-(max_context - max_new):]
    x = torch.tensor([ids])
    logits, _, past = model(x, past_key_values=None)
    out = []
    pos = len(ids)
    for _ in range(max_new):
        nxt = int(logits[0, -1].argmax())
        out.append(nxt)
        text = tok.decode(out)
        if '\n' in text or nxt == tok.token_to_id('<|endoftext|>'):
            break
        logits, _, past = model(torch.tensor([[nxt]]), past_key_values=past,
                                position_ids=torch.tensor([[pos]]))
        pos += 1
    text = tok.decode(out).split('\n')[0].replace('<|endoftext|>', '')
    return text


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ckpt', required=True)
    ap.add_argument('--work', default=WORK)
    ap.add_argument('--lines', type=int, default=500)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--context', type=int, default=0, help='prompt+generation tokens; default: training seq_len')
    ap.add_argument('--out', default=None)
    args = ap.parse_args()

    ckpt = torch.load(args.ckpt, map_location='cpu')
    model = GPT(GPTConfig(**ckpt['model_args']))
    model.load_state_dict(ckpt['model'])
    model.eval()
    tok = Tokenizer(os.path.join(args.work, 'tokenizer.json'))
    ctx = args.context or ckpt['config']['seq_len']
    docs = [json.loads(l)['text'] for l in open(os.path.join(args.work, 'corpus', 'valid.jsonl'))]
    cases = sample_cases(docs, args.lines, args.seed)

    t0 = time.time()
    em, es, examples = 0, 0.0, []
    for k, (prefix, target) in enumerate(cases):
        pred = complete_line(model, tok, prefix, ctx)
        em += pred.strip() == target.strip()
        es += edit_similarity(pred.strip(), target.strip())
        if k < 12:
            examples.append({'context_tail': prefix[-80:], 'target': target, 'prediction': pred})
        if (k + 1) % 50 == 0:
            print(f'{k + 1}/{len(cases)}: EM {100 * em / (k + 1):.1f} ES {es / (k + 1):.1f} '
                  f'({time.time() - t0:.0f}s)', flush=True)
    report = {'lines': len(cases), 'seed': args.seed, 'context_tokens': ctx,
              'exact_match': round(100 * em / len(cases), 2), 'edit_similarity': round(es / len(cases), 2),
              'seconds': round(time.time() - t0), 'examples': examples}
    print(json.dumps({k: v for k, v in report.items() if k != 'examples'}))
    out = args.out or os.path.join(os.path.dirname(args.ckpt), 'eval_completion.json')
    json.dump(report, open(out, 'w'), indent=1)


if __name__ == '__main__':
    main()
