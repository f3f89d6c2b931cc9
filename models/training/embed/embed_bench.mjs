// A Kestrel embedder as the extension runs it: through onnxruntime-node, tokenized by
// @huggingface/tokenizers. Measures embedding throughput on real code chunks, ONNX parity against
// the PyTorch reference.json, and (--vectors) writes the embeddings of a pairs file so that
// embed_eval.py can score the ONNX variants exactly as they run in JS.
//
//   node models/training/embed_bench.mjs --model models/kestrel-embed-tiny [--pairs FILE] [--n 0]
//       [--batch 16] [--threads 2] [--json OUT] [--vectors PREFIX]
//
// Throughput: the `code` fields of the pairs file (default work/embed/pairs-valid.jsonl; --n 0 = all)
// are tokenized as the index does (code prefix + text, truncated to codeMaxTokens), sorted by
// length and batched (what an indexer does with its queue). chunks/s counts tokenization + model;
// the load average at the start is recorded, since other jobs on a shared machine slow it down.
// --vectors PREFIX writes PREFIX-<variant>.bin: float32 [2, n, dim], queries then codes, file order.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { Tokenizer } from '@huggingface/tokenizers';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(process.argv.slice(2).join(' ').split('--').filter(Boolean)
  .map((s) => s.trim().split(/\s+/)).map(([k, v]) => [k, v ?? 'true']));
const dir = path.resolve(args.model ?? path.join(HERE, '..', '..', 'kestrel-embed-tiny'));
const pairsPath = args.pairs ?? path.join(process.env.KESTREL_WORK ? path.resolve(process.env.KESTREL_WORK) : path.join(HERE, '..', 'work'), 'embed', 'pairs-valid.jsonl');
const N = Number(args.n ?? 0);
const BATCH = Number(args.batch ?? 16);
const THREADS = Number(args.threads ?? 2);

const tok = new Tokenizer(JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')), {});
const meta = fs.existsSync(path.join(dir, 'kestrel.json'))
  ? JSON.parse(fs.readFileSync(path.join(dir, 'kestrel.json'), 'utf8')).embedding
  : { codePrefix: '<|code|>', queryPrefix: '<|query|>', codeMaxTokens: 256, queryMaxTokens: 64 };
let pairs = fs.readFileSync(pairsPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
if (N > 0) pairs = pairs.slice(0, N);

const encode = (texts, prefix, max) => texts.map((t) => tok.encode(prefix + t, { add_special_tokens: false }).ids.slice(0, max));
const t0 = performance.now();
const codeIds = encode(pairs.map((p) => p.code), meta.codePrefix, meta.codeMaxTokens);
const tokMs = performance.now() - t0;
const meanTokens = codeIds.reduce((s, e) => s + e.length, 0) / codeIds.length;

function feeds(rows) {
  const T = Math.max(...rows.map((r) => r.length));
  const ids = new BigInt64Array(rows.length * T);
  const mask = new BigInt64Array(rows.length * T);
  rows.forEach((r, b) => r.forEach((id, t) => { ids[b * T + t] = BigInt(id); mask[b * T + t] = 1n; }));
  return {
    input_ids: new ort.Tensor('int64', ids, [rows.length, T]),
    attention_mask: new ort.Tensor('int64', mask, [rows.length, T]),
  };
}

/** Embeds token rows in length-sorted batches; returns { vectors (rows in input order), ms }. */
async function embedAll(session, rows) {
  const order = rows.map((_, i) => i).sort((a, b) => rows[a].length - rows[b].length);
  const prepared = [];
  for (let i = 0; i < order.length; i += BATCH) prepared.push(order.slice(i, i + BATCH));
  let dim = 0;
  let out = null;
  const cpu0 = process.cpuUsage();
  const s = performance.now();
  for (const sel of prepared) {
    const r = (await session.run(feeds(sel.map((j) => rows[j])))).embeddings;
    dim = r.dims[1];
    out ??= new Float32Array(rows.length * dim);
    sel.forEach((j, b) => out.set(r.data.subarray(b * dim, (b + 1) * dim), j * dim));
  }
  const ms = performance.now() - s;
  const cpu = process.cpuUsage(cpu0);
  return { vectors: out, dim, ms, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** p50 and p95 in ms of tokenizing and embedding one query, over the first 200 valid queries. */
async function queryLatency(session) {
  const times = [];
  for (const p of pairs.slice(0, 200)) {
    const t = performance.now();
    await session.run(feeds(encode([p.query], meta.queryPrefix, meta.queryMaxTokens)));
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const at = (q) => Number(times[Math.min(times.length - 1, Math.floor(q * times.length))].toFixed(2));
  return { p50: at(0.5), p95: at(0.95) };
}

function parity(session) {
  const ref = JSON.parse(fs.readFileSync(path.join(dir, 'reference.json'), 'utf8'));
  return (async () => {
    let maxAbs = 0;
    let minCos = 1;
    for (const b of ref.batches) {
      const B = b.input_ids.length;
      const T = b.input_ids[0].length;
      const t = (rows) => new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [B, T]);
      const r = (await session.run({ input_ids: t(b.input_ids), attention_mask: t(b.attention_mask) })).embeddings;
      const dim = r.dims[1];
      b.embeddings.forEach((want, i) => {
        let cos = 0;
        want.forEach((v, j) => {
          const got = r.data[i * dim + j];
          maxAbs = Math.max(maxAbs, Math.abs(got - v));
          cos += got * v;
        });
        minCos = Math.min(minCos, cos);
      });
    }
    return { maxAbsDiff: Number(maxAbs.toExponential(2)), minCosine: Number(minCos.toFixed(6)) };
  })();
}

const results = { ortVersion: ort.env.versions.node, loadAverage: (await import('node:os')).loadavg().map((v) => Number(v.toFixed(2))), chunks: codeIds.length, meanTokens: Math.round(meanTokens), batch: BATCH, threads: THREADS,
  tokenizeMs: Math.round(tokMs), variants: {} };
for (const [variant, file] of [['fp32', 'model.onnx'], ['int8', 'model.int8.onnx']]) {
  if (!fs.existsSync(path.join(dir, file))) continue;
  const session = await ort.InferenceSession.create(path.join(dir, file), {
    intraOpNumThreads: THREADS, interOpNumThreads: 1, graphOptimizationLevel: 'all',
  });
  await embedAll(session, codeIds.slice(0, BATCH)); // warm-up
  const { vectors: codeVec, dim, ms, cpuMs } = await embedAll(session, codeIds);
  const r = {
    modelMs: Math.round(ms),
    // CPU time is less sensitive than wall time to other jobs on a shared machine
    modelCpuMs: Math.round(cpuMs),
    chunksPerCpuSecondModelOnly: Math.round((codeIds.length * 1000) / cpuMs),
    chunksPerSecond: Math.round((codeIds.length * 1000) / (ms + tokMs)),
    chunksPerSecondModelOnly: Math.round((codeIds.length * 1000) / ms),
    // one query at a time, tokenized and embedded, as a search embeds it (first 200 valid queries)
    queryMs: await queryLatency(session),
    parity: fs.existsSync(path.join(dir, 'reference.json')) ? await parity(session) : null,
    bytes: fs.statSync(path.join(dir, file)).size,
  };
  if (args.vectors) {
    const queryIds = encode(pairs.map((p) => p.query), meta.queryPrefix, meta.queryMaxTokens);
    const { vectors: queryVec } = await embedAll(session, queryIds);
    const all = new Float32Array(2 * pairs.length * dim);
    all.set(queryVec, 0);
    all.set(codeVec, pairs.length * dim);
    fs.writeFileSync(`${args.vectors}-${variant}.bin`, Buffer.from(all.buffer));
  }
  await session.release();
  results.variants[variant] = r;
  console.log(variant, JSON.stringify(r));
}
if (args.json) fs.writeFileSync(args.json, JSON.stringify(results, null, 1) + '\n');
