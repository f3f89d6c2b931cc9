// The worker as a language server with the shipped completion model (models/kestrel-py-tiny, or
// KESTREL_TEST_MODEL_DIR): inline completions over LSP, model requests, status, cancellation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  CancellationTokenSource,
  createProtocolConnection,
  DidOpenTextDocumentNotification,
  InitializeRequest,
  InlineCompletionRequest,
  InlineCompletionTriggerKind,
  StreamMessageReader,
  StreamMessageWriter,
  type ProtocolConnection,
} from 'vscode-languageserver-protocol/node';
import { CompletionTimingNotification, DescribeModelRequest, ListModelsRequest, PrefetchNotification, SelectModelRequest, StatusRequest, type CompletionTimingParams } from '../../src/protocol';
import { findGpus } from '../../src/shared/devices/gpus';

const MODEL_DIR = resolve(process.env.KESTREL_TEST_MODEL_DIR ?? 'models/kestrel-py-tiny');
const SERVER = 'dist/server.js';

async function withServer(fn: (connection: ProtocolConnection) => Promise<void>): Promise<void> {
  assert.ok(existsSync(join(MODEL_DIR, 'kestrel.json')), `the completion model is missing: ${MODEL_DIR}/kestrel.json does not exist (set KESTREL_TEST_MODEL_DIR to a model folder)`);
  assert.ok(existsSync(SERVER), `${SERVER} is missing: run node esbuild.mjs first`);
  const child = spawn(process.execPath, [SERVER, '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const connection = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  connection.listen();
  try {
    const init = await connection.sendRequest(InitializeRequest.type, {
      processId: process.pid,
      rootUri: null,
      capabilities: {},
      initializationOptions: { device: 'auto', model: '', modelPaths: [dirname(MODEL_DIR)] },
    });
    assert.equal(init.capabilities.inlineCompletionProvider, true);
    for (let waited = 0; (await connection.sendRequest(StatusRequest.type)).models.length === 0; waited += 100) {
      assert.ok(waited < 60_000, 'the model loads within a minute');
      await new Promise((r) => setTimeout(r, 100));
    }
    await fn(connection);
  } finally {
    connection.dispose();
    child.kill();
  }
}

const URI = 'file:///project/orders.py';
const TEXT = 'import os\n\n\ndef read_lines(path):\n    with open(path) as f:\n        return \n';

test('inline completions, model listing, description and status over LSP', () => withServer(async (connection) => {
  const status = await connection.sendRequest(StatusRequest.type);
  const [loaded] = status.models;
  assert.ok(loaded);
  assert.equal(loaded.kind, 'completion');
  assert.equal(status.device.active, loaded.provider);

  const described = await connection.sendRequest(DescribeModelRequest.type);
  assert.ok(described);
  assert.equal(described.id, loaded.id);
  assert.ok(described.sizeBytes > 0);
  for (const reason of described.providerFallbacks) assert.match(reason, /^\w+: .+/);
  assert.deepEqual(described.gpus, findGpus(), 'the worker reports the GPUs of the machine it runs on');

  const models = await connection.sendRequest(ListModelsRequest.type);
  assert.ok(models.some((m) => m.id === loaded.id && m.loaded && m.problems.length === 0));

  await connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: URI, languageId: 'python', version: 1, text: TEXT } });
  const result = await connection.sendRequest(InlineCompletionRequest.type, {
    textDocument: { uri: URI },
    position: { line: 5, character: 15 },
    context: { triggerKind: InlineCompletionTriggerKind.Invoked },
  });
  if (result !== null) {
    const items = Array.isArray(result) ? result : result.items;
    for (const item of items) {
      assert.equal(typeof item.insertText, 'string');
      assert.deepEqual(item.range, { start: { line: 5, character: 15 }, end: { line: 5, character: 15 } });
      assert.ok(!(item.insertText as string).includes('\n'), 'a single line after "return "');
    }
  }

  await assert.rejects(connection.sendRequest(SelectModelRequest.type, { id: 'no-such-model' }), /Model "no-such-model" was not found/);
  const reselected = await connection.sendRequest(SelectModelRequest.type, { id: loaded.id, variant: 'fp32' });
  assert.equal(reselected.variant, 'fp32');
  assert.equal((await connection.sendRequest(StatusRequest.type)).models[0]?.variant, 'fp32', 'switched without a restart');
}));

test('a cancelled inline completion request ends quietly', () => withServer(async (connection) => {
  await connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: URI, languageId: 'python', version: 1, text: TEXT } });
  const source = new CancellationTokenSource();
  const pending = connection.sendRequest(
    InlineCompletionRequest.type,
    { textDocument: { uri: URI }, position: { line: 5, character: 15 }, context: { triggerKind: InlineCompletionTriggerKind.Automatic } },
    source.token,
  );
  source.cancel();
  const outcome = await pending.then((r) => (r === null ? 'null' : 'answered'), (e: unknown) => (/cancel/i.test(String(e)) ? 'cancelled' : String(e)));
  assert.ok(['null', 'answered', 'cancelled'].includes(outcome), outcome);
  const status = await connection.sendRequest(StatusRequest.type);
  assert.equal(status.models.length, 1, 'the worker keeps serving');
}));

/** The completion a fresh worker gives at `position`, optionally after a prefetch there, and the worker's timing report. */
async function completionAt(text: string, position: { line: number; character: number }, prefetchFirst: boolean): Promise<string | null> {
  return (await completionWithTiming(text, position, prefetchFirst)).answer;
}

async function completionWithTiming(
  text: string,
  position: { line: number; character: number },
  prefetchFirst: boolean,
): Promise<{ answer: string | null; timing: CompletionTimingParams | undefined }> {
  let answer: string | null = null;
  let timing: CompletionTimingParams | undefined;
  await withServer(async (connection) => {
    connection.onNotification(CompletionTimingNotification.type, (params) => { timing = params; });
    // fp32: the int8 graph quantises activations over the tokens fed in one run, so a reused
    // prefix may shift near-ties; fp32 gives the same tokens whichever way the prompt was fed.
    await connection.sendRequest(SelectModelRequest.type, { id: '', variant: 'fp32' });
    await connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: URI, languageId: 'python', version: 1, text } });
    if (prefetchFirst) {
      await connection.sendNotification(PrefetchNotification.type, { textDocument: { uri: URI }, position });
      // The client's debounce: long enough here for the prefetch to run to its end first.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    const result = await connection.sendRequest(InlineCompletionRequest.type, {
      textDocument: { uri: URI }, position, context: { triggerKind: InlineCompletionTriggerKind.Invoked },
    });
    const items = result === null ? [] : Array.isArray(result) ? result : result.items;
    answer = (items[0]?.insertText as string | undefined) ?? null;
  });
  return { answer, timing };
}

test('a prefetch during the debounce leaves the completion that follows exactly as without it', async () => {
  // A place where the shipped model answers with more than one token.
  const text = 'import os\n\n\ndef read_lines(path):\n    with open(path) as f:\n        return os.path.\n';
  const position = { line: 5, character: 23 };
  const plain = await completionAt(text, position, false);
  assert.ok(plain !== null && plain.length > 0, 'the model answers here');
  const prefetched = await completionAt(text, position, true);
  assert.equal(prefetched, plain, 'the prefetch only fills the KV cache: the completion that reuses it is the same');
});

test('after a prefetch, the completion finds its whole prompt in the KV cache and says where its time went', async () => {
  // A file longer than the model's context, so the prompt is a window of it (its start depends on the budget).
  const above = readFileSync('test/fixtures/workspace/inventory/warehouse.py', 'utf8').repeat(2);
  const text = `${above}\n\ndef read_lines(path):\n    with open(path) as f:\n        return os.path.\n`;
  const lines = text.split('\n');
  const position = { line: lines.length - 2, character: (lines[lines.length - 2] as string).length };
  const cold = await completionWithTiming(text, position, false);
  assert.ok(cold.answer !== null && cold.timing?.model, 'the worker reports the timing of the completion it answered');
  assert.equal(cold.timing.model.reusedTokens, 0, 'nothing was cached before the first request');
  assert.ok(cold.timing.workerMs >= cold.timing.engineMs && cold.timing.model.generatedTokens > 0);

  const warm = await completionWithTiming(text, position, true);
  assert.equal(warm.answer, cold.answer);
  const model = warm.timing?.model;
  assert.ok(model, 'the model ran (the prefetch never fills the completion cache)');
  // The prefetch built the prompt with the request's own token budget: all of it is reused but the
  // token that token healing takes back and re-types.
  assert.equal(model.promptTokens, cold.timing.model.promptTokens);
  assert.ok(model.reusedTokens >= model.promptTokens - 1, `reused ${model.reusedTokens} of ${model.promptTokens} prompt tokens`);
});
