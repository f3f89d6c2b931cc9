"""bench_train.py --quick prints the ceiling and a timed training step, and writes them as JSON."""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_quick_benchmark_reports_ceiling_and_step(tmp_path):
    out = tmp_path / 'bench.json'
    r = subprocess.run([sys.executable, os.path.join(HERE, 'bench_train.py'), '--quick', '--batches', '2x64',
                        '--json', str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert 'ceiling  matmul' in r.stdout and 'tokens/s' in r.stdout
    res = json.loads(out.read_text())
    assert len(res['ceiling']) == 3 and all(c['threads_gflops'] > 0 for c in res['ceiling'])
    [step] = res['steps']
    assert (step['shape'], step['batch'], step['seq'], step['threading']) == ('tiny', 2, 64, 'workers')
    assert step['tokens_per_s'] > 0 and 0 < step['gflops']
