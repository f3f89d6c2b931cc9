// Benchmark: the whole worker's resident memory (every thread: the completion model on the main
// thread, the index thread with the embedding model for queries, the builder thread that chunks and
// embeds code). Budgets (DESIGN.md): 250 MB with the completion model; 300 MB with both models
// loaded and the index threads running. Starts `node dist/server.js --stdio` as any LSP client would
// with the shipped models, runs completions, then indexes a real Python tree in a scratch index folder
// (KESTREL_BENCH_TREE, default Debian's /usr/lib/python3.11/asyncio), sampling the worker's RSS from
// /proc while indexing runs, and asks `kestrel/status` again after a search.
// Run: `npm run bench:memory` (after `node esbuild.mjs`).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StreamMessageReader, StreamMessageWriter, createProtocolConnection } from 'vscode-languageserver-protocol/node';

const TREE = process.env.KESTREL_BENCH_TREE ?? '/usr/lib/python3.11/asyncio';
const scratch = mkdtempSync(join(tmpdir(), 'kestrel-bench-memory-'));
const base = { device: 'auto', model: '', modelPaths: [], indexStorage: scratch, workspaceFolders: [TREE] };
// The flags the extension starts the worker with (WORKER_NODE_FLAGS, src/extension/workerClient.ts).
const WORKER_NODE_FLAGS = ['--max-semi-space-size=4'];
const child = spawn(process.execPath, [...WORKER_NODE_FLAGS, 'dist/server.js', '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
const connection = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
const ready = new Promise((resolve, reject) => connection.onNotification('kestrel/modelState', (state) => {
  if (state.state === 'ready') resolve(state.model);
  if (state.state === 'error') reject(new Error(state.message));
}));
let progress = { indexing: false, progress: { chunksDone: 0 }, embedder: null };
connection.onNotification('kestrel/indexProgress', (params) => { progress = params; });
connection.onNotification('window/logMessage', () => {});
connection.listen();
const mb = (bytes) => `${(bytes / 2 ** 20).toFixed(0)} MB`;

/** The worker's RSS and peak RSS from /proc (Linux), in bytes; null elsewhere. */
function procMemory(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), peak: kb('VmHWM'), threads: Number(/^Threads:\s+(\d+)/m.exec(status)?.[1]) };
  } catch {
    return null;
  }
}

try {
  await connection.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {}, initializationOptions: { ...base, indexEnable: false } });
  await connection.sendNotification('initialized', {});
  const model = await ready;
  const loaded = await connection.sendRequest('kestrel/status');
  const uri = 'file:///bench/example.py';
  const text = 'import os\n\n\ndef list_python_files(root):\n    """Every .py file under root."""\n    found = []\n    for dirpath, _, names in os.walk(root):\n        for name in names:\n            ';
  await connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'python', version: 1, text } });
  const lines = text.split('\n');
  const complete = () => connection.sendRequest('textDocument/inlineCompletion', {
    textDocument: { uri }, position: { line: lines.length - 1, character: lines.at(-1).length }, context: { triggerKind: 1 },
  });
  for (let i = 0; i < 10; i++) await complete();
  const afterCompletions = await connection.sendRequest('kestrel/status');

  // Index the tree, sampling RSS every 100 ms while it runs; a completion now and then as in use.
  await connection.sendNotification('kestrel/settings', { ...base, indexEnable: true });
  const started = Date.now();
  let sampledPeak = 0;
  let samples = 0;
  let sawIndexing = false;
  while (Date.now() - started < 600_000) {
    await new Promise((r) => setTimeout(r, 100));
    const m = procMemory(child.pid);
    if (m) sampledPeak = Math.max(sampledPeak, m.rss);
    samples++;
    sawIndexing ||= progress.indexing;
    if (sawIndexing && !progress.indexing) break;
    if (samples % 20 === 0) await complete();
  }
  if (!sawIndexing) throw new Error('indexing did not start');
  const indexSeconds = (Date.now() - started) / 1000;
  const status = await connection.sendRequest('kestrel/indexStatus');
  const search = await connection.sendRequest('kestrel/search', { query: "cancel the pending tasks of an event loop" });
  for (let i = 0; i < 5; i++) await complete();
  const afterIndex = await connection.sendRequest('kestrel/status');
  const proc = procMemory(child.pid);
  const folder = status.folders[0];

  console.log(`worker with ${model.id} (${model.variant}, ${model.provider}) and embedder ${status.embedder ?? 'none'}:`);
  console.log(`  RSS after load                     ${mb(loaded.memory.rssBytes)}`);
  console.log(`  RSS after 10 completions           ${mb(afterCompletions.memory.rssBytes)}   (budget 250 MB)`);
  console.log(`  RSS while indexing, sampled peak   ${mb(sampledPeak)}   (${samples} samples; ${folder?.chunks ?? 0} chunks, ${folder?.vectors ?? 0} vectors of ${TREE} in ${indexSeconds.toFixed(0)} s)`);
  console.log(`  RSS indexed, after a search        ${mb(afterIndex.memory.rssBytes)}   (budget 300 MB with both models and the index threads; ${search.hits.length} hits)`);
  if (proc) console.log(`  peak RSS of the process (VmHWM)    ${mb(proc.peak)}   (${proc.threads} threads)`);
} finally {
  child.kill();
  connection.dispose();
  rmSync(scratch, { recursive: true, force: true });
}
