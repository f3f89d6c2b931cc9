/**
 * Everything the worker's index does, behind one message-shaped interface: the embedder, and one
 * WorkspaceIndex per workspace folder (by key). The index thread (indexThread.ts) runs one host and
 * forwards calls to it; nothing here knows which thread it is in, so tests can run it in-process.
 * The host is the only owner of its databases: node-sqlite3-wasm connections in two threads on one
 * file are not safe, so search goes through the host too.
 */
import { errorMessage } from '../engine/errors';
import { inspectModelDir } from '../engine/registry/registry';
import { GrammarLoader } from './grammars';
import { OnnxEmbedder } from './onnxEmbedder';
import type { EmbedderInfo, HostArgs, HostEvent, HostMethod, HostMethods, HostResult } from './threadProtocol';
import { WorkspaceIndex } from './workspaceIndex';

export interface IndexHostOptions {
  /** Awaited between indexing steps: where indexing pauses for foreground work. */
  yieldToOthers: () => Promise<void>;
  /** Chunks per embedding call. */
  embedBatch: number;
  emit: (event: HostEvent) => void;
}

type Handlers = { [M in HostMethod]: (args: HostArgs<M>, signal: AbortSignal) => Promise<HostResult<M>> };

export class IndexHost {
  private embedder: OnnxEmbedder | null = null;
  private embedderDir: string | undefined;
  private readonly grammars = new GrammarLoader();
  private readonly indexes = new Map<string, WorkspaceIndex>();
  private readonly handlers: Handlers;

  constructor(private readonly options: IndexHostOptions) {
    this.handlers = {
      loadEmbedder: async ({ dir, device }) => {
        if (this.embedder && this.embedderDir === dir) return { loaded: this.describeEmbedder(this.embedder) };
        try {
          // One CPU thread: indexing stays in the background, completions keep the other cores.
          const embedder = await OnnxEmbedder.load(inspectModelDir(dir), device, { threads: 1 });
          await this.embedder?.dispose();
          this.embedder = embedder;
          this.embedderDir = dir;
          return { loaded: this.describeEmbedder(embedder) };
        } catch (error) {
          return { failed: errorMessage(error) };
        }
      },
      open: async ({ key, storageFolder, walk }) => {
        this.indexes.get(key)?.close();
        this.indexes.delete(key);
        const index = await WorkspaceIndex.open({
          storageFolder,
          walk,
          embedder: this.embedder,
          grammars: this.grammars,
          yieldToOthers: this.options.yieldToOthers,
          embedBatch: this.options.embedBatch,
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

  private index(key: string): WorkspaceIndex {
    const index = this.indexes.get(key);
    if (!index) throw new Error(`no index is open for ${key}`);
    return index;
  }

  private describeEmbedder(embedder: OnnxEmbedder): EmbedderInfo {
    return { id: embedder.id, modelId: embedder.entry.manifest.id, variant: embedder.variant.name, provider: embedder.provider, providerSummary: embedder.providerSummary };
  }
}
