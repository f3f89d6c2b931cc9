/**
 * Mixing the project cache into decoding: at every step
 *   P = lambda(ctx) * P_model + (1 - lambda(ctx)) * P_cache
 * with the cache's weight 1 - lambda from how much of the current context the cache has seen: none
 * below `minOrder` tokens of context, rising linearly to `maxWeight` at `fullOrder` tokens, scaled
 * by the Witten-Bell confidence N / (N + D) of that context (how often it was seen against how many
 * different tokens followed it) to the power `confidence`. When the weight is 0 the model's logits
 * are used untouched, so lambda = 1 is exactly the model.
 *
 * Parameters are tuned on the valid packages per model and recorded in the model's kestrel.json
 * ("projectCache": {"lambda": {...}}); DEFAULT_MIX is the engine's value for models without one.
 */
import type { CacheGuess, ProjectCache, TouchedTokens } from './projectCache';

export interface MixParameters {
  /** Cache weight (1 - lambda) at the longest context, before the confidence factor. */
  maxWeight: number;
  /** Shortest context (in tokens) the cache must have seen to get any weight. */
  minOrder: number;
  /** Context length from which the weight is maxWeight; it rises linearly up to it (default: the longest the cache counts). */
  fullOrder?: number;
  /** Exponent of the Witten-Bell confidence N / (N + D) in the weight (default 1; 0: confidence ignored). */
  confidence?: number;
}

/** How each step chooses: the mix, the model alone (lambda = 1) or the cache alone (lambda = 0). */
export type MixMode = 'mix' | 'model' | 'cache';

/**
 * Tuned on the valid packages with kestrel-py-tiny (`npm run eval:project-cache`, 200 lines of seed 1
 * in each setting; README, "The project cache"): with a model that weak, the cache decides wherever
 * it has seen at least one token of context and the model breaks its near-ties and speaks alone
 * where the cache has seen nothing. A stronger model gets its own record in its kestrel.json.
 */
export const DEFAULT_MIX: MixParameters = { maxWeight: 0.97, minOrder: 1, fullOrder: 1, confidence: 0 };

/** The parameters recorded in a model's kestrel.json, or undefined when it records none (or a broken record). */
export function mixParametersOf(raw: Record<string, unknown>): MixParameters | undefined {
  const record = raw['projectCache'];
  if (typeof record !== 'object' || record === null) return undefined;
  const lambda = (record as Record<string, unknown>)['lambda'];
  if (typeof lambda !== 'object' || lambda === null) return undefined;
  const { maxWeight, minOrder, fullOrder, confidence } = lambda as Record<string, unknown>;
  if (typeof maxWeight !== 'number' || maxWeight < 0 || maxWeight > 1) return undefined;
  if (typeof minOrder !== 'number' || !Number.isInteger(minOrder) || minOrder < 0) return undefined;
  if (fullOrder !== undefined && (typeof fullOrder !== 'number' || !Number.isInteger(fullOrder) || fullOrder < minOrder)) return undefined;
  if (confidence !== undefined && (typeof confidence !== 'number' || confidence < 0)) return undefined;
  return { maxWeight, minOrder, ...(fullOrder !== undefined ? { fullOrder } : {}), ...(confidence !== undefined ? { confidence } : {}) };
}

/** 1 - lambda for what the cache has seen of the context. */
export function cacheWeight(guess: CacheGuess, parameters: MixParameters, longestContext: number): number {
  const { maxWeight, minOrder } = parameters;
  if (guess.order < 0 || guess.order < minOrder || guess.count <= 0) return 0;
  const full = Math.max(minOrder, parameters.fullOrder ?? longestContext);
  const ramp = Math.min(1, (guess.order - minOrder + 1) / (full - minOrder + 1));
  const confidence = parameters.confidence ?? 1;
  return maxWeight * ramp * (confidence === 0 ? 1 : (guess.count / (guess.count + guess.distinct)) ** confidence);
}


/** 2^-k for k = 0..126. */
const POW2 = Float64Array.from({ length: 127 }, (_, k) => 2 ** -k);

/**
 * exp(d) for d <= 0, to about 1e-9 relative: 2^(nearest integer) from a table times a polynomial
 * for the rest. The softmax over the vocabulary is the mix's one pass of exponentials per step, and
 * Math.exp there cost more than the rest of the mix (16k calls a step); this is several times cheaper.
 */
export function expNonPositive(d: number): number {
  const y = d * Math.LOG2E;
  if (y <= -126) return 0;
  const whole = Math.round(y);
  const f = (y - whole) * Math.LN2; // |f| <= ln 2 / 2: e^f by its Taylor series to the 7th power
  const p = 1 + f * (1 + f * (1 / 2 + f * (1 / 6 + f * (1 / 24 + f * (1 / 120 + f * (1 / 720 + f / 5040))))));
  return (POW2[-whole | 0] as number) * p;
}

/** Running figures of one generation's mixing, for the benchmark and the eval. */
export interface MixStats {
  steps: number;
  /** Steps where the cache had weight. */
  mixedSteps: number;
  /** Greedy steps where a token known only by its frequency might have won, so frequent tokens were scored too. */
  fullScans: number;
  /** Time spent predicting and mixing, ms, in all and per step. */
  ms: number;
  stepMs: number[];
}

/** Bins per nat of the histogram that sums a softmax's terms (`softmaxSum`). */
const BINS_PER_NAT = 64;
/** Terms more than this many nats below the top one are left out of the sum (e^-40: nothing). */
const SUM_RANGE = 40;

/**
 * The generator's view of the cache for one completion: it follows the tokens chosen so far (`push`)
 * and turns each row of model logits into the next token (`choose`, greedy) or into the scores to
 * choose from (`scores`, when token healing constrains the choice or a temperature samples).
 */
export class CacheMixer {
  private readonly context: number[];
  /** The cache's levels above order 0, written sparsely by `predict`; cleared after each step. */
  private readonly cacheRow: Float32Array;
  private readonly touched: TouchedTokens;
  private readonly mixed: Float32Array;
  private readonly bins = new Int32Array(SUM_RANGE * BINS_PER_NAT);
  /** Zero counts, for a prediction without an order-0 level. */
  private readonly noUnigrams: Int32Array;
  readonly stats: MixStats = { steps: 0, mixedSteps: 0, fullScans: 0, ms: 0, stepMs: [] };

  constructor(
    private readonly cache: ProjectCache,
    private readonly key: string,
    /** The ids before the first generated token (the prompt; only its end is kept). */
    prompt: readonly number[],
    private readonly mode: MixMode,
    private readonly parameters: MixParameters,
  ) {
    this.context = prompt.slice(Math.max(0, prompt.length - cache.order));
    this.cacheRow = new Float32Array(cache.vocabSize);
    this.touched = { tokens: new Int32Array(cache.vocabSize), size: 0 };
    this.mixed = new Float32Array(cache.vocabSize);
    this.noUnigrams = new Int32Array(cache.vocabSize);
  }

  push(token: number): void {
    this.context.push(token);
    if (this.context.length > 4 * this.cache.order) this.context.splice(0, this.context.length - this.cache.order);
  }

  /** The cache's prediction for the next token and its weight (1 - lambda); 0: the model alone. */
  private predict(): { weight: number; unigrams: Int32Array; unigramShare: number; ceiling: number } {
    const guess = this.cache.predict(this.key, this.context, this.cacheRow, this.touched);
    const weight = this.mode === 'cache' ? 1 : cacheWeight(guess, this.parameters, this.cache.order - 1);
    const counts = guess.unigrams?.counts;
    return {
      weight,
      unigrams: counts && counts.length >= this.cacheRow.length ? counts : this.noUnigrams,
      unigramShare: weight * (guess.unigrams?.share ?? 0),
      ceiling: guess.unigrams?.ceiling ?? 0,
    };
  }

  private clearRow(): void {
    const { tokens, size } = this.touched;
    for (let i = 0; i < size; i++) this.cacheRow[tokens[i] as number] = 0;
    this.touched.size = 0;
  }

  /**
   * The greedy choice from the mix, exactly, without a pass of exponentials over the vocabulary:
   * only the model's top token and the tokens the cache saw after this context can win, unless a
   * token known only by its frequency could (checked with a bound), and then every token is scored.
   */
  choose(logits: Float32Array): number {
    const started = performance.now();
    this.stats.steps++;
    const { weight, unigrams, unigramShare, ceiling } = this.predict();
    const n = Math.min(logits.length, this.cacheRow.length);
    let best = 0;
    let max = -Infinity;
    for (let i = 0; i < n; i++) {
      if ((logits[i] as number) > max) {
        max = logits[i] as number;
        best = i;
      }
    }
    if (weight > 0) {
      this.stats.mixedSteps++;
      const modelShare = weight >= 1 ? 0 : (1 - weight) / this.softmaxSum(logits, n, max);
      const row = this.cacheRow;
      const score = (i: number): number =>
        modelShare * expNonPositive((logits[i] as number) - max) + weight * (row[i] as number) + unigramShare * (unigrams[i] as number);
      let bestScore = score(best);
      const { tokens, size } = this.touched;
      for (let k = 0; k < size; k++) {
        const i = tokens[k] as number;
        if (i >= n) continue;
        const s = score(i);
        if (s > bestScore || (s === bestScore && i < best)) {
          bestScore = s;
          best = i;
        }
      }
      // Any other token scores at most modelShare x 1 + unigramShare x its frequency (the model's
      // top token is scored already): only a token seen more than `enough` times can still win.
      const enough = unigramShare > 0 ? (bestScore - modelShare) / unigramShare : Infinity;
      if (enough < ceiling) {
        this.stats.fullScans++;
        for (let i = 0; i < n; i++) {
          if ((unigrams[i] as number) <= enough) continue;
          const s = score(i);
          if (s > bestScore || (s === bestScore && i < best)) {
            bestScore = s;
            best = i;
          }
        }
      }
    }
    this.clearRow();
    this.spent(started);
    return best;
  }

  /**
   * Scores over the vocabulary for the next token: the logits themselves when the cache has no say,
   * else mixed probabilities (their logarithms when `asLogits`, for sampling with a temperature).
   */
  scores(logits: Float32Array, asLogits = false): Float32Array {
    const started = performance.now();
    this.stats.steps++;
    const { weight, unigrams, unigramShare } = this.predict();
    if (weight <= 0) {
      this.clearRow();
      this.spent(started);
      return logits;
    }
    this.stats.mixedSteps++;
    const row = this.cacheRow;
    const n = Math.min(logits.length, row.length);
    const out = this.mixed;
    let max = -Infinity;
    for (let i = 0; i < n; i++) if ((logits[i] as number) > max) max = logits[i] as number;
    const modelShare = weight >= 1 ? 0 : (1 - weight) / this.softmaxSum(logits, n, max);
    for (let i = 0; i < n; i++) {
      const model = modelShare > 0 ? modelShare * expNonPositive((logits[i] as number) - max) : 0;
      out[i] = model + weight * (row[i] as number) + unigramShare * (unigrams[i] as number);
    }
    if (asLogits) for (let i = 0; i < n; i++) out[i] = Math.log(out[i] as number);
    this.clearRow();
    this.spent(started);
    return n === out.length ? out : out.subarray(0, n);
  }

  /**
   * The softmax's normaliser, sum of exp(l - max), from a histogram of the logits' distances below the
   * top one (1/64 nat bins, each counted at its centre): one pass of integer work over the vocabulary
   * and an exponential per bin, to about 1e-4 relative.
   */
  private softmaxSum(logits: Float32Array, n: number, max: number): number {
    const bins = this.bins;
    bins.fill(0);
    const last = bins.length;
    for (let i = 0; i < n; i++) {
      const bin = ((max - (logits[i] as number)) * BINS_PER_NAT) | 0;
      if (bin < last) bins[bin] = (bins[bin] as number) + 1;
    }
    let sum = 0;
    for (let b = 0; b < last; b++) {
      const count = bins[b] as number;
      if (count > 0) sum += count * expNonPositive(-(b + 0.5) / BINS_PER_NAT);
    }
    return sum;
  }

  private spent(started: number): void {
    const ms = performance.now() - started;
    this.stats.ms += ms;
    this.stats.stepMs.push(ms);
  }
}
