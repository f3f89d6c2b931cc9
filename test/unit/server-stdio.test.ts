import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { StreamMessageReader, StreamMessageWriter, createProtocolConnection, InitializeRequest, ShutdownRequest, ExitNotification, type ProtocolConnection } from 'vscode-languageserver-protocol/node';
import * as protocol from '../../src/protocol';
import { StatusRequest, SettingsNotification, type WorkerSettings } from '../../src/protocol';
import { RequestType, RequestType0 } from 'vscode-languageserver-protocol';

/** Methods of src/protocol.ts that only the worker sends. */
const SERVER_TO_CLIENT = new Set<string>([protocol.ModelStateNotification.method, protocol.IndexProgressNotification.method, protocol.CompletionTimingNotification.method, protocol.ProjectCacheNotification.method]);

const SERVER = 'dist/server.js';

test('`node dist/server.js --stdio` is a language server any LSP client can use', async () => {
  assert.ok(existsSync(SERVER), `${SERVER} is missing: run node esbuild.mjs first`);
  const child = spawn(process.execPath, [SERVER, '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const connection = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  const logs: string[] = [];
  connection.onNotification('window/logMessage', (params: { message: string }) => { logs.push(params.message); });
  connection.listen();
  try {
    const init = await connection.sendRequest(InitializeRequest.type, { processId: process.pid, rootUri: null, capabilities: {} });
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    assert.deepEqual(init.serverInfo, { name: 'kestrel', version });
    assert.equal((init.capabilities.textDocumentSync as { change: number }).change, 2, 'incremental document sync');

    const status = await connection.sendRequest(StatusRequest.type);
    assert.equal(status.pid, child.pid);
    assert.equal(status.device.requested, 'auto', 'a client that sends no settings gets the defaults');

    await connection.sendNotification(SettingsNotification.type, { device: 'cpu', model: '', modelPaths: [] });
    const after = await connection.sendRequest(StatusRequest.type);
    assert.equal(after.device.requested, 'cpu');
    assert.ok(logs.some((line) => line.includes('starting')), 'the server logs through window/logMessage');

    await connection.sendRequest(ShutdownRequest.type);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await connection.sendNotification(ExitNotification.type);
    assert.equal(await exited, 0);
  } finally {
    connection.dispose();
    child.kill();
  }
});

test('a malformed request gets an LSP error, and the server keeps answering', async () => {
  const child = spawn(process.execPath, [SERVER, '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const connection = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  connection.listen();
  try {
    await connection.sendRequest(InitializeRequest.type, { processId: process.pid, rootUri: null, capabilities: {} });
    await assert.rejects(connection.sendRequest('kestrel/noSuchRequest', {}), /Unhandled method|not found/i);
    const status = await connection.sendRequest(StatusRequest.type);
    assert.equal(status.pid, child.pid);
  } finally {
    connection.dispose();
    child.kill();
  }
});

/** Spawns the worker on stdio and initializes it; `stderr` collects what it writes there. */
async function startStdioWorker(): Promise<{ child: ChildProcess; connection: ProtocolConnection; stderr: () => string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [SERVER, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (data: Buffer) => { stderr += data.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const connection = createProtocolConnection(new StreamMessageReader(child.stdout as Readable), new StreamMessageWriter(child.stdin as Writable));
  connection.listen();
  await connection.sendRequest(InitializeRequest.type, { processId: process.pid, rootUri: null, capabilities: {} });
  return { child, connection, stderr: () => stderr, exited };
}

const frame = (body: string, header = `Content-Length: ${Buffer.byteLength(body)}`): string => `${header}\r\n\r\n${body}`;
const STATUS = JSON.stringify({ jsonrpc: '2.0', id: 99, method: 'kestrel/status' });

test('a malformed frame makes the worker exit with the reason (instead of answering nothing), and a restarted worker answers', { timeout: 60_000 }, async () => {
  const broken: Record<string, string> = {
    'no Content-Length': frame(STATUS, 'Content-Type: application/vscode-jsonrpc; charset=utf-8'),
    'a non-numeric Content-Length': frame(STATUS, 'Content-Length: twelve'),
    'a negative Content-Length': frame(STATUS, 'Content-Length: -5') + frame(STATUS),
    'a body shorter than its Content-Length says': frame(STATUS, `Content-Length: ${STATUS.length + 10}`) + frame(STATUS),
    'a body longer than its Content-Length says': frame(STATUS, `Content-Length: ${STATUS.length - 10}`) + frame(STATUS),
    'a header line without a colon': frame(STATUS, `Content-Length: ${STATUS.length}\r\nnonsense`),
  };
  for (const [what, bytes] of Object.entries(broken)) {
    const worker = await startStdioWorker();
    try {
      (worker.child.stdin as Writable).write(bytes);
      const code = await worker.exited;
      assert.equal(code, 1, `${what}: the worker exits with code 1`);
      assert.match(worker.stderr(), /message stream from the client is broken/, `${what}: the reason is on stderr`);
    } finally {
      worker.connection.dispose();
      worker.child.kill();
    }
  }
  // What a client does when its server exits: start another, which serves as usual.
  const restarted = await startStdioWorker();
  try {
    assert.equal((await restarted.connection.sendRequest(StatusRequest.type)).pid, restarted.child.pid);
  } finally {
    restarted.connection.dispose();
    restarted.child.kill();
  }
});

test('a worker whose client closes its stdin exits', { timeout: 20_000 }, async () => {
  const worker = await startStdioWorker();
  try {
    (worker.child.stdin as Writable).end();
    assert.equal(await worker.exited, 1, 'no shutdown request came first: exit code 1, as LSP says');
  } finally {
    worker.connection.dispose();
    worker.child.kill();
  }
});

/** Every method of src/protocol.ts that a client sends, with whether it is a request. */
const CLIENT_METHODS: Array<{ method: string; request: boolean }> = (Object.values(protocol) as unknown[])
  .filter((value): value is { method: string; type: object } => typeof value === 'object' && value !== null && typeof (value as { method?: unknown }).method === 'string')
  .filter((value) => !SERVER_TO_CLIENT.has(value.method))
  .map((value) => ({ method: value.method, request: value.type instanceof RequestType || value.type instanceof RequestType0 }));

test('null, missing and mistyped params for every custom request and notification: errors or nothing, never a crash', { timeout: 60_000 }, async () => {
  assert.ok(CLIENT_METHODS.length >= 12, `found ${CLIENT_METHODS.map((m) => m.method).join(', ')}`);
  const worker = await startStdioWorker();
  const warnings: string[] = [];
  worker.connection.onNotification('window/logMessage', (params: { message: string }) => { warnings.push(params.message); });
  const ready = new Promise<void>((resolve) => worker.connection.onNotification(protocol.ModelStateNotification.type, (state) => { if (state.state !== 'loading') resolve(); }));
  try {
    // With a model loaded and the document open, a prefetch reaches the engine: position null must stop before.
    await worker.connection.sendNotification('textDocument/didOpen', { textDocument: { uri: 'file:///nowhere.py', languageId: 'python', version: 1, text: 'import os\n\ndef f():\n    return os.' } });
    await ready;
    const bad: unknown[] = [null, 5, 'text', [null], { position: null, textDocument: null, query: null, code: null, changes: null, id: null }, { changes: [null] }, { query: 'x'.repeat(20_000) }, { textDocument: { uri: 'file:///nowhere.py' }, position: null }];
    for (const { method, request } of CLIENT_METHODS) {
      for (const params of bad) {
        if (request) {
          // An answer, either way: a result for methods that take no params, else InvalidParams with the reason.
          await worker.connection.sendRequest(method, params).then(
            () => undefined,
            (error: { code?: number; message: string }) => assert.equal(error.code, -32602, `${method} ${JSON.stringify(params)?.slice(0, 60)}: ${error.message}`),
          );
        } else {
          await worker.connection.sendNotification(method, params);
        }
      }
    }
    await worker.connection.sendRequest('textDocument/inlineCompletion', { textDocument: null, position: null, context: null }).then(
      () => assert.fail('inline completion with null params must be refused'),
      (error: { code?: number }) => assert.equal(error.code, -32602),
    );
    const status = await worker.connection.sendRequest(StatusRequest.type);
    assert.equal(status.pid, worker.child.pid, 'the worker is alive and answering');
    assert.ok(warnings.some((w) => /ignored kestrel\/prefetch: params\.position must be an object, not null/.test(w)), 'a dropped notification is logged with the reason');
  } finally {
    worker.connection.dispose();
    worker.child.kill();
  }
  assert.equal(worker.child.exitCode, null, 'the worker did not exit on its own');
});

test('a setting of the wrong type falls back to its default, and the message names the setting', { timeout: 30_000 }, async () => {
  const worker = await startStdioWorker();
  const shown: string[] = [];
  worker.connection.onNotification('window/showMessage', (params: { message: string }) => { shown.push(params.message); });
  try {
    await worker.connection.sendNotification(SettingsNotification.type, { device: 12, model: '', modelPaths: [] } as unknown as WorkerSettings);
    const status = await worker.connection.sendRequest(StatusRequest.type);
    assert.equal(status.device.requested, 'auto');
    assert.ok(shown.some((m) => /kestrel\.device must be one of auto, cpu, .*not 12; using "auto"/.test(m)), shown.join('\n'));
    assert.ok(!shown.some((m) => m.includes('undefined')), shown.join('\n'));
  } finally {
    worker.connection.dispose();
    worker.child.kill();
  }
});
