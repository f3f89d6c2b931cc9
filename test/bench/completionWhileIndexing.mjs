// Benchmark: completion latency while the workspace index is being built, against the same
// requests with the worker idle (budget: no worse than 1.2x idle, DESIGN.md). Starts the worker over
// stdio as any LSP client would, with the shipped models, then indexes a real Python tree (Debian's
// standard library by default; KESTREL_BENCH_TREE=DIR to choose) in a scratch index folder.
// On Linux it also reads /proc for the worker's threads: how many run at which nice value, and the
// CPU time the nice-19 ones (the index builder thread) got during the measured phase.
// Run: `npm run bench:indexing-load` (after `node esbuild.mjs`); KESTREL_BENCH_VERBOSE=1 prints every time.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { StreamMessageReader, StreamMessageWriter, createProtocolConnection } from 'vscode-languageserver-protocol/node';
import { percentile } from './stats.mjs';

const TREE = process.env.KESTREL_BENCH_TREE ?? '/usr/lib/python3.11';
const SOURCE = process.env.KESTREL_BENCH_FILE ?? '/usr/lib/python3.11/textwrap.py';
const REQUESTS = Number(process.env.KESTREL_BENCH_REQUESTS ?? 40);

const scratch = mkdtempSync(join(tmpdir(), 'kestrel-bench-'));
const base = { device: 'auto', model: '', modelPaths: [], indexStorage: scratch, workspaceFolders: [TREE] };
const child = spawn(process.execPath, ['dist/server.js', '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
const connection = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
let progress = { indexing: false, progress: { chunksDone: 0 } };
const modelReady = new Promise((resolve, reject) => connection.onNotification('kestrel/modelState', (state) => {
  if (state.state === 'ready') resolve(state.model);
  if (state.state === 'error') reject(new Error(state.message));
}));
connection.onNotification('kestrel/indexProgress', (params) => { progress = params; });
connection.onNotification('window/logMessage', () => {});
connection.listen();

/** Line ends of a real file to complete at (indices into `lines`). */
const lines = readFileSync(SOURCE, 'utf8').split('\n');
const targets = lines.map((line, i) => i).filter((i) => lines[i].trim().length > 8).filter((_, k) => k % 3 === 0).slice(0, REQUESTS);

/**
 * The file with a comment naming the phase before every MARK_EVERY-th line, so that every prompt
 * and every completion-cache key (the 2 kB before the cursor) differs between phases and nothing
 * is answered from an earlier phase, while each phase completes the same code. Names have one length.
 */
const MARK_EVERY = 16;
function marked(name) {
  const out = [];
  const lineOf = [];
  lines.forEach((line, i) => {
    if (i % MARK_EVERY === 0) out.push(`# ${name}`);
    lineOf.push(out.length);
    out.push(line);
  });
  return { text: out.join('\n'), lineOf };
}

async function phase(name) {
  const uri = `file:///bench/${name}.py`;
  const { text, lineOf } = marked(name);
  await connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'python', version: 1, text } });
  const times = [];
  for (const i of targets) {
    const position = { line: lineOf[i], character: lines[i].length };
    const t = performance.now();
    await connection.sendRequest('textDocument/inlineCompletion', { textDocument: { uri }, position, context: { triggerKind: 1 } });
    times.push(performance.now() - t);
  }
  return times;
}

/** Linux: each of the worker's threads with its nice value and CPU time in ms; null elsewhere. */
function threadTimes(pid) {
  if (process.platform !== 'linux') return null;
  const tickMs = 10; // USER_HZ is 100 on Linux
  const threads = new Map();
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const fields = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8').split(') ').at(-1).split(' ');
      threads.set(task, { nice: Number(fields[16]), cpuMs: (Number(fields[11]) + Number(fields[12])) * tickMs });
    }
  } catch {
    return null;
  }
  return threads;
}

/** "14 at nice 0, 1 at nice 19; nice-19 threads used 1.2 s of CPU in the phase" */
function describeThreads(before, after) {
  if (!before || !after) return 'threads not measured (Linux only)';
  const counts = new Map();
  let backgroundMs = 0;
  for (const [task, { nice, cpuMs }] of after) {
    counts.set(nice, (counts.get(nice) ?? 0) + 1);
    if (nice > 0) backgroundMs += cpuMs - (before.get(task)?.cpuMs ?? 0);
  }
  const census = [...counts].sort((a, b) => a[0] - b[0]).map(([nice, n]) => `${n} at nice ${nice}`).join(', ');
  return `worker threads: ${census}; the niced ones used ${(backgroundMs / 1000).toFixed(1)} s of CPU in the phase`;
}

const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

try {
  const loadAtStart = load();
  await connection.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {}, initializationOptions: { ...base, indexEnable: false } });
  await connection.sendNotification('initialized', {});
  const model = await modelReady;
  await phase('warm'); // first requests pay one-off costs (syntax trees, caches); measure neither phase with them
  const idle = await phase('idle');
  await connection.sendNotification('kestrel/settings', { ...base, indexEnable: true });
  const started = Date.now();
  // Measure once chunks are being embedded and written, not while the tree is only walked: from the
  // end of the first batch of files, so the chunks counted were embedded during the phase.
  while (!(progress.indexing && progress.progress.filesDone > 0) && Date.now() - started < 120_000) await new Promise((r) => setTimeout(r, 50));
  if (!progress.indexing) throw new Error('indexing did not start (or ended before chunks were counted)');
  const firstChunksMs = Date.now() - started;
  const chunksAtStart = progress.progress.chunksDone;
  const timesBefore = threadTimes(child.pid);
  const phaseStarted = performance.now();
  const loaded = await phase('busy');
  const phaseSeconds = (performance.now() - phaseStarted) / 1000;
  const stillIndexing = progress.indexing;
  const threads = describeThreads(timesBefore, threadTimes(child.pid));
  const row = (label, values) => `${label.padEnd(22)} p50 ${percentile(values, 50).toFixed(1).padStart(7)} ms   p95 ${percentile(values, 95).toFixed(1).padStart(7)} ms`;
  console.log(`completion latency with ${model.id} (${model.variant}, ${model.provider}), ${idle.length} requests per phase, index of ${TREE}:`);
  console.log(`  ${row('idle worker', idle)}`);
  console.log(`  ${row('while indexing', loaded)}   (${progress.progress.chunksDone - chunksAtStart} chunks indexed in the phase's ${phaseSeconds.toFixed(1)} s${stillIndexing ? ', indexing still running' : ', indexing finished during the phase'})`);
  console.log(`  ratio p50 ${(percentile(loaded, 50) / percentile(idle, 50)).toFixed(2)}x, p95 ${(percentile(loaded, 95) / percentile(idle, 95)).toFixed(2)}x   (budget 1.2x)`);
  if (process.env.KESTREL_BENCH_VERBOSE) console.log(`  idle ms: ${idle.map((t) => t.toFixed(0)).join(' ')}\n  indexing ms: ${loaded.map((t) => t.toFixed(0)).join(' ')}`);
  console.log(`  first batch of files stored ${(firstChunksMs / 1000).toFixed(1)} s after indexing was turned on; ${threads}; load average ${loadAtStart} at the start, ${load()} at the end`);
} finally {
  child.kill();
  connection.dispose();
  rmSync(scratch, { recursive: true, force: true });
}
