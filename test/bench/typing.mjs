// Benchmark: from the last keystroke to Kestrel's suggestion being available, in a real VS Code,
// over a scripted typing session through real Python files (Debian's Python standard library by
// default; KESTREL_BENCH_FILES=a.py,b.py to choose). Prints p50/p95 of the whole, the debounce and
// the model's share (worker round trip). Run: `npm run bench:typing`.
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runTests } from '@vscode/test-electron';
import { percentile } from './stats.mjs';

const root = resolve(import.meta.dirname, '..', '..');
const scratch = mkdtempSync(join(tmpdir(), 'kestrel-bench-'));
const workspace = join(scratch, 'workspace');
cpSync(join(root, 'test', 'fixtures', 'workspace'), workspace, { recursive: true });
process.env.KESTREL_BENCH_RESULTS = join(scratch, 'typing.json');
try {
  await runTests({
    vscodeExecutablePath: join(root, 'test', 'host', 'vscode-launcher'),
    extensionDevelopmentPath: root,
    extensionTestsPath: join(root, 'out', 'test', 'bench', 'host', 'typing.js'),
    launchArgs: [workspace],
  });
  const { samples, missed, keyIntervalMs, model } = JSON.parse(readFileSync(process.env.KESTREL_BENCH_RESULTS, 'utf8'));
  const row = (name, values) => console.log(`  ${name.padEnd(44)} p50 ${percentile(values, 50).toFixed(1).padStart(7)} ms   p95 ${percentile(values, 95).toFixed(1).padStart(7)} ms`);
  const m = model.model;
  console.log(`\nKeystroke to suggestion in a real VS Code: ${samples.length} typed lines (${missed} without a suggestion), keys every ${keyIntervalMs} ms`);
  console.log(`model ${m.id} (${m.variant}) on ${m.provider}`);
  row('last keystroke -> suggestion available', samples.map((s) => s.totalMs));
  row('  debounce (adaptive)', samples.map((s) => s.debounceMs));
  row('  model share (worker round trip), budget p50 60', samples.map((s) => s.modelMs));
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
