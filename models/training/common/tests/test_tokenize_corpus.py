"""tokenize_corpus.py: token files that decode back to every document, in order, with a summary."""
import json
import os
import subprocess
import sys

import numpy as np

from paths import MODELS
from tokenizer import Tokenizer

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKENIZER = os.path.join(MODELS, 'kestrel-py-tiny', 'tokenizer.json')


def test_token_files_decode_back_to_the_corpus(tmp_path):
    docs = {'train': ['def f(x):\n    return x + 1\n', 'import os\n\n\nclass A:\n\tpass\n', 'π = 3.14  # ünïcode\n'],
            'valid': ['print("hello")\n']}
    (tmp_path / 'corpus').mkdir()
    for split, texts in docs.items():
        (tmp_path / 'corpus' / f'{split}.jsonl').write_text(''.join(json.dumps({'text': t}) + '\n' for t in texts))
    r = subprocess.run([sys.executable, os.path.join(HERE, 'tokenize_corpus.py'), '--work', str(tmp_path),
                        '--tokenizer', TOKENIZER, '--jobs', '2'], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    tok = Tokenizer(TOKENIZER)
    summary = json.loads((tmp_path / 'data' / 'summary.json').read_text())
    for split, texts in docs.items():
        ids = np.fromfile(tmp_path / 'data' / f'{split}.bin', dtype=np.uint16)
        starts = np.fromfile(tmp_path / 'data' / f'{split}.idx', dtype=np.int64)
        assert len(starts) == len(texts) + 1 and starts[-1] == len(ids)
        assert [tok.decode(ids[a:b].tolist()) for a, b in zip(starts[:-1], starts[1:])] == texts
        assert summary[split]['files'] == len(texts) and summary[split]['tokens'] == len(ids)
