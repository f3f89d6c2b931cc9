// ONNX parity of the shipped completion model: onnxruntime-node must reproduce the PyTorch logits
// that models/training/export.py stored in parity.json, through the decoder-with-past contract:
// a prefill with an EMPTY cache (past_sequence_length 0), then decoding with the returned
// present.* tensors as past_key_values (several tokens at once, and one token at a time).
// The reference logits come from one full PyTorch forward pass without a cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';

const MODEL_DIR = path.resolve(process.cwd(), process.env.KESTREL_PARITY_MODEL_DIR ?? 'models/kestrel-py-tiny');

interface Parity {
  tokens: number[];
  vocab_ids: number[];
  cases: { name: string; start: number; end: number }[];
  logits_b64: string;
  argmax: number[];
  tolerance: Record<string, { max_abs: number; min_argmax_agreement: number }>;
}
interface KestrelJson {
  architecture: { numLayers: number; numKvHeads: number; headDim: number; vocabSize: number };
  files: Record<string, { path: string; providers: string[] }>;
}

const parity = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'parity.json'), 'utf8')) as Parity;
const meta = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'kestrel.json'), 'utf8')) as KestrelJson;
const { numLayers, numKvHeads, headDim, vocabSize } = meta.architecture;
const buf = Buffer.from(parity.logits_b64, 'base64');
const ref = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4); // (T, vocab_ids.length)
const C = parity.vocab_ids.length;

type Past = Record<string, ort.Tensor>;

function emptyPast(): Past {
  const past: Past = {};
  for (let i = 0; i < numLayers; i++) {
    for (const kv of ['key', 'value']) {
      past[`past_key_values.${i}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [1, numKvHeads, 0, headDim]);
    }
  }
  return past;
}

async function step(session: ort.InferenceSession, ids: number[], start: number, past: Past) {
  const total = start + ids.length;
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(total).fill(1n), [1, total]),
    position_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map((_, i) => BigInt(start + i))), [1, ids.length]),
    ...past,
  };
  const out = await session.run(feeds);
  const next: Past = {};
  for (let i = 0; i < numLayers; i++) {
    for (const kv of ['key', 'value']) {
      const t = out[`present.${i}.${kv}`];
      assert.deepEqual(t.dims, [1, numKvHeads, total, headDim]);
      next[`past_key_values.${i}.${kv}`] = t;
    }
  }
  const logits = out.logits;
  // every position, or (models/training/export.py's default) the last one only
  assert.ok(logits.dims[1] === ids.length || logits.dims[1] === 1, `logits ${logits.dims.join('x')}`);
  assert.deepEqual([logits.dims[0], logits.dims[2]], [1, vocabSize]);
  // the reference rows these logits are for
  const rows = logits.dims[1] as number;
  return { logits: logits.data as Float32Array, past: next, first: start + ids.length - rows, rows };
}

/** Compares rows [start, start + n) of the reference with (n, V) ONNX logits. */
function compare(logits: Float32Array, start: number, n: number, stats: { maxAbs: number; agree: number; rows: number }) {
  for (let r = 0; r < n; r++) {
    const row = logits.subarray(r * vocabSize, (r + 1) * vocabSize);
    for (let c = 0; c < C; c++) {
      const d = Math.abs(row[parity.vocab_ids[c]] - ref[(start + r) * C + c]);
      if (!(d <= stats.maxAbs)) stats.maxAbs = Number.isNaN(d) ? Infinity : Math.max(stats.maxAbs, d);
    }
    let best = 0;
    for (let v = 1; v < vocabSize; v++) if (row[v] > row[best]) best = v;
    if (best === parity.argmax[start + r]) stats.agree++;
    stats.rows++;
  }
}

// Every variant on the CPU provider, fp16 included: models/training/common/fp16.py keeps the graph's
// float32 interface (float16 weights cast up inside), so the CPU checks the file GPUs are given.
for (const variant of Object.keys(meta.files)) {
  const file = path.join(MODEL_DIR, meta.files[variant].path);
  const tol = parity.tolerance[variant];

  test(`${variant}: prefill with an empty cache, then multi-token and single-token decode match PyTorch`, async () => {
    assert.ok(tol, `parity.json states a tolerance for ${variant}`);
    const session = await ort.InferenceSession.create(file, { executionProviders: ['cpu'] });
    const [prefill, decode] = parity.cases;
    const toks = parity.tokens;

    // 1. prefill, past_sequence_length = 0
    const stats = { maxAbs: 0, agree: 0, rows: 0 };
    const first = await step(session, toks.slice(prefill.start, prefill.end), 0, emptyPast());
    compare(first.logits, first.first, first.rows, stats);

    // 2. the remaining tokens in one call with the cache
    const multi = await step(session, toks.slice(decode.start, decode.end), decode.start, first.past);
    compare(multi.logits, multi.first, multi.rows, stats);
    // a step of up to 8 tokens returns a row per token: what speculative decoding checks drafts against
    assert.equal(multi.rows, decode.end - decode.start, `a ${decode.end - decode.start}-token step returned ${multi.rows} logit rows`);

    // 3. the same tokens one at a time, as a decoder loop does
    let past = first.past;
    for (let p = decode.start; p < decode.end; p++) {
      const one = await step(session, [toks[p]], p, past);
      compare(one.logits, p, 1, stats);
      past = one.past;
    }

    // 4. a graph that returns the last position only: every position, a token at a time from empty
    if (first.rows === 1) {
      past = emptyPast();
      for (let p = 0; p < prefill.end; p++) {
        const one = await step(session, [toks[p]], p, past);
        compare(one.logits, p, 1, stats);
        past = one.past;
      }
    }

    const agreement = stats.agree / stats.rows;
    console.log(`${variant}: max |onnx - torch| = ${stats.maxAbs.toExponential(2)}, argmax agreement ${(agreement * 100).toFixed(1)}% over ${stats.rows} positions`);
    assert.ok(stats.maxAbs <= tol.max_abs, `max abs diff ${stats.maxAbs} > ${tol.max_abs}`);
    assert.ok(agreement >= tol.min_argmax_agreement, `argmax agreement ${agreement} < ${tol.min_argmax_agreement}`);
    await session.release();
  });
}
