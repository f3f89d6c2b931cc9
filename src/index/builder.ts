/**
 * The CPU-heavy part of indexing, behind a message-shaped interface: chunking a file's text
 * (tree-sitter, and the embedder's tokenizer for the token budget) and embedding chunks. The builder
 * thread (builderThread.ts) runs one at the lowest CPU priority; nothing here knows which thread it
 * is in. It keeps no index state: the index thread decides what to chunk and embed, and stores it.
 * Its embedding session is the worker's only one: the index thread sends its queries here too
 * (a session holds ~35 MB and its tokenizer ~20 MB per thread; see indexHost.ts).
 */
import { errorMessage } from '../shared/errors/errors';
import { inspectModelDir } from '../shared/models/registry';
import { chunkerFor, type Chunker } from './chunker';
import { GrammarLoader } from '../shared/grammars/grammars';
import { OnnxEmbedder, openEmbeddingSessions } from './onnxEmbedder';
import type { BuilderMethods, EmbedderInfo } from './threadProtocol';

type Handlers = { [M in keyof BuilderMethods]: (args: BuilderMethods[M]['args']) => Promise<BuilderMethods[M]['result']> };

export class IndexBuilder {
  private readonly grammars = new GrammarLoader();
  private embedder: OnnxEmbedder | null = null;
  private dir: string | null = null;
  private chunker: Chunker = chunkerFor(null, this.grammars);
  private readonly handlers: Handlers = {
    load: async ({ dir, device }) => {
      if (dir === this.dir) return this.embedder ? { loaded: describeEmbedder(this.embedder) } : null;
      let embedder: OnnxEmbedder | null = null;
      if (dir !== null) {
        try {
          // One CPU thread: indexing stays in the background, completions keep the other cores.
          embedder = await OnnxEmbedder.load(inspectModelDir(dir), device, { threads: 1 });
        } catch (error) {
          return { failed: errorMessage(error) };
        }
      }
      await this.embedder?.dispose();
      this.chunker.dispose();
      this.embedder = embedder;
      this.dir = dir;
      this.chunker = chunkerFor(embedder, this.grammars);
      return embedder ? { loaded: describeEmbedder(embedder) } : null;
    },
    chunk: ({ text, language }) => this.chunker.chunk(text, language),
    embed: async ({ texts, kind }) => {
      if (!this.embedder) throw new Error('the index builder has no embedding model loaded');
      return this.embedder.embed(texts, kind);
    },
    embeddingSessions: async () => openEmbeddingSessions(),
  };

  async handle<M extends keyof BuilderMethods>(method: M, args: BuilderMethods[M]['args']): Promise<BuilderMethods[M]['result']> {
    const handler = this.handlers[method] as ((args: BuilderMethods[M]['args']) => Promise<BuilderMethods[M]['result']>) | undefined;
    if (!handler) throw new Error(`the index builder has no method "${String(method)}"`);
    return await handler(args);
  }
}

export function describeEmbedder(embedder: OnnxEmbedder): EmbedderInfo {
  return {
    id: embedder.id,
    modelId: embedder.entry.manifest.id,
    variant: embedder.variant.name,
    provider: embedder.provider,
    providerSummary: embedder.providerSummary,
    dimension: embedder.dimension,
    ...(embedder.fusion ? { fusion: embedder.fusion } : {}),
    ...(embedder.minVectorSimilarity !== undefined ? { minVectorSimilarity: embedder.minVectorSimilarity } : {}),
  };
}
