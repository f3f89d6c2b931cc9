"""
Query/code pairs for Kestrel's code-search embedder, CodeSearchNet rules, from the corpus.

  python3 models/training/embed_pairs.py            # reads work/corpus/{train,valid}.jsonl

Per function or method (Python's ast, so nested and async ones count too):
  - it must have a docstring; query = the docstring's first paragraph, whitespace collapsed,
    at least MIN_QUERY_TOKENS whitespace-separated tokens;
  - code = the function's source (from `def`, decorators left out, dedented) WITHOUT the docstring;
  - skipped: names starting with `test`, bodies under MIN_BODY_LINES non-blank lines (docstring not
    counted), docstrings that share a line with other code (cannot be cut out cleanly);
  - deduplicated on the code with whitespace collapsed: first copy wins, train before valid, and a
    valid pair whose code is also in train is dropped (the valid split must be unseen code).
Functions without a docstring (same name/length rules) go to code-train.jsonl: the code-only
objective of embed_train.py uses them, so undocumented code is seen in training as well.

Writes work/embed/pairs-{train,valid}.jsonl ({package, path, name, line, query, code}),
work/embed/code-train.jsonl ({package, path, name, line, code}) and work/embed/pairs-summary.json.
"""

import argparse
import ast
import hashlib
import json
import os
import re
import sys
import textwrap
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'common'))
from paths import WORK  # noqa: E402

MIN_QUERY_TOKENS = 3
MIN_BODY_LINES = 3


def first_paragraph(doc):
    """The docstring's first paragraph (up to the first blank line), whitespace collapsed."""
    doc = textwrap.dedent(doc).strip()
    para = re.split(r'\n\s*\n', doc, maxsplit=1)[0]
    return ' '.join(para.split())


def _docstring_node(fn):
    body = fn.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        return body[0]
    return None


def function_records(source):
    """Yields dicts {name, line, query (None if no docstring), code} for every function in source,
    applying the name, body-length and docstring-placement rules (not the query-length rule)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return
    lines = source.split('\n')
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if node.name.lower().startswith('test'):
            continue
        start, end = node.lineno, node.end_lineno  # 1-based, inclusive; decorators are above lineno
        doc = _docstring_node(node)
        keep = list(range(start, end + 1))
        query = None
        if doc is not None:
            ds, de = doc.lineno, doc.end_lineno
            # the docstring must own its lines: nothing before it on its first line but indentation,
            # nothing after it on its last line, and it must not be on the `def` line
            if ds == start or lines[ds - 1][:doc.col_offset].strip() or lines[de - 1][doc.end_col_offset:].strip():
                continue
            keep = [i for i in keep if not ds <= i <= de]
            query = first_paragraph(doc.value.value)
        # body lines: non-blank lines after the signature (signature ends where the body starts)
        body_start = (node.body[1].lineno if doc is not None and len(node.body) > 1 else node.body[0].lineno)
        if doc is not None and len(node.body) == 1:
            continue  # docstring-only function (abstract method, stub)
        body = [i for i in keep if i >= body_start and lines[i - 1].strip()]
        if len(body) < MIN_BODY_LINES:
            continue
        code = textwrap.dedent('\n'.join(lines[i - 1] for i in keep)).strip('\n')
        yield {'name': node.name, 'line': start, 'query': query, 'code': code}


def code_key(code):
    return hashlib.sha1(' '.join(code.split()).encode()).hexdigest()


def extract(docs, seen=None, train=True):
    """docs: iterable of {package, path, text}. Returns (pairs, code_only, stats).
    seen: dict of code keys already taken (shared across splits); updated in place when train=True,
    only read when train=False (valid pairs never block each other... except exact repeats within
    valid, which are also dropped)."""
    seen = {} if seen is None else seen
    local = set()
    pairs, code_only = [], []
    stats = {'functions': 0, 'short_query': 0, 'duplicate': 0}
    for d in docs:
        for r in function_records(d['text']):
            stats['functions'] += 1
            k = code_key(r['code'])
            if k in seen or k in local:
                stats['duplicate'] += 1
                continue
            if train:
                seen[k] = True
            else:
                local.add(k)
            rec = {'package': d['package'], 'path': d['path'], 'name': r['name'], 'line': r['line']}
            if r['query'] is None:
                code_only.append(dict(rec, code=r['code']))
            elif len(r['query'].split()) < MIN_QUERY_TOKENS:
                stats['short_query'] += 1
            else:
                pairs.append(dict(rec, query=r['query'], code=r['code']))
    stats['pairs'], stats['code_only'] = len(pairs), len(code_only)
    return pairs, code_only, stats


def read_jsonl(path):
    with open(path, encoding='utf-8') as f:
        for line in f:
            yield json.loads(line)


def write_jsonl(path, rows):
    with open(path + '.tmp', 'w', encoding='utf-8') as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + '\n')
    os.replace(path + '.tmp', path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--work', default=WORK)
    args = ap.parse_args()
    out = os.path.join(args.work, 'embed')
    os.makedirs(out, exist_ok=True)
    t0 = time.time()
    seen = {}
    summary = {}
    for split in ('train', 'valid'):  # train first: its code blocks valid duplicates
        pairs, code_only, stats = extract(read_jsonl(os.path.join(args.work, 'corpus', f'{split}.jsonl')),
                                          seen, train=(split == 'train'))
        write_jsonl(os.path.join(out, f'pairs-{split}.jsonl'), pairs)
        if split == 'train':
            write_jsonl(os.path.join(out, 'code-train.jsonl'), code_only)
        summary[split] = dict(stats, packages=len({p['package'] for p in pairs}))
        print(f'{split}: {stats} ({time.time() - t0:.0f}s)', flush=True)
    corpus_summary = json.load(open(os.path.join(args.work, 'corpus', 'summary.json')))
    summary['manifest_sha256'] = corpus_summary['manifest_sha256']
    summary['seconds'] = round(time.time() - t0)
    json.dump(summary, open(os.path.join(out, 'pairs-summary.json'), 'w'), indent=1)


if __name__ == '__main__':
    sys.setrecursionlimit(10000)
    main()
