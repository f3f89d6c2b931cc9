/**
 * The main thread's handle on the index thread (indexThread.ts): starts it, sends IndexHost calls
 * and matches their answers, forwards cancellation, and turns a thread that died into a clear error
 * for every call in flight and every call after it (never a request that waits for ever).
 * `RemoteIndex` gives one workspace folder's index the WorkspaceIndex interface, asynchronous.
 */
import { access } from 'node:fs/promises';
import { resolve as absolutePath } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FileUpdate, IndexRunSummary } from './indexer';
import type { SearchHit, SearchOptions } from './search';
import type {
  FromThread, HostArgs, HostEvent, HostMethod, HostResult, IndexThreadData, ToThread,
} from './threadProtocol';
import type { SkippedPath } from './walker';
import type { IndexStatus } from './workspaceIndex';

/** A call that failed because the thread is not running (it crashed, could not start, or was stopped). */
export class IndexThreadError extends Error {
  override readonly name = 'IndexThreadError';
}

/** An error the host threw inside the thread, with its original name (AbortError, ...). */
export class RemoteError extends Error {
  constructor(override readonly name: string, message: string) {
    super(message);
  }
}

export interface IndexThreadOptions {
  /** The thread's bundle: dist/indexThread.js beside dist/server.js. */
  file: string;
  /** PriorityGate.shared: the thread pauses while it counts foreground work. */
  gate: SharedArrayBuffer;
  /** Lower the thread's CPU priority where that touches the thread alone (Linux; default true). */
  lowerPriority?: boolean;
  /** Chunks per embedding call (default 4: a completion waits for at most one small call). */
  embedBatch?: number;
  onEvent?: (event: HostEvent) => void;
  /** Told once when the thread stops without `terminate()` (after the calls in flight failed): why. */
  onExit?: (reason: string) => void;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

export class IndexThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stopped: string | undefined;
  private lastError: string | undefined;
  private readonly exited: Promise<void>;

  private constructor(private readonly options: IndexThreadOptions) {
    const data: IndexThreadData = { gate: options.gate, lowerPriority: options.lowerPriority ?? true, embedBatch: options.embedBatch ?? 4 };
    // stdout too is captured: over --stdio the worker's own stdout is the LSP channel.
    this.worker = new Worker(absolutePath(options.file), { workerData: data, stdout: true, stderr: true });
    for (const [stream, level] of [[this.worker.stdout, 'info'], [this.worker.stderr, 'warn']] as const) {
      stream.setEncoding('utf8');
      stream.on('data', (text: string) => {
        for (const line of text.split('\n')) if (line.trim()) options.onEvent?.({ type: 'log', level, message: line });
      });
    }
    this.worker.on('message', (message: FromThread) => this.receive(message));
    this.worker.on('error', (error) => { this.lastError = error.message; });
    this.worker.on('messageerror', (error) => options.onEvent?.({ type: 'log', level: 'warn', message: `unreadable message from the index thread: ${error.message}` }));
    this.exited = new Promise((resolve) => this.worker.once('exit', (code) => {
      const expected = this.stopped !== undefined;
      this.stop(this.lastError ? `it failed: ${this.lastError}` : `it exited with code ${code}`);
      // After the calls in flight have seen their errors, so the listener has the last word.
      if (!expected) setImmediate(() => options.onExit?.(this.stopped as string));
      resolve();
    }));
  }

  /** Starts the thread; rejects with a clear message when its bundle is missing. */
  static async start(options: IndexThreadOptions): Promise<IndexThread> {
    // Also creates libuv's thread pool from this thread, before the index thread could: threads
    // inherit the nice value of the thread that creates them, and this pool serves the whole process.
    try {
      await access(options.file);
    } catch {
      throw new Error(`the index thread's bundle ${options.file} is missing (run the build)`);
    }
    return new IndexThread(options);
  }

  get running(): boolean {
    return this.stopped === undefined;
  }

  /** Why the thread stopped, or undefined while it runs. */
  get stopReason(): string | undefined {
    return this.stopped;
  }

  call<M extends HostMethod>(method: M, args: HostArgs<M>, signal?: AbortSignal): Promise<HostResult<M>> {
    if (this.stopped !== undefined) return Promise.reject(new IndexThreadError(`the index thread is not running: ${this.stopped}`));
    const id = this.nextId++;
    return new Promise<HostResult<M>>((resolve, reject) => {
      const onAbort = (): void => this.post({ type: 'cancel', id });
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle = (): void => signal?.removeEventListener('abort', onAbort);
      this.pending.set(id, {
        resolve: (value) => { settle(); resolve(value as HostResult<M>); },
        reject: (error) => { settle(); reject(error); },
      });
      this.post({ type: 'call', id, method, args });
      if (signal?.aborted) onAbort();
    });
  }

  /** Opens (or creates, or rebuilds when damaged) one folder's index in the thread. */
  async open(key: string, args: Omit<HostArgs<'open'>, 'key'>): Promise<RemoteIndex> {
    await this.call('open', { key, ...args });
    return new RemoteIndex(this, key);
  }

  /** Stops the thread at once (calls in flight reject); resolves when it has exited. */
  async terminate(): Promise<void> {
    if (this.stopped === undefined) this.stop('it was stopped');
    await this.worker.terminate();
    await this.exited;
  }

  private post(message: ToThread): void {
    if (this.stopped !== undefined) return;
    this.worker.postMessage(message);
  }

  private receive(message: FromThread): void {
    if (message.type === 'result' || message.type === 'error') {
      const pending = this.pending.get(message.id);
      if (!pending) return;
      this.pending.delete(message.id);
      if (message.type === 'result') pending.resolve(message.value);
      else pending.reject(new RemoteError(message.name, message.message));
      return;
    }
    this.options.onEvent?.(message);
  }

  private stop(reason: string): void {
    this.stopped ??= reason;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const call of pending) call.reject(new IndexThreadError(`the index thread stopped: ${this.stopped}`));
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
