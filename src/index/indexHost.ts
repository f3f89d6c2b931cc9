/**
 * Everything the worker's index does, behind one message-shaped interface: one WorkspaceIndex per
 * workspace folder (by key), with the embedding model for queries. The index thread (indexThread.ts)
 * runs one host; nothing here knows which thread it is in. The host owns the databases alone
 * (node-sqlite3-wasm connections in two threads on one file are not safe), so search comes here too.
 *
 * Chunking and embedding code, the CPU-heavy part of indexing, go to the builder thread, which runs
 * at the lowest priority; this thread keeps its normal priority for BM25, the vector scan and the
 * database. The embedding model is loaded once, in the builder: queries are embedded there too
 * (BuilderEmbedder). A second session here cost the worker ~55 MB of RSS (session, arena and
 * tokenizer; `npm run bench:memory`), and a query is one short text, a few milliseconds between the
 * builder's calls; on a machine whose cores are saturated by other programs at normal priority, the
 * query's embedding waits for the builder's turn.
 */
import { BuilderEmbedder } from './builderEmbedder';
import { openEmbeddingSessions } from './onnxEmbedder';
import type { BuilderMethods, EmbedderLoad, HostArgs, HostEvent, HostMethod, HostMethods, HostResult, LogEvent } from './threadProtocol';
import { ThreadClient } from './threadRpc';
import { WorkspaceIndex } from './workspaceIndex';

export interface IndexHostOptions {
  /** Awaited between indexing steps: where indexing pauses for foreground work. */
  yieldToOthers: () => Promise<void>;
  /** Chunks per embedding call. */
  embedBatch: number;
  /** The builder thread's bundle. */
  builderFile: string;
  /** Run the builder thread at the lowest CPU priority (Linux). */
  lowerPriority: boolean;
  emit: (event: HostEvent) => void;
  /** The builder thread stopped by itself: the host cannot index any more. */
  onBuilderExit: (reason: string) => void;
}

type Handlers = { [M in HostMethod]: (args: HostArgs<M>, signal: AbortSignal) => Promise<HostResult<M>> };
type Builder = ThreadClient<BuilderMethods, LogEvent>;

export class IndexHost {
  /** Embeds queries (and the code of "Find Similar Code") with the builder thread's session. */
  private embedder: BuilderEmbedder | null = null;
  private embedderDir: string | undefined;
  private builder: Promise<Builder> | undefined;
  private readonly indexes = new Map<string, WorkspaceIndex>();
  private readonly handlers: Handlers;

  constructor(private readonly options: IndexHostOptions) {
    this.handlers = {
      loadEmbedder: ({ dir, device }) => this.loadEmbedder(dir, device),
      open: async ({ key, storageFolder, walk }) => {
        this.indexes.get(key)?.close();
        this.indexes.delete(key);
        const builder = await this.startBuilder();
        const embedder = this.embedder;
        const index = await WorkspaceIndex.open({
          storageFolder,
          walk,
          embedder,
          indexing: {
            chunker: { chunk: (text, language) => builder.call('chunk', { text, language }) },
            embedder,
          },
          yieldToOthers: this.options.yieldToOthers,
          embedBatch: this.options.embedBatch,
          // Batching files only helps embedding calls of several chunks (sorted by length, less
          // padding); without it, progress and a cancellation move file by file.
          ...(this.options.embedBatch === 1 ? { batchFiles: 1 } : {}),
          onProgress: (progress) => this.options.emit({ type: 'progress', key, progress }),
          onRebuild: (reason) => this.options.emit({ type: 'rebuilt', key, reason }),
        });
        this.indexes.set(key, index);
        return null;
      },
      update: ({ key }, signal) => this.index(key).update(signal),
      rebuild: ({ key }, signal) => this.index(key).rebuild(signal),
      updateFile: ({ key, path }, signal) => this.index(key).updateFile(path, signal),
      removeFile: async ({ key, path }) => {
        this.index(key).removeFile(path);
        return null;
      },
      search: ({ key, query, options }) => this.index(key).search(query, options),
      similar: ({ key, code, options }) => this.index(key).similar(code, options),
      status: async ({ key }) => this.index(key).status(),
      skipped: async ({ key, limit }) => this.index(key).skipped(limit),
      close: async ({ key }) => {
        const index = this.indexes.get(key);
        this.indexes.delete(key);
        index?.close();
        return null;
      },
      dispose: async () => {
        for (const index of this.indexes.values()) {
          try { index.close(); } catch { /* closing what is left matters more */ }
        }
        this.indexes.clear();
        this.embedder = null;
        this.embedderDir = undefined;
        const builder = this.builder;
        this.builder = undefined;
        await (await builder?.catch(() => undefined))?.terminate();
        return null;
      },
      embeddingSessions: async () => {
        const builder = await this.builder?.catch(() => undefined);
        return { indexThread: openEmbeddingSessions(), builderThread: builder ? await builder.call('embeddingSessions', {}) : 0 };
      },
    };
  }

  /** Runs one call; `signal` cancels the long ones (update, rebuild, updateFile). */
  async handle<M extends HostMethod>(method: M, args: HostArgs<M>, signal: AbortSignal): Promise<HostResult<M>> {
    const handler = this.handlers[method] as ((args: HostMethods[M]['args'], signal: AbortSignal) => Promise<HostResult<M>>) | undefined;
    if (!handler) throw new Error(`the index thread has no method "${String(method)}"`);
    return await handler(args, signal);
  }

  /** Loads the model in the builder thread, which embeds both code and queries. */
  private async loadEmbedder(dir: string, device: HostArgs<'loadEmbedder'>['device']): Promise<EmbedderLoad> {
    if (this.embedder && this.embedderDir === dir) return { loaded: this.embedder.info };
    const builder = await this.startBuilder();
    const built = await builder.call('load', { dir, device });
    if (!built) return { failed: 'the builder thread loaded no model' };
    if ('failed' in built) return built;
    this.embedder = new BuilderEmbedder(built.loaded, builder);
    this.embedderDir = dir;
    return built;
  }

  private startBuilder(): Promise<Builder> {
    this.builder ??= ThreadClient.start<BuilderMethods, LogEvent>({
      file: this.options.builderFile,
      data: { lowerPriority: this.options.lowerPriority },
      label: 'the index builder thread',
      onEvent: (event) => this.options.emit(event),
      onOutput: (level, message) => this.options.emit({ type: 'log', level, message }),
      onExit: (reason) => this.options.onBuilderExit(reason),
    });
    return this.builder;
  }

  private index(key: string): WorkspaceIndex {
    const index = this.indexes.get(key);
    if (!index) throw new Error(`no index is open for ${key}`);
    return index;
  }
}
