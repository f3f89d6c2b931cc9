// The index thread (dist/indexThread.js, built by esbuild.mjs): it pauses while the PriorityGate is
// held, answers searches exactly as the same index does in-process, and a thread that dies or is
// stopped turns every call into a clear error instead of a call that never returns.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CancellationToken, type Connection } from 'vscode-languageserver/node';
import { inspectModelDir } from '../../src/shared/models/registry';
import type { IndexProgress } from '../../src/index/indexer';
import { OnnxEmbedder } from '../../src/index/onnxEmbedder';
import { ForegroundWatch, PriorityGate } from '../../src/index/priorityGate';
import { IndexThread, ThreadStoppedError, RemoteIndex } from '../../src/index/threadProxy';
import { WorkspaceIndex } from '../../src/index/workspaceIndex';
import { IndexFeature } from '../../src/server/indexFeature';
import type { Logger } from '../../src/server/logger';
import { SettingsStore } from '../../src/server/settings';

const THREAD = 'dist/indexThread.js';
const EMBEDDER = 'models/kestrel-embed-tiny';

/** Temporary folders of this file's tests, removed once they have all run. */
const scratchFolders: string[] = [];
after(() => {
  for (const folder of scratchFolders) rmSync(folder, { recursive: true, force: true });
});

function scratch(name: string): string {
  const folder = mkdtempSync(join(tmpdir(), `kestrel-${name}-`));
  scratchFolders.push(folder);
  return folder;
}

function workspaceCopy(): string {
  const root = join(scratch('thread-ws'), 'workspace');
  cpSync('test/fixtures/workspace', root, { recursive: true });
  return root;
}

/** Polls until `check` holds; the limit only stops a broken test from hanging. */
async function until(what: string, check: () => boolean | Promise<boolean>, limitMs = 20_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > limitMs) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A stand-in thread that dies on the first call it gets, as a crashed index thread would. */
function crashingThreadFile(): string {
  const file = join(scratch('thread-crash'), 'crashingThread.js');
  writeFileSync(file, "require('node:worker_threads').parentPort.on('message', () => { throw new Error('simulated crash of the index thread'); });\n");
  return file;
}

test('ForegroundWatch: clear at once when idle, waits while the gate is held, gives up on a count that never drops', async () => {
  const gate = new PriorityGate();
  const watch = new ForegroundWatch(gate.shared, 60_000);
  await watch.whenClear();
  const leave = gate.enter();
  assert.equal(watch.busy, true);
  let cleared = false;
  const waiting = watch.whenClear().then(() => { cleared = true; });
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(cleared, false, 'still waiting while a completion holds the gate');
  leave();
  await waiting;
  assert.equal(watch.busy, false);

  gate.enter(); // never left: a leaked count
  await new ForegroundWatch(gate.shared, 30).whenClear();
});

test('the index thread pauses while the gate is held, still answers meanwhile, and indexes once it is released', async () => {
  const workspace = workspaceCopy();
  const storageFolder = scratch('thread-store');
  const gate = new PriorityGate();
  const progress: IndexProgress[] = [];
  const thread = await IndexThread.start({ file: THREAD, gate: gate.shared, onEvent: (event) => { if (event.type === 'progress') progress.push(event.progress); } });
  try {
    const index = await thread.open('ws', { storageFolder, walk: { roots: [workspace] } });
    const leave = gate.enter();
    const run = index.update();
    await until('the walk to finish', () => progress.some((p) => p.phase === 'indexing'));
    // The thread waits without blocking its event loop: status and search are answered.
    assert.equal((await index.status()).stats.files, 0);
    assert.deepEqual(await index.search('warehouse'), []);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal((await index.status()).stats.files, 0, 'nothing chunked or written while a completion holds the gate');
    assert.equal(progress.at(-1)?.chunksDone, 0);
    leave();
    const summary = await run;
    assert.ok(summary.filesIndexed >= 5 && summary.chunksWritten > 0, JSON.stringify(summary));
    assert.equal((await index.status()).stats.files, summary.filesIndexed);
  } finally {
    await thread.terminate();
  }
});

test('search through the index thread returns the same hits as the same index in-process', async () => {
  const workspace = workspaceCopy();
  const localFolder = scratch('thread-local');
  const remoteFolder = scratch('thread-remote');
  const withEmbedder = existsSync(join(EMBEDDER, 'kestrel.json'));
  const embedder = withEmbedder ? await OnnxEmbedder.load(inspectModelDir(EMBEDDER), 'cpu', { threads: 1 }) : null;
  const local = await WorkspaceIndex.open({ storageFolder: localFolder, walk: { roots: [workspace] }, embedder, embedBatch: 4 });
  const thread = await IndexThread.start({ file: THREAD, gate: new PriorityGate().shared, embedBatch: 4 });
  try {
    if (embedder) {
      const loaded = await thread.call('loadEmbedder', { dir: EMBEDDER, device: 'cpu' });
      assert.ok('loaded' in loaded, JSON.stringify(loaded));
      assert.equal(loaded.loaded.id, embedder.id);
    }
    const remote = await thread.open('ws', { storageFolder: remoteFolder, walk: { roots: [workspace] } });
    const [here, there] = [await local.update(), await remote.update()];
    assert.equal(there.chunksWritten, here.chunksWritten);
    const stats = (await remote.status()).stats;
    assert.deepEqual([stats.files, stats.chunks, stats.vectors], [local.status().stats.files, local.status().stats.chunks, local.status().stats.vectors]);
    const shape = (hits: { rel: string; name: string; range: { start: { line: number } }; score: number }[]): string[] =>
      hits.map((h) => `${h.rel}:${h.name}:${h.range.start.line}:${h.score.toFixed(6)}`);
    for (const query of ['reorder point', 'warehouse', 'items at or below their reorder point', 'add_item']) {
      const expected = shape(await local.search(query, { limit: 10 }));
      assert.ok(expected.length > 0, query);
      assert.deepEqual(shape(await remote.search(query, { limit: 10 })), expected, query);
    }
    if (embedder) {
      // One copy of the model in the worker: the builder thread's session embeds code and queries alike.
      assert.deepEqual(await thread.call('embeddingSessions', {}), { indexThread: 0, builderThread: 1 });
    }
    const code = 'def low_stock(self):\n    return [level.item for level in self._levels.values() if level.needs_reorder]';
    assert.deepEqual(shape(await remote.similar(code, { limit: 10 })), shape(await local.similar(code, { limit: 10 })));
    assert.deepEqual(shape(await remote.search('warehouse', { include: ['tests/**'] })), shape(await local.search('warehouse', { include: ['tests/**'] })));
  } finally {
    await thread.terminate();
    local.close();
    await embedder?.dispose();
  }
});

test('a thread that dies is reported once; calls in flight and after it fail with a clear error', async () => {
  const exits: string[] = [];
  const thread = await IndexThread.start({ file: crashingThreadFile(), gate: new PriorityGate().shared, onExit: (reason) => exits.push(reason) });
  const index = new RemoteIndex(thread, 'ws');
  const inFlight = index.search('anything');
  await assert.rejects(index.status(), (error: unknown) => error instanceof ThreadStoppedError && /index thread stopped: it failed: .*simulated crash/.test(error.message));
  await assert.rejects(inFlight, ThreadStoppedError);
  await until('the exit to be reported', () => exits.length > 0);
  assert.equal(exits.length, 1);
  assert.match(exits[0] as string, /simulated crash/);
  assert.equal(thread.running, false);
  await assert.rejects(index.update(), /index thread is not running: it failed: .*simulated crash/);
  await thread.terminate();
  assert.equal(exits.length, 1, 'terminating a dead thread reports nothing more');
});

test('a builder thread that dies takes the index thread down with a message that says so', async () => {
  const workspace = workspaceCopy();
  const storageFolder = scratch('thread-builder');
  const exits: string[] = [];
  const thread = await IndexThread.start({ file: THREAD, builderFile: crashingThreadFile(), gate: new PriorityGate().shared, onExit: (reason) => exits.push(reason) });
  try {
    const index = await thread.open('ws', { storageFolder, walk: { roots: [workspace] } });
    // The first file sent for chunking kills the builder.
    await assert.rejects(index.update(), /index builder thread stopped: it failed: .*simulated crash/);
    await until('the exit to be reported', () => exits.length > 0);
    assert.match(exits[0] as string, /it failed: the index builder thread stopped: it failed: .*simulated crash/);
    await assert.rejects(index.status(), (error: unknown) => error instanceof ThreadStoppedError && /index thread is not running/.test(error.message));
  } finally {
    await thread.terminate();
  }
});

test('terminate() stops a working thread: its calls reject, and it is not reported as a crash', async () => {
  const workspace = workspaceCopy();
  const storageFolder = scratch('thread-stop');
  const gate = new PriorityGate();
  const exits: string[] = [];
  const thread = await IndexThread.start({ file: THREAD, gate: gate.shared, onExit: (reason) => exits.push(reason) });
  try {
    const index = await thread.open('ws', { storageFolder, walk: { roots: [workspace] } });
    const leave = gate.enter(); // keeps the run in flight
    const run = assert.rejects(index.update(), (error: unknown) => error instanceof ThreadStoppedError && /stopped: it was stopped/.test(error.message));
    await thread.terminate();
    await run;
    await assert.rejects(index.status(), /not running/);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(exits, []);
    leave();
  } finally {
    await thread.terminate();
  }
});

test('a missing thread bundle is a clear error', async () => {
  await assert.rejects(IndexThread.start({ file: join(scratch('thread-missing'), 'indexThread.js'), gate: new PriorityGate().shared }), /bundle of the index thread, .*indexThread\.js, is missing/);
});

test('the index feature reports a thread that keeps dying, restarts it twice, then stays in an error state without hanging', async () => {
  const lines: string[] = [];
  const log: Logger = { error: (m) => lines.push(`error ${m}`), warn: (m) => lines.push(`warn ${m}`), info: () => undefined, debug: () => undefined };
  const settings = new SettingsStore();
  const feature = new IndexFeature(settings, [], log, new PriorityGate(), crashingThreadFile());
  const handlers = new Map<string, (...args: unknown[]) => unknown>();
  const connection = {
    onRequest: (method: string, handler: (...args: unknown[]) => unknown) => handlers.set(method, handler),
    onNotification: () => undefined,
    sendNotification: () => Promise.resolve(),
  } as unknown as Connection;
  feature.register(connection);
  const folder = scratch('thread-feature');
  settings.update({ device: 'cpu', model: '', modelPaths: [], indexEnable: true, indexStorage: join(folder, 'storage'), workspaceFolders: [folder] });
  try {
    await until('three stops', async () => /3 times/.test((await feature.status()).folders[0]?.error ?? ''), 30_000);
    const status = await feature.status();
    assert.equal(status.folders[0]?.state, 'error');
    assert.match(status.folders[0]?.error ?? '', /index thread stopped: it failed: .*simulated crash/);
    assert.equal(lines.filter((l) => l.startsWith('error')).length, 3, lines.join('\n'));
    assert.match(lines.at(-1) ?? '', /stays stopped/);
    const search = handlers.get('kestrel/search');
    assert.ok(search);
    const result = (await search({ query: 'anything' }, CancellationToken.None)) as { hits: unknown[]; notice?: string };
    assert.deepEqual(result.hits, []);
    assert.match(result.notice ?? '', /not available: the index thread stopped/);
  } finally {
    await feature.shutdown();
    rmSync(folder, { recursive: true, force: true });
  }
});
