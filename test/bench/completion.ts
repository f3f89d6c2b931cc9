// Benchmark: Kestrel's completion engine on the shipped model, CPU. Run after `node esbuild.mjs`:
//   node out/test/bench/completion.mjs [--model-dir models/kestrel-py-tiny] [--files DIR] [--lines 12]
// Prints and writes test-results/bench-completion.json:
//   - time to first token against prompt length (256-2048 tokens, cold), decode ms/token;
//   - end-to-end single-line latency p50/p95 over a replay of typing lines of real Python files;
//   - the peer: @huggingface/transformers (transformers.js) on the same ONNX file and the same
//     prompts, greedy, as many new tokens as Kestrel generated for each prompt.
// DESIGN.md's budgets are measured here, never in unit tests.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { CompletionEngine } from '../../src/engine/engine';
import { measurePrefill, percentile, replayTyping, sampleTypedLines, maxPositions } from '../../src/engine/bench/completionBench';
import { pythonFiles } from '../../src/engine/cli/evalCompletion';
import { Generator } from '../../src/engine/generate/generator';
import type { LoadedCompletionModel } from '../../src/engine/session/model';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] as string) : fallback;
};
const modelDir = resolve(arg('model-dir', 'models/kestrel-py-tiny'));
const filesDir = resolve(arg('files', '/usr/lib/python3.11/json'));
const lineCount = Number(arg('lines', '12'));
const variant = arg('variant', 'int8') as 'int8' | 'fp32';

const files = pythonFiles(filesDir).map((file) => ({ file, text: readFileSync(file, 'utf8') }));
const engine = new CompletionEngine(() => [dirname(modelDir)]);
const id = JSON.parse(readFileSync(join(modelDir, 'kestrel.json'), 'utf8')).id as string;
const model = await engine.load({ model: id, device: 'cpu', variant });
console.log(`${model.entry.id} (${model.variant.name}) on ${model.provider}, ${model.decoder.shape.layers} layers; load ${model.loadMs.toFixed(0)} ms, warm-up ${model.warmupMs.toFixed(0)} ms`);

// 1. prefill and decode
const code = files.map((f) => f.text).join('\n');
const prefill = await measurePrefill(model, code);
for (const p of prefill) console.log(`prompt ${String(p.promptTokens).padStart(5)}: first token ${p.timeToFirstTokenMs.toFixed(1)} ms, decode ${p.decodeMsPerToken.toFixed(2)} ms/token (best ${p.bestTimeToFirstTokenMs.toFixed(1)} ms, ${p.bestDecodeMsPerToken.toFixed(2)} ms/token)`);

// 2. typing replay through the whole engine
const lines = sampleTypedLines(files, lineCount, 0);
const typing = await replayTyping(engine, lines);
console.log(`typing: ${typing.requests} requests, p50 ${typing.p50Ms.toFixed(1)} ms, p95 ${typing.p95Ms.toFixed(1)} ms; ${typing.fromCache} cache hits; ${(100 * typing.meanReusedShare).toFixed(0)}% of prompts reused; outside ONNX Runtime p50 ${typing.overheadP50Ms.toFixed(1)} ms`);

// 3. the peer on the same prompts: Kestrel's generator (with and without KV reuse) vs transformers.js
interface PeerResult { requests: number; kestrelMs: number[]; kestrelColdMs: number[]; peerMs: number[]; sameTokens: number }
async function peer(m: LoadedCompletionModel): Promise<PeerResult | string> {
  let transformers: typeof import('@huggingface/transformers');
  try {
    transformers = await import('@huggingface/transformers');
  } catch {
    return 'not installed (ONNXRUNTIME_NODE_INSTALL=skip npm install --save-dev @huggingface/transformers)';
  }
  const arch = m.entry.manifest.raw['architecture'] as Record<string, number>;
  const scratch = mkdtempSync(join(tmpdir(), 'kestrel-peer-'));
  const folder = join(scratch, 'kestrel-peer');
  mkdirSync(join(folder, 'onnx'), { recursive: true });
  writeFileSync(join(folder, 'config.json'), JSON.stringify({
    model_type: 'llama', architectures: ['LlamaForCausalLM'], hidden_size: arch['hiddenSize'], num_attention_heads: arch['numHeads'],
    num_key_value_heads: m.decoder.shape.kvHeads, head_dim: m.decoder.shape.headDim, num_hidden_layers: m.decoder.shape.layers,
    vocab_size: arch['vocabSize'], max_position_embeddings: maxPositions(m), eos_token_id: m.tokenizer.special.endOfText, use_cache: true,
  }));
  writeFileSync(join(folder, 'generation_config.json'), JSON.stringify({ eos_token_id: m.tokenizer.special.endOfText }));
  symlinkSync(join(m.entry.dir, 'tokenizer.json'), join(folder, 'tokenizer.json'));
  writeFileSync(join(folder, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'PreTrainedTokenizerFast', eos_token: '<|endoftext|>', clean_up_tokenization_spaces: false }));
  symlinkSync(m.variant.path, join(folder, 'onnx', m.variant.name === 'int8' ? 'model_int8.onnx' : 'model.onnx'));
  try {
    transformers.env.allowRemoteModels = false;
    transformers.env.localModelPath = scratch;
    const peerModel = await transformers.AutoModelForCausalLM.from_pretrained(basename(folder), { dtype: m.variant.name === 'int8' ? 'int8' : 'fp32', device: 'cpu' });
    const result: PeerResult = { requests: 0, kestrelMs: [], kestrelColdMs: [], peerMs: [], sameTokens: 0 };
    const reusing = new Generator(m.decoder, maxPositions(m));
    const cold = new Generator(m.decoder, maxPositions(m));
    const newline = (ids: readonly number[]): boolean => m.tokenizer.decode(ids).includes('\n');
    for (const line of lines.slice(0, Math.max(3, Math.floor(lines.length / 2)))) {
      for (let k = 1; k <= line.typed.length; k++) {
        const prompt = m.prompts.build(line.file, line.before + line.typed.slice(0, k), line.after, { maxTokens: m.entry.manifest.contextLength - 48, suffixShare: 0.25 }).ids;
        let t = performance.now();
        const ours = await reusing.generate(prompt, { maxTokens: 48, shouldStop: newline });
        result.kestrelMs.push(performance.now() - t);
        t = performance.now();
        await cold.generate(prompt, { maxTokens: ours.tokens.length, reuseCache: false });
        result.kestrelColdMs.push(performance.now() - t);
        const input = new transformers.Tensor('int64', BigInt64Array.from(prompt, BigInt), [1, prompt.length]);
        const mask = new transformers.Tensor('int64', new BigInt64Array(prompt.length).fill(1n), [1, prompt.length]);
        t = performance.now();
        const out = (await peerModel.generate({ input_ids: input, attention_mask: mask, max_new_tokens: ours.tokens.length, min_new_tokens: ours.tokens.length, do_sample: false })) as { data: BigInt64Array; dims: number[] };
        result.peerMs.push(performance.now() - t);
        const theirs = Array.from(out.data.slice(prompt.length), Number);
        if (theirs.join() === ours.tokens.join()) result.sameTokens++;
        result.requests++;
      }
    }
    await peerModel.dispose();
    return result;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
const peerResult = await peer(model);
if (typeof peerResult === 'string') console.log(`peer: ${peerResult}`);
else {
  const p50 = (xs: number[]) => percentile(xs, 0.5);
  console.log(
    `peer, ${peerResult.requests} typing prompts: Kestrel p50 ${p50(peerResult.kestrelMs).toFixed(1)} ms (cold ${p50(peerResult.kestrelColdMs).toFixed(1)} ms), ` +
      `transformers.js p50 ${p50(peerResult.peerMs).toFixed(1)} ms: ${(p50(peerResult.peerMs) / p50(peerResult.kestrelMs)).toFixed(1)}x ` +
      `(cold ${(p50(peerResult.peerMs) / p50(peerResult.kestrelColdMs)).toFixed(1)}x); same tokens for ${peerResult.sameTokens}/${peerResult.requests}`,
  );
}
await engine.dispose();

mkdirSync('test-results', { recursive: true });
const report = {
  model: model.entry.id, variant: model.variant.name, provider: model.provider, files: filesDir, prefill, typing,
  peer: typeof peerResult === 'string' ? peerResult : {
    requests: peerResult.requests, sameTokens: peerResult.sameTokens,
    kestrelP50Ms: percentile(peerResult.kestrelMs, 0.5), kestrelColdP50Ms: percentile(peerResult.kestrelColdMs, 0.5), transformersJsP50Ms: percentile(peerResult.peerMs, 0.5),
  },
};
writeFileSync('test-results/bench-completion.json', JSON.stringify(report, null, 1));
