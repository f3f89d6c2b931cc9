/**
 * What the index needs from an embedding model. The worker plugs in the ONNX model
 * (onnxEmbedder.ts); the index also runs without one, on BM25 alone.
 */

import type { FusionWeights } from './fusion';

export type EmbedKind = 'query' | 'code';

/** What search and the store need of the model: its identity, its fusion weights and its vectors. */
export interface SearchEmbedder {
  /** Model id and variant: when it changes, every stored vector is stale and the index is rebuilt. */
  readonly id: string;
  /** Length of each vector. */
  readonly dimension: number;
  /** How search weighs this model's vectors against BM25 (tuned with the model); absent: UNTUNED_FUSION. */
  readonly fusion?: FusionWeights;
  /** Cosine a chunk only the vectors found needs to be shown (search's relevance floor); absent: search's default. */
  readonly minVectorSimilarity?: number;
  /** One L2-normalised vector per text, in order. */
  embed(texts: string[], kind: EmbedKind): Promise<Float32Array[]>;
}

/** The model as the chunker also needs it: its token budget and count. */
export interface Embedder extends SearchEmbedder {
  /** Most tokens of one code text the model sees; chunks are cut to fit. */
  readonly maxCodeTokens: number;
  /** Tokens the model would see for a code text (for the chunker's budget). */
  countTokens(text: string): number;
}
