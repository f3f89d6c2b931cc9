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

// Where the model's share went, from the worker's own report of each request.
const reported = samples.filter((s) => s.worker);
const ran = reported.filter((s) => s.worker.model);
console.log(`model share broken down (${reported.length} requests reported by the worker; ${reported.length - ran.length} from its completion cache):`);
row('    transport (client <-> worker, document sync)', reported.map((s) => s.modelMs - s.worker.workerMs));
row('    waiting for a superseded request or prefetch', reported.map((s) => s.worker.queuedMs));
row('    completion pipeline in the worker', reported.map((s) => s.worker.engineMs));
row('      context and prompt', ran.map((s) => s.worker.model.promptMs));
row('      prefill not covered by the prefetch + 1st token', ran.map((s) => s.worker.model.timeToFirstTokenMs));
row('      decoding the rest', ran.map((s) => s.worker.model.decodeMsPerToken * Math.max(0, s.worker.model.generatedTokens - 1)));
row('      stop rules and syntax checks', ran.map((s) => s.worker.model.postprocessMs));
const count = (name, values) => console.log(`  ${name.padEnd(44)} p50 ${percentile(values, 50).toFixed(0).padStart(7)}      p95 ${percentile(values, 95).toFixed(0).padStart(7)}`);
count('tokens generated', ran.map((s) => s.worker.model.generatedTokens));
count('prompt tokens not in the KV cache', ran.map((s) => s.worker.model.promptTokens - s.worker.model.reusedTokens));
const finishes = {};
for (const s of ran) finishes[s.worker.model.finish] = (finishes[s.worker.model.finish] ?? 0) + 1;
console.log(`  why generation stopped: ${Object.entries(finishes).map(([k, v]) => `${k} ${v}`).join(', ')}`);
