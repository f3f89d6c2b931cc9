import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineError } from '../../src/shared/errors/errors';
import { inspectModelDir } from '../../src/shared/models/registry';
import { OnnxEmbedder } from '../../src/index/onnxEmbedder';

/**
 * The shipped model when it exists; otherwise the training recipe's random-weight export (same
 * graph and tokenizer, made for speed and parity checks). Neither is in git until the model ships,
 * so the parity test skips on a checkout that has neither.
 */
const SHIPPED = join(process.cwd(), 'models/kestrel-embed-tiny');
const RANDOM = join(process.cwd(), 'models/training/work/embed/rand');

interface Reference {
  batches: { texts: string[]; input_ids: number[][]; embeddings: number[][] }[];
}

function modelFolder(): { dir: string; cleanup: () => void } | undefined {
  if (existsSync(join(SHIPPED, 'kestrel.json'))) return { dir: SHIPPED, cleanup: () => {} };
  if (!existsSync(join(RANDOM, 'model.onnx'))) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'kestrel-embed-'));
  for (const file of ['model.onnx', 'tokenizer.json', 'reference.json']) copyFileSync(join(RANDOM, file), join(dir, file));
  const reference = JSON.parse(readFileSync(join(RANDOM, 'reference.json'), 'utf8')) as Reference;
  writeFileSync(join(dir, 'kestrel.json'), JSON.stringify({
    id: 'embed-random', kind: 'embedding', contextLength: 256, files: { fp32: 'model.onnx' },
    embedding: { dimension: reference.batches[0]?.embeddings[0]?.length, queryPrefix: '<|query|>', codePrefix: '<|code|>', queryMaxTokens: 64, codeMaxTokens: 256, padId: 0 },
  }));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('the ONNX embedder tokenizes like the training recipe and matches its reference vectors', async (t) => {
  const model = modelFolder();
  if (!model) {
    t.skip('no embedding model on this checkout (models/kestrel-embed-tiny or the recipe\'s work/embed/rand)');
    return;
  }
  try {
    const embedder = await OnnxEmbedder.load(inspectModelDir(model.dir), 'cpu', { variant: 'fp32' });
    const reference = existsSync(join(model.dir, 'reference.json')) ? (JSON.parse(readFileSync(join(model.dir, 'reference.json'), 'utf8')) as Reference) : undefined;
    for (const batch of reference?.batches ?? []) {
      const kind = batch.texts[0]?.startsWith('<|query|>') ? 'query' : 'code';
      const texts = batch.texts.map((text) => text.replace(/^<\|(query|code)\|>/, ''));
      texts.forEach((text, i) => {
        const want = (batch.input_ids[i] as number[]).filter((_, j) => j === 0 || (batch.input_ids[i] as number[])[j] !== 0);
        assert.deepEqual(embedder.tokenRow(text, kind), want, `token ids of ${JSON.stringify(text.slice(0, 30))}`);
      });
      const vectors = await embedder.embed(texts, kind);
      vectors.forEach((vector, i) => {
        const want = batch.embeddings[i] as number[];
        const cosine = want.reduce((sum, v, j) => sum + v * (vector[j] as number), 0);
        assert.ok(cosine > 0.999, `cosine to the PyTorch reference ${cosine}`);
      });
    }
    const [a, b] = await embedder.embed(['def add(a, b): return a + b', 'x'], 'code');
    assert.equal(a?.length, embedder.dimension);
    assert.ok(Math.abs(Math.hypot(...(b as Float32Array)) - 1) < 1e-4, 'unit vectors');
    assert.ok(embedder.tokenRow('word '.repeat(1000), 'query').length <= 64, 'queries are cut to their budget');
    assert.ok(embedder.countTokens('def f(): pass') > 1);
    await embedder.dispose();
  } finally {
    model.cleanup();
  }
});

test('a completion model or a folder without the embedding section is refused with the reason', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kestrel-embed-bad-'));
  try {
    writeFileSync(join(dir, 'model.onnx'), 'not onnx');
    writeFileSync(join(dir, 'tokenizer.json'), '{}');
    writeFileSync(join(dir, 'kestrel.json'), JSON.stringify({ id: 'x', kind: 'embedding', contextLength: 64, files: { fp32: 'model.onnx' } }));
    await assert.rejects(OnnxEmbedder.load(inspectModelDir(dir), 'cpu'), (e: unknown) => e instanceof EngineError && /embedding/.test(e.message));
    writeFileSync(join(dir, 'kestrel.json'), JSON.stringify({ id: 'x', kind: 'completion', contextLength: 64, files: { fp32: 'model.onnx' } }));
    await assert.rejects(OnnxEmbedder.load(inspectModelDir(dir), 'cpu'), (e: unknown) => e instanceof EngineError);
    // A fusion record that search could not use is refused by name, not ignored.
    const embedding = { dimension: 8, queryPrefix: '<q>', codePrefix: '<c>', fusion: { bm25: 1, vector: 'high', k: 60 } };
    writeFileSync(join(dir, 'kestrel.json'), JSON.stringify({ id: 'x', kind: 'embedding', contextLength: 64, files: { fp32: 'model.onnx' }, embedding }));
    await assert.rejects(OnnxEmbedder.load(inspectModelDir(dir), 'cpu'), (e: unknown) => e instanceof EngineError && /embedding\.fusion\.vector/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
