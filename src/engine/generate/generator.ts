/**
 * Autoregressive generation over a Decoder with its KV cache, one request at a time.
 * The cache of the last run (prompt plus generated tokens) is kept: a new prompt that shares a
 * beginning with it — the usual case while typing under SPM — only prefills the tokens after the
 * shared part. Cancellation is checked between steps; the cache stays valid after a cancel, so the
 * next keystroke still reuses the prefill the cancelled one paid for.
 */
import { AbortedError, throwIfAborted } from '../../shared/errors/errors';
import { sequenceLength, type Decoder, type KvCache } from '../session/decoder';
import type { VocabIndex } from '../tokenize/tokenizer';
import { PromptLookup } from './promptLookup';
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
  /** Most draft tokens a speculative step checks (greedy only; 0: plain decoding). Default DRAFT_TOKENS. */
  draftTokens?: number;
  /**
   * Turns each row of logits into the scores a token is chosen from (the project cache's mix), and
   * follows the tokens chosen. Drafts are checked against the same scores, so a draft is kept only
   * when the mix would have chosen it.
   */
  mixer?: TokenMixer;
}

/** What the generator needs of a mixer (projectCache/mixing.ts). */
export interface TokenMixer {
  push(token: number): void;
  /** The greedy choice from a row of logits. */
  choose(logits: Float32Array): number;
  /** Scores to choose from under constraints (token healing) or to sample from (as logits). */
  scores(logits: Float32Array, asLogits?: boolean): Float32Array;
}

/**
 * Draft tokens per speculative step. Kestrel's export returns every row of a step of up to 8 tokens,
 * and on the 2-core machine a step of 8 tokens at 400 positions costs about 1.2x a step of one.
 */
export const DRAFT_TOKENS = 7;

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
  /** Model runs after the prompt's prefill (one per generated token without speculative decoding). */
  steps: number;
  /** Draft tokens fed for checking, and how many of them the model kept. */
  draftedTokens: number;
  acceptedDraftTokens: number;
}

function commonPrefixLength(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/** Stale positions (rejected drafts) a run may leave in its cache before it stops drafting. */
const MAX_STALE = 96;

export class Generator {
  /** Tokens whose keys/values `cache` holds, in order; -1 at stale positions, which no prompt matches. */
  private cachedTokens: number[] = [];
  private cache: KvCache | null = null;
  /** The last run's output, a source of draft tokens: the next keystroke's completion often repeats it. */
  private previousOutput: number[] = [];
  /** Lowered for good when the graph turns out to return fewer logit rows than a step fed. */
  private draftLimit = DRAFT_TOKENS;

  constructor(
    readonly decoder: Decoder,
    readonly contextLength: number,
  ) {}

  reset(): void {
    this.cachedTokens = [];
    this.cache = null;
    this.previousOutput = [];
  }

  async generate(prompt: readonly number[], options: GenerateOptions): Promise<GenerateResult> {
    const started = performance.now();
    const { signal } = options;
    throwIfAborted(signal);
    if (prompt.length === 0) throw new Error('empty prompt');
    if (options.reuseCache === false) this.reset();
    const deadline = options.timeBudgetMs !== undefined ? started + options.timeBudgetMs : Infinity;

    // Reuse the longest shared beginning, but always feed at least one token to get logits.
    // (stale positions are left out: the truncated cache holds the sequence without them)
    const sequence = this.cache?.stale ? this.cachedTokens.filter((token) => token >= 0) : this.cachedTokens;
    const shared = this.cache ? Math.min(commonPrefixLength(prompt, sequence), prompt.length - 1) : 0;
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
    const greedy = (options.temperature ?? 0) <= 0;
    const { mixer } = options;
    const choose = (row: Float32Array): number => {
      const { heal } = options;
      const free = required.length === 0 || !heal;
      if (mixer && greedy && free) return mixer.choose(row);
      const from = mixer ? mixer.scores(row, !greedy) : row;
      if (free) return sample(from, options);
      const masked = new Float32Array(from.length).fill(-Infinity);
      for (const id of heal.vocab.consistentWith(required)) masked[id] = from[id] as number;
      let next = sample(masked, options);
      if (next < 0 || masked[next] === -Infinity) next = sample(from, options); // no token fits: give up healing
      const text = heal.vocab.texts[next] ?? '';
      required = text.startsWith(required) ? '' : required.startsWith(text) && text.length > 0 ? required.slice(text.length) : '';
      return next;
    };
    /** Records `next` as generated, `held` tokens before it in the cache; says why generation ends there, if it does. */
    const take = (next: number, held: number): FinishReason | null => {
      if (generated.length === 0) firstTokenAt = performance.now();
      if (options.stopIds?.has(next)) return 'stop-token';
      generated.push(next);
      lookup?.push(next);
      mixer?.push(next);
      if (options.shouldStop?.(generated)) return 'stop-rule';
      if (generated.length >= options.maxTokens) return 'max-tokens';
      if (held + 1 >= this.contextLength) return 'context-full';
      if (performance.now() >= deadline) return 'time-budget';
      return null;
    };
    // Speculative decoding (greedy only, where it gives exactly the tokens plain decoding gives): each
    // step feeds the chosen token plus draft tokens looked up in the prompt and recent output, and
    // keeps the drafts the model would have chosen itself, one row of logits each.
    const lookup = greedy && this.draftLimit > 0 && (options.draftTokens ?? DRAFT_TOKENS) > 0 ? new PromptLookup(prompt, this.previousOutput) : null;
    let steps = 0;
    let drafted = 0;
    let accepted = 0;
    while (logits) {
      const next = choose(logits);
      const end = take(next, sequenceLength(cache));
      if (end) {
        finish = end;
        break;
      }
      if (signal?.aborted) throw new AbortedError();
      const held = sequenceLength(cache);
      const room = (cache.stale?.length ?? 0) > MAX_STALE ? 0
        : Math.min(options.draftTokens ?? DRAFT_TOKENS, this.draftLimit, options.maxTokens - generated.length, this.contextLength - held - 2);
      const draft = lookup && required.length === 0 ? lookup.draft(room, options.stopIds) : [];
      const fed = [next, ...draft];
      const grownFrom = cache.length;
      let result = await step(fed, cache);
      steps++;
      if (result.rows.length < fed.length) {
        // the graph returns no logits for the draft positions: decode without drafts from now on
        this.draftLimit = Math.max(0, result.rows.length - 1);
        result = await step([next], cache);
        fed.length = 1;
        draft.length = 0;
      }
      drafted += draft.length;
      let kept = 0;
      let ended: FinishReason | null = null;
      while (kept < draft.length && ended === null && choose(result.rows[kept] as Float32Array) === draft[kept]) {
        ended = take(draft[kept] as number, held + 1 + kept);
        kept++;
      }
      accepted += kept;
      cache = this.decoder.discard(result.cache, grownFrom + 1 + kept);
      logits = result.rows[kept] as Float32Array;
      tokens = tokens.concat(fed.slice(0, 1 + kept), new Array<number>(cache.length - grownFrom - 1 - kept).fill(-1));
      this.cache = cache;
      this.cachedTokens = tokens;
      if (ended) {
        finish = ended;
        break;
      }
    }
    if (generated.length > 1) this.previousOutput = generated.slice();
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
      steps,
      draftedTokens: drafted,
      acceptedDraftTokens: accepted,
    };
  }
}
