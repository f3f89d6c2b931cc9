// Tunes the project cache's lambda for a completion model on the valid packages, then measures the
// model alone, the cache alone and the mix, with left context and in-project, in one table:
//   flock /tmp/kestrel-cpu.lock npm run eval:project-cache -- [--files DIR] [--model ID] [--models DIR]
//       [--tune-lines 200] [--lines 1000] [--grid "W,K,F,C ..."] [--record [--model-dir DIR]]
// --files: one top-level folder per project (default ~/.cache/kestrel-training/valid-files).
// Tuning runs on --tune-lines lines of seed 1, the report on --lines lines of seed 0 (other lines).
// --record writes the tuned parameters and the table into the model's kestrel.json (models/ID, or --model-dir)
// ("projectCache"), which the engine reads; without it the table is only printed and written to
// test-results/project-cache-report.json. Every figure comes from `kestrel eval-completion`.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir, loadavg } from 'node:os';
import { join, resolve } from 'node:path';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const files = resolve(arg('files', join(homedir(), '.cache', 'kestrel-training', 'valid-files')));
const tuneLines = arg('tune-lines', '200');
const lines = arg('lines', '1000');
// W,K,F,C: cache weight W from F tokens of context seen (rising from K), times the confidence to the power C
const grid = arg('grid', '0.9,1,1,0 0.97,1,1,0 1,1,1,0 0.9,1,3,0 0.97,1,3,0 0.9,1,1,1 1,1,1,1 1,1,5,1 0.97,2,2,0');
const modelArgs = [...(arg('model') ? ['--model', arg('model')] : []), ...(arg('models') ? ['--models', arg('models')] : [])];
const record = process.argv.includes('--record');
if (!existsSync(files)) {
  console.error(`project-cache-report: ${files} does not exist (one folder per project of Python files)`);
  process.exit(2);
}

/** One `kestrel eval-completion` run; its report lines (JSON) parsed. */
function evaluate(extra) {
  const argv = ['dist/cli.js', 'eval-completion', '--files', files, ...modelArgs, ...extra];
  console.error(`$ node ${argv.join(' ')}`);
  const out = execFileSync(process.execPath, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 2 ** 20 });
  return out.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}

// 1. tune: every grid point on the same lines, in both settings; the best mean of EM and ES/2 wins
const tuning = { inProject: evaluate(['--n', tuneLines, '--seed', '1', '--in-project', '--mix-grid', grid]), left: evaluate(['--n', tuneLines, '--seed', '1', '--mix-grid', grid]) };
const score = (r) => r.exactMatch + r.editSimilarity / 2;
const points = tuning.inProject.map((r, i) => ({ lambda: r.lambda, inProject: r, left: tuning.left[i], score: (score(r) + score(tuning.left[i])) / 2 }));
for (const p of points) {
  console.error(`  ${JSON.stringify(p.lambda)}: in-project EM ${p.inProject.exactMatch} ES ${p.inProject.editSimilarity}; left context EM ${p.left.exactMatch} ES ${p.left.editSimilarity}`);
}
const best = points.reduce((a, b) => (b.score > a.score ? b : a));
const mix = [best.lambda.maxWeight, best.lambda.minOrder, best.lambda.fullOrder ?? 5, best.lambda.confidence ?? 1].join(',');
console.error(`tuned: lambda ${JSON.stringify(best.lambda)}`);

// 2. report: other lines (seed 0); the model alone does not depend on the cache's setting
const n = ['--n', lines, '--seed', '0'];
const [modelAlone] = evaluate([...n, '--no-cache']);
const [cacheLeft] = evaluate([...n, '--cache-only']);
const [cacheProject] = evaluate([...n, '--cache-only', '--in-project']);
const [mixLeft] = evaluate([...n, '--mix', mix]);
const [mixProject] = evaluate([...n, '--mix', mix, '--in-project']);
const rows = [
  ['model alone', 'left context', modelAlone], ['cache alone', 'left context', cacheLeft], ['mixed', 'left context', mixLeft],
  ['model alone', 'in-project', modelAlone], ['cache alone', 'in-project', cacheProject], ['mixed', 'in-project', mixProject],
];
const table = [
  `| ${modelAlone.model} (${modelAlone.variant}), ${lines} lines of ${files.split('/').pop()} | setting | EM % | ES | p50 ms | p95 ms | cache ms/step p50 (mean) |`,
  '| --- | --- | --- | --- | --- | --- | --- |',
  ...rows.map(([what, setting, r]) => `| ${what} | ${setting} | ${r.exactMatch} | ${r.editSimilarity} | ${r.latencyMs.p50} | ${r.latencyMs.p95} | ${r.cacheSteps ? `${r.cacheSteps.p50Ms} (${r.cacheSteps.msPerStep})` : '-'} |`),
].join('\n');
console.log(table);
const beats = (a, b) => a.exactMatch > b.exactMatch && a.editSimilarity > b.editSimilarity;
const verdict = {
  leftContext: beats(mixLeft, modelAlone) && beats(mixLeft, cacheLeft),
  inProject: beats(mixProject, modelAlone) && beats(mixProject, cacheProject),
};
console.log(`mixed beats the model alone and the cache alone on EM and ES: left context ${verdict.leftContext ? 'yes' : 'NO'}, in-project ${verdict.inProject ? 'yes' : 'NO'}`);

const report = {
  model: modelAlone.model, variant: modelAlone.variant, files, lines: Number(lines), load: loadavg().map((x) => Number(x.toFixed(2))),
  lambda: best.lambda, tuning: { lines: Number(tuneLines), seed: 1, grid: points.map((p) => ({ lambda: p.lambda, inProject: pick(p.inProject), left: pick(p.left) })) },
  rows: rows.map(([what, setting, r]) => ({ what, setting, ...pick(r) })), verdict,
};
function pick(r) {
  return { exactMatch: r.exactMatch, editSimilarity: r.editSimilarity, latencyMs: r.latencyMs, ...(r.cacheSteps ? { cacheMsPerStep: { p50: r.cacheSteps.p50Ms, mean: r.cacheSteps.msPerStep } } : {}) };
}
mkdirSync('test-results', { recursive: true });
writeFileSync('test-results/project-cache-report.json', JSON.stringify(report, null, 1));

if (record) {
  // the engine reads "projectCache.lambda" from the model's kestrel.json (projectCache/mixing.ts)
  const manifestPath = join(resolve(arg('model-dir', join('models', modelAlone.model))), 'kestrel.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  if (manifest.id !== modelAlone.model) throw new Error(`${manifestPath} is ${manifest.id}, not the evaluated ${modelAlone.model}: pass --model-dir`);
  manifest.projectCache = {
    lambda: best.lambda,
    tuned: { command: 'npm run eval:project-cache -- --record', files: files.split('/').pop(), lines: Number(tuneLines), seed: 1, grid },
    report: report.rows,
  };
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  console.error(`recorded in ${manifestPath}`);
}
