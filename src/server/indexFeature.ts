import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, relative, isAbsolute } from 'node:path';
import type { CancellationToken, Connection } from 'vscode-languageserver/node';
import { errorMessage } from '../engine/errors';
import { inspectModelDir } from '../engine/registry/registry';
import type { Embedder } from '../index/embedder';
import { GrammarLoader } from '../index/grammars';
import type { IndexProgress } from '../index/indexer';
import { OnnxEmbedder } from '../index/onnxEmbedder';
import type { PriorityGate } from '../index/priorityGate';
import type { SearchHit, SearchOptions } from '../index/search';
import { WorkspaceIndex } from '../index/workspaceIndex';
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
import type { Feature } from './feature';
import type { Logger } from './logger';
import type { SettingsStore } from './settings';

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
  index: WorkspaceIndex | undefined;
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
 * The workspace index: one WorkspaceIndex per workspace folder, its database in the extension's
 * workspace storage. Indexing runs in the background behind the PriorityGate (completions go first),
 * reports progress to the client, can be cancelled, and resumes on the next start from the store.
 */
export class IndexFeature implements Feature {
  private connection: Connection | null = null;
  private readonly grammars = new GrammarLoader();
  private config: IndexConfig = indexConfig({ device: 'auto', model: '', modelPaths: [] });
  private folders: FolderEntry[] = [];
  private embedder: Embedder | null = null;
  private embedderModel: LoadedModel | undefined;
  private embedderNote: string | undefined = 'not loaded yet';
  private embedderTried = false;
  private controller = new AbortController();
  /** Reconfigurations, rebuilds and shutdown run one after another. */
  private queue: Promise<unknown> = Promise.resolve();
  private lastProgressAt = 0;
  private progressTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly settings: SettingsStore,
    private readonly shippedModelRoots: readonly string[],
    private readonly log: Logger,
    private readonly gate: PriorityGate,
  ) {}

  /** The embedding model in use, for `kestrel/status`. */
  loadedModels(): LoadedModel[] {
    return this.embedderModel ? [this.embedderModel] : [];
  }

  register(connection: Connection): void {
    this.connection = connection;
    connection.onRequest(SearchRequest.type, (params) => this.search((o) => o.index.search(params.query, o.options), params));
    connection.onRequest(SimilarRequest.type, (params) => this.search((o) => o.index.similar(params.code, {
      ...o.options,
      ...(params.notIn ? { notIn: params.notIn } : {}),
    }), params));
    connection.onRequest(IndexStatusRequest.type, () => this.status());
    connection.onRequest(RebuildIndexRequest.type, (token) => this.rebuild(token));
    connection.onRequest(CancelIndexRequest.type, () => this.cancel());
    connection.onNotification(FilesChangedNotification.type, (params) => void this.filesChanged(params));
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
    void this.enqueue(async () => {
      await this.closeAll();
      if (!next.enabled || !next.storage) return;
      await this.loadEmbedder();
      this.folders = next.folders.map((folder) => ({
        folder, storage: storageFor(next.storage as string, folder), index: undefined, error: undefined, progress: undefined, running: undefined,
      }));
      for (const entry of this.folders) await this.open(entry);
      this.startRuns();
    }).catch((error: unknown) => this.log.error(`index: ${errorMessage(error)}`));
  }

  private async loadEmbedder(): Promise<void> {
    if (this.embedderTried) return;
    this.embedderTried = true;
    // The shipped folder first; kestrel.modelPaths may hold one too (ignored in untrusted workspaces).
    const roots = [...this.shippedModelRoots, ...this.settings.value.modelPaths];
    const dir = roots.map((root) => join(root, EMBEDDING_MODEL_ID)).find((d) => existsSync(join(d, 'kestrel.json')));
    if (!dir) {
      this.embedderNote = `the embedding model ${EMBEDDING_MODEL_ID} is not installed: searching by keywords (BM25) only`;
      this.log.info(`index: ${this.embedderNote}`);
      return;
    }
    try {
      const embedder = await OnnxEmbedder.load(inspectModelDir(dir), this.settings.value.device);
      this.embedder = embedder;
      this.embedderModel = { id: embedder.entry.manifest.id, kind: 'embedding', variant: embedder.variant.name, provider: embedder.provider };
      this.embedderNote = undefined;
      this.log.info(`index: embedder ${embedder.id} on ${embedder.providerSummary}`);
    } catch (error) {
      this.embedderNote = `the embedding model could not load (${errorMessage(error)}): searching by keywords (BM25) only`;
      this.log.warn(`index: ${this.embedderNote}`);
    }
  }

  private async open(entry: FolderEntry): Promise<void> {
    try {
      entry.index = await WorkspaceIndex.open({
        storageFolder: entry.storage,
        walk: { roots: [entry.folder], exclude: this.config.exclude, maxFileBytes: this.config.maxFileBytes },
        embedder: this.embedder,
        grammars: this.grammars,
        yieldToOthers: () => this.gate.idle(),
        onProgress: (progress) => {
          entry.progress = progress;
          this.pushProgress(false);
        },
        onRebuild: (reason) => this.log.warn(`index of ${entry.folder} rebuilt: ${reason}`),
      });
    } catch (error) {
      entry.error = errorMessage(error);
      this.log.error(`index: could not open the index of ${entry.folder}: ${entry.error}`);
    }
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
        (error: unknown) => this.log.error(`index: ${entry.folder}: ${errorMessage(error)}`),
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
    run: (o: { index: WorkspaceIndex; options: SearchOptions }) => Promise<SearchHit[]>,
    filters: SearchFilters,
  ): Promise<SearchResult> {
    const started = performance.now();
    const elapsed = (): number => performance.now() - started;
    if (!this.config.enabled) return { hits: [], notice: 'Indexing is off (kestrel.index.enable): search is not available.', elapsedMs: elapsed() };
    if (this.config.folders.length === 0) return { hits: [], notice: 'No workspace folder is open: there is nothing to search.', elapsedMs: elapsed() };
    const options = searchOptions(filters);
    const ready = this.folders.filter((f) => f.index);
    const lists = await Promise.all(ready.map((f) => run({ index: f.index as WorkspaceIndex, options })));
    const hits = lists.flat().sort((a, b) => b.score - a.score).slice(0, options.limit).map(toHitInfo);
    const notice = hits.length === 0 && (this.indexing || ready.length < this.folders.length) ? 'Still indexing: results will appear as files are indexed.' : undefined;
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
      const controller = this.controller;
      const listener = token.onCancellationRequested(() => controller.abort());
      try {
        for (const entry of this.folders) {
          if (!entry.index) await this.open(entry);
          const index = entry.index;
          if (!index || controller.signal.aborted) continue;
          entry.running = index.rebuild(controller.signal);
          this.pushProgress(true);
          try {
            const summary = await entry.running as Awaited<ReturnType<WorkspaceIndex['rebuild']>>;
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

  status(): IndexStatusInfo {
    return {
      enabled: this.config.enabled,
      embedder: this.embedder?.id ?? null,
      ...(this.embedder ? {} : { embedderNote: this.embedderNote ?? 'no embedding model' }),
      indexing: this.indexing,
      folders: this.folders.map((entry) => this.folderStatus(entry)),
    };
  }

  private folderStatus(entry: FolderEntry): FolderIndexStatus {
    const base = { folder: entry.folder, storage: entry.storage };
    const index = entry.index;
    if (!index) {
      return {
        ...base, state: entry.error ? 'error' : 'opening', ...(entry.error ? { error: entry.error } : {}),
        files: 0, chunks: 0, vectors: 0, databaseBytes: 0, skippedCounts: {}, skipped: [],
      };
    }
    const status = index.status();
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
      skipped: index.skipped(SKIPPED_LISTED).map((s) => ({ rel: s.rel, reason: s.reason, isDirectory: s.isDirectory, ...(s.detail ? { detail: s.detail } : {}) })),
      ...(status.rebuiltBecause ? { rebuiltBecause: status.rebuiltBecause } : {}),
    };
  }

  private async closeAll(): Promise<void> {
    await this.cancel();
    for (const entry of this.folders) {
      try { entry.index?.close(); } catch (error) { this.log.warn(`index: closing ${entry.folder}: ${errorMessage(error)}`); }
    }
    this.folders = [];
    this.pushProgress(true);
  }

  async shutdown(): Promise<void> {
    if (this.progressTimer) clearTimeout(this.progressTimer);
    await this.enqueue(() => this.closeAll());
    if (this.embedder instanceof OnnxEmbedder) await this.embedder.dispose();
  }
}
