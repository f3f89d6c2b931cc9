/**
 * The index of one workspace as the worker's index thread (indexHost.ts) and the CLI use it: opens
 * the store for the embedder, builds the chunker for its token budget (unless indexing chunks
 * elsewhere), and exposes indexing, single-file updates, search and a status summary ("Show Index
 * Status"). Everything under it is plain library code.
 */
import { chunkerFor, type Chunker } from './chunker';
import type { Embedder, SearchEmbedder } from './embedder';
import { GrammarLoader } from '../shared/grammars/grammars';
import { Indexer, storeOptionsFor, type ChunkSource, type CodeEmbedder, type FileUpdate, type IndexProgress, type IndexRunSummary } from './indexer';
import { IndexSearch, type SearchHit, type SearchOptions } from './search';
import { IndexStore, isCorruptionError, type StoreStats } from './store';
import type { SkippedPath, WalkOptions } from './walker';

interface CommonOptions {
  /** Folder of the database: the extension's storage for this workspace, never the workspace. */
  storageFolder: string;
  /** What to walk and what to leave out (roots, exclude globs, size limit, secrets). */
  walk: Omit<WalkOptions, 'signal'>;
  /** Share one loader per process (the grammars are large). */
  grammars?: GrammarLoader;
  /** Awaited between steps of indexing (see Indexer): the index thread waits for foreground work there. */
  yieldToOthers?: () => Promise<void>;
  /** Chunks per embedding call, and files per batch (the Indexer's defaults when absent). */
  embedBatch?: number;
  batchFiles?: number;
  onProgress?: (progress: IndexProgress) => void;
  /** Told when a corrupt or foreign database was moved aside and rebuilt. */
  onRebuild?: (reason: string) => void;
}

export type WorkspaceIndexOptions = CommonOptions & (
  | {
      /** null: BM25 only, until an embedding model is available. Embeds queries and code, and sizes chunks. */
      embedder: Embedder | null;
      indexing?: undefined;
    }
  | {
      /** Embeds queries (it may be the builder thread's model, reached by messages). */
      embedder: SearchEmbedder | null;
      /**
       * Where indexing chunks and embeds (the worker's builder thread, at a lower priority than
       * search). Its embedder must be the same model as `embedder`.
       */
      indexing: { chunker: ChunkSource; embedder: CodeEmbedder | null };
    }
);

export interface IndexStatus {
  state: 'idle' | 'indexing';
  /** Progress of the run in flight, or of the last one. */
  progress: IndexProgress | undefined;
  lastRun: IndexRunSummary | undefined;
  /** ISO time of the last run that went to the end. */
  lastCompleteRun: string | undefined;
  stats: StoreStats;
  /** Embedder id, or null when searching by BM25 only. */
  embedder: string | null;
  rebuiltBecause: string | undefined;
}

const EMPTY_RUN: IndexRunSummary = { filesSeen: 0, filesIndexed: 0, filesUnchanged: 0, filesRemoved: 0, chunksWritten: 0, skipped: 0, durationMs: 0, cancelled: true };

export class WorkspaceIndex {
  private currentStore!: IndexStore;
  private readonly chunkSource: ChunkSource;
  /** The chunker this index made, to dispose on close (none when indexing chunks elsewhere). */
  private readonly ownChunker: Chunker | undefined;
  private indexer!: Indexer;
  private searcher!: IndexSearch;
  /** Why the database was found damaged while in use (it was then rebuilt empty). */
  private damaged: string | undefined;
  private progress: IndexProgress | undefined;
  private lastRun: IndexRunSummary | undefined;
  private inFlight: Promise<IndexRunSummary> | undefined;

  private constructor(private readonly options: WorkspaceIndexOptions, store: IndexStore) {
    if (options.indexing) {
      this.chunkSource = options.indexing.chunker;
    } else {
      this.ownChunker = chunkerFor(options.embedder, options.grammars ?? new GrammarLoader());
      this.chunkSource = this.ownChunker;
    }
    this.attach(store);
  }

  get store(): IndexStore {
    return this.currentStore;
  }

  private attach(store: IndexStore): void {
    const { options } = this;
    this.currentStore = store;
    this.indexer = new Indexer({
      store,
      chunker: this.chunkSource,
      embedder: options.indexing ? options.indexing.embedder : options.embedder,
      walk: options.walk,
      ...(options.yieldToOthers ? { yieldToOthers: options.yieldToOthers } : {}),
      ...(options.embedBatch ? { embedBatch: options.embedBatch } : {}),
      ...(options.batchFiles ? { batchFiles: options.batchFiles } : {}),
      onProgress: (progress) => {
        this.progress = progress;
        options.onProgress?.(progress);
      },
    });
    this.searcher = new IndexSearch(store, options.embedder);
  }

  /**
   * Damage inside the database shows only when a page is read: then the file is moved aside and
   * the index starts again empty (the next update() fills it), instead of failing every request.
   */
  private async guard<T>(work: () => Promise<T>, empty: T): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (!isCorruptionError(error)) throw error;
      this.damaged = error instanceof Error ? error.message : String(error);
      this.options.onRebuild?.(this.damaged);
      try { this.currentStore.close(); } catch { /* already unusable */ }
      IndexStore.discard(this.options.storageFolder);
      this.attach(await IndexStore.open(this.options.storageFolder, storeOptionsFor(this.options.embedder)));
      return empty;
    }
  }

  /**
   * Opens or creates the index (a corrupt database is rebuilt, see IndexStore.open). Loading a
   * large index into memory awaits `yieldToOthers` between slices.
   */
  static async open(options: WorkspaceIndexOptions): Promise<WorkspaceIndex> {
    const store = await IndexStore.open(
      options.storageFolder,
      { ...storeOptionsFor(options.embedder), ...(options.onRebuild ? { onRebuild: options.onRebuild } : {}) },
      options.yieldToOthers,
    );
    return new WorkspaceIndex(options, store);
  }

  /** Brings the whole index up to date; a call during a run joins that run. */
  update(signal?: AbortSignal): Promise<IndexRunSummary> {
    this.inFlight ??= this.guard(() => this.indexer.run(signal), EMPTY_RUN).then(
      (summary) => {
        this.lastRun = summary;
        this.inFlight = undefined;
        return summary;
      },
      (error: unknown) => {
        this.inFlight = undefined;
        throw error;
      },
    );
    return this.inFlight;
  }

  /** Empties the index and indexes everything again ("Rebuild Index"). */
  async rebuild(signal?: AbortSignal): Promise<IndexRunSummary> {
    if (this.inFlight) throw new Error('an index run is in progress: cancel it before rebuilding');
    this.store.clear();
    return this.update(signal);
  }

  /** One file saved, created, renamed or deleted. */
  updateFile(path: string, signal?: AbortSignal): Promise<FileUpdate> {
    return this.indexer.updateFile(path, signal);
  }

  removeFile(path: string): void {
    this.indexer.removeFile(path);
  }

  /** Search; a damaged database answers nothing and is rebuilt (see status().rebuiltBecause). */
  search(query: string, options?: SearchOptions): Promise<SearchHit[]> {
    return this.guard(() => this.searcher.search(query, options), []);
  }

  similar(code: string, options?: SearchOptions): Promise<SearchHit[]> {
    return this.guard(() => this.searcher.similar(code, options), []);
  }

  status(): IndexStatus {
    return {
      state: this.inFlight ? 'indexing' : 'idle',
      progress: this.progress,
      lastRun: this.lastRun,
      lastCompleteRun: this.store.meta('lastCompleteRun'),
      stats: this.store.stats(),
      embedder: this.options.embedder?.id ?? null,
      rebuiltBecause: this.damaged ?? this.store.rebuiltBecause,
    };
  }

  /** Paths left out of the index and why, for "Show Index Status". */
  skipped(limit?: number): SkippedPath[] {
    return this.store.skipped(limit);
  }

  /** Closes the database; cancel a run (its AbortSignal) and await it first. */
  close(): void {
    this.ownChunker?.dispose();
    this.store.close();
  }
}
