/**
 * Keeps the store in step with the workspace: walk -> read -> hash -> chunk -> embed -> store, in
 * batches, awaiting `yieldToOthers` before each file is chunked, each embedding call and each file
 * is written, so that completions go first and wait at most for one such step.
 * A file is read only when its mtime or size changed, and chunked and embedded again only when its
 * content hash changed, and then only its chunks whose text changed are embedded again. Every
 * batch commits whole files, so a cancelled or killed run resumes on the next one from the store's state.
 */
import { createHash } from 'node:crypto';
import { sep } from 'node:path';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { CHUNKER_VERSION, type Chunker } from './chunker';
import type { Embedder, SearchEmbedder } from './embedder';
import type { ChunkRecord, FileRecord, IndexStore, OpenOptions } from './store';
import { quantize } from './vectors';
import { readRegularFile } from '../shared/files/regularFile';
import { DEFAULT_MAX_FILE_BYTES, checkFile, isSkipped, unreadable, walkWorkspace, type SkippedPath, type WalkOptions, type WalkedFile } from './walker';

/** What the indexer needs of a chunker and of an embedder: the worker's live in the builder thread. */
export type ChunkSource = Pick<Chunker, 'chunk'>;
export type CodeEmbedder = Pick<Embedder, 'dimension' | 'embed'>;

export interface IndexerOptions {
  store: IndexStore;
  chunker: ChunkSource;
  /** null: BM25 only (no model available). */
  embedder: CodeEmbedder | null;
  walk: Omit<WalkOptions, 'signal'>;
  /** Files read and committed per batch (default 16). */
  batchFiles?: number;
  /** Chunks per embedding call (default 16): bounds how long a completion may wait. */
  embedBatch?: number;
  /** Awaited before each file is chunked, each embedding call and each write (default: one event-loop turn). */
  yieldToOthers?: () => Promise<void>;
  onProgress?: (progress: IndexProgress) => void;
}

export interface IndexProgress {
  phase: 'walking' | 'indexing' | 'done';
  /** Files that needed reading this run, and how many of them are done. */
  filesDone: number;
  filesTotal: number;
  /** Files the walk found (indexed or not). */
  filesSeen: number;
  chunksDone: number;
  skipped: number;
}

export interface IndexRunSummary {
  filesSeen: number;
  /** Chunked (and embedded) because new or changed. */
  filesIndexed: number;
  /** Read but identical to the stored hash, or not read at all (same mtime and size). */
  filesUnchanged: number;
  filesRemoved: number;
  chunksWritten: number;
  skipped: number;
  durationMs: number;
  cancelled: boolean;
}

export type FileUpdate = 'indexed' | 'unchanged' | 'skipped' | 'removed' | 'outside';

/** Store options matching this chunker and embedder: a change of either rebuilds the index. */
export function storeOptionsFor(embedder: SearchEmbedder | null): OpenOptions {
  return { dimension: embedder?.dimension ?? 0, signature: `chunker ${CHUNKER_VERSION}; embedder ${embedder?.id ?? 'none'}` };
}

export function contentHash(content: Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

interface Prepared {
  file: FileRecord;
  chunks: ChunkRecord[];
}

export class Indexer {
  private readonly batchFiles: number;
  private readonly embedBatch: number;
  private readonly yieldToOthers: () => Promise<void>;
  /** Files updated by `updateFile` during a run: the run must not overwrite them with older reads. */
  private readonly updatedDuringRun = new Set<string>();
  private running = false;

  constructor(private readonly options: IndexerOptions) {
    this.batchFiles = options.batchFiles ?? 16;
    this.embedBatch = options.embedBatch ?? 16;
    this.yieldToOthers = options.yieldToOthers ?? (() => nextMacrotask());
  }

  /** A full pass over the workspace. Cancelling returns early with `cancelled: true`. */
  async run(signal?: AbortSignal): Promise<IndexRunSummary> {
    if (this.running) throw new Error('an index run is already in progress');
    this.running = true;
    this.updatedDuringRun.clear();
    const started = performance.now();
    const { store } = this.options;
    const summary: IndexRunSummary = { filesSeen: 0, filesIndexed: 0, filesUnchanged: 0, filesRemoved: 0, chunksWritten: 0, skipped: 0, durationMs: 0, cancelled: false };
    const progress: IndexProgress = { phase: 'walking', filesDone: 0, filesTotal: 0, filesSeen: 0, chunksDone: 0, skipped: 0 };
    try {
      this.options.onProgress?.({ ...progress });
      const walked = await walkWorkspace({ ...this.options.walk, ...(signal ? { signal } : {}) });
      summary.filesSeen = progress.filesSeen = walked.files.length;
      const seen = new Set(walked.files.map((f) => f.path));
      const gone = store.files().filter((f) => !seen.has(f.path)).map((f) => f.path);
      store.removeFiles(gone);
      summary.filesRemoved = gone.length;
      const skipped: SkippedPath[] = [...walked.skipped];
      const changed = walked.files.filter((f) => {
        const stored = store.file(f.path);
        return !stored || stored.mtimeMs !== f.mtimeMs || stored.size !== f.size;
      });
      summary.filesUnchanged = walked.files.length - changed.length;
      progress.phase = 'indexing';
      progress.filesTotal = changed.length;
      progress.skipped = skipped.length;
      this.options.onProgress?.({ ...progress });
      for (let i = 0; i < changed.length; i += this.batchFiles) {
        if (signal?.aborted) {
          summary.cancelled = true;
          break;
        }
        await this.yieldToOthers();
        const batch = changed.slice(i, i + this.batchFiles);
        const prepared: Prepared[] = [];
        for (const walkedFile of batch) {
          await this.yieldToOthers();
          const result = await this.prepare(walkedFile);
          if (result === 'unchanged') summary.filesUnchanged++;
          else if ('reason' in result) skipped.push(result);
          else prepared.push(result);
        }
        if (!(await this.embedAll(prepared, signal))) {
          summary.cancelled = true;
          break;
        }
        // One transaction per file: each write is short, and costs no more in all than one per batch.
        // Progress follows each write, so a long batch still shows it advancing.
        for (const file of prepared) {
          await this.yieldToOthers();
          if (this.updatedDuringRun.has(file.file.path)) continue;
          store.writeFiles([file]);
          summary.filesIndexed++;
          summary.chunksWritten += file.chunks.length;
          progress.chunksDone += file.chunks.length;
          this.options.onProgress?.({ ...progress });
        }
        progress.filesDone += batch.length;
        progress.skipped = skipped.length;
        this.options.onProgress?.({ ...progress });
      }
      store.setSkipped(skipped);
      summary.skipped = skipped.length;
      if (!summary.cancelled) store.setMeta('lastCompleteRun', new Date().toISOString());
    } catch (error) {
      if (!isAbort(error)) throw error;
      summary.cancelled = true;
    } finally {
      this.running = false;
      summary.durationMs = performance.now() - started;
      progress.phase = 'done';
      this.options.onProgress?.({ ...progress });
    }
    return summary;
  }

  /**
   * Brings one file up to date (after a save, create, rename or delete event): checks the walk's
   * rules for it alone, then re-chunks and re-embeds it only if its content changed.
   */
  async updateFile(path: string, signal?: AbortSignal): Promise<FileUpdate> {
    const { store } = this.options;
    if (this.running) this.updatedDuringRun.add(path);
    const checked = await checkFile(path, this.options.walk);
    if (checked === undefined) return 'outside';
    if (isSkipped(checked)) {
      const existed = store.file(path) !== undefined;
      store.removeFiles([path]);
      // A deleted file is simply gone, not skipped.
      const deleted = checked.reason === 'unreadable' && /ENOENT/.test(checked.detail ?? '');
      store.setSkippedPath(path, deleted ? undefined : checked);
      // A deleted folder arrives as one event for the folder itself: its files go with it.
      const within = deleted && !existed ? this.storedFilesUnder(path) : [];
      if (within.length > 0) store.removeFiles(within);
      return deleted && (existed || within.length > 0) ? 'removed' : deleted ? 'outside' : 'skipped';
    }
    store.setSkippedPath(path, undefined);
    const result = await this.prepare(checked);
    if (result === 'unchanged') return 'unchanged';
    if ('reason' in result) {
      store.removeFiles([path]);
      store.setSkippedPath(path, result);
      return 'skipped';
    }
    if (!(await this.embedAll([result], signal))) return 'unchanged';
    await this.yieldToOthers();
    store.writeFiles([result]);
    return 'indexed';
  }

  removeFile(path: string): void {
    this.options.store.removeFiles([path]);
  }

  private storedFilesUnder(folder: string): string[] {
    const prefix = folder.endsWith(sep) ? folder : folder + sep;
    return this.options.store.files().map((f) => f.path).filter((p) => p.startsWith(prefix));
  }

  /** Reads and chunks one file, or says it is unchanged (hash equal) or unreadable. */
  private async prepare(walked: WalkedFile): Promise<Prepared | 'unchanged' | SkippedPath> {
    const { store, chunker } = this.options;
    let content: Buffer;
    try {
      // The walk checked the file, but it may have been replaced since (by a link to a device, a FIFO).
      content = await readRegularFile(walked.path, this.options.walk.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES);
    } catch (error) {
      return unreadable(walked.path, walked.rel, error);
    }
    const hash = contentHash(content);
    const stored = store.file(walked.path);
    if (stored && stored.hash === hash) {
      store.touchFile(walked.path, walked.mtimeMs, walked.size);
      return 'unchanged';
    }
    let text = content.toString('utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    const chunks: ChunkRecord[] = await chunker.chunk(text, walked.language);
    if (stored && this.options.embedder) {
      // Chunks whose text did not change keep their vectors: a save re-embeds only what was edited.
      const previous = store.vectorsByText(walked.path);
      for (const chunk of chunks) {
        const vector = previous.get(chunk.text);
        if (vector && vector.data.length === this.options.embedder.dimension) chunk.vector = vector;
      }
    }
    return {
      file: { path: walked.path, root: walked.root, rel: walked.rel, language: walked.language, mtimeMs: walked.mtimeMs, size: walked.size, hash },
      chunks,
    };
  }

  /** Embeds every chunk of the batch in calls of `embedBatch`; false when cancelled. */
  private async embedAll(prepared: Prepared[], signal: AbortSignal | undefined): Promise<boolean> {
    const { embedder } = this.options;
    if (!embedder) return true;
    // Similar lengths in one call: less padding for the model to run over.
    const all = prepared.flatMap((p) => p.chunks).filter((c) => !c.vector).sort((a, b) => a.text.length - b.text.length);
    for (let i = 0; i < all.length; i += this.embedBatch) {
      if (signal?.aborted) return false;
      await this.yieldToOthers();
      if (signal?.aborted) return false;
      const slice = all.slice(i, i + this.embedBatch);
      const vectors = await embedder.embed(slice.map(embeddingText), 'code');
      slice.forEach((chunk, j) => {
        const vector = vectors[j];
        if (vector) chunk.vector = quantize(vector);
      });
    }
    return true;
  }
}

/** What the embedder sees of a chunk: its text (doc comments are part of it already). */
function embeddingText(chunk: ChunkRecord): string {
  return chunk.text;
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}
