/**
 * One loaded decoder-with-past ONNX graph (Hugging Face Optimum naming): inputs `input_ids`,
 * `attention_mask`, optional `position_ids`, `past_key_values.{i}.key|value`; outputs `logits` and
 * `present.{i}.key|value`. The KV cache stays in ONNX Runtime tensors between steps.
 */
import * as ort from 'onnxruntime-node';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { EngineError, errorMessage } from '../../shared/errors/errors';
import { sessionOptions, shortReason, threadCount, type ProviderAttempt, type ProviderName } from '../../shared/devices/providers';

type KvType = 'float32' | 'float16';

export interface KvCache {
  /** Number of positions held, stale ones included. */
  length: number;
  /** present/past tensors in input order: layer 0 key, layer 0 value, layer 1 key, ... */
  tensors: Tensor[];
  /**
   * Positions whose keys and values are stale (draft tokens the model did not keep), ascending.
   * The attention mask hides them and position ids skip them, so the model sees the cache as if
   * they had been cut out, without copying it.
   */
  stale?: readonly number[];
}

/** Positions of the sequence a cache holds: its length less the stale ones. */
export function sequenceLength(cache: KvCache): number {
  return cache.length - (cache.stale?.length ?? 0);
}

export interface GraphShape {
  layers: number;
  kvHeads: number;
  headDim: number;
  kvType: KvType;
  hasPositionIds: boolean;
  /** Width of the logits (the graph's vocabulary), when the graph states it. */
  vocabSize?: number;
}

export interface StepResult {
  /** Logits of the last input position, as float32 (the caller may keep and modify them). */
  logits: Float32Array;
  /**
   * Logits of the last `rows.length` input positions, oldest first (the last is `logits`). A step of
   * at most SHORT_STEP_TOKENS tokens has a row per input position when the graph returns them
   * (Kestrel's export for steps of up to 8 tokens, Optimum's always): what a speculative step needs to
   * check its draft tokens. Otherwise only the last row.
   */
  rows: Float32Array[];
  cache: KvCache;
}

const KV_INPUT = /^past_key_values\.(\d+)\.(key|value)$/;

/** Reads the graph's inputs and outputs; throws an actionable error when they are not Kestrel's contract. */
export function inspectGraph(session: Pick<InferenceSession, 'inputNames' | 'outputNames' | 'inputMetadata' | 'outputMetadata'>, file: string): GraphShape {
  const inputs = new Set(session.inputNames);
  const outputs = new Set(session.outputNames);
  const missing: string[] = [];
  for (const name of ['input_ids', 'attention_mask']) if (!inputs.has(name)) missing.push(name);
  let layers = 0;
  while (inputs.has(`past_key_values.${layers}.key`)) layers++;
  if (layers === 0) missing.push('past_key_values.0.key');
  for (let i = 0; i < layers; i++) {
    if (!inputs.has(`past_key_values.${i}.value`)) missing.push(`past_key_values.${i}.value`);
    for (const kv of ['key', 'value']) if (!outputs.has(`present.${i}.${kv}`)) missing.push(`present.${i}.${kv}`);
  }
  if (!outputs.has('logits')) missing.push('logits');
  const unknown = session.inputNames.filter((n) => !['input_ids', 'attention_mask', 'position_ids'].includes(n) && !KV_INPUT.test(n));
  if (missing.length > 0 || unknown.length > 0) {
    throw new EngineError(
      'model-incompatible',
      `${file} is not a decoder-with-past model in Kestrel's layout: ` +
        (missing.length > 0 ? `missing ${missing.join(', ')}` : '') +
        (missing.length > 0 && unknown.length > 0 ? '; ' : '') +
        (unknown.length > 0 ? `unexpected inputs ${unknown.join(', ')}` : '') +
        ` (it has inputs ${session.inputNames.join(', ')}; outputs ${session.outputNames.join(', ')}). ` +
        'Export it with Optimum (task text-generation-with-past) or models/training\'s export script.',
    );
  }
  const meta = session.inputMetadata.find((m) => m.name === 'past_key_values.0.key');
  let kvHeads = 0;
  let headDim = 0;
  let kvType: KvType = 'float32';
  if (meta?.isTensor) {
    const [, heads, , dim] = meta.shape;
    if (typeof heads === 'number') kvHeads = heads;
    if (typeof dim === 'number') headDim = dim;
    if (meta.type === 'float16') kvType = 'float16';
    else if (meta.type !== 'float32') throw new EngineError('model-incompatible', `${file}: KV cache type ${meta.type} is not supported (float32 or float16)`);
  }
  if (kvHeads === 0 || headDim === 0) {
    throw new EngineError('model-incompatible', `${file}: past_key_values.0.key must have a fixed number of heads and head size ([batch, heads, past, head_dim])`);
  }
  const logits = session.outputMetadata.find((m) => m.name === 'logits');
  const width = logits?.isTensor ? logits.shape[logits.shape.length - 1] : undefined;
  return { layers, kvHeads, headDim, kvType, hasPositionIds: inputs.has('position_ids'), ...(typeof width === 'number' ? { vocabSize: width } : {}) };
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/**
 * The last position's logits as float32. Graphs that project every position (Optimum's exports)
 * return [1, T, V]; models/training/export.py's return [1, 1, V]: either way the last row is wanted.
 * The binding hands back a fresh copy, so a single float32 row is used in place; a row out of a
 * larger block is copied, so the block is not kept alive.
 */
export function lastRowLogits(data: Float32Array | Uint16Array, dims: readonly number[]): Float32Array {
  const rows = dims[1] as number;
  const vocab = dims[2] as number;
  const last = data.subarray((rows - 1) * vocab, rows * vocab);
  if (!(last instanceof Float32Array)) return Float32Array.from(last, halfToFloat);
  return rows === 1 ? last : new Float32Array(last);
}

/**
 * Every row of a short step's logits as float32, oldest first: views into the binding's fresh copy
 * (float16 rows are converted). Longer steps (a prompt's prefill) give the last row only, as
 * lastRowLogits, so a large block of logits nobody reads is not kept alive.
 */
export function logitRows(data: Float32Array | Uint16Array, dims: readonly number[]): Float32Array[] {
  const rows = dims[1] as number;
  const vocab = dims[2] as number;
  if (rows <= 1 || rows > SHORT_STEP_TOKENS) return [lastRowLogits(data, dims)];
  return Array.from({ length: rows }, (_, r) => {
    const row = data.subarray(r * vocab, (r + 1) * vocab);
    return row instanceof Float32Array ? row : Float32Array.from(row, halfToFloat);
  });
}

/** ORT says this when the file is not a readable ONNX model (truncated, corrupt, not ONNX). */
export function isCorruptModelError(error: unknown): boolean {
  return /protobuf parsing failed|invalid_protobuf|failed to load model|model_path|no graph was found|unexpected end|Load model from .* failed/i.test(errorMessage(error));
}

/**
 * Steps of at most this many tokens (decoding, and the few new tokens of a prompt while typing) run
 * on a one-thread session when the CPU session has more threads. Such a step is hundreds of small
 * operators of a few microseconds each; handing each to a second thread that sleeps between
 * operators (no spinning, see shared/devices/providers.ts) costs more than it saves. Measured on the 2-core
 * machine, int8, one session against the other in turns: a decode step at 400 positions 2.3-2.5
 * against 2.7-2.8 ms, 8 tokens 3.6-3.8 against 4.4-4.6 ms; at 64 tokens the two are even and a
 * 376-token prefill takes 65 ms on one thread against 47 ms on two.
 */
export const SHORT_STEP_TOKENS = 32;

export class Decoder {
  private constructor(
    private readonly session: InferenceSession,
    readonly shape: GraphShape,
    readonly provider: ProviderName,
    readonly attempts: ProviderAttempt[],
    readonly file: string,
    /** One-thread session on the same file for short steps (CPU with several threads only). */
    private readonly shortSession: InferenceSession | null = null,
  ) {}

  /**
   * Opens `file` on exactly one provider. A file ONNX Runtime cannot parse becomes an EngineError
   * ('model-invalid'); a provider that cannot start rethrows ONNX Runtime's error, for the caller's
   * fallback loop (shared/devices/providers.ts) to record.
   */
  static async openOn(file: string, provider: ProviderName, attempts: ProviderAttempt[] = []): Promise<Decoder> {
    let session: InferenceSession;
    // ONNX Runtime prints each failed provider load to stderr; Kestrel reports them itself.
    ort.env.logLevel = 'fatal';
    try {
      session = await ort.InferenceSession.create(file, sessionOptions(provider));
    } catch (error) {
      if (isCorruptModelError(error)) {
        throw new EngineError(
          'model-invalid',
          `ONNX Runtime could not read ${file}: the file is truncated or corrupt (${shortReason(errorMessage(error))}). Copy the model folder again.`,
        );
      }
      throw error;
    }
    let shape: GraphShape;
    let shortSession: InferenceSession | null = null;
    try {
      shape = inspectGraph(session, file);
      if (provider === 'cpu' && threadCount() > 1) shortSession = await ort.InferenceSession.create(file, sessionOptions(provider, 1));
    } catch (error) {
      await session.release();
      throw error;
    }
    return new Decoder(session, shape, provider, attempts, file, shortSession);
  }

  /** Runs `ids` once through each session, so the first request does not pay ONNX Runtime's lazy set-up. */
  async warmUp(ids: readonly number[]): Promise<void> {
    for (const session of [this.session, this.shortSession]) {
      if (session) await this.run(session, ids, this.emptyCache());
    }
  }

  emptyCache(): KvCache {
    const { layers, kvHeads, headDim, kvType } = this.shape;
    const tensors: Tensor[] = [];
    for (let i = 0; i < layers * 2; i++) {
      const data = kvType === 'float16' ? new Uint16Array(0) : new Float32Array(0);
      tensors.push(new ort.Tensor(kvType, data, [1, kvHeads, 0, headDim]));
    }
    return { length: 0, tensors };
  }

  /**
   * Keeps the first `n` positions of the sequence a cache holds, leaving its stale positions out
   * (copies: ORT tensors are contiguous [1, heads, len, dim]).
   */
  truncate(cache: KvCache, n: number): KvCache {
    const stale = cache.stale ?? [];
    if (n >= cache.length && stale.length === 0) return cache;
    // the cache positions to copy, as runs [from, to) between stale positions
    const runs: Array<[number, number]> = [];
    let left = Math.min(n, sequenceLength(cache));
    let at = 0;
    for (const end of [...stale, cache.length]) {
      const take = Math.min(end - at, left);
      if (take > 0) runs.push([at, at + take]);
      left -= take;
      at = end + 1;
      if (left === 0) break;
    }
    const kept = runs.reduce((sum, [from, to]) => sum + to - from, 0);
    if (kept === 0) return this.emptyCache();
    const { kvHeads, headDim, kvType } = this.shape;
    const tensors = cache.tensors.map((t) => {
      const src = t.data as Float32Array | Uint16Array;
      const dst = kvType === 'float16' ? new Uint16Array(kvHeads * kept * headDim) : new Float32Array(kvHeads * kept * headDim);
      for (let h = 0; h < kvHeads; h++) {
        let to = h * kept * headDim;
        for (const [from, end] of runs) {
          const base = (h * cache.length + from) * headDim;
          dst.set(src.subarray(base, base + (end - from) * headDim), to);
          to += (end - from) * headDim;
        }
      }
      return new ort.Tensor(kvType, dst, [1, kvHeads, kept, headDim]);
    });
    return { length: kept, tensors };
  }

  /**
   * Forgets the positions from `keep` on. A graph that takes position ids keeps them as stale
   * positions (no copy: the next step masks them); one without position ids places every token by
   * its index in the cache, so the cache is cut (a copy).
   */
  discard(cache: KvCache, keep: number): KvCache {
    if (keep >= cache.length) return cache;
    if (!this.shape.hasPositionIds) return this.truncate(cache, keep);
    const stale = (cache.stale ?? []).filter((position) => position < keep);
    for (let position = keep; position < cache.length; position++) stale.push(position);
    return { ...cache, stale };
  }

  /** Runs `ids` after the cached positions; returns their logits (see StepResult) and the grown cache. */
  step(ids: readonly number[], cache: KvCache): Promise<StepResult> {
    return this.run(this.shortSession && ids.length <= SHORT_STEP_TOKENS ? this.shortSession : this.session, ids, cache);
  }

  private async run(session: InferenceSession, ids: readonly number[], cache: KvCache): Promise<StepResult> {
    const T = ids.length;
    const total = cache.length + T;
    const mask = new BigInt64Array(total).fill(1n);
    for (const position of cache.stale ?? []) mask[position] = 0n;
    const feeds: Record<string, Tensor> = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, (id) => BigInt(id)), [1, T]),
      attention_mask: new ort.Tensor('int64', mask, [1, total]),
    };
    if (this.shape.hasPositionIds) {
      const first = sequenceLength(cache);
      const positions = new BigInt64Array(T);
      for (let i = 0; i < T; i++) positions[i] = BigInt(first + i);
      feeds['position_ids'] = new ort.Tensor('int64', positions, [1, T]);
    }
    for (let i = 0; i < this.shape.layers; i++) {
      feeds[`past_key_values.${i}.key`] = cache.tensors[2 * i] as Tensor;
      feeds[`past_key_values.${i}.value`] = cache.tensors[2 * i + 1] as Tensor;
    }
    const out = await session.run(feeds);
    const logits = out['logits'] as Tensor;
    const rows = logitRows(logits.data as Float32Array | Uint16Array, logits.dims);
    const tensors: Tensor[] = [];
    for (let i = 0; i < this.shape.layers; i++) {
      tensors.push(out[`present.${i}.key`] as Tensor, out[`present.${i}.value`] as Tensor);
    }
    const grown: KvCache = cache.stale && cache.stale.length > 0 ? { length: total, tensors, stale: cache.stale } : { length: total, tensors };
    return { logits: rows[rows.length - 1] as Float32Array, rows, cache: grown };
  }

  async release(): Promise<void> {
    await this.session.release();
    await this.shortSession?.release();
  }
}
