// Benchmark: from the last keystroke to Kestrel's suggestion being available, in a real VS Code,
// over a scripted typing session through real Python files (Debian's Python standard library by
// default; KESTREL_BENCH_FILES=a.py,b.py to choose). Prints p50/p95 of the whole, the debounce and
// the model's share (worker round trip). Run: `npm run bench:typing`.
import { runInHost } from './hostRun.mjs';
import { percentile } from './stats.mjs';

const { samples, missed, keyIntervalMs, model } = await runInHost('typing');
const row = (name, values) => console.log(`  ${name.padEnd(44)} p50 ${percentile(values, 50).toFixed(1).padStart(7)} ms   p95 ${percentile(values, 95).toFixed(1).padStart(7)} ms`);
const m = model.model;
console.log(`\nKeystroke to suggestion in a real VS Code: ${samples.length} typed lines (${missed} without a suggestion), keys every ${keyIntervalMs} ms`);
console.log(`model ${m.id} (${m.variant}) on ${m.provider}`);
row('last keystroke -> suggestion available', samples.map((s) => s.totalMs));
row('  debounce (adaptive)', samples.map((s) => s.debounceMs));
row('  model share (worker round trip), budget p50 60', samples.map((s) => s.modelMs));
