/**
 * What the index needs from an embedding model. The worker plugs in the ONNX model
 * (onnxEmbedder.ts); the index also runs without one, on BM25 alone.
 */

export type EmbedKind = 'query' | 'code';

export interface Embedder {
  /** Model id and variant: when it changes, every stored vector is stale and the index is rebuilt. */
  readonly id: string;
  /** Length of each vector. */
  readonly dimension: number;
  /** Most tokens of one code text the model sees; chunks are cut to fit. */
  readonly maxCodeTokens: number;
  /** Tokens the model would see for a code text (for the chunker's budget). */
  countTokens(text: string): number;
  /** One L2-normalised vector per text, in order. */
  embed(texts: string[], kind: EmbedKind): Promise<Float32Array[]>;
}
