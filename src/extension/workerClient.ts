import * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  RevealOutputChannelOn,
  TransportKind,
  type CancellationToken,
  type LanguageClientOptions,
  type Middleware,
  type NotificationType,
  type RequestType,
  type RequestType0,
  type ServerOptions,
} from 'vscode-languageclient/node';
import { CancellationTokenSource } from 'vscode-languageclient/node';
import {
  CancelIndexRequest,
  CompletionTimingNotification,
  type CompletionTimingParams,
  FilesChangedNotification,
  IndexProgressNotification,
  ProjectCacheNotification,
  type ProjectCacheParams,
  IndexStatusRequest,
  RebuildIndexRequest,
  SearchRequest,
  SimilarRequest,
  type FilesChangedParams,
  type IndexProgressParams,
  type IndexStatusInfo,
  type SearchParams,
  type SearchResult,
  type SimilarParams,
  DescribeModelRequest,
  ListModelsRequest,
  ModelStateNotification,
  PrefetchNotification,
  SettingsNotification,
  StatusRequest,
  type ModelDescription,
  type ModelInfo,
  type ModelState,
  type WorkerSettings,
  type WorkerStatus,
} from '../protocol';
import { RestartPolicy } from '../shared/restart/restartPolicy';
import { WorkerTimeoutError, WorkerUnavailableError } from './errors';
import { errorMessage } from './errorMessage';

export type WorkerState =
  | { kind: 'starting' }
  | { kind: 'ready'; status: WorkerStatus }
  | { kind: 'restarting'; attempt: number; delayMs: number; reason: string }
  | { kind: 'error'; reason: string }
  | { kind: 'stopped' };

export interface WorkerClientOptions {
  serverModule: string;
  output: vscode.LogOutputChannel;
  documentLanguages: () => string[];
  settings: () => WorkerSettings;
  onState: (state: WorkerState) => void;
  /** Wraps the language client's inline completion provider (Kestrel's debounce, filters, stats). */
  inlineCompletionMiddleware?: NonNullable<Middleware['provideInlineCompletionItems']>;
  onModelState?: (state: ModelState) => void;
  onCompletionTiming?: (timing: CompletionTimingParams) => void;
  onIndexProgress?: (progress: IndexProgressParams) => void;
  onProjectCache?: (params: ProjectCacheParams) => void;
}

/** A request's time limit unless the caller gives one; the host must never wait on the worker forever. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
const START_TIMEOUT_MS = 30_000;

/**
 * Owns the worker process through a vscode-languageclient LanguageClient. Restarts are Kestrel's own
 * (backoff and a cap, reported through `onState`) rather than the library's silent five-in-three-minutes,
 * and each restart builds a fresh client so no state of a dead worker survives.
 */
/**
 * Node flags of the worker process. V8 grows the main thread's young generation to 32 MB under the
 * completion engine's allocation churn and keeps it; 4 MB semi-spaces cost more frequent, cheap
 * scavenges and saved 14 MB of RSS after 20 completions (188 -> 174 MB). The worker's own threads
 * get the same through their resourceLimits (threadRpc.ts). test/bench/workerMemory.mjs starts the
 * worker with the same flags.
 */
export const WORKER_NODE_FLAGS = ['--max-semi-space-size=4'] as const;

export class WorkerClient implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private readonly restarts = new RestartPolicy();
  private restartTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private disposed = false;
  private readyWaiters: Array<() => void> = [];
  /** Milliseconds from spawning the worker to its first `kestrel/status` answer, for the latest start. */
  lastSpawnToReadyMs: number | undefined;

  constructor(private readonly options: WorkerClientOptions) {}

  get isReady(): boolean {
    return this.client?.isRunning() === true;
  }

  /** Starts the worker; resolves once it answered `kestrel/status`, rejects with the reason it could not. */
  async start(): Promise<void> {
    if (this.disposed) throw new WorkerUnavailableError('Kestrel is shutting down');
    this.options.onState({ kind: 'starting' });
    const client = this.createClient();
    this.client = client;
    const spawnedAt = performance.now();
    try {
      await withTimeout(client.start(), START_TIMEOUT_MS, 'starting the Kestrel worker');
      const onModelState = this.options.onModelState;
      if (onModelState) client.onNotification(ModelStateNotification.type, (state) => onModelState(state));
      const onCompletionTiming = this.options.onCompletionTiming;
      if (onCompletionTiming) client.onNotification(CompletionTimingNotification.type, (timing) => onCompletionTiming(timing));
      const onIndexProgress = this.options.onIndexProgress;
      if (onIndexProgress) client.onNotification(IndexProgressNotification.type, (progress) => onIndexProgress(progress));
      const onProjectCache = this.options.onProjectCache;
      if (onProjectCache) client.onNotification(ProjectCacheNotification.type, (params) => onProjectCache(params));
      client.sendNotification(SettingsNotification.type, this.options.settings());
      const status = await this.request(StatusRequest.type);
      this.lastSpawnToReadyMs = performance.now() - spawnedAt;
      this.options.output.info(`Worker ${status.version} ready (pid ${status.pid}) in ${this.lastSpawnToReadyMs.toFixed(0)} ms`);
      this.options.onState({ kind: 'ready', status });
      for (const wake of this.readyWaiters.splice(0)) wake();
    } catch (error) {
      if (this.client !== client || this.stopping) return; // superseded by a restart or a stop
      this.scheduleRestart(`the worker failed to start: ${errorMessage(error)}`);
      throw error;
    }
  }

  /** Resolves when the worker is (or next becomes) ready. */
  whenReady(): Promise<void> {
    if (this.isReady && this.lastSpawnToReadyMs !== undefined) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** Stops the current worker and starts a new one, resetting the crash budget (the user asked). */
  async restart(): Promise<void> {
    this.restarts.reset();
    await this.stopClient();
    await this.start();
  }

  /** The worker's `kestrel/status`. */
  status(options?: RequestOptions): Promise<WorkerStatus> {
    return this.request(StatusRequest.type, options);
  }

  /** Every model folder the worker found, usable or not. */
  listModels(options?: RequestOptions): Promise<ModelInfo[]> {
    return this.request(ListModelsRequest.type, options);
  }

  /** The completion model in use, or null. */
  describeModel(options?: RequestOptions): Promise<ModelDescription | null> {
    return this.request(DescribeModelRequest.type, options);
  }

  /** Hybrid search of the workspace index. */
  search(params: SearchParams, options?: RequestOptions): Promise<SearchResult> {
    return this.request(SearchRequest.type, params, options);
  }

  /** Chunks most like a piece of code. */
  similar(params: SimilarParams, options?: RequestOptions): Promise<SearchResult> {
    return this.request(SimilarRequest.type, params, options);
  }

  /** What is indexed, by which embedder, what was skipped and why. */
  indexStatus(options?: RequestOptions): Promise<IndexStatusInfo> {
    return this.request(IndexStatusRequest.type, options);
  }

  /** Empties and rebuilds every folder's index; resolves when done (or cancelled through the token). */
  rebuildIndex(options?: RequestOptions): Promise<IndexStatusInfo> {
    return this.request(RebuildIndexRequest.type, { timeoutMs: 60 * 60_000, ...options });
  }

  /** Stops the index run in flight. */
  cancelIndex(options?: RequestOptions): Promise<void> {
    return this.request(CancelIndexRequest.type, options);
  }

  /** Files created, saved or deleted on disk, for the index. */
  filesChanged(params: FilesChangedParams): void {
    this.notify(FilesChangedNotification.type, params);
  }

  /** Tells the worker where the next inline completion request will be, so it can prefill meanwhile. */
  prefetch(uri: string, position: { line: number; character: number }): void {
    this.notify(PrefetchNotification.type, { textDocument: { uri }, position });
  }

  /** Sends the current settings to the worker, which applies them live. */
  pushSettings(): void {
    this.notify(SettingsNotification.type, this.options.settings());
  }

  notify<P>(type: NotificationType<P>, params: P): void {
    if (!this.isReady || !this.client) return; // settings are re-sent on the next start anyway
    void this.client.sendNotification(type as NotificationType<unknown>, params).catch((error: unknown) => {
      this.options.output.warn(`Could not notify the worker (${type.method}): ${errorMessage(error)}`);
    });
  }

  /**
   * Sends a typed request with a time limit. The caller's cancellation token, when given, cancels
   * the request in the worker too; a timeout cancels it the same way.
   */
  async request<R>(type: RequestType0<R, void>, options?: RequestOptions): Promise<R>;
  async request<P, R>(type: RequestType<P, R, void>, params: P, options?: RequestOptions): Promise<R>;
  async request(type: RequestType0<unknown, void> | RequestType<unknown, unknown, void>, ...rest: unknown[]): Promise<unknown> {
    const client = this.client;
    if (!client || !client.isRunning()) throw new WorkerUnavailableError(`the Kestrel worker is not running (${type.method})`);
    const hasParams = type.numberOfParams === 1;
    const params = hasParams ? rest[0] : undefined;
    const options = (hasParams ? rest[1] : rest[0]) as RequestOptions | undefined;
    const source = new CancellationTokenSource();
    const linked = options?.token?.onCancellationRequested(() => source.cancel());
    try {
      const sent = hasParams
        ? client.sendRequest(type as RequestType<unknown, unknown, void>, params, source.token)
        : client.sendRequest(type as RequestType0<unknown, void>, source.token);
      return await withTimeout(sent, options?.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, type.method, () => source.cancel());
    } finally {
      linked?.dispose();
      source.dispose();
    }
  }

  private createClient(): LanguageClient {
    const serverOptions: ServerOptions = {
      run: { module: this.options.serverModule, transport: TransportKind.ipc, options: { execArgv: [...WORKER_NODE_FLAGS] } },
      debug: { module: this.options.serverModule, transport: TransportKind.ipc, options: { execArgv: [...WORKER_NODE_FLAGS, '--nolazy', '--inspect=6019'] } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: this.options.documentLanguages().flatMap((language) => [
        { scheme: 'file', language },
        { scheme: 'untitled', language },
      ]),
      outputChannel: this.options.output,
      traceOutputChannel: this.options.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      ...(this.options.inlineCompletionMiddleware ? { middleware: { provideInlineCompletionItems: this.options.inlineCompletionMiddleware } } : {}),
      initializationOptions: this.options.settings(),
      initializationFailedHandler: (error) => {
        this.options.output.error(`Worker initialisation failed: ${errorMessage(error)}`);
        return false;
      },
      errorHandler: {
        error: (_error, _message, count) => ({ action: (count ?? 0) <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown, handled: true }),
        closed: () => {
          if (!this.stopping && !this.disposed) this.scheduleRestart('the worker process exited');
          return { action: CloseAction.DoNotRestart, handled: true };
        },
      },
    };
    return new LanguageClient('kestrel', 'Kestrel', serverOptions, clientOptions);
  }

  private scheduleRestart(reason: string): void {
    if (this.restartTimer || this.disposed) return;
    const delayMs = this.restarts.nextDelayMs();
    if (delayMs === undefined) {
      const message = `${reason}; it crashed ${this.restarts.attempts} times in a row, so Kestrel stopped restarting it. Run "Kestrel: Restart Worker" to try again.`;
      this.options.output.error(message);
      this.options.onState({ kind: 'error', reason: message });
      return;
    }
    this.options.output.warn(`${reason}; restarting in ${delayMs} ms (attempt ${this.restarts.attempts})`);
    this.options.onState({ kind: 'restarting', attempt: this.restarts.attempts, delayMs, reason });
    const dead = this.client;
    this.client = undefined;
    void dead?.dispose(2_000).catch(() => undefined);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.start().catch(() => undefined); // start() reports and schedules its own retry
    }, delayMs);
  }

  private async stopClient(): Promise<void> {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    this.stopping = true;
    try {
      await client.dispose(2_000);
    } catch {
      // A worker that is already gone cannot be stopped politely; nothing is lost.
    } finally {
      this.stopping = false;
    }
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await this.stopClient();
    this.options.onState({ kind: 'stopped' });
  }
}

export interface RequestOptions {
  timeoutMs?: number;
  token?: CancellationToken | vscode.CancellationToken;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string, onTimeout?: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      onTimeout?.();
      reject(new WorkerTimeoutError(what, ms));
    }, ms);
    promise.then(
      (value) => { clearTimeout(timer); resolve(value); },
      (error: unknown) => { clearTimeout(timer); reject(error); },
    );
  });
}

