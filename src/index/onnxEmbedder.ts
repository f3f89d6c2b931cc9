/**
 * The embedding model behind semantic search: an ONNX graph with inputs `input_ids`,
 * `attention_mask` and output `embeddings` [batch, dim] (L2-normalised), with the tokenizer.json
 * and kestrel.json of its folder (DESIGN.md, "Model contract"). The query or code prefix is a
 * special token of tokenizer.json: the text is encoded as prefix + text without other specials,
 * truncated to the side's max tokens (prefix included) and padded with `padId` and mask 0.
 *
 * Sessions open through the engine's provider fallback. The index embeds in the background, so the
 * session uses one CPU thread by default: completions keep the other cores.
 */
import * as ort from 'onnxruntime-node';
import type { InferenceSession } from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import type { DeviceSetting } from '../shared/devices/deviceSetting';
import { EngineError } from '../shared/errors/errors';
import type { ModelManifest, VariantName } from '../shared/models/manifest';
import { chooseVariant, isUsable, verifyVariantFile, type ModelEntry, type VariantStatus } from '../shared/models/registry';
import { describeAttempts, openWithFallback, sessionOptions, type ProviderAttempt } from '../shared/devices/providers';
import type { EmbedKind, Embedder } from './embedder';
import { fusionProblems, type FusionWeights } from './fusion';

export interface EmbeddingSpec {
  dimension: number;
  queryPrefix: string;
  codePrefix: string;
  queryMaxTokens: number;
  codeMaxTokens: number;
  padId: number;
  /** `embedding.fusion`: the search fusion tuned for this model, when recorded. */
  fusion?: FusionWeights;
  /** `embedding.minVectorSimilarity`: search's relevance floor for this model's cosines, when recorded. */
  minVectorSimilarity?: number;
}

/** The `embedding` section of kestrel.json; throws an EngineError naming what is missing. */
export function readEmbeddingSpec(manifest: ModelManifest): EmbeddingSpec {
  const section = manifest.raw['embedding'];
  const problems: string[] = [];
  const record = typeof section === 'object' && section !== null ? (section as Record<string, unknown>) : {};
  if (section === undefined) problems.push('"embedding" section is missing');
  const number = (key: string, fallback?: number): number => {
    const value = record[key] ?? fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      problems.push(`"embedding.${key}" must be a whole number`);
      return 0;
    }
    return value;
  };
  const string = (key: string): string => {
    const value = record[key];
    if (typeof value !== 'string' || value === '') {
      problems.push(`"embedding.${key}" must name the prefix token`);
      return '';
    }
    return value;
  };
  const spec: EmbeddingSpec = {
    dimension: number('dimension'),
    queryPrefix: string('queryPrefix'),
    codePrefix: string('codePrefix'),
    queryMaxTokens: number('queryMaxTokens', 64),
    codeMaxTokens: number('codeMaxTokens', 256),
    padId: number('padId', 0),
  };
  const floor = record['minVectorSimilarity'];
  if (floor !== undefined) {
    if (typeof floor !== 'number' || !(floor >= -1 && floor <= 1)) problems.push('"embedding.minVectorSimilarity" must be a cosine between -1 and 1');
    else spec.minVectorSimilarity = floor;
  }
  if (record['fusion'] !== undefined) {
    const fusionErrors = fusionProblems(record['fusion']);
    problems.push(...fusionErrors);
    if (fusionErrors.length === 0) {
      const { bm25, vector, k } = record['fusion'] as FusionWeights;
      spec.fusion = { bm25, vector, k };
    }
  }
  if (problems.length > 0) throw new EngineError('model-invalid', `kestrel.json of "${manifest.id}": ${problems.join('; ')}`);
  return spec;
}

/** Sessions of this module (so of this thread) loaded and not yet disposed. */
let liveSessions = 0;

/** ONNX Runtime embedding sessions open in this thread: the worker keeps one (see indexHost.ts). */
export function openEmbeddingSessions(): number {
  return liveSessions;
}

/** Most recent encodings kept: the chunker counts a chunk's tokens just before it is embedded. */
const ENCODING_CACHE = 512;

export interface OnnxEmbedderOptions {
  /** CPU threads for the session (default 1: indexing stays in the background). */
  threads?: number;
  variant?: VariantName;
}

export class OnnxEmbedder implements Embedder {
  readonly id: string;
  readonly dimension: number;
  readonly maxCodeTokens: number;
  readonly fusion?: FusionWeights;
  readonly minVectorSimilarity?: number;
  private readonly prefixIds: Record<EmbedKind, number>;
  private readonly maxTokens: Record<EmbedKind, number>;
  private readonly encodings = new Map<string, number[]>();
  private disposed = false;

  private constructor(
    readonly entry: ModelEntry & { manifest: ModelManifest },
    readonly variant: VariantStatus,
    readonly provider: string,
    readonly attempts: ProviderAttempt[],
    private readonly session: InferenceSession,
    private readonly tokenizer: Tokenizer,
    readonly spec: EmbeddingSpec,
  ) {
    this.id = `${entry.manifest.id}/${variant.name}`;
    this.dimension = spec.dimension;
    this.maxCodeTokens = spec.codeMaxTokens;
    if (spec.fusion) this.fusion = spec.fusion;
    if (spec.minVectorSimilarity !== undefined) this.minVectorSimilarity = spec.minVectorSimilarity;
    const prefixId = (token: string): number => {
      const id = tokenizer.token_to_id(token);
      if (id === undefined) throw new EngineError('model-incompatible', `tokenizer.json of "${entry.id}" has no token ${JSON.stringify(token)} (kestrel.json's embedding prefix)`);
      return id;
    };
    this.prefixIds = { query: prefixId(spec.queryPrefix), code: prefixId(spec.codePrefix) };
    this.maxTokens = { query: spec.queryMaxTokens, code: spec.codeMaxTokens };
  }

  /** Loads a model folder found by the registry (scanModels / inspectModelDir). */
  static async load(entry: ModelEntry, device: DeviceSetting, options: OnnxEmbedderOptions = {}): Promise<OnnxEmbedder> {
    // What kestrel.json says is checked first: it is the more useful message.
    if (entry.manifest && entry.manifest.kind !== 'embedding') {
      throw new EngineError('model-incompatible', `Model "${entry.id}" is a ${entry.manifest.kind} model, not an embedding model`);
    }
    const spec = entry.manifest ? readEmbeddingSpec(entry.manifest) : undefined;
    if (!isUsable(entry) || !spec) throw new EngineError('model-invalid', `Model "${entry.id}" (${entry.dir}) cannot be used: ${entry.problems.join('; ')}`);
    const tokenizerPath = resolve(entry.dir, entry.manifest.tokenizer);
    let tokenizer: Tokenizer;
    try {
      tokenizer = new Tokenizer(JSON.parse(readFileSync(tokenizerPath, 'utf8')) as object, {});
    } catch (error) {
      throw new EngineError('model-invalid', `${tokenizerPath} is not a readable tokenizer.json (${error instanceof Error ? error.message : String(error)})`);
    }
    // ONNX Runtime logs failed provider loads itself; the fallback reports them (as the engine does).
    ort.env.logLevel = 'fatal';
    const chosen = new Map<string, VariantStatus>();
    const opened = await openWithFallback(
      device,
      async (provider) => {
        const variant = chooseVariant(entry, provider, options.variant);
        if (!variant) throw new Error(`no variant of "${entry.id}" suits this provider`);
        chosen.set(provider, variant);
        const problem = verifyVariantFile(variant);
        if (problem) throw new EngineError('model-invalid', `Model "${entry.id}" (${entry.dir}) cannot be used: ${problem}`);
        const session = await ort.InferenceSession.create(variant.path, { ...sessionOptions(provider), intraOpNumThreads: options.threads ?? 1 });
        checkGraph(session, variant.path);
        return session;
      },
      (error) => error instanceof EngineError,
    );
    liveSessions++;
    return new OnnxEmbedder(entry, chosen.get(opened.provider) as VariantStatus, opened.provider, opened.attempts, opened.session, tokenizer, spec);
  }

  /** "cpu", or "cpu (cuda: ...)" when faster providers failed. */
  get providerSummary(): string {
    return describeAttempts(this.provider, this.attempts);
  }

  countTokens(text: string): number {
    return this.encode(text).length + 1;
  }

  /** Token ids the model sees for a text: prefix, then the text, cut to the side's budget. */
  tokenRow(text: string, kind: EmbedKind): number[] {
    return [this.prefixIds[kind], ...this.encode(text).slice(0, this.maxTokens[kind] - 1)];
  }

  async embed(texts: string[], kind: EmbedKind): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const rows = texts.map((t) => this.tokenRow(t, kind));
    const width = Math.max(...rows.map((r) => r.length));
    const ids = new BigInt64Array(rows.length * width).fill(BigInt(this.spec.padId));
    const mask = new BigInt64Array(rows.length * width);
    rows.forEach((row, b) => row.forEach((id, t) => {
      ids[b * width + t] = BigInt(id);
      mask[b * width + t] = 1n;
    }));
    const output = await this.session.run({
      input_ids: new ort.Tensor('int64', ids, [rows.length, width]),
      attention_mask: new ort.Tensor('int64', mask, [rows.length, width]),
    });
    const embeddings = output['embeddings'] as ort.Tensor;
    const data = embeddings.data as Float32Array;
    const dim = embeddings.dims[1] as number;
    if (dim !== this.dimension) throw new EngineError('model-incompatible', `"${this.entry.id}" returned ${dim}-dimension vectors; kestrel.json says ${this.dimension}`);
    return rows.map((_, b) => normalise(data.slice(b * dim, (b + 1) * dim)));
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    liveSessions--;
    await this.session.release();
  }

  private encode(text: string): number[] {
    let ids = this.encodings.get(text);
    if (!ids) {
      ids = this.tokenizer.encode(text, { add_special_tokens: false }).ids;
      if (this.encodings.size >= ENCODING_CACHE) this.encodings.delete(this.encodings.keys().next().value as string);
      this.encodings.set(text, ids);
    }
    return ids;
  }
}

function checkGraph(session: InferenceSession, file: string): void {
  const missing = ['input_ids', 'attention_mask'].filter((n) => !session.inputNames.includes(n));
  if (!session.outputNames.includes('embeddings')) missing.push('embeddings (output)');
  if (missing.length > 0) {
    throw new EngineError('model-incompatible', `${file} is not an embedding model in Kestrel's layout: missing ${missing.join(', ')} (inputs ${session.inputNames.join(', ')}; outputs ${session.outputNames.join(', ')})`);
  }
}

/** The graph normalises already; again here so that a brought model that does not still ranks by cosine. */
function normalise(vector: Float32Array): Float32Array {
  let norm = 0;
  for (const x of vector) norm += x * x;
  if (norm === 0) return vector;
  const inv = 1 / Math.sqrt(norm);
  for (let i = 0; i < vector.length; i++) vector[i] = (vector[i] as number) * inv;
  return vector;
}
