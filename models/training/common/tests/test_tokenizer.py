import json
import os

import pytest

from paths import MODELS
from tokenizer import FIXTURE_TEXTS, PyBPE, bytes_to_unicode

HERE = os.path.dirname(os.path.abspath(__file__))
SHIPPED = os.path.join(MODELS, 'kestrel-py-tiny', 'tokenizer.json')


def micro_tokenizer():
    """A tiny byte-level BPE built here: all 256 byte symbols, a few merges, the special tokens."""
    b2u = bytes_to_unicode()
    specials = ['<|endoftext|>', '<fim_prefix>', '<fim_middle>', '<fim_suffix>']
    vocab = {s: i for i, s in enumerate(specials)}
    for ch in sorted(b2u.values()):
        vocab[ch] = len(vocab)
    sp = b2u[ord(' ')]
    merges = [[sp, sp], [sp + sp, sp + sp], ['d', 'e'], ['de', 'f'], [b2u[ord('\n')], sp + sp + sp + sp]]
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    return PyBPE({'model': {'vocab': vocab, 'merges': merges},
                  'added_tokens': [{'content': s, 'id': i} for i, s in enumerate(specials)]})


def test_round_trip_any_text():
    tok = micro_tokenizer()
    for t in FIXTURE_TEXTS:
        assert tok.decode(tok.encode(t)) == t


def test_indentation_runs_merge_and_specials_are_single_ids():
    tok = micro_tokenizer()
    ids = tok.encode('def f():\n    return 1')
    assert tok.vocab['def'] in ids
    assert tok.vocab[bytes_to_unicode()[10] + bytes_to_unicode()[32] * 4] not in ids  # "\n   " + " return"
    assert tok.encode('<fim_middle>') == [2]


@pytest.mark.skipif(not os.path.exists(SHIPPED), reason='shipped tokenizer not built yet')
def test_shipped_tokenizer_matches_fixture_ids():
    spec = json.load(open(SHIPPED, encoding='utf-8'))
    tok = PyBPE(spec)
    fx = json.load(open(os.path.join(HERE, 'fixtures', 'tokenizer_roundtrip.json'), encoding='utf-8'))
    for case in fx['cases']:
        assert tok.encode(case['text']) == case['ids']
        assert tok.decode(case['ids']) == case['text']
    assert len(tok.inv) == 16384
