// Embedding throughput of a Kestrel embedder through onnxruntime-node, on real code chunks.
//
//   node models/training/embed_bench.mjs --model models/kestrel-embed-tiny [--pairs FILE] [--n 512]
//       [--batch 16] [--threads 2] [--json OUT]
//
// Chunks are the `code` fields of a pairs JSONL (default: work/embed/pairs-valid.jsonl), tokenized
// with @huggingface/tokenizers exactly as the index would (code prefix + text, truncated to
// codeMaxTokens), batched after sorting by length (what an indexer does with a queue of chunks).
// Tokenization time is reported separately from model time; chunks/s counts both.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { Tokenizer } from '@huggingface/tokenizers';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(process.argv.slice(2).join(' ').split('--').filter(Boolean)
  .map((s) => s.trim().split(/\s+/)).map(([k, v]) => [k, v ?? 'true']));
const dir = path.resolve(args.model ?? path.join(HERE, '..', 'kestrel-embed-tiny'));
const pairsPath = args.pairs ?? path.join(HERE, 'work', 'embed', 'pairs-valid.jsonl');
const N = Number(args.n ?? 512);
const BATCH = Number(args.batch ?? 16);
const THREADS = Number(args.threads ?? 2);

const tokJson = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8'));
const tok = new Tokenizer(tokJson, {});
const meta = fs.existsSync(path.join(dir, 'kestrel.json'))
  ? JSON.parse(fs.readFileSync(path.join(dir, 'kestrel.json'), 'utf8')).embedding
  : { codePrefix: '<|code|>', codeMaxTokens: 256 };

const lines = fs.readFileSync(pairsPath, 'utf8').split('\n').filter(Boolean).slice(0, N);
const texts = lines.map((l) => JSON.parse(l).code);

const t0 = performance.now();
const encoded = texts.map((t) => tok.encode(meta.codePrefix + t, { add_special_tokens: false }).ids.slice(0, meta.codeMaxTokens));
const tokMs = performance.now() - t0;
const order = encoded.map((_, i) => i).sort((a, b) => encoded[a].length - encoded[b].length);
const meanTokens = encoded.reduce((s, e) => s + e.length, 0) / encoded.length;

async function run(file) {
  const session = await ort.InferenceSession.create(path.join(dir, file), {
    intraOpNumThreads: THREADS, interOpNumThreads: 1, graphOptimizationLevel: 'all',
  });
  const batches = [];
  for (let i = 0; i < order.length; i += BATCH) {
    const rows = order.slice(i, i + BATCH).map((j) => encoded[j]);
    const T = Math.max(...rows.map((r) => r.length));
    const ids = new BigInt64Array(rows.length * T);
    const mask = new BigInt64Array(rows.length * T);
    rows.forEach((r, b) => r.forEach((id, t) => { ids[b * T + t] = BigInt(id); mask[b * T + t] = 1n; }));
    batches.push({
      input_ids: new ort.Tensor('int64', ids, [rows.length, T]),
      attention_mask: new ort.Tensor('int64', mask, [rows.length, T]),
    });
  }
  await session.run(batches[0]); // warm-up
  const s = performance.now();
  for (const b of batches) await session.run(b);
  const ms = performance.now() - s;
  await session.release();
  return ms;
}

const results = {};
for (const [variant, file] of [['fp32', 'model.onnx'], ['int8', 'model.int8.onnx']]) {
  if (!fs.existsSync(path.join(dir, file))) continue;
  const ms = await run(file);
  results[variant] = {
    chunks: encoded.length, meanTokens: Math.round(meanTokens), batch: BATCH, threads: THREADS,
    modelMs: Math.round(ms), tokenizeMs: Math.round(tokMs),
    chunksPerSecond: Math.round((encoded.length * 1000) / (ms + tokMs)),
    chunksPerSecondModelOnly: Math.round((encoded.length * 1000) / ms),
  };
  console.log(variant, JSON.stringify(results[variant]));
}
if (args.json) fs.writeFileSync(args.json, JSON.stringify(results, null, 1) + '\n');
