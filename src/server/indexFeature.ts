import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, relative, isAbsolute } from 'node:path';
import type { CancellationToken, Connection } from 'vscode-languageserver/node';
import { errorMessage } from '../shared/errors/errors';
import type { IndexProgress, IndexRunSummary } from '../index/indexer';
import type { PriorityGate } from '../index/priorityGate';
import type { SearchHit, SearchOptions } from '../index/search';
import type { EmbedderInfo, HostEvent } from '../index/threadProtocol';
import { IndexThread, ThreadStoppedError, type RemoteIndex } from '../index/threadProxy';
import {
  CancelIndexRequest,
  FilesChangedNotification,
  IndexProgressNotification,
  IndexStatusRequest,
  RebuildIndexRequest,
  SearchRequest,
  SimilarRequest,
  type FilesChangedParams,
  type FolderIndexStatus,
  type IndexProgressInfo,
  type IndexStatusInfo,
  type SearchFilters,
  type SearchHitInfo,
  type SearchResult,
  type WorkerSettings,
  type LoadedModel,
} from '../protocol';
import { RestartPolicy } from '../shared/restart/restartPolicy';
import type { Feature } from './feature';
import type { Logger } from './logger';
import { noParams } from './paramsSchema';
import { filesChangedParams, searchParams, similarParams } from './protocolParams';
import type { SettingsStore } from './settings';
import { onNotification, onRequest } from './validatedHandlers';

/**
 * The embedding model the index uses when its folder ships with Kestrel (or sits in a
 * kestrel.modelPaths folder); BM25 alone otherwise. Looked for once per worker process.
 */
export const EMBEDDING_MODEL_ID = 'kestrel-embed-tiny';
const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 200;
const SKIPPED_LISTED = 200;
/** Progress notifications at most this often (the last one of a run is always sent). */
const PROGRESS_INTERVAL_MS = 200;
/** A thread that stops is restarted (after a second) twice within five minutes, then left in error. */
const THREAD_RESTARTS = { baseDelayMs: 1_000, maxDelayMs: 1_000, maxAttempts: 2, windowMs: 5 * 60_000 };
/** How long shutdown lets the thread close its databases before it is terminated. */
const CLOSE_TIMEOUT_MS = 3_000;

/** What decides which indexes exist: a change of any of it reopens them. */
interface IndexConfig {
  enabled: boolean;
  storage: string | undefined;
  folders: string[];
  exclude: string[];
  maxFileBytes: number;
}

interface FolderEntry {
  folder: string;
  storage: string;
  index: RemoteIndex | undefined;
  error: string | undefined;
  progress: IndexProgress | undefined;
  running: Promise<unknown> | undefined;
}

function indexConfig(settings: WorkerSettings): IndexConfig {
  return {
    enabled: settings.indexEnable ?? true,
    storage: settings.indexStorage,
    folders: [...(settings.workspaceFolders ?? [])],
    exclude: [...(settings.indexExclude ?? [])],
    maxFileBytes: Math.max(1, settings.indexMaxFileSizeKB ?? 512) * 1024,
  };
}

/** Each folder's database gets its own sub-folder of the storage, named by a hash of its path. */
function storageFor(storage: string, folder: string): string {
  return join(storage, `index-${createHash('sha256').update(folder).digest('hex').slice(0, 16)}`);
}

function toHitInfo(hit: SearchHit): SearchHitInfo {
  return {
    path: hit.path, rel: hit.rel, language: hit.language, kind: hit.kind, name: hit.name, container: hit.container,
    range: hit.range, snippet: hit.snippet, snippetLine: hit.snippetLine, score: hit.score,
  };
}

function searchOptions(filters: SearchFilters): SearchOptions {
  return {
    limit: Math.min(MAX_LIMIT, Math.max(1, filters.limit ?? DEFAULT_LIMIT)),
    ...(filters.languages && filters.languages.length > 0 ? { languages: filters.languages } : {}),
    ...(filters.pathGlob && filters.pathGlob.trim() !== '' ? { include: [filters.pathGlob.trim()] } : {}),
  };
}

function isInside(folder: string, path: string): boolean {
  const rel = relative(folder, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/**
 * The workspace index: one index per workspace folder, its database in the extension's workspace
 * storage. All index work runs off this thread: the index thread (src/index/indexThread.ts) walks,
 * writes and searches, and its builder thread chunks and embeds at the lowest CPU priority (Linux);
 * indexing pauses for completions through the PriorityGate's shared counter, so a completion never
 * waits behind an embedding batch or a database write here. This class keeps the LSP side:
 * requests, progress to the client, cancellation, and the thread's life: a thread that stops is
 * reported, started again a few times, then left in an error state that the status shows and
 * Rebuild Index clears.
 */
export class IndexFeature implements Feature {
  private connection: Connection | null = null;
  private config: IndexConfig = indexConfig({ device: 'auto', model: '', modelPaths: [] });
  private folders: FolderEntry[] = [];
  private thread: IndexThread | undefined;
  private embedder: EmbedderInfo | undefined;
  private embedderModel: LoadedModel | undefined;
  private embedderNote: string | undefined = 'not loaded yet';
  /** When the thread stopped unexpectedly: restart it, or leave it in error after too many stops. */
  private readonly threadRestarts = new RestartPolicy(Date.now, THREAD_RESTARTS);
  private controller = new AbortController();
  /** Reconfigurations, rebuilds, restarts and shutdown run one after another. */
  private queue: Promise<unknown> = Promise.resolve();
  private lastProgressAt = 0;
  private progressTimer: NodeJS.Timeout | undefined;
  private shuttingDown = false;

  constructor(
    private readonly settings: SettingsStore,
    private readonly shippedModelRoots: readonly string[],
    private readonly log: Logger,
    /** Completions hold it while they run; the index thread watches its shared counter. */
    private readonly gate: PriorityGate,
    /** The index thread's bundle: dist/indexThread.js. */
    private readonly threadFile: string,
  ) {}

  /** The embedding model in use, for `kestrel/status`. */
  loadedModels(): LoadedModel[] {
    return this.embedderModel ? [this.embedderModel] : [];
  }

  register(connection: Connection): void {
    this.connection = connection;
    onRequest(connection, SearchRequest, searchParams, (params) => this.search((o) => o.index.search(params.query, o.options), params));
    onRequest(connection, SimilarRequest, similarParams, (params) => this.search((o) => o.index.similar(params.code, {
      ...o.options,
      ...(params.notIn ? { notIn: params.notIn } : {}),
    }), params));
    onRequest(connection, IndexStatusRequest, noParams, () => this.status());
    onRequest(connection, RebuildIndexRequest, noParams, (_params, token) => this.rebuild(token));
    onRequest(connection, CancelIndexRequest, noParams, () => this.cancel());
    onNotification(connection, FilesChangedNotification, filesChangedParams, (params) => this.filesChanged(params), this.log);
    this.settings.onDidChange((next) => this.reconfigure(next));
  }

  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private reconfigure(settings: WorkerSettings): void {
    const next = indexConfig(settings);
    if (JSON.stringify(next) === JSON.stringify(this.config)) return;
    this.config = next;
    this.threadRestarts.reset();
    void this.enqueue(() => this.openAll()).catch((error: unknown) => this.log.error(`index: ${errorMessage(error)}`));
  }

  /** Opens every folder of the current settings (starting the thread if needed) and brings them up to date. */
  private async openAll(): Promise<void> {
    await this.closeAll();
    const config = this.config;
    if (!config.enabled || !config.storage) {
      await this.stopThread();
      return;
    }
    this.folders = config.folders.map((folder) => ({
      folder, storage: storageFor(config.storage as string, folder), index: undefined, error: undefined, progress: undefined, running: undefined,
    }));
    for (const entry of this.folders) await this.open(entry);
    this.startRuns();
  }

  /** The running thread, or a new one with the embedder loaded in it. */
  private async ensureThread(): Promise<IndexThread> {
    if (this.thread?.running) return this.thread;
    const thread: IndexThread = await IndexThread.start({
      file: this.threadFile,
      gate: this.gate.shared,
      onEvent: (event) => this.onThreadEvent(event),
      onExit: (reason) => this.onThreadExit(thread, reason),
    });
    this.thread = thread;
    this.embedder = undefined;
    this.embedderModel = undefined;
    await this.loadEmbedder(thread);
    return thread;
  }

  private async loadEmbedder(thread: IndexThread): Promise<void> {
    // The shipped folder first; kestrel.modelPaths may hold one too (ignored in untrusted workspaces).
    const roots = [...this.shippedModelRoots, ...this.settings.value.modelPaths];
    const dir = roots.map((root) => join(root, EMBEDDING_MODEL_ID)).find((d) => existsSync(join(d, 'kestrel.json')));
    if (!dir) {
      this.embedderNote = `the embedding model ${EMBEDDING_MODEL_ID} is not installed: searching by keywords (BM25) only`;
      this.log.info(`index: ${this.embedderNote}`);
      return;
    }
    const result = await thread.call('loadEmbedder', { dir, device: this.settings.value.device });
    if ('failed' in result) {
      this.embedderNote = `the embedding model could not load (${result.failed}): searching by keywords (BM25) only`;
      this.log.warn(`index: ${this.embedderNote}`);
      return;
    }
    const embedder = result.loaded;
    this.embedder = embedder;
    this.embedderModel = { id: embedder.modelId, kind: 'embedding', variant: embedder.variant, provider: embedder.provider };
    this.embedderNote = undefined;
    this.log.info(`index: embedder ${embedder.id} on ${embedder.providerSummary}, in the index thread`);
  }

  private async open(entry: FolderEntry): Promise<void> {
    try {
      const thread = await this.ensureThread();
      entry.index = await thread.open(entry.folder, {
        storageFolder: entry.storage,
        walk: { roots: [entry.folder], exclude: this.config.exclude, maxFileBytes: this.config.maxFileBytes },
      });
      entry.error = undefined;
    } catch (error) {
      entry.error = errorMessage(error);
      // A thread that stopped is reported once, by onThreadExit.
      if (!(error instanceof ThreadStoppedError)) this.log.error(`index: could not open the index of ${entry.folder}: ${entry.error}`);
    }
  }

  private onThreadEvent(event: HostEvent): void {
    switch (event.type) {
      case 'progress': {
        const entry = this.folders.find((f) => f.folder === event.key);
        if (!entry) return;
        entry.progress = event.progress;
        this.pushProgress(false);
        return;
      }
      case 'rebuilt':
        this.log.warn(`index of ${event.key} rebuilt: ${event.reason}`);
        return;
      case 'log':
        if (event.level === 'warn') this.log.warn(`index thread: ${event.message}`);
        else this.log.info(`index thread: ${event.message}`);
        return;
    }
  }

  /** The thread crashed or exited by itself: every call in flight has already failed with why. */
  private onThreadExit(thread: IndexThread, reason: string): void {
    if (this.thread !== thread || this.shuttingDown) return;
    this.thread = undefined;
    this.embedder = undefined;
    this.embedderModel = undefined;
    const message = `the index thread stopped: ${reason}`;
    this.embedderNote = message;
    const delayMs = this.threadRestarts.nextDelayMs();
    const stops = `it stopped ${this.threadRestarts.attempts} times in ${THREAD_RESTARTS.windowMs / 60_000} minutes`;
    for (const entry of this.folders) {
      entry.index = undefined;
      entry.error = delayMs !== undefined ? message : `${message} (${stops}; Rebuild Index starts it again)`;
    }
    this.log.error(`index: ${message}; ${delayMs !== undefined ? 'starting it again' : `${stops}, so it stays stopped until Rebuild Index, a settings change or Restart Worker`}`);
    this.pushProgress(true);
    if (delayMs === undefined) return;
    setTimeout(() => {
      if (this.shuttingDown || this.thread) return;
      void this.enqueue(() => this.openAll()).catch((error: unknown) => this.log.error(`index: ${errorMessage(error)}`));
    }, delayMs);
  }

  /** Brings every folder up to date in the background (resuming where a stopped run left off). */
  private startRuns(): void {
    const signal = this.controller.signal;
    for (const entry of this.folders) {
      const index = entry.index;
      if (!index || entry.running) continue;
      const started = Date.now();
      entry.running = index.update(signal).then(
        (summary) => this.log.info(`index: ${entry.folder}: ${summary.filesIndexed} indexed, ${summary.filesUnchanged} unchanged, ${summary.filesRemoved} removed, ${summary.skipped} skipped, ${summary.chunksWritten} chunks in ${Date.now() - started} ms${summary.cancelled ? ' (cancelled)' : ''}`),
        (error: unknown) => {
          // A stopped thread is reported once, by onThreadExit.
          if (!(error instanceof ThreadStoppedError)) this.log.error(`index: ${entry.folder}: ${errorMessage(error)}`);
        },
      ).finally(() => {
        entry.running = undefined;
        this.pushProgress(true);
      });
    }
    this.pushProgress(true);
  }

  private get indexing(): boolean {
    return this.folders.some((f) => f.running !== undefined);
  }

  private totals(): IndexProgressInfo {
    const total: IndexProgressInfo = { phase: this.indexing ? 'indexing' : 'done', filesDone: 0, filesTotal: 0, filesSeen: 0, chunksDone: 0, skipped: 0 };
    for (const { progress } of this.folders) {
      if (!progress) continue;
      if (progress.phase === 'walking' && this.indexing) total.phase = 'walking';
      total.filesDone += progress.filesDone;
      total.filesTotal += progress.filesTotal;
      total.filesSeen += progress.filesSeen;
      total.chunksDone += progress.chunksDone;
      total.skipped += progress.skipped;
    }
    return total;
  }

  private pushProgress(force: boolean): void {
    const send = (): void => {
      this.progressTimer = undefined;
      this.lastProgressAt = Date.now();
      void this.connection?.sendNotification(IndexProgressNotification.type, {
        indexing: this.indexing, progress: this.totals(), embedder: this.embedder?.id ?? null,
      }).catch(() => undefined);
    };
    if (force || Date.now() - this.lastProgressAt >= PROGRESS_INTERVAL_MS) {
      if (this.progressTimer) clearTimeout(this.progressTimer);
      send();
    } else {
      this.progressTimer ??= setTimeout(send, PROGRESS_INTERVAL_MS);
    }
  }

  private async search(
    run: (o: { index: RemoteIndex; options: SearchOptions }) => Promise<SearchHit[]>,
    filters: SearchFilters,
  ): Promise<SearchResult> {
    const started = performance.now();
    const elapsed = (): number => performance.now() - started;
    if (!this.config.enabled) return { hits: [], notice: 'Indexing is off (kestrel.index.enable): search is not available.', elapsedMs: elapsed() };
    if (this.config.folders.length === 0) return { hits: [], notice: 'No workspace folder is open: there is nothing to search.', elapsedMs: elapsed() };
    const options = searchOptions(filters);
    const ready = this.folders.filter((f) => f.index);
    const settled = await Promise.allSettled(ready.map((f) => run({ index: f.index as RemoteIndex, options })));
    const lists: SearchHit[][] = [];
    const failures: string[] = [];
    for (const result of settled) {
      if (result.status === 'fulfilled') lists.push(result.value);
      else if (result.reason instanceof ThreadStoppedError) failures.push(result.reason.message);
      else throw result.reason;
    }
    const hits = lists.flat().sort((a, b) => b.score - a.score).slice(0, options.limit).map(toHitInfo);
    const broken = this.folders.find((f) => !f.index && f.error);
    let notice: string | undefined;
    if (failures.length > 0) notice = `Search failed: ${failures[0]}.`;
    else if (hits.length === 0 && broken) notice = `The index of ${broken.folder} is not available: ${broken.error}.`;
    else if (hits.length === 0 && (this.indexing || ready.length < this.folders.length)) notice = 'Still indexing: results will appear as files are indexed.';
    return { hits, ...(notice ? { notice } : {}), elapsedMs: elapsed() };
  }

  private async filesChanged(params: FilesChangedParams): Promise<void> {
    for (const change of params.changes) {
      const entry = this.folders.find((f) => isInside(f.folder, change.path));
      if (!entry?.index) continue;
      try {
        const result = await entry.index.updateFile(change.path);
        this.log.debug(`index: ${change.kind} ${change.path}: ${result}`);
      } catch (error) {
        this.log.warn(`index: could not update ${change.path}: ${errorMessage(error)}`);
      }
    }
  }

  /** Stops the runs in flight; they resume on the next start, rebuild or settings change. */
  async cancel(): Promise<void> {
    this.controller.abort();
    this.controller = new AbortController();
    await Promise.allSettled(this.folders.map((f) => f.running));
  }

  private rebuild(token: CancellationToken): Promise<IndexStatusInfo> {
    return this.enqueue(async () => {
      if (!this.config.enabled) throw new Error('Indexing is off (kestrel.index.enable)');
      await this.cancel();
      // Asked for by the user: a thread left stopped after repeated failures gets another chance.
      this.threadRestarts.reset();
      const controller = this.controller;
      const listener = token.onCancellationRequested(() => controller.abort());
      try {
        for (const entry of this.folders) {
          if (!entry.index) await this.open(entry);
          const index = entry.index;
          if (!index || controller.signal.aborted) continue;
          const running = index.rebuild(controller.signal);
          entry.running = running;
          this.pushProgress(true);
          try {
            const summary: IndexRunSummary = await running;
            this.log.info(`index: rebuilt ${entry.folder}: ${summary.filesIndexed} files, ${summary.chunksWritten} chunks in ${summary.durationMs} ms${summary.cancelled ? ' (cancelled)' : ''}`);
          } finally {
            entry.running = undefined;
            this.pushProgress(true);
          }
        }
      } finally {
        listener.dispose();
      }
      return this.status();
    });
  }

  async status(): Promise<IndexStatusInfo> {
    const folders = await Promise.all(this.folders.map((entry) => this.folderStatus(entry)));
    return {
      enabled: this.config.enabled,
      embedder: this.embedder?.id ?? null,
      ...(this.embedder ? {} : { embedderNote: this.embedderNote ?? 'no embedding model' }),
      indexing: this.indexing,
      folders,
    };
  }

  private async folderStatus(entry: FolderEntry): Promise<FolderIndexStatus> {
    const base = { folder: entry.folder, storage: entry.storage };
    const empty = { files: 0, chunks: 0, vectors: 0, databaseBytes: 0, skippedCounts: {}, skipped: [] };
    const index = entry.index;
    if (!index) return { ...base, state: entry.error ? 'error' : 'opening', ...(entry.error ? { error: entry.error } : {}), ...empty };
    let status: Awaited<ReturnType<RemoteIndex['status']>>;
    let skipped: Awaited<ReturnType<RemoteIndex['skipped']>>;
    try {
      [status, skipped] = await Promise.all([index.status(), index.skipped(SKIPPED_LISTED)]);
    } catch (error) {
      return { ...base, state: 'error', error: errorMessage(error), ...empty };
    }
    const skippedCounts: Record<string, number> = {};
    for (const [reason, count] of Object.entries(status.stats.skipped)) if (count) skippedCounts[reason] = count;
    return {
      ...base,
      state: entry.running ? 'indexing' : 'idle',
      ...(status.progress ? { progress: status.progress } : {}),
      ...(status.lastRun ? { lastRun: status.lastRun } : {}),
      ...(status.lastCompleteRun ? { lastCompleteRun: status.lastCompleteRun } : {}),
      files: status.stats.files,
      chunks: status.stats.chunks,
      vectors: status.stats.vectors,
      databaseBytes: status.stats.databaseBytes,
      skippedCounts,
      skipped: skipped.map((s) => ({ rel: s.rel, reason: s.reason, isDirectory: s.isDirectory, ...(s.detail ? { detail: s.detail } : {}) })),
      ...(status.rebuiltBecause ? { rebuiltBecause: status.rebuiltBecause } : {}),
    };
  }

  private async closeAll(): Promise<void> {
    await this.cancel();
    for (const entry of this.folders) {
      try {
        await entry.index?.close();
      } catch (error) {
        if (!(error instanceof ThreadStoppedError)) this.log.warn(`index: closing ${entry.folder}: ${errorMessage(error)}`);
      }
    }
    this.folders = [];
    this.pushProgress(true);
  }

  /** Closes the thread's databases and ends it; a thread that does not answer is ended anyway. */
  private async stopThread(): Promise<void> {
    const thread = this.thread;
    this.thread = undefined;
    this.embedder = undefined;
    this.embedderModel = undefined;
    this.embedderNote = 'not loaded yet';
    if (!thread) return;
    await Promise.race([thread.call('dispose', {}).catch(() => undefined), delay(CLOSE_TIMEOUT_MS)]);
    await thread.terminate();
  }

  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    if (this.progressTimer) clearTimeout(this.progressTimer);
    // Runs that finish their step and close cleanly are better, but shutdown must not wait on a stuck thread.
    await Promise.race([this.enqueue(() => this.closeAll()), delay(CLOSE_TIMEOUT_MS)]);
    await this.stopThread();
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
