"""CodeSearchNet pair extraction rules (embed_pairs.py) on hand-written sources."""

from embed_pairs import extract, first_paragraph, function_records

SOURCE = '''
import os


def read_config(path, defaults=None):
    """Read a configuration file
    and merge it with the defaults.

    Args:
        path: where the file is.
    """
    values = dict(defaults or {})
    with open(path) as f:
        values.update(parse(f.read()))
    return values


class Store:
    @property
    def size(self):
        """Number of items held by the store."""
        total = 0
        for bucket in self.buckets:
            total += len(bucket)
        return total

    def keys(self):
        out = []
        for b in self.buckets:
            out.extend(b)
        return out


def test_read_config(tmp_path):
    """Reads a configuration file from disk."""
    p = tmp_path / "c"
    p.write_text("")
    assert read_config(p) == {}


def short(x):
    """Double the given value quickly."""
    y = x * 2
    return y


def terse(a, b, c):
    """Add."""
    s = a + b
    s += c
    return s


async def fetch_all(urls, session):
    """Fetch every URL concurrently and return the bodies."""
    tasks = [session.get(u) for u in urls]
    results = await gather(*tasks)
    return [r.body for r in results]


def inline(a): """Docstring on the def line is skipped."""; return a
'''


def doc(text, package='python3-demo', path='usr/lib/python3/dist-packages/demo/a.py'):
    return {'package': package, 'path': path, 'text': text}


def by_name(rows):
    return {r['name']: r for r in rows}


def test_first_paragraph_collapses_whitespace():
    assert first_paragraph('  Read a file\n    and parse it.\n\n    More detail.\n') == 'Read a file and parse it.'


def test_pairs_follow_the_rules():
    pairs, code_only, stats = extract([doc(SOURCE)])
    p = by_name(pairs)
    # documented, >= 3 body lines, >= 3 query tokens
    assert set(p) == {'read_config', 'size', 'fetch_all'}
    assert p['read_config']['query'] == 'Read a configuration file and merge it with the defaults.'
    # the code keeps the signature and body, drops the docstring, decorators and indentation
    assert p['size']['code'] == ('def size(self):\n    total = 0\n    for bucket in self.buckets:\n'
                                 '        total += len(bucket)\n    return total')
    assert '"""' not in p['read_config']['code'] and 'Args:' not in p['read_config']['code']
    assert p['read_config']['code'].startswith('def read_config(path, defaults=None):\n    values =')
    assert p['fetch_all']['code'].startswith('async def fetch_all')
    assert p['read_config']['package'] == 'python3-demo' and p['read_config']['path'].endswith('a.py')
    # undocumented functions feed the code-only objective
    assert set(by_name(code_only)) == {'keys'}
    # skipped: test_*, bodies under 3 lines (short), queries under 3 tokens (terse), inline docstring
    assert stats['short_query'] == 1
    assert not {'test_read_config', 'short', 'terse', 'inline'} & set(p)


def test_deduplication_within_and_across_splits():
    seen = {}
    same_code_other_file = SOURCE.replace('"""Read a configuration file', '"""Load a configuration file')
    train, _, st = extract([doc(SOURCE), doc(same_code_other_file, path='b.py')], seen, train=True)
    assert len(by_name(train)) == len(train) == 3 and st['duplicate'] >= 3
    # valid code identical to train code is dropped; new valid code is kept once
    new_fn = '\n\ndef fresh(a):\n    """Compute the fresh value of a."""\n    b = a + 1\n    c = b * 2\n    return c\n'
    valid, _, _ = extract([doc(SOURCE + new_fn, package='python3-other'), doc(new_fn, package='python3-third')],
                          seen, train=False)
    assert [r['name'] for r in valid] == ['fresh']


def test_syntax_errors_are_skipped():
    assert list(function_records('def broken(:\n    pass\n')) == []
