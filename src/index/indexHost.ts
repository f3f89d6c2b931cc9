/**
 * Everything the worker's index does, behind one message-shaped interface: one WorkspaceIndex per
 * workspace folder (by key), with the embedding model for queries. The index thread (indexThread.ts)
 * runs one host; nothing here knows which thread it is in. The host owns the databases alone
 * (node-sqlite3-wasm connections in two threads on one file are not safe), so search comes here too.
 *
 * Chunking and embedding code, the CPU-heavy part of indexing, go to the builder thread, which runs
 * at the lowest priority; this thread keeps its normal priority, so a search is answered as fast as
 * before even while indexing runs on a busy machine. It therefore loads the model twice: once here
 * for queries, once in the builder for code.
 */
import { errorMessage } from '../shared/errors/errors';
import { inspectModelDir } from '../shared/models/registry';
import { describeEmbedder } from './builder';
import { OnnxEmbedder } from './onnxEmbedder';
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
  /** Embeds queries (and the code of "Find Similar Code"), here at normal priority. */
  private embedder: OnnxEmbedder | null = null;
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
            embedder: embedder ? { dimension: embedder.dimension, embed: (texts) => builder.call('embed', { texts }) } : null,
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
        await this.embedder?.dispose();
        this.embedder = null;
        this.embedderDir = undefined;
        const builder = this.builder;
        this.builder = undefined;
        await (await builder?.catch(() => undefined))?.terminate();
        return null;
      },
    };
  }

  /** Runs one call; `signal` cancels the long ones (update, rebuild, updateFile). */
  async handle<M extends HostMethod>(method: M, args: HostArgs<M>, signal: AbortSignal): Promise<HostResult<M>> {
    const handler = this.handlers[method] as ((args: HostMethods[M]['args'], signal: AbortSignal) => Promise<HostResult<M>>) | undefined;
    if (!handler) throw new Error(`the index thread has no method "${String(method)}"`);
    return await handler(args, signal);
  }

  /** Loads the model here (queries) and in the builder (code); both or neither. */
  private async loadEmbedder(dir: string, device: HostArgs<'loadEmbedder'>['device']): Promise<EmbedderLoad> {
    if (this.embedder && this.embedderDir === dir) return { loaded: describeEmbedder(this.embedder) };
    let embedder: OnnxEmbedder;
    try {
      // One CPU thread: a query is a single short text.
      embedder = await OnnxEmbedder.load(inspectModelDir(dir), device, { threads: 1 });
    } catch (error) {
      return { failed: errorMessage(error) };
    }
    const built = await (await this.startBuilder()).call('load', { dir, device });
    const problem = !built ? 'the builder thread loaded no model'
      : 'failed' in built ? built.failed
        : built.loaded.id !== embedder.id ? `the builder thread loaded ${built.loaded.id}, this thread ${embedder.id}` : undefined;
    if (problem) {
      await embedder.dispose();
      return { failed: problem };
    }
    await this.embedder?.dispose();
    this.embedder = embedder;
    this.embedderDir = dir;
    return { loaded: describeEmbedder(embedder) };
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
