// ONNX parity of the shipped code-search embedder: onnxruntime-node must reproduce the PyTorch
// embeddings that models/training/embed_export.py stored in reference.json, through the embedding
// contract (input_ids, attention_mask -> L2-normalised embeddings [batch, dim]), for the fp32 graph
// (max absolute difference) and the int8 graph (cosine to the fp32 PyTorch vectors). It also checks
// that @huggingface/tokenizers turns prefix + text into the ids PyTorch was given, so the type
// markers are single special tokens on the JS side too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { Tokenizer } from '@huggingface/tokenizers';

const MODEL_DIR = path.resolve(process.cwd(), process.env.KESTREL_EMBED_MODEL_DIR ?? 'models/kestrel-embed-tiny');

interface Batch {
  texts: string[];
  input_ids: number[][];
  attention_mask: number[][];
  embeddings: number[][];
}
interface Reference {
  query_prefix: string;
  code_prefix: string;
  batches: Batch[];
  tolerance: { fp32_max_abs: number; int8_min_cosine: number; fp16_min_cosine: number };
}
interface KestrelJson {
  kind: string;
  files: Record<string, { path: string }>;
  embedding: { dimension: number; queryPrefix: string; codePrefix: string; queryMaxTokens: number; codeMaxTokens: number };
}

const ref = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'reference.json'), 'utf8')) as Reference;
const meta = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'kestrel.json'), 'utf8')) as KestrelJson;

function feeds(batch: Batch): Record<string, ort.Tensor> {
  const B = batch.input_ids.length;
  const T = batch.input_ids[0]!.length;
  const int64 = (rows: number[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [B, T]);
  return { input_ids: int64(batch.input_ids), attention_mask: int64(batch.attention_mask) };
}

async function embed(file: string, batch: Batch): Promise<Float32Array[]> {
  const session = await ort.InferenceSession.create(path.join(MODEL_DIR, file));
  try {
    assert.deepEqual([...session.inputNames].sort(), ['attention_mask', 'input_ids']);
    assert.deepEqual([...session.outputNames], ['embeddings']);
    const out = (await session.run(feeds(batch)))['embeddings']!;
    const dim = meta.embedding.dimension;
    assert.deepEqual(out.dims, [batch.input_ids.length, dim]);
    const data = out.data as Float32Array;
    return batch.input_ids.map((_, i) => data.subarray(i * dim, (i + 1) * dim));
  } finally {
    await session.release();
  }
}

test('kestrel.json declares an embedding model with the reference prefixes', () => {
  assert.equal(meta.kind, 'embedding');
  assert.equal(meta.embedding.queryPrefix, ref.query_prefix);
  assert.equal(meta.embedding.codePrefix, ref.code_prefix);
  for (const batch of ref.batches) {
    assert.equal(batch.embeddings[0]!.length, meta.embedding.dimension);
  }
});

test('fp32 ONNX embeddings match PyTorch', async () => {
  let worst = 0;
  for (const batch of ref.batches) {
    const got = await embed(meta.files['fp32']!.path, batch);
    got.forEach((row, i) => {
      let norm = 0;
      row.forEach((v, j) => {
        worst = Math.max(worst, Math.abs(v - batch.embeddings[i]![j]!));
        norm += v * v;
      });
      assert.ok(Math.abs(Math.sqrt(norm) - 1) < 1e-5, 'embeddings are unit vectors');
    });
  }
  assert.ok(worst <= ref.tolerance.fp32_max_abs, `max |onnx - torch| = ${worst}`);
});

test('int8 ONNX embeddings stay close to PyTorch fp32 (cosine)', async () => {
  for (const batch of ref.batches) {
    const got = await embed(meta.files['int8']!.path, batch);
    got.forEach((row, i) => {
      const cos = row.reduce((s, v, j) => s + v * batch.embeddings[i]![j]!, 0);
      assert.ok(cos >= ref.tolerance.int8_min_cosine, `row ${i}: cosine ${cos}`);
    });
  }
});

test('fp16 ONNX embeddings (the GPUs\' file, run here on the CPU) stay close to PyTorch fp32 (cosine)', async () => {
  assert.ok(meta.files['fp16'], 'kestrel.json lists the fp16 file (models/training/common/fp16.py)');
  let worst = 1;
  for (const batch of ref.batches) {
    const got = await embed(meta.files['fp16'].path, batch);
    got.forEach((row, i) => {
      const cos = row.reduce((s, v, j) => s + v * batch.embeddings[i]![j]!, 0);
      worst = Math.min(worst, cos);
      assert.ok(cos >= ref.tolerance.fp16_min_cosine, `row ${i}: cosine ${cos}`);
    });
  }
  console.log(`fp16: worst cosine to PyTorch ${worst.toFixed(6)}`);
});

test('@huggingface/tokenizers gives the ids PyTorch embedded (prefix = one special token)', () => {
  const tok = new Tokenizer(JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'tokenizer.json'), 'utf8')), {});
  const prefixIds = [meta.embedding.queryPrefix, meta.embedding.codePrefix].map(
    (p) => tok.encode(p, { add_special_tokens: false }).ids,
  );
  assert.equal(prefixIds[0]!.length, 1);
  assert.equal(prefixIds[1]!.length, 1);
  for (const batch of ref.batches) {
    batch.texts.forEach((text, i) => {
      const ids = tok.encode(text, { add_special_tokens: false }).ids;
      const want = batch.input_ids[i]!.filter((_, t) => batch.attention_mask[i]![t] === 1);
      assert.deepEqual(ids.slice(0, want.length), want);
    });
  }
});
