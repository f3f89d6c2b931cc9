/**
 * Calls into a worker_threads thread, typed by a method table: the caller's `ThreadClient` starts
 * the thread, numbers its calls, matches the answers, forwards cancellation, and turns a thread that
 * died into a clear error for every call in flight and every call after it (never a call that waits
 * for ever); the thread's `serveThread` runs the calls and can raise events of its own. The index
 * thread and the builder thread both talk this way. Everything sent must survive structured cloning.
 */
import { access } from 'node:fs/promises';
import { resolve as absolutePath } from 'node:path';
import { Worker, type MessagePort } from 'node:worker_threads';

/** method name -> { args, result } of each call a thread answers. */
export type MethodTable<M> = { [K in keyof M]: { args: unknown; result: unknown } };
type Args<M extends MethodTable<M>, K extends keyof M> = M[K]['args'];
type Result<M extends MethodTable<M>, K extends keyof M> = M[K]['result'];

type ToThread = { type: 'call'; id: number; method: string; args: unknown } | { type: 'cancel'; id: number };
type FromThread<E> =
  | { type: 'result'; id: number; value: unknown }
  | { type: 'error'; id: number; name: string; message: string }
  | { type: 'event'; event: E };

/** A call that failed because the thread is not running (it crashed, could not start, or was stopped). */
export class ThreadStoppedError extends Error {
  override readonly name = 'ThreadStoppedError';
}

/** An error thrown inside the thread, with its original name (AbortError, ...). */
export class RemoteError extends Error {
  constructor(override readonly name: string, message: string) {
    super(message);
  }
}

/**
 * V8 grows a thread's young generation to 48 MB under the allocation churn of tokenizing (chunk
 * sizing) and message passing, and keeps it: 12 MB costs more frequent, cheap scavenges and saved the
 * builder thread about 25 MB of RSS (1.2k chunks of Debian's asyncio, `npm run bench:memory`).
 */
const THREAD_HEAP_LIMITS = { maxYoungGenerationSizeMb: 12 };

export interface ThreadClientOptions<E> {
  /** The thread's bundle. */
  file: string;
  /** What the thread gets as workerData. */
  data: unknown;
  /** How messages name the thread: "the index thread". */
  label: string;
  onEvent?: (event: E) => void;
  /** Lines the thread wrote to stdout (info) or stderr (warn). */
  onOutput?: (level: 'info' | 'warn', line: string) => void;
  /** Told once when the thread stops without `terminate()`, after the calls in flight failed: why. */
  onExit?: (reason: string) => void;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

export class ThreadClient<M extends MethodTable<M>, E = never> {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stopped: string | undefined;
  private lastError: string | undefined;
  private readonly exited: Promise<void>;

  private constructor(private readonly options: ThreadClientOptions<E>) {
    // stdout too is captured: over --stdio the worker's own stdout is the LSP channel.
    this.worker = new Worker(absolutePath(options.file), { workerData: options.data, stdout: true, stderr: true, resourceLimits: THREAD_HEAP_LIMITS });
    for (const [stream, level] of [[this.worker.stdout, 'info'], [this.worker.stderr, 'warn']] as const) {
      stream.setEncoding('utf8');
      stream.on('data', (text: string) => {
        for (const line of text.split('\n')) if (line.trim()) options.onOutput?.(level, line);
      });
    }
    this.worker.on('message', (message: FromThread<E>) => this.receive(message));
    this.worker.on('error', (error) => { this.lastError = error.message; });
    this.worker.on('messageerror', (error) => options.onOutput?.('warn', `unreadable message from ${options.label}: ${error.message}`));
    this.exited = new Promise((resolve) => this.worker.once('exit', (code) => {
      const expected = this.stopped !== undefined;
      this.stop(this.lastError ? `it failed: ${this.lastError}` : `it exited with code ${code}`);
      // After the calls in flight have seen their errors, so the listener has the last word.
      if (!expected) setImmediate(() => options.onExit?.(this.stopped as string));
      resolve();
    }));
  }

  /** Starts the thread; rejects with a clear message when its bundle is missing. */
  static async start<M extends MethodTable<M>, E = never>(options: ThreadClientOptions<E>): Promise<ThreadClient<M, E>> {
    // Also creates libuv's thread pool from the calling thread if nothing has yet: threads inherit
    // the nice value of the thread that creates them, and this pool serves the whole process.
    try {
      await access(options.file);
    } catch {
      throw new Error(`the bundle of ${options.label}, ${options.file}, is missing (run the build)`);
    }
    return new ThreadClient<M, E>(options);
  }

  get running(): boolean {
    return this.stopped === undefined;
  }

  call<K extends keyof M & string>(method: K, args: Args<M, K>, signal?: AbortSignal): Promise<Result<M, K>> {
    if (this.stopped !== undefined) return Promise.reject(new ThreadStoppedError(`${this.options.label} is not running: ${this.stopped}`));
    const id = this.nextId++;
    return new Promise<Result<M, K>>((resolve, reject) => {
      const onAbort = (): void => this.post({ type: 'cancel', id });
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle = (): void => signal?.removeEventListener('abort', onAbort);
      this.pending.set(id, {
        resolve: (value) => { settle(); resolve(value as Result<M, K>); },
        reject: (error) => { settle(); reject(error); },
      });
      this.post({ type: 'call', id, method, args });
      if (signal?.aborted) onAbort();
    });
  }

  /** Stops the thread at once (calls in flight reject); resolves when it has exited. */
  async terminate(): Promise<void> {
    if (this.stopped === undefined) this.stop('it was stopped');
    await this.worker.terminate();
    await this.exited;
  }

  private post(message: ToThread): void {
    if (this.stopped === undefined) this.worker.postMessage(message);
  }

  private receive(message: FromThread<E>): void {
    if (message.type === 'event') {
      this.options.onEvent?.(message.event);
      return;
    }
    const pending = this.pending.get(message.id);
    if (!pending) return;
    this.pending.delete(message.id);
    if (message.type === 'result') pending.resolve(message.value);
    else pending.reject(new RemoteError(message.name, message.message));
  }

  private stop(reason: string): void {
    this.stopped ??= reason;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const call of pending) call.reject(new ThreadStoppedError(`${this.options.label} stopped: ${this.stopped}`));
  }
}

export type Handler<M extends MethodTable<M>> = <K extends keyof M & string>(method: K, args: Args<M, K>, signal: AbortSignal) => Promise<Result<M, K>>;

/** The thread's side: answers each call with `handle` (cancellable by its signal); returns how to raise events. */
export function serveThread<M extends MethodTable<M>, E = never>(port: MessagePort, handle: Handler<M>): { emit(event: E): void } {
  const post = (message: FromThread<E>): void => port.postMessage(message);
  const running = new Map<number, AbortController>();
  port.on('message', (message: ToThread) => {
    if (message.type === 'cancel') {
      running.get(message.id)?.abort();
      return;
    }
    const { id } = message;
    const controller = new AbortController();
    running.set(id, controller);
    // A method that throws at once becomes a rejection too (handle runs inside the promise chain).
    Promise.resolve()
      .then(() => handle(message.method as keyof M & string, message.args as Args<M, keyof M & string>, controller.signal))
      .then(
        (value) => post({ type: 'result', id, value }),
        (error: unknown) => post({
          type: 'error', id,
          name: error instanceof Error ? error.name : 'Error',
          message: error instanceof Error ? error.message : String(error),
        }),
      )
      .finally(() => running.delete(id));
  });
  return { emit: (event) => post({ type: 'event', event }) };
}
