/**
 * Completion benchmarks (CPU numbers on this machine are what DESIGN.md's budgets are checked
 * against; never timed in unit tests):
 *   - time to first token against prompt length (cold: nothing cached), and decode ms/token;
 *   - end-to-end single-line latency while "typing": every line of a sample is typed character by
 *     character through the engine as the editor would ask (completion cache, KV reuse, stop rules).
 */
import { CompletionEngine } from '../engine';
import type { CompletionResult } from '../provider';
import { seededRandom } from '../eval/metrics';
import { Generator, type FinishReason } from '../generate/generator';
import type { LoadedCompletionModel } from '../session/model';

export interface PrefillPoint {
  promptTokens: number;
  /** Medians over the repeats. */
  timeToFirstTokenMs: number;
  decodeMsPerToken: number;
  /** Best of the repeats: closer to an idle machine when other work shares the cores. */
  bestTimeToFirstTokenMs: number;
  bestDecodeMsPerToken: number;
}

export interface TypingReplay {
  requests: number;
  p50Ms: number;
  p95Ms: number;
  meanMs: number;
  fromCache: number;
  /** Mean share of the prompt whose KV came from the previous request (model runs only). */
  meanReusedShare: number;
  /** Median time per request outside ONNX Runtime (prompt, cache, context, stop rules, postprocess). */
  overheadP50Ms: number;
  shown: number;
  /** Every keystroke in order, for replaying the same work elsewhere (the peer comparison). */
  log: ReplayedRequest[];
  /** What the project cache cost, when the engine has one: per decoding step and per keystroke's document update. */
  projectCache?: ProjectCacheCost;
}

export interface ProjectCacheCost {
  files: number;
  tokens: number;
  bytes: number;
  steps: number;
  /** Steps where the cache had weight (lambda < 1). */
  weightedSteps: number;
  stepP50Ms: number;
  stepP95Ms: number;
  /** Applying a keystroke to the cached document (the worker does it on didChange, before the request). */
  updateP50Ms: number;
  updateP95Ms: number;
}

/** What the model did for one request. */
export interface ModelRun {
  /** The ids fed to the decoder (after token healing). */
  promptIds: readonly number[];
  /** The ids kept (a stop token that ended the run not included). */
  generatedIds: readonly number[];
  /**
   * New tokens the model produced, the stop token included when one ended the run: plain decoding
   * makes n forward passes for n tokens (the prefill and n - 1 decode steps).
   */
  producedTokens: number;
  finish: FinishReason;
  modelMs: number;
  /** Forward passes after the prefill, and the draft tokens they checked and kept (speculative decoding). */
  steps: number;
  draftedTokens: number;
  acceptedDraftTokens: number;
}

/** One keystroke of a typing replay as the engine answered it. */
export interface ReplayedRequest {
  docKey: string;
  prefix: string;
  suffix: string;
  /** Wall-clock ms of the engine's `complete`. */
  ms: number;
  /** prefilter: declined without a prompt; completion-cache: served from the completion cache; model: the model ran. */
  answer: 'prefilter' | 'completion-cache' | 'model';
  model?: ModelRun;
}

/** The model's part of a completion result, when the model ran. */
export function modelRunOf(result: CompletionResult): ModelRun | undefined {
  const s = result.stats;
  if (!s) return undefined;
  return {
    promptIds: s.promptIds,
    generatedIds: s.generatedIds,
    producedTokens: s.generatedIds.length + (s.finish === 'stop-token' ? 1 : 0),
    finish: s.finish,
    modelMs: s.modelMs,
    steps: s.steps,
    draftedTokens: s.draftedTokens,
    acceptedDraftTokens: s.acceptedDraftTokens,
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : (s[Math.floor(s.length / 2)] as number);
};
export const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : (s[Math.min(s.length - 1, Math.floor(p * s.length))] as number);
};

/** Longest sequence the graph accepts: the architecture's positions when recorded, else the context length. */
export function maxPositions(model: LoadedCompletionModel): number {
  const arch = model.entry.manifest.raw['architecture'] as { maxPositionEmbeddings?: unknown } | undefined;
  return typeof arch?.maxPositionEmbeddings === 'number' ? arch.maxPositionEmbeddings : model.entry.manifest.contextLength;
}

/** SPM prompts of exactly `length` tokens cut from real code (empty suffix). */
export function promptOfLength(model: LoadedCompletionModel, codeIds: readonly number[], length: number): number[] {
  const { fimPrefix, fimSuffix, fimMiddle } = model.tokenizer.special;
  const body = codeIds.slice(0, length - 3);
  if (body.length < length - 3) throw new Error(`need ${length - 3} tokens of code for the benchmark, have ${codeIds.length}`);
  return [fimPrefix, fimSuffix, fimMiddle, ...body];
}

export async function measurePrefill(
  model: LoadedCompletionModel,
  code: string,
  lengths: readonly number[] = [256, 512, 1024, 2048],
  repeats = 5,
  decodeTokens = 32,
): Promise<PrefillPoint[]> {
  const ids = model.tokenizer.encode(code);
  const limit = maxPositions(model);
  const points: PrefillPoint[] = [];
  for (const asked of lengths) {
    // the longest point is cut to what the graph accepts with room for the decoded tokens
    const length = Math.min(asked, limit - decodeTokens);
    if (points.some((p) => p.promptTokens === length)) continue;
    const prompt = promptOfLength(model, ids, length);
    const generator = new Generator(model.decoder, limit);
    const ttft: number[] = [];
    const decode: number[] = [];
    for (let r = 0; r < repeats; r++) {
      // one token per step: the model's own decode cost (drafts would make it depend on the text)
      const result = await generator.generate(prompt, { maxTokens: decodeTokens, reuseCache: false, draftTokens: 0 });
      ttft.push(result.timeToFirstTokenMs);
      decode.push(result.decodeMsPerToken);
    }
    points.push({
      promptTokens: length,
      timeToFirstTokenMs: median(ttft),
      decodeMsPerToken: median(decode),
      bestTimeToFirstTokenMs: Math.min(...ttft),
      bestDecodeMsPerToken: Math.min(...decode),
    });
  }
  return points;
}

export interface TypedLine {
  file: string;
  /** File text before the line, the line's indentation included. */
  before: string;
  /** What is typed, one character per request. */
  typed: string;
  /** The rest of the file after the line (starts with its line break). */
  after: string;
}

/** `count` non-trivial lines (fixed seed) to type from the given files. */
export function sampleTypedLines(files: ReadonlyArray<{ file: string; text: string }>, count: number, seed = 0): TypedLine[] {
  const random = seededRandom(seed);
  const lines: TypedLine[] = [];
  for (let attempts = 0; lines.length < count && attempts < count * 50 && files.length > 0; attempts++) {
    const { file, text } = files[Math.floor(random() * files.length)] as { file: string; text: string };
    const all = text.split('\n');
    const i = Math.floor(random() * all.length);
    const line = all[i] as string;
    const body = line.trim();
    if (body.length < 8 || body.length > 100 || body.startsWith('#')) continue;
    const indent = line.length - line.trimStart().length;
    const start = all.slice(0, i).join('\n').length + (i ? 1 : 0);
    lines.push({ file, before: text.slice(0, start + indent), typed: line.trimEnd().slice(indent), after: text.slice(start + line.length) });
  }
  return lines;
}

/**
 * Types each line character by character through the engine; one request per keystroke. When the
 * engine has a project cache, each keystroke first updates the document in it, as the worker does
 * on didChange, and that time counts in the request's.
 */
export async function replayTyping(engine: CompletionEngine, lines: readonly TypedLine[], onRequest?: (ms: number) => void): Promise<TypingReplay> {
  const latencies: number[] = [];
  let fromCache = 0;
  let shown = 0;
  const reused: number[] = [];
  const overhead: number[] = [];
  const log: ReplayedRequest[] = [];
  const cache = engine.projectCache;
  const updates: number[] = [];
  const stepMs: number[] = [];
  let weightedSteps = 0;
  for (const line of lines) {
    for (let k = 1; k <= line.typed.length; k++) {
      const prefix = line.before + line.typed.slice(0, k);
      const started = performance.now();
      if (cache) {
        cache.updateDocument(line.file, prefix + line.after);
        updates.push(performance.now() - started);
      }
      const result = await engine.complete({ docKey: line.file, prefix, suffix: line.after, languageId: 'python', multiline: false });
      const ms = performance.now() - started;
      const mixing = result.stats?.projectCache;
      if (mixing) {
        stepMs.push(...mixing.stepMs);
        weightedSteps += mixing.mixedSteps;
      }
      latencies.push(ms);
      onRequest?.(ms);
      const model = modelRunOf(result);
      log.push({
        docKey: line.file, prefix, suffix: line.after, ms,
        answer: result.skipped === 'prefilter' ? 'prefilter' : result.fromCache ? 'completion-cache' : 'model',
        ...(model ? { model } : {}),
      });
      if (result.skipped === 'prefilter') continue;
      if (result.fromCache) fromCache++;
      if (result.text) shown++;
      if (result.stats) {
        reused.push(result.stats.reusedTokens / Math.max(1, result.stats.promptTokens));
        overhead.push(ms - result.stats.modelMs);
      }
    }
  }
  return {
    requests: latencies.length,
    p50Ms: percentile(latencies, 0.5),
    p95Ms: percentile(latencies, 0.95),
    meanMs: latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length),
    fromCache,
    meanReusedShare: reused.reduce((a, b) => a + b, 0) / Math.max(1, reused.length),
    overheadP50Ms: percentile(overhead, 0.5),
    shown,
    log,
    ...(cache ? {
      projectCache: {
        ...(({ files, tokens, bytes }) => ({ files, tokens, bytes }))(cache.stats()),
        steps: stepMs.length, weightedSteps,
        stepP50Ms: percentile(stepMs, 0.5), stepP95Ms: percentile(stepMs, 0.95),
        updateP50Ms: percentile(updates, 0.5), updateP95Ms: percentile(updates, 0.95),
      },
    } : {}),
  };
}
