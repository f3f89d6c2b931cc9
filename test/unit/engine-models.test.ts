import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { CompletionEngine } from '../../src/engine/engine';
import { EngineError } from '../../src/shared/errors/errors';
import { parseManifest } from '../../src/shared/models/manifest';
import { chooseVariant, inspectModelDir, scanModels } from '../../src/shared/models/registry';
import { Decoder, lastRowLogits } from '../../src/engine/session/decoder';
import { openWithFallback, providerCandidates, sessionOptions, shortReason } from '../../src/shared/devices/providers';
import type { DeviceSetting } from '../../src/shared/devices/deviceSetting';
import { byteLevelTokenizerJson, identityOnnx } from './support/fixtures';

const MANIFEST = {
  id: 'test-model',
  displayName: 'Test model',
  kind: 'completion',
  languages: ['python'],
  contextLength: 256,
  files: { fp32: { file: 'model.onnx', providers: ['cpu'] } },
  fimMode: 'spm',
};

function modelDir(root: string, name: string, files: Record<string, string | Uint8Array | null>): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const all: Record<string, string | Uint8Array | null> = {
    'kestrel.json': JSON.stringify(MANIFEST),
    'tokenizer.json': JSON.stringify(byteLevelTokenizerJson()),
    'model.onnx': identityOnnx([['input_ids', 'logits']]),
    ...files,
  };
  for (const [file, content] of Object.entries(all)) if (content !== null) writeFileSync(join(dir, file), content);
  return dir;
}

function withTemp(fn: (root: string) => Promise<void> | void): () => Promise<void> {
  return async () => {
    const root = mkdtempSync(join(tmpdir(), 'kestrel-models-'));
    try {
      await fn(root);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  };
}

test('manifest problems are listed field by field', () => {
  const bad = parseManifest(JSON.stringify({ id: 'a b', kind: 'chat', contextLength: 'long', files: { fp64: 'x.onnx' }, fimMode: 'pms' }));
  assert.equal(bad.ok, false);
  const problems = bad.ok ? [] : bad.problems.join('\n');
  for (const field of ['"id"', '"kind"', '"contextLength"', '"files.fp64"', '"fimMode"']) assert.match(String(problems), new RegExp(field.replace(/[.]/g, '\\.')));
  const good = parseManifest(JSON.stringify(MANIFEST));
  assert.equal(good.ok, true);
  // the factory's form: special tokens as { token, id }, files with path/bytes/sha256, stop token ids
  const factory = parseManifest(JSON.stringify({
    ...MANIFEST,
    files: { int8: { path: 'model.int8.onnx', providers: ['cpu'], bytes: 10, sha256: 'AB'.repeat(32) } },
    specialTokens: { endOfText: { token: '<|endoftext|>', id: 0 }, fimPrefix: { token: '<fim_prefix>', id: 1 }, fimMiddle: { token: '<fim_middle>', id: 2 }, fimSuffix: { token: '<fim_suffix>', id: 3 } },
    stopTokens: [0],
  }));
  assert.ok(factory.ok);
  assert.equal(factory.manifest.specialTokens.fimMiddle, '<fim_middle>');
  assert.deepEqual(factory.manifest.variants, [{ name: 'int8', file: 'model.int8.onnx', providers: ['cpu'], bytes: 10, sha256: 'ab'.repeat(32) }]);
  assert.deepEqual(factory.manifest.stopTokenIds, [0]);
  // a checksum that is not one is a problem, not a check silently skipped
  const truncated = parseManifest(JSON.stringify({ ...MANIFEST, files: { int8: { path: 'model.int8.onnx', sha256: 'ab' } } }));
  assert.match(truncated.ok ? '' : truncated.problems.join('\n'), /"files\.int8\.sha256" must be the file's SHA-256 as 64 hex digits/);
});

test('a folder without kestrel.json is explained', withTemp((root) => {
  const dir = modelDir(root, 'no-manifest', { 'kestrel.json': null });
  const entry = inspectModelDir(dir);
  assert.match(entry.problems.join(), /has no kestrel\.json/);
}));

test('malformed kestrel.json is reported as invalid JSON with the parser message', withTemp((root) => {
  modelDir(root, 'malformed', { 'kestrel.json': '{"id": "x", ' });
  const [entry] = scanModels([root]).models;
  assert.ok(entry);
  assert.match(entry.problems.join(), /kestrel\.json is not valid JSON/);
}));

test('a missing ONNX file and a missing tokenizer are named', withTemp((root) => {
  const entry = inspectModelDir(modelDir(root, 'missing', { 'model.onnx': null, 'tokenizer.json': null }));
  const text = entry.problems.join('\n');
  assert.match(text, /fp32 file model\.onnx is missing/);
  assert.match(text, /tokenizer tokenizer\.json is missing/);
}));

test('a file that is not ONNX, or shorter than kestrel.json says, is caught before loading', withTemp((root) => {
  const notOnnx = inspectModelDir(modelDir(root, 'text', { 'model.onnx': 'hello' }));
  assert.match(notOnnx.problems.join(), /is not an ONNX model/);
  const sized = { ...MANIFEST, files: { fp32: { file: 'model.onnx', providers: ['cpu'], bytes: 999999 } } };
  const short = inspectModelDir(modelDir(root, 'short', { 'kestrel.json': JSON.stringify(sized) }));
  assert.match(short.problems.join(), /truncated/);
}));

test('a truncated ONNX file fails to load with an error that says so', withTemp(async (root) => {
  const whole = identityOnnx([['input_ids', 'logits']]);
  const dir = modelDir(root, 'truncated', { 'model.onnx': whole.slice(0, Math.floor(whole.length * 0.6)) });
  await assert.rejects(Decoder.openOn(join(dir, 'model.onnx'), 'cpu'), (error: unknown) => {
    assert.ok(error instanceof EngineError);
    assert.equal(error.code, 'model-invalid');
    assert.match(error.message, /truncated or corrupt.*Copy the model folder again/);
    return true;
  });
}));

test('an ONNX graph with the wrong inputs is rejected naming what is missing', withTemp(async (root) => {
  modelDir(root, 'wrong-inputs', { 'model.onnx': identityOnnx([['tokens', 'scores']]) });
  const engine = new CompletionEngine(() => [root]);
  await assert.rejects(engine.load({ model: 'test-model', device: 'cpu' }), (error: unknown) => {
    assert.ok(error instanceof EngineError);
    assert.equal(error.code, 'model-incompatible');
    assert.match(error.message, /missing input_ids, attention_mask, past_key_values\.0\.key, logits/);
    assert.match(error.message, /it has inputs tokens/);
    return true;
  });
}));

test('a tokenizer without the FIM tokens kestrel.json names is rejected naming the token', withTemp(async (root) => {
  const tokenizer = byteLevelTokenizerJson() as { added_tokens: Array<{ content: string }> };
  tokenizer.added_tokens = tokenizer.added_tokens.filter((t) => t.content !== '<fim_middle>');
  const model = tokenizer as unknown as { model: { vocab: Record<string, number> } };
  delete model.model.vocab['<fim_middle>'];
  modelDir(root, 'no-fim', { 'tokenizer.json': JSON.stringify(tokenizer) });
  const engine = new CompletionEngine(() => [root]);
  await assert.rejects(engine.load({ model: 'test-model', device: 'cpu' }), /has no token "<fim_middle>", which kestrel\.json names as a special token/);
}));

test('an embedding model is not loaded as a completion model', withTemp(async (root) => {
  modelDir(root, 'embedder', { 'kestrel.json': JSON.stringify({ ...MANIFEST, kind: 'embedding' }) });
  const engine = new CompletionEngine(() => [root]);
  await assert.rejects(engine.load({ model: 'test-model', device: 'cpu' }), /is an embedding model, not a completion model/);
  await assert.rejects(engine.load({ model: '', device: 'cpu' }), /No usable completion model/);
}));

test('with no usable model the engine says where it looked and what was wrong', withTemp(async (root) => {
  modelDir(root, 'broken', { 'model.onnx': null });
  const engine = new CompletionEngine(() => [root, join(root, 'not-there')]);
  await assert.rejects(engine.load({ model: '', device: 'auto' }), /No usable completion model was found in .*fp32 file model\.onnx is missing/);
  await assert.rejects(engine.load({ model: 'other', device: 'auto' }), /Model "other" was not found/);
}));

test('auto tries the GPU providers of the platform first, then cpu', () => {
  assert.deepEqual(providerCandidates('auto', 'linux'), ['cuda', 'webgpu', 'cpu']);
  assert.deepEqual(providerCandidates('auto', 'win32'), ['cuda', 'dml', 'webgpu', 'cpu']);
  assert.deepEqual(providerCandidates('auto', 'darwin'), ['cuda', 'coreml', 'webgpu', 'cpu']);
  assert.deepEqual(providerCandidates('cuda'), ['cuda']);
  assert.match(shortReason('[E:onnxruntime] /onnxruntime_src/x.cc:1 f() ok == true was false. Failed to get a WebGPU adapter'), /^Failed to get a WebGPU adapter$/);
});

test('auto falls back to cpu with the reason each GPU provider failed', async () => {
  const graph = identityOnnx([['x', 'y']]);
  // a stand-in for a machine without a GPU driver, so the test means the same on every machine
  const noGpu = (provider: string) => {
    if (provider !== 'cpu') return Promise.reject(new Error(`${provider} provider library not found`));
    return ort.InferenceSession.create(graph, sessionOptions('cpu'));
  };
  const opened = await openWithFallback('auto', noGpu);
  assert.equal(opened.provider, 'cpu');
  assert.deepEqual(opened.attempts.map((a) => [a.provider, a.ok]), [['cuda', false], ['webgpu', false], ['cpu', true]]);
  assert.match(opened.attempts[0]?.reason ?? '', /cuda provider library not found/);
  await opened.session.release();
});

test('on this machine, auto with the real ONNX Runtime runs on some provider and explains the ones that failed', async () => {
  const graph = identityOnnx([['x', 'y']]);
  const opened = await openWithFallback('auto', (p) => ort.InferenceSession.create(graph, sessionOptions(p)));
  for (const attempt of opened.attempts.slice(0, -1)) assert.ok(!attempt.ok && (attempt.reason ?? '').length > 0);
  assert.equal(opened.attempts.at(-1)?.provider, opened.provider);
  await opened.session.release();
});

test('a device that is not one (kestrel.device: 12) is named in the error, with the choices', async () => {
  const never = () => Promise.reject(new Error('no provider should be tried'));
  await assert.rejects(openWithFallback(12 as unknown as DeviceSetting, never), (error: unknown) => {
    assert.ok(error instanceof EngineError);
    assert.equal(error.message, '12 is not a device: kestrel.device must be one of auto, cpu, cuda, webgpu, dml, coreml.');
    return true;
  });
});

test('an explicitly requested provider that cannot start is a clear error, not a silent fallback', async () => {
  const graph = identityOnnx([['x', 'y']]);
  const unavailable = (provider: string) => Promise.reject(new Error(`${provider}: Failed to load shared library`));
  await assert.rejects(openWithFallback('cuda', unavailable), (error: unknown) => {
    assert.ok(error instanceof EngineError);
    assert.equal(error.code, 'provider-unavailable');
    assert.match(error.message, /The "cuda" device is not available \(cuda: cuda: Failed to load shared library\)/);
    assert.match(error.message, /ONNXRUNTIME_NODE_INSTALL=cuda12/);
    assert.match(error.message, /set kestrel\.device to "auto"/);
    return true;
  });
  // the real ONNX Runtime: cuda either opens (a GPU machine) or fails with the same kind of error
  const real = await openWithFallback('cuda', (p) => ort.InferenceSession.create(graph, sessionOptions(p))).then(
    async (opened) => { await opened.session.release(); return 'opened'; },
    (error: unknown) => (error instanceof EngineError && error.code === 'provider-unavailable' ? 'clear error' : String(error)),
  );
  assert.ok(real === 'opened' || real === 'clear error', real);
});

test('the last position\'s logits are read from [1, T, V] (Optimum exports) and [1, 1, V] (Kestrel\'s export) alike', () => {
  const every = Float32Array.from([1, 2, 3, 4, 5, 6]); // T = 2, V = 3
  assert.deepEqual([...lastRowLogits(every, [1, 2, 3])], [4, 5, 6]);
  const copied = lastRowLogits(every, [1, 2, 3]);
  copied[0] = 0;
  assert.equal(every[3], 4, 'a row out of a larger block is a copy');
  const last = Float32Array.from([7, 8, 9]);
  assert.deepEqual([...lastRowLogits(last, [1, 1, 3])], [7, 8, 9]);
  const half = Uint16Array.from([0x3c00, 0xc000, 0x3800, 0x4000]); // float16 1, -2, 0.5, 2; T = 2, V = 2
  assert.deepEqual([...lastRowLogits(half, [1, 2, 2])], [0.5, 2]);
});

test('the shipped models give the CPU their int8 file and every GPU provider their half-precision file', () => {
  const { models } = scanModels([join(process.cwd(), 'models')]);
  const shipped = models.filter((m) => ['kestrel-py-tiny', 'kestrel-embed-tiny'].includes(m.id));
  assert.equal(shipped.length, 2);
  for (const entry of shipped) {
    assert.deepEqual(entry.problems, [], `${entry.id} is usable`);
    assert.equal(chooseVariant(entry, 'cpu')?.file, 'model.int8.onnx', `${entry.id} on the CPU`);
    for (const gpu of ['cuda', 'webgpu', 'dml', 'coreml']) {
      assert.equal(chooseVariant(entry, gpu)?.file, 'model.fp16.onnx', `${entry.id} on ${gpu}`);
    }
    // half the fp32 file: float16 weights, the same graph
    const [fp32, fp16] = ['fp32', 'fp16'].map((name) => entry.variants.find((v) => v.name === name)?.sizeBytes ?? 0);
    assert.ok(fp16 > 0 && fp16 < (fp32 as number) * 0.55, `${entry.id}: fp16 ${fp16} bytes, fp32 ${fp32}`);
  }
});
