// A model the registry cannot vouch for never loads as "ready": a file whose SHA-256 is not the one
// in kestrel.json, a graph whose vocabulary is not kestrel.json's, a tokenizer of another vocabulary
// or with other special token ids. Each says which check failed. Built from the shipped models'
// files (linked, not copied) with one thing changed at a time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EngineError } from '../../src/shared/errors/errors';
import { fileSha256, inspectModelDir } from '../../src/shared/models/registry';
import { loadCompletionModel } from '../../src/engine/session/model';
import { OnnxEmbedder } from '../../src/index/onnxEmbedder';

const COMPLETION = resolve('models/kestrel-py-tiny');
const EMBEDDING = resolve('models/kestrel-embed-tiny');

/** A model folder with the shipped model's int8 graph and tokenizer, kestrel.json changed by `edit`. */
function variantOf(shipped: string, edit: (manifest: Record<string, any>) => void, tokenizer = join(shipped, 'tokenizer.json')): string {
  const dir = mkdtempSync(join(tmpdir(), 'kestrel-verify-'));
  const manifest = JSON.parse(readFileSync(join(shipped, 'kestrel.json'), 'utf8')) as Record<string, any>;
  manifest['files'] = { int8: manifest['files']['int8'] };
  symlinkSync(join(shipped, manifest['files']['int8']['path']), join(dir, manifest['files']['int8']['path']));
  symlinkSync(tokenizer, join(dir, 'tokenizer.json'));
  edit(manifest);
  writeFileSync(join(dir, 'kestrel.json'), JSON.stringify(manifest));
  return dir;
}

const failsWith = (pattern: RegExp) => (error: unknown): boolean => {
  assert.ok(error instanceof EngineError, String(error));
  assert.equal(error.code, 'model-invalid');
  assert.match(error.message, pattern);
  return true;
};

test('the shipped models pass every check, and a file\'s hash is remembered by its identity', () => {
  for (const dir of [COMPLETION, EMBEDDING]) assert.deepEqual(inspectModelDir(dir).problems, [], dir);
  const file = join(COMPLETION, 'model.int8.onnx');
  const manifest = JSON.parse(readFileSync(join(COMPLETION, 'kestrel.json'), 'utf8')) as { files: { int8: { sha256: string } } };
  assert.equal(fileSha256(file), manifest.files.int8.sha256);
  const started = performance.now();
  fileSha256(file);
  console.log(`second hash of the int8 graph (remembered): ${(performance.now() - started).toFixed(2)} ms`);
});

test('a graph file whose SHA-256 is not kestrel.json\'s does not load, and the message says it is the checksum', async () => {
  const dir = variantOf(COMPLETION, (m) => { m['files']['int8']['sha256'] = '0'.repeat(64); });
  try {
    await assert.rejects(loadCompletionModel(inspectModelDir(dir), 'cpu'), failsWith(/the int8 file model\.int8\.onnx fails its checksum: its SHA-256 is [0-9a-f]{12}…, kestrel\.json says 000000000000…/));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const embedding = variantOf(EMBEDDING, (m) => { m['files']['int8']['sha256'] = 'f'.repeat(64); });
  try {
    await assert.rejects(OnnxEmbedder.load(inspectModelDir(embedding), 'cpu'), failsWith(/fails its checksum/));
  } finally {
    rmSync(embedding, { recursive: true, force: true });
  }
});

test('a kestrel.json vocabulary that is not the graph\'s does not load, and the message names the sizes', async () => {
  const dir = variantOf(COMPLETION, (m) => { m['architecture']['vocabSize'] = 32000; });
  try {
    assert.deepEqual(inspectModelDir(dir).problems, [], 'the tokenizer fits in 32000: only the graph can tell');
    await assert.rejects(loadCompletionModel(inspectModelDir(dir), 'cpu'), failsWith(/vocabulary sizes disagree: the graph model\.int8\.onnx scores 16384 tokens but kestrel\.json's architecture\.vocabSize is 32000/));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a tokenizer of another vocabulary, or other special token ids, makes the model unusable with the reason', async () => {
  // the embedding model's tokenizer: the same BPE with two more tokens (its query and code markers)
  const other = variantOf(COMPLETION, () => undefined, join(EMBEDDING, 'tokenizer.json'));
  const ids = variantOf(COMPLETION, (m) => { m['specialTokens']['fimPrefix']['id'] = 7; });
  try {
    const problems = inspectModelDir(other).problems.join('\n');
    assert.match(problems, /vocabulary sizes disagree: tokenizer tokenizer\.json has 16386 tokens but kestrel\.json's architecture\.vocabSize is 16384/);
    assert.match(inspectModelDir(ids).problems.join('\n'), /special token ids disagree: kestrel\.json's specialTokens\.fimPrefix says "<fim_prefix>" is id 7, tokenizer tokenizer\.json has it as 1/);
    await assert.rejects(loadCompletionModel(inspectModelDir(ids), 'cpu'), failsWith(/cannot be used: .*special token ids disagree/));
  } finally {
    rmSync(other, { recursive: true, force: true });
    rmSync(ids, { recursive: true, force: true });
  }
});
