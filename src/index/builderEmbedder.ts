/**
 * The embedding model as the index thread sees it: the builder thread's session, reached by
 * messages. The worker keeps a single embedding session (in the builder thread, which embeds the
 * index's code); search's queries and Find Similar Code's selections are embedded there too, a call
 * of a few milliseconds between the builder's own, instead of by a second copy of the model.
 */
import type { EmbedKind, SearchEmbedder } from './embedder';
import type { FusionWeights } from './fusion';
import type { BuilderMethods, EmbedderInfo } from './threadProtocol';

/** The part of the builder thread's client this needs. */
export interface BuilderCaller {
  call<M extends keyof BuilderMethods>(method: M, args: BuilderMethods[M]['args']): Promise<BuilderMethods[M]['result']>;
}

export class BuilderEmbedder implements SearchEmbedder {
  readonly id: string;
  readonly dimension: number;
  readonly fusion?: FusionWeights;
  readonly minVectorSimilarity?: number;

  constructor(readonly info: EmbedderInfo, private readonly builder: BuilderCaller) {
    this.id = info.id;
    this.dimension = info.dimension;
    if (info.fusion) this.fusion = info.fusion;
    if (info.minVectorSimilarity !== undefined) this.minVectorSimilarity = info.minVectorSimilarity;
  }

  embed(texts: string[], kind: EmbedKind): Promise<Float32Array[]> {
    return this.builder.call('embed', { texts, kind });
  }
}
