/**
 * The main thread's handle on the index thread (indexThread.ts), over threadRpc.ts: `IndexThread`
 * starts it and sends IndexHost calls; `RemoteIndex` gives one workspace folder's index the
 * WorkspaceIndex interface, asynchronous. A thread that died makes every call fail with a
 * ThreadStoppedError that says why.
 */
import { dirname, join } from 'node:path';
import type { FileUpdate, IndexRunSummary } from './indexer';
import type { SearchHit, SearchOptions } from './search';
import type { HostArgs, HostEvent, HostMethod, HostMethods, HostResult, IndexThreadData } from './threadProtocol';
import { ThreadClient } from './threadRpc';
import type { SkippedPath } from './walker';
import type { IndexStatus } from './workspaceIndex';

export { RemoteError, ThreadStoppedError } from './threadRpc';

export interface IndexThreadOptions {
  /** The thread's bundle: dist/indexThread.js beside dist/server.js. */
  file: string;
  /** The builder thread's bundle (default: builderThread.js beside `file`). */
  builderFile?: string;
  /** PriorityGate.shared: the thread pauses while it counts foreground work. */
  gate: SharedArrayBuffer;
  /** Run the builder thread at the lowest CPU priority where that touches it alone (Linux; default true). */
  lowerPriority?: boolean;
  /**
   * Chunks per embedding call. Default 1: on one CPU thread larger calls embed no faster (sorted by
   * length, 4 a call made 122-131 chunks/s on Django, 1 a call 128-131), and the builder's call in
   * flight when a completion arrives is then a few milliseconds.
   */
  embedBatch?: number;
  onEvent?: (event: HostEvent) => void;
  /** Told once when the thread stops without `terminate()` (after the calls in flight failed): why. */
  onExit?: (reason: string) => void;
}

/** The main thread's handle on the index thread. */
export class IndexThread {
  private constructor(private readonly client: ThreadClient<HostMethods, HostEvent>) {}

  /** Starts the thread; rejects with a clear message when its bundle is missing. */
  static async start(options: IndexThreadOptions): Promise<IndexThread> {
    const data: IndexThreadData = {
      gate: options.gate,
      embedBatch: options.embedBatch ?? 1,
      builderFile: options.builderFile ?? join(dirname(options.file), 'builderThread.js'),
      lowerPriority: options.lowerPriority ?? true,
    };
    const client = await ThreadClient.start<HostMethods, HostEvent>({
      file: options.file,
      data,
      label: 'the index thread',
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
      onOutput: (level, message) => options.onEvent?.({ type: 'log', level, message }),
      ...(options.onExit ? { onExit: options.onExit } : {}),
    });
    return new IndexThread(client);
  }

  get running(): boolean {
    return this.client.running;
  }

  call<M extends HostMethod>(method: M, args: HostArgs<M>, signal?: AbortSignal): Promise<HostResult<M>> {
    return this.client.call(method, args, signal);
  }

  /** Opens (or creates, or rebuilds when damaged) one folder's index in the thread. */
  async open(key: string, args: Omit<HostArgs<'open'>, 'key'>): Promise<RemoteIndex> {
    await this.call('open', { key, ...args });
    return new RemoteIndex(this, key);
  }

  /** Stops the thread (and with it the builder thread) at once; calls in flight reject. */
  terminate(): Promise<void> {
    return this.client.terminate();
  }
}

/** One workspace folder's index inside the thread, with WorkspaceIndex's operations. */
export class RemoteIndex {
  constructor(private readonly thread: IndexThread, readonly key: string) {}

  update(signal?: AbortSignal): Promise<IndexRunSummary> {
    return this.thread.call('update', { key: this.key }, signal);
  }

  rebuild(signal?: AbortSignal): Promise<IndexRunSummary> {
    return this.thread.call('rebuild', { key: this.key }, signal);
  }

  updateFile(path: string, signal?: AbortSignal): Promise<FileUpdate> {
    return this.thread.call('updateFile', { key: this.key, path }, signal);
  }

  async removeFile(path: string): Promise<void> {
    await this.thread.call('removeFile', { key: this.key, path });
  }

  search(query: string, options: SearchOptions = {}): Promise<SearchHit[]> {
    return this.thread.call('search', { key: this.key, query, options });
  }

  similar(code: string, options: SearchOptions = {}): Promise<SearchHit[]> {
    return this.thread.call('similar', { key: this.key, code, options });
  }

  status(): Promise<IndexStatus> {
    return this.thread.call('status', { key: this.key });
  }

  skipped(limit = 10_000): Promise<SkippedPath[]> {
    return this.thread.call('skipped', { key: this.key, limit });
  }

  async close(): Promise<void> {
    await this.thread.call('close', { key: this.key });
  }
}
