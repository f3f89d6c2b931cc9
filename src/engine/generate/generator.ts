/**
 * Autoregressive generation over a Decoder with its KV cache, one request at a time.
 * The cache of the last run (prompt plus generated tokens) is kept: a new prompt that shares a
 * beginning with it — the usual case while typing under SPM — only prefills the tokens after the
 * shared part. Cancellation is checked between steps; the cache stays valid after a cancel, so the
 * next keystroke still reuses the prefill the cancelled one paid for.
 */
import { AbortedError, throwIfAborted } from '../errors';
import type { Decoder, KvCache } from '../session/decoder';
import type { VocabIndex } from '../tokenize/tokenizer';
import { sample, type SamplingOptions } from './sampler';

export interface GenerateOptions extends SamplingOptions {
  maxTokens: number;
  signal?: AbortSignal;
  /** Wall-clock budget for the whole call in ms; generation stops (keeping what it has) when spent. */
  timeBudgetMs?: number;
  /** Token ids that end generation (end of text, FIM sentinels). */
  stopIds?: ReadonlySet<number>;
  /** Called after each token with all generated ids; return true to stop (e.g. the line ended). */
  shouldStop?: (generated: readonly number[]) => boolean;
  /** Largest prefill run; longer prompts are fed in chunks so cancellation is seen in between. */
  prefillChunk?: number;
  /** Set false to ignore (and drop) the previous run's cache, for comparisons. */
  reuseCache?: boolean;
  /**
   * Token healing: the generated text must begin with `text` (the prompt's last token, removed by
   * the caller). Until it has been produced, only tokens consistent with it are allowed.
   */
  heal?: { text: string; vocab: VocabIndex };
}

export type FinishReason = 'stop-token' | 'stop-rule' | 'max-tokens' | 'time-budget' | 'context-full';

export interface GenerateResult {
  tokens: number[];
  finish: FinishReason;
  /** Prompt tokens whose KV came from the previous run. */
  reusedTokens: number;
  prefilledTokens: number;
  /** ms from the call to the first generated token (prefill included). */
  timeToFirstTokenMs: number;
  /** ms per generated token after the first. */
  decodeMsPerToken: number;
  totalMs: number;
  /** Of totalMs, the time spent inside ONNX Runtime (the rest is Kestrel's own work). */
  modelMs: number;
}

function commonPrefixLength(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

export class Generator {
  /** Tokens whose keys/values `cache` holds, in order. */
  private cachedTokens: number[] = [];
  private cache: KvCache | null = null;

  constructor(
    readonly decoder: Decoder,
    readonly contextLength: number,
  ) {}

  reset(): void {
    this.cachedTokens = [];
    this.cache = null;
  }

  async generate(prompt: readonly number[], options: GenerateOptions): Promise<GenerateResult> {
    const started = performance.now();
    const { signal } = options;
    throwIfAborted(signal);
    if (prompt.length === 0) throw new Error('empty prompt');
    if (options.reuseCache === false) this.reset();
    const deadline = options.timeBudgetMs !== undefined ? started + options.timeBudgetMs : Infinity;

    // Reuse the longest shared beginning, but always feed at least one token to get logits.
    const shared = this.cache ? Math.min(commonPrefixLength(prompt, this.cachedTokens), prompt.length - 1) : 0;
    let cache = this.cache && shared > 0 ? this.decoder.truncate(this.cache, shared) : this.decoder.emptyCache();
    let tokens = prompt.slice(0, shared);
    this.cache = cache;
    this.cachedTokens = tokens;

    let modelMs = 0;
    const step = async (ids: readonly number[], from: KvCache) => {
      const before = performance.now();
      const result = await this.decoder.step(ids, from);
      modelMs += performance.now() - before;
      return result;
    };
    const chunk = Math.max(1, options.prefillChunk ?? 512);
    let logits: Float32Array | null = null;
    for (let at = shared; at < prompt.length; at += chunk) {
      throwIfAborted(signal);
      const ids = prompt.slice(at, Math.min(prompt.length, at + chunk));
      const result = await step(ids, cache);
      cache = result.cache;
      logits = result.logits;
      tokens = tokens.concat(ids);
      this.cache = cache;
      this.cachedTokens = tokens;
    }
    const prefilledTokens = prompt.length - shared;

    const generated: number[] = [];
    let finish: FinishReason = 'max-tokens';
    let firstTokenAt = 0;
    let required = options.heal?.text ?? '';
    while (logits) {
      let next: number;
      if (required.length > 0 && options.heal) {
        const masked = new Float32Array(logits.length).fill(-Infinity);
        for (const id of options.heal.vocab.consistentWith(required)) masked[id] = logits[id] as number;
        next = sample(masked, options);
        if (next < 0 || masked[next] === -Infinity) next = sample(logits, options); // no token fits: give up healing
        const text = options.heal.vocab.texts[next] ?? '';
        required = text.startsWith(required) ? '' : required.startsWith(text) && text.length > 0 ? required.slice(text.length) : '';
      } else next = sample(logits, options);
      if (generated.length === 0) firstTokenAt = performance.now();
      if (options.stopIds?.has(next)) {
        finish = 'stop-token';
        break;
      }
      generated.push(next);
      if (options.shouldStop?.(generated)) {
        finish = 'stop-rule';
        break;
      }
      if (generated.length >= options.maxTokens) break;
      if (cache.length + 1 >= this.contextLength) {
        finish = 'context-full';
        break;
      }
      if (performance.now() >= deadline) {
        finish = 'time-budget';
        break;
      }
      if (signal?.aborted) throw new AbortedError();
      const result = await step([next], cache);
      cache = result.cache;
      logits = result.logits;
      tokens = tokens.concat(next);
      this.cache = cache;
      this.cachedTokens = tokens;
    }
    const ended = performance.now();
    const decodeSteps = Math.max(0, generated.length - 1);
    return {
      tokens: generated,
      finish,
      reusedTokens: shared,
      prefilledTokens,
      timeToFirstTokenMs: (firstTokenAt || ended) - started,
      decodeMsPerToken: decodeSteps > 0 ? (ended - firstTokenAt) / decodeSteps : 0,
      totalMs: ended - started,
      modelMs,
    };
  }
}
