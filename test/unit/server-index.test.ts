// The worker's workspace index over LSP: indexes a copy of the fixture workspace into a storage
// folder, answers search and similar, lists skipped files, follows a changed file, and keeps the
// index on disk for the next start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StreamMessageReader, StreamMessageWriter, createProtocolConnection, InitializeRequest, ShutdownRequest, ExitNotification, type ProtocolConnection } from 'vscode-languageserver-protocol/node';
import {
  CancelIndexRequest,
  FilesChangedNotification,
  IndexProgressNotification,
  IndexStatusRequest,
  SearchRequest,
  SimilarRequest,
  type IndexProgressParams,
  type WorkerSettings,
} from '../../src/protocol';

const SERVER = 'dist/server.js';

async function startWorker(settings: WorkerSettings): Promise<{ connection: ProtocolConnection; idle: () => Promise<IndexProgressParams>; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [SERVER, '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const connection = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  let last: IndexProgressParams | undefined;
  let sawIndexing = false;
  const waiters: Array<() => void> = [];
  connection.onNotification(IndexProgressNotification.type, (progress) => {
    last = progress;
    if (progress.indexing) sawIndexing = true;
    for (const wake of waiters.splice(0)) wake();
  });
  connection.listen();
  await connection.sendRequest(InitializeRequest.type, { processId: process.pid, rootUri: null, capabilities: {}, initializationOptions: settings });
  return {
    connection,
    idle: async () => {
      while (!(sawIndexing && last && !last.indexing)) await new Promise<void>((resolve) => waiters.push(resolve));
      return last;
    },
    stop: async () => {
      try {
        await connection.sendRequest(ShutdownRequest.type);
        const exited = new Promise((resolve) => child.once('exit', resolve));
        await connection.sendNotification(ExitNotification.type);
        await exited;
      } finally {
        connection.dispose();
        child.kill();
      }
    },
  };
}

test('the worker indexes the workspace folders, searches them and follows changed files', async () => {
  const root = mkdtempSync(join(tmpdir(), 'kestrel-index-worker-'));
  const workspace = join(root, 'workspace');
  cpSync('test/fixtures/workspace', workspace, { recursive: true });
  const settings: WorkerSettings = {
    device: 'cpu', model: 'none-wanted', modelPaths: [],
    indexEnable: true, indexStorage: join(root, 'storage'), workspaceFolders: [workspace], indexExclude: ['**/node_modules/**'], indexMaxFileSizeKB: 512,
  };
  try {
    const first = await startWorker(settings);
    const started = performance.now();
    const done = await first.idle();
    console.log(`indexed the fixture workspace in ${(performance.now() - started).toFixed(0)} ms (${done.progress.filesTotal} files, ${done.progress.chunksDone} chunks, embedder ${done.embedder ?? 'none'})`);

    const result = await first.connection.sendRequest(SearchRequest.type, { query: 'reorder point', limit: 5 });
    // Keyword search also ranks the test that exercises the reorder point; the function must be near the top.
    const top = result.hits.slice(0, 3).find((h) => h.rel === 'inventory/warehouse.py' && ['low_stock', 'add_item'].includes(h.name));
    assert.ok(top, `warehouse.py's low_stock or add_item in the top 3 for "reorder point": ${result.hits.map((h) => `${h.rel}:${h.name}`).join(', ')} (notice: ${result.notice ?? 'none'})`);
    assert.ok(top.range.start.line >= 19 && top.range.start.line <= 45, `range starts at line ${top.range.start.line}`);

    const onlyTests = await first.connection.sendRequest(SearchRequest.type, { query: 'warehouse', pathGlob: 'tests/**' });
    assert.ok(onlyTests.hits.length > 0 && onlyTests.hits.every((h) => h.rel.startsWith('tests/')));

    const similar = await first.connection.sendRequest(SimilarRequest.type, { code: 'def low_stock(self):\n    return [level.item for level in self._levels.values() if level.needs_reorder]' });
    assert.ok(similar.hits.some((h) => h.name === 'low_stock'));

    const status = await first.connection.sendRequest(IndexStatusRequest.type);
    assert.equal(status.enabled, true);
    assert.equal(status.folders.length, 1);
    assert.ok((status.folders[0]?.files ?? 0) >= 5);
    assert.ok(status.folders[0]?.skipped.some((s) => s.rel === '.env' && s.reason === 'secret'), 'the .env file is skipped as a secret');

    writeFileSync(join(workspace, 'inventory', 'shipping.py'), 'def calculate_freight_surcharge(weight_kg):\n    """Surcharge for heavy parcels."""\n    return max(0, weight_kg - 20) * 1.5\n');
    const sent = performance.now();
    await first.connection.sendNotification(FilesChangedNotification.type, { changes: [{ path: join(workspace, 'inventory', 'shipping.py'), kind: 'created' }] });
    let found = false;
    while (!found && performance.now() - sent < 5_000) {
      const hits = (await first.connection.sendRequest(SearchRequest.type, { query: 'freight surcharge' })).hits;
      found = hits[0]?.name === 'calculate_freight_surcharge';
      if (!found) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    assert.ok(found, 'a new file is searchable after the change notification');
    console.log(`a created file was searchable ${(performance.now() - sent).toFixed(0)} ms after the notification`);
    await first.stop();

    // The next start opens the stored index: nothing to read again.
    const second = await startWorker(settings);
    const again = await second.idle();
    const secondStatus = await second.connection.sendRequest(IndexStatusRequest.type);
    assert.equal(secondStatus.folders[0]?.lastRun?.filesIndexed, 0, 'nothing re-indexed after a restart');
    assert.ok(again.progress.filesSeen > 0);
    assert.equal((await second.connection.sendRequest(SearchRequest.type, { query: 'freight surcharge' })).hits[0]?.name, 'calculate_freight_surcharge');
    await second.stop();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('links to a device and to a FIFO in the workspace are skipped with their reason; indexing, search, cancel and shutdown answer', { timeout: 120_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'kestrel-index-special-'));
  const workspace = join(root, 'workspace');
  cpSync('test/fixtures/workspace', workspace, { recursive: true });
  // Both are committable to any repository; reading the first never ends, opening the second blocks.
  symlinkSync('/dev/zero', join(workspace, 'zero.py'));
  execFileSync('mkfifo', [join(root, 'queue')]);
  symlinkSync(join(root, 'queue'), join(workspace, 'inventory', 'pipe.py'));
  try {
    const worker = await startWorker({
      device: 'cpu', model: 'none-wanted', modelPaths: [],
      indexEnable: true, indexStorage: join(root, 'storage'), workspaceFolders: [workspace], indexMaxFileSizeKB: 512,
    });
    await worker.idle();
    const status = await worker.connection.sendRequest(IndexStatusRequest.type);
    const skipped = Object.fromEntries((status.folders[0]?.skipped ?? []).map((s) => [s.rel, `${s.reason}: ${s.detail ?? ''}`]));
    assert.equal(skipped['zero.py'], 'special-file: link to a character device');
    assert.equal(skipped['inventory/pipe.py'], 'special-file: link to a FIFO (named pipe)');
    assert.ok((await worker.connection.sendRequest(SearchRequest.type, { query: 'reorder point' })).hits.length > 0);
    // the watcher's path: a change event for either is a skip, not a read
    await worker.connection.sendNotification(FilesChangedNotification.type, { changes: [{ path: join(workspace, 'zero.py'), kind: 'changed' }, { path: join(workspace, 'inventory', 'pipe.py'), kind: 'created' }] });
    await worker.connection.sendRequest(CancelIndexRequest.type);
    assert.equal((await worker.connection.sendRequest(IndexStatusRequest.type)).folders[0]?.state, 'idle');
    await worker.stop();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('with indexing off the worker says so instead of searching', async () => {
  const root = mkdtempSync(join(tmpdir(), 'kestrel-index-off-'));
  try {
    const worker = await startWorker({ device: 'cpu', model: 'none-wanted', modelPaths: [], indexEnable: false, indexStorage: root, workspaceFolders: [root] });
    const result = await worker.connection.sendRequest(SearchRequest.type, { query: 'anything' });
    assert.deepEqual(result.hits, []);
    assert.match(result.notice ?? '', /kestrel\.index\.enable/);
    await worker.stop();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

/**
 * With an embedding model (the shipped one once it exists, else the training recipe's random-weight
 * export when present) the worker embeds every chunk and searches by vectors too. Skips on a checkout
 * that has neither, like the embedder's own tests.
 */
const RANDOM_EMBEDDER = 'models/training/work/embed/rand';
test('with an embedding model (shipped, or found in kestrel.modelPaths) the worker stores a vector per chunk', { skip: !existsSync(join(RANDOM_EMBEDDER, 'model.onnx')) && !existsSync('models/kestrel-embed-tiny/kestrel.json') }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'kestrel-index-embed-'));
  const workspace = join(root, 'workspace');
  cpSync('test/fixtures/workspace', workspace, { recursive: true });
  const models = join(root, 'models');
  if (!existsSync('models/kestrel-embed-tiny/kestrel.json')) {
    const dir = join(models, 'kestrel-embed-tiny');
    mkdirSync(dir, { recursive: true });
    for (const file of ['model.onnx', 'tokenizer.json']) copyFileSync(join(RANDOM_EMBEDDER, file), join(dir, file));
    const reference = JSON.parse(readFileSync(join(RANDOM_EMBEDDER, 'reference.json'), 'utf8')) as { batches: { embeddings: number[][] }[] };
    writeFileSync(join(dir, 'kestrel.json'), JSON.stringify({
      id: 'kestrel-embed-tiny', kind: 'embedding', contextLength: 256, files: { fp32: 'model.onnx' },
      embedding: { dimension: reference.batches[0]?.embeddings[0]?.length, queryPrefix: '<|query|>', codePrefix: '<|code|>', queryMaxTokens: 64, codeMaxTokens: 256, padId: 0 },
    }));
  }
  try {
    const worker = await startWorker({
      device: 'cpu', model: 'none-wanted', modelPaths: [models],
      indexEnable: true, indexStorage: join(root, 'storage'), workspaceFolders: [workspace],
    });
    const started = performance.now();
    const done = await worker.idle();
    console.log(`indexed the fixture workspace with ${done.embedder} in ${(performance.now() - started).toFixed(0)} ms (${done.progress.chunksDone} chunks)`);
    const status = await worker.connection.sendRequest(IndexStatusRequest.type);
    assert.match(status.embedder ?? '', /^kestrel-embed-tiny\//);
    const [folder] = status.folders;
    assert.ok(folder && folder.chunks > 0 && folder.vectors === folder.chunks, `${folder?.vectors} vectors for ${folder?.chunks} chunks`);
    const result = await worker.connection.sendRequest(SearchRequest.type, { query: 'reorder point' });
    assert.ok(result.hits.some((h) => h.rel === 'inventory/warehouse.py'));
    await worker.stop();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
