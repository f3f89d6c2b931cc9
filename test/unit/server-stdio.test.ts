import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { StreamMessageReader, StreamMessageWriter, createProtocolConnection, InitializeRequest, ShutdownRequest, ExitNotification } from 'vscode-languageserver-protocol/node';
import { StatusRequest, SettingsNotification } from '../../src/protocol';

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
