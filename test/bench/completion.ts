// Benchmark: Kestrel's completion engine on the shipped model, CPU. Run after `node esbuild.mjs`:
//   node out/test/bench/completion.mjs [--model-dir models/kestrel-py-tiny] [--files DIR] [--lines 12]
// Prints and writes test-results/bench-completion.json:
//   - time to first token against prompt length (256-2048 tokens, cold), decode ms/token;
//   - end-to-end single-line latency p50/p95 over a replay of typing lines of real Python files;
//   - the peer: @huggingface/transformers (transformers.js) on the same ONNX file, replaying that
//     typing: per request the prompt ids Kestrel fed and as many new tokens as Kestrel's model
//     produced, greedy; p50/p95 and ratios for (a) requests that ran the model, (b) every request
//     Kestrel answered (completion-cache hits included), and Kestrel cold (no KV reuse) on (a);
//   - what speculative decoding contributes: Kestrel's generator on (a)'s prompts with and without
//     draft tokens, and how many forward passes the drafts saved;
//   - the project cache's cost: the typing replay runs with the cache filled from the --files folder
//     (as the worker fills it from the workspace) and the typed file updated on every keystroke;
//     per decoding step p50/p95 of predicting and mixing, per keystroke the document update, and the
//     memory of the cache for 100k lines of Python (--cache-lines, from --cache-files).
// DESIGN.md's budgets are measured here, never in unit tests.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { CompletionEngine } from '../../src/engine/engine';
import { measurePrefill, modelRunOf, percentile, replayTyping, sampleTypedLines, maxPositions, type ModelRun, type ReplayedRequest } from '../../src/engine/bench/completionBench';
import { pythonFiles } from '../../src/engine/cli/evalCompletion';
import { Generator } from '../../src/engine/generate/generator';
import { SHORT_STEP_TOKENS } from '../../src/engine/session/decoder';
import type { LoadedCompletionModel } from '../../src/engine/session/model';
import { threadCount } from '../../src/shared/devices/providers';
import { DEFAULT_MEMORY_BUDGET, ProjectCache } from '../../src/engine/projectCache/projectCache';

/** The project cache filled with the first `lines` lines of Python under `dir` (files in path order), on a fresh cache. */
function measureCacheMemory(m: LoadedCompletionModel, dir: string, lines: number) {
  const cache = new ProjectCache(m.tokenizer, m.vocabSize);
  let total = 0;
  let files = 0;
  let encodeMs = 0;
  let countMs = 0;
  for (const file of pythonFiles(dir)) {
    if (total >= lines) break;
    const text = readFileSync(file, 'utf8');
    const t0 = performance.now();
    const ids = m.tokenizer.encodeRaw(text);
    const t1 = performance.now();
    cache.setFile(file, ids);
    countMs += performance.now() - t1;
    encodeMs += t1 - t0;
    total += text.split('\n').length;
    files++;
  }
  const stats = cache.stats();
  return { lines: total, files, tokens: stats.tokens, bytes: stats.bytes, evictedFiles: stats.evictedFiles, encodeMs, countMs };
}

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] as string) : fallback;
};
const modelDir = resolve(arg('model-dir', 'models/kestrel-py-tiny'));
const filesDir = resolve(arg('files', '/usr/lib/python3.11/json'));
const lineCount = Number(arg('lines', '12'));
const variant = arg('variant', 'int8') as 'int8' | 'fp32';

// the cores are shared: the load average says how comparable a run is
const uptimeLoad = loadavg().map((x) => Number(x.toFixed(2)));
console.log(`load average ${uptimeLoad.join(', ')}`);
const transformersVersion = (): string => {
  try {
    return (JSON.parse(readFileSync('node_modules/@huggingface/transformers/package.json', 'utf8')) as { version: string }).version;
  } catch {
    return '(version unknown)';
  }
};

const files = pythonFiles(filesDir).map((file) => ({ file, text: readFileSync(file, 'utf8') }));
const engine = new CompletionEngine(() => [dirname(modelDir)]);
const id = JSON.parse(readFileSync(join(modelDir, 'kestrel.json'), 'utf8')).id as string;
const model = await engine.load({ model: id, device: 'cpu', variant });
console.log(`${model.entry.id} (${model.variant.name}) on ${model.provider}, ${model.decoder.shape.layers} layers; load ${model.loadMs.toFixed(0)} ms, warm-up ${model.warmupMs.toFixed(0)} ms`);

// 1. prefill and decode
const code = files.map((f) => f.text).join('\n');
const prefill = await measurePrefill(model, code);
for (const p of prefill) console.log(`prompt ${String(p.promptTokens).padStart(5)}: first token ${p.timeToFirstTokenMs.toFixed(1)} ms, decode ${p.decodeMsPerToken.toFixed(2)} ms/token (best ${p.bestTimeToFirstTokenMs.toFixed(1)} ms, ${p.bestDecodeMsPerToken.toFixed(2)} ms/token)`);

// 2. typing replay through the whole engine, with the project cache filled from the files, as the
// worker fills it from the workspace
const projectCache = engine.projectCache as ProjectCache;
for (const f of files) projectCache.setFile(f.file, model.tokenizer.encodeRaw(f.text));
const lines = sampleTypedLines(files, lineCount, 0);
const typing = await replayTyping(engine, lines);
console.log(`typing: ${typing.requests} requests, p50 ${typing.p50Ms.toFixed(1)} ms, p95 ${typing.p95Ms.toFixed(1)} ms; ${typing.fromCache} cache hits; ${(100 * typing.meanReusedShare).toFixed(0)}% of prompts reused; outside ONNX Runtime p50 ${typing.overheadP50Ms.toFixed(1)} ms`);
const cost = typing.projectCache;
if (cost) {
  console.log(
    `project cache in the replay: ${cost.files} files, ${cost.tokens} tokens, ${(cost.bytes / 2 ** 20).toFixed(1)} MB; ` +
      `per decoding step p50 ${cost.stepP50Ms.toFixed(3)} ms, p95 ${cost.stepP95Ms.toFixed(3)} ms (${cost.steps} steps, the cache had weight on ${cost.weightedSteps}); ` +
      `document update per keystroke p50 ${cost.updateP50Ms.toFixed(3)} ms, p95 ${cost.updateP95Ms.toFixed(3)} ms`,
  );
}
const cacheMemory = measureCacheMemory(model, resolve(arg('cache-files', '/usr/lib/python3.11')), Number(arg('cache-lines', '100000')));
console.log(
  `project cache memory: ${cacheMemory.lines} lines of Python (${cacheMemory.files} files, ${cacheMemory.tokens} tokens) take ${(cacheMemory.bytes / 2 ** 20).toFixed(1)} MB ` +
    `(${cacheMemory.evictedFiles} files dropped for the ${(DEFAULT_MEMORY_BUDGET / 2 ** 20).toFixed(0)} MB budget); counting took ${(cacheMemory.countMs / 1000).toFixed(1)} s, encoding ${(cacheMemory.encodeMs / 1000).toFixed(1)} s`,
);

// 3. the peer: @huggingface/transformers (transformers.js) on the same ONNX file, fed the requests of
// the replay above. For every request where Kestrel ran the model, the peer gets the exact prompt
// ids Kestrel fed (after token healing) and generates exactly as many new tokens as Kestrel's model
// produced (min_new_tokens = max_new_tokens, greedy): the same tokens over the same prompt (Kestrel
// makes fewer forward passes for them where its draft tokens were right). A request Kestrel answered
// from its completion cache costs the peer, which has no such cache, a model run: the prompt and
// token count Kestrel would have used are taken from a second Kestrel engine that replays the same
// keystrokes with the completion cache off.
// The cold lines are Kestrel's generator on the same prompt ids and token counts with its KV cache
// dropped before each request (what the KV-cache reuse across keystrokes contributes), with and
// without draft tokens; the generator lines keep the KV cache, with and without drafts.
interface Series { kestrel: number[]; peer: number[] }
interface PeerResult {
  /** (a) requests where Kestrel ran the model */
  modelRuns: Series & {
    kestrelCold: number[]; kestrelColdPlain: number[]; kestrelModel: number[];
    /** Kestrel's generator alone on the same prompts in the same order (KV reuse), with and without drafts */
    generatorDrafts: number[]; generatorPlain: number[];
  };
  /** (b) every request Kestrel answered (model runs and completion-cache hits; prefilter declines left out) */
  answered: Series & { fromCompletionCache: number };
  prefilterDeclined: number;
  /** Kestrel's cold generator (plain decoding, then with drafts) and the peer produced the same ids. */
  sameTokens: number;
  sameTokensDrafts: number;
  steps: number; draftedTokens: number; acceptedDraftTokens: number;
  /** The engine's own ids (token healing constrains its first tokens) equal the peer's. */
  engineSameTokens: number;
  /** model runs where the shadow engine built the same prompt (a check that (b)'s prompts are Kestrel's) */
  shadowSamePrompt: number;
  producedTokens: number[];
  promptTokens: number[];
}
async function peer(m: LoadedCompletionModel, log: readonly ReplayedRequest[]): Promise<PeerResult | string> {
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
  // a link to Kestrel's own file: the peer runs the very same ONNX graph
  symlinkSync(m.variant.path, join(folder, 'onnx', m.variant.name === 'int8' ? 'model_int8.onnx' : 'model.onnx'));
  const shadow = new CompletionEngine(() => [dirname(modelDir)]);
  try {
    transformers.env.allowRemoteModels = false;
    transformers.env.localModelPath = scratch;
    const peerModel = await transformers.AutoModelForCausalLM.from_pretrained(basename(folder), { dtype: m.variant.name === 'int8' ? 'int8' : 'fp32', device: 'cpu' });
    await shadow.load({ model: m.entry.id, device: 'cpu', variant: m.variant.name });
    const runPeer = async (prompt: readonly number[], tokens: number): Promise<{ ms: number; ids: number[] }> => {
      const input = new transformers.Tensor('int64', BigInt64Array.from(prompt, BigInt), [1, prompt.length]);
      const mask = new transformers.Tensor('int64', new BigInt64Array(prompt.length).fill(1n), [1, prompt.length]);
      const t = performance.now();
      const out = (await peerModel.generate({ input_ids: input, attention_mask: mask, max_new_tokens: tokens, min_new_tokens: tokens, do_sample: false })) as { data: BigInt64Array };
      const ms = performance.now() - t;
      return { ms, ids: Array.from(out.data.slice(prompt.length), Number) };
    };
    // the peer's first run pays for its lazy initialisation, as Kestrel's warm-up at load does
    const first = log.find((r) => r.model);
    if (first?.model) await runPeer(first.model.promptIds, 2);
    const cold = new Generator(m.decoder, maxPositions(m));
    const withDrafts = new Generator(m.decoder, maxPositions(m));
    const plain = new Generator(m.decoder, maxPositions(m));
    const result: PeerResult = {
      modelRuns: { kestrel: [], peer: [], kestrelCold: [], kestrelColdPlain: [], kestrelModel: [], generatorDrafts: [], generatorPlain: [] },
      answered: { kestrel: [], peer: [], fromCompletionCache: 0 },
      prefilterDeclined: 0, sameTokens: 0, sameTokensDrafts: 0, engineSameTokens: 0, shadowSamePrompt: 0, producedTokens: [], promptTokens: [],
      steps: 0, draftedTokens: 0, acceptedDraftTokens: 0,
    };
    const modelRuns: Array<{ run: ModelRun; peerIds: number[] }> = [];
    const timed = async (run: () => Promise<{ tokens: number[] }>): Promise<{ ms: number; tokens: number[] }> => {
      const t = performance.now();
      const { tokens } = await run();
      return { ms: performance.now() - t, tokens };
    };
    for (const request of log) {
      if (request.answer === 'prefilter') {
        result.prefilterDeclined++;
        continue;
      }
      // the shadow sees every keystroke the engine saw, so its prompt windows move as the engine's do
      const shadowRun = modelRunOf(await shadow.complete({ docKey: request.docKey, prefix: request.prefix, suffix: request.suffix, languageId: 'python', multiline: false, noCache: true }));
      const run = request.model ?? shadowRun;
      if (!run) continue;
      const theirs = await runPeer(run.promptIds, run.producedTokens);
      result.answered.kestrel.push(request.ms);
      result.answered.peer.push(theirs.ms);
      if (request.answer === 'completion-cache') {
        result.answered.fromCompletionCache++;
        continue;
      }
      if (shadowRun && shadowRun.promptIds.join() === run.promptIds.join()) result.shadowSamePrompt++;
      modelRuns.push({ run, peerIds: theirs.ids });
      result.steps += run.steps;
      result.draftedTokens += run.draftedTokens;
      result.acceptedDraftTokens += run.acceptedDraftTokens;
      result.modelRuns.kestrel.push(request.ms);
      result.modelRuns.kestrelModel.push(run.modelMs);
      result.modelRuns.peer.push(theirs.ms);
      result.producedTokens.push(run.producedTokens);
      result.promptTokens.push(run.promptIds.length);
      // The engine's own tokens differ whenever token healing made it re-type the last prompt token.
      if (theirs.ids.slice(0, run.generatedIds.length).join() === run.generatedIds.join()) result.engineSameTokens++;
    }
    await peerModel.dispose();
    // Kestrel's generator alone, in a pass of its own: ONNX Runtime's threads keep spinning for a
    // while after the peer's run, which would slow whatever ran right after it. On (a)'s prompts in
    // order: cold with and without drafts, and with KV reuse with and without drafts (each generator
    // keeping its own cache).
    for (const { run, peerIds } of modelRuns) {
      const maxTokens = run.producedTokens;
      const coldRun = await timed(() => cold.generate(run.promptIds, { maxTokens, reuseCache: false }));
      const coldPlain = await timed(() => cold.generate(run.promptIds, { maxTokens, reuseCache: false, draftTokens: 0 }));
      result.modelRuns.kestrelCold.push(coldRun.ms);
      result.modelRuns.kestrelColdPlain.push(coldPlain.ms);
      // Both greedy without constraints on the same prompt: the same graph should pick the same tokens.
      // With drafts, the int8 graph quantizes the activations of a token and its drafts together,
      // which can tip a near-tie (fp32: exact, see engine-generate.test.ts).
      if (coldPlain.tokens.join() === peerIds.join()) result.sameTokens++;
      if (coldRun.tokens.join() === peerIds.join()) result.sameTokensDrafts++;
      result.modelRuns.generatorDrafts.push((await timed(() => withDrafts.generate(run.promptIds, { maxTokens }))).ms);
      result.modelRuns.generatorPlain.push((await timed(() => plain.generate(run.promptIds, { maxTokens, draftTokens: 0 }))).ms);
    }
    return result;
  } finally {
    await shadow.dispose();
    rmSync(scratch, { recursive: true, force: true });
  }
}
const peerResult = await peer(model, typing.log);
const p50 = (xs: number[]): number => percentile(xs, 0.5);
const p95 = (xs: number[]): number => percentile(xs, 0.95);
const pair = (xs: number[]) => ({ p50Ms: p50(xs), p95Ms: p95(xs) });
if (typeof peerResult === 'string') console.log(`peer: ${peerResult}`);
else {
  const { modelRuns: a, answered: b } = peerResult;
  const line = (label: string, ours: number[], theirs: number[]): string =>
    `  ${label.padEnd(44)} p50 ${p50(ours).toFixed(1).padStart(6)} / p95 ${p95(ours).toFixed(1).padStart(6)} ms   ` +
    `transformers.js p50 ${p50(theirs).toFixed(1).padStart(6)} / p95 ${p95(theirs).toFixed(1).padStart(6)} ms   ` +
    `ratio p50 ${(p50(theirs) / p50(ours)).toFixed(1)}x, p95 ${(p95(theirs) / p95(ours)).toFixed(1)}x`;
  console.log(
    `peer: transformers.js ${transformersVersion()} on the same ONNX file (${basename(model.variant.path)}), greedy; ` +
      `each request gets the prompt ids Kestrel fed and makes as many new tokens as Kestrel's model produced ` +
      `(prompt p50 ${p50(peerResult.promptTokens)} tokens, new tokens p50 ${p50(peerResult.producedTokens)}, p95 ${p95(peerResult.producedTokens)})`,
  );
  console.log(
    `  sessions: Kestrel ${threadCount()} intra-op threads without spinning for steps over ${SHORT_STEP_TOKENS} tokens and one thread for shorter ones; ` +
      `transformers.js with its defaults (ONNX Runtime's: a thread per core, spinning); times are wall-clock per request, ` +
      `Kestrel's whole engine (prompt, completion cache, stop rules, postprocessing) against the peer's generate() alone`,
  );
  console.log(line(`(a) ${a.kestrel.length} requests that ran the model, engine`, a.kestrel, a.peer));
  console.log(line('    the same, Kestrel cold (no KV reuse)', a.kestrelCold, a.peer));
  console.log(line('    the same, cold and without draft tokens', a.kestrelColdPlain, a.peer));
  console.log(line("    Kestrel's generator alone, KV reuse, drafts", a.generatorDrafts, a.peer));
  console.log(line('    the same without draft tokens', a.generatorPlain, a.peer));
  console.log(
    line(`(b) ${b.kestrel.length} answered requests (${b.fromCompletionCache} from cache)`, b.kestrel, b.peer) +
      `; ${peerResult.prefilterDeclined} keystrokes the prefilter declined are in neither`,
  );
  const steps = peerResult.steps + a.kestrel.length; // the prefill is a forward pass too
  const plainSteps = peerResult.producedTokens.reduce((sum, n) => sum + n, 0);
  console.log(
    `  speculative decoding on (a): ${steps} forward passes for ${plainSteps} tokens (${(100 * (1 - steps / plainSteps)).toFixed(0)}% fewer); ` +
      `${peerResult.acceptedDraftTokens} of ${peerResult.draftedTokens} draft tokens kept`,
  );
  console.log(
    `  Kestrel inside ONNX Runtime on (a): p50 ${p50(a.kestrelModel).toFixed(1)} ms; Kestrel's generator made the peer's tokens on ${peerResult.sameTokens}/${a.kestrel.length} ` +
      `decoding plainly and on ${peerResult.sameTokensDrafts}/${a.kestrel.length} with drafts ` +
      `(the engine, whose token healing makes it re-type the last prompt token first, on ${peerResult.engineSameTokens}); the cache-off engine built the same prompt on ${peerResult.shadowSamePrompt}/${a.kestrel.length}`,
  );
}
await engine.dispose();

mkdirSync('test-results', { recursive: true });
const report = {
  model: model.entry.id, variant: model.variant.name, provider: model.provider, files: filesDir, load: uptimeLoad, prefill, typing: { ...typing, log: undefined },
  projectCacheMemory: cacheMemory,
  peer: typeof peerResult === 'string' ? peerResult : {
    transformersJs: transformersVersion(),
    modelRuns: {
      requests: peerResult.modelRuns.kestrel.length, kestrel: pair(peerResult.modelRuns.kestrel), kestrelCold: pair(peerResult.modelRuns.kestrelCold),
      kestrelColdPlain: pair(peerResult.modelRuns.kestrelColdPlain), generatorDrafts: pair(peerResult.modelRuns.generatorDrafts),
      generatorPlain: pair(peerResult.modelRuns.generatorPlain),
      kestrelInsideOnnxRuntime: pair(peerResult.modelRuns.kestrelModel), transformersJs: pair(peerResult.modelRuns.peer),
    },
    answered: {
      requests: peerResult.answered.kestrel.length, fromCompletionCache: peerResult.answered.fromCompletionCache,
      kestrel: pair(peerResult.answered.kestrel), transformersJs: pair(peerResult.answered.peer),
    },
    prefilterDeclined: peerResult.prefilterDeclined, sameTokens: peerResult.sameTokens, sameTokensDrafts: peerResult.sameTokensDrafts,
    engineSameTokens: peerResult.engineSameTokens,
    speculative: { steps: peerResult.steps, draftedTokens: peerResult.draftedTokens, acceptedDraftTokens: peerResult.acceptedDraftTokens },
    shadowSamePrompt: peerResult.shadowSamePrompt,
    producedTokens: pair(peerResult.producedTokens), promptTokens: pair(peerResult.promptTokens),
  },
};
writeFileSync('test-results/bench-completion.json', JSON.stringify(report, null, 1));
