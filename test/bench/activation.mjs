// Benchmark: Kestrel's activation time in a real VS Code (budget <= 50 ms) and its worker's
// spawn-to-ready time. Launches VS Code N times (default 5; KESTREL_BENCH_RUNS overrides), one
// sample each, and prints medians. Run: `npm run bench:activation` (after `bash test/host/setup.sh`).
import { runInHost } from './hostRun.mjs';
import { median } from './stats.mjs';

const runs = Number(process.env.KESTREL_BENCH_RUNS ?? 5);
const samples = [];
for (let i = 0; i < runs; i++) samples.push(await runInHost('activation'));

const fmt = (ms) => `${ms.toFixed(1)} ms`;
const column = (key) => samples.map((s) => s[key]);
console.log(`\nKestrel activation in a real VS Code (${samples.length} launches, medians):`);
console.log(`  module load (read+compile+evaluate dist/extension.js)  ${fmt(median(column('moduleLoadMs')))}`);
console.log(`  activate() body                                         ${fmt(median(column('activateMs')))}`);
console.log(`  activation total (load + activate), budget 50 ms        ${fmt(median(samples.map((s) => s.moduleLoadMs + s.activateMs)))}`);
console.log(`  extension.activate() as a caller sees it (adds VS Code's own activation work)  ${fmt(median(column('activateReturnedMs')))}`);
console.log(`  worker spawn -> ready (answers kestrel/status)          ${fmt(median(column('spawnToReadyMs')))}`);
console.log(`  activate() -> worker ready (incl. loading the client)   ${fmt(median(column('activateToWorkerReadyMs')))}`);
