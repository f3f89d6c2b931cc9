/**
 * The index on disk: one SQLite file (node-sqlite3-wasm: WebAssembly, so it loads in Node and in
 * VS Code's Electron alike) in a folder the caller owns. It holds the files seen (path, mtime, size,
 * content hash), their chunks with int8 vectors, an FTS5 table of identifier-split terms for BM25,
 * and the paths left out with reasons. Each batch of files is written in one transaction, and a
 * file's row is written with its chunks, so an interrupted run leaves whole files only and the next
 * run resumes where it stopped.
 *
 * A database that is not ours (garbage, another application's SQLite file, an older schema) is
 * moved aside to `index.sqlite.bad` and rebuilt: the index is a cache, never worth a crash.
 */
import sqlite from 'node-sqlite3-wasm';
import type { Database as SqliteDatabase, SQLiteValue } from 'node-sqlite3-wasm';
import { closeSync, mkdirSync, openSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Chunk, ChunkKind, TextRange } from './chunker';
import type { SkipReason } from './fileFilters';
import { identifierTerms, queryTerms, termText } from './identifiers';
import { VectorMatrix, type QuantizedVector } from './vectors';
import type { SkippedPath } from './walker';

const { Database } = sqlite;

/** Bump when the tables change shape; an older file is then rebuilt. */
export const SCHEMA_VERSION = 3;
/** SQLite's application_id header field: 'KSTR'. Tells our file from any other SQLite file. */
const APPLICATION_ID = 0x4b535452;
export const DATABASE_FILE = 'index.sqlite';
/** BM25 parameters (the usual ones) and the weight of a term found in a chunk's name or path. */
const BM25_K1 = 1.2;
const BM25_B = 0.75;
const NAME_WEIGHT = 2.0;
const PATH_WEIGHT = 0.5;
const MAX_QUERY_TERMS = 8;
/** Chunk rows read per slice when loading (a few tens of milliseconds each). */
const LOAD_SLICE = 5000;
/** A term in more chunks than this share (and at least MIN_COMMON_CHUNKS) is common; see bm25(). */
const COMMON_TERM_SHARE = 0.02;
const MIN_COMMON_CHUNKS = 1000;
/** Words of natural-language queries that say nothing about code. */
const STOP_WORDS = new Set([
  'a', 'an', 'the', 'of', 'to', 'in', 'on', 'for', 'from', 'with', 'by', 'at', 'as', 'and', 'or', 'is', 'are', 'be',
  'it', 'its', 'this', 'that', 'how', 'what', 'where', 'which', 'do', 'does', 'i', 'me', 'my', 'we', 'into', 'code',
]);
/** node-sqlite3-wasm locks with a `<file>.lock` folder; a crash leaves it behind. */
const STALE_LOCK_MS = 60_000;

const SCHEMA = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE files (
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL UNIQUE,
  root TEXT NOT NULL,
  rel TEXT NOT NULL,
  language TEXT NOT NULL,
  mtime REAL NOT NULL,
  size INTEGER NOT NULL,
  hash TEXT NOT NULL
);
CREATE TABLE chunks (
  id INTEGER PRIMARY KEY,
  file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  container TEXT NOT NULL,
  start_line INTEGER NOT NULL,
  start_char INTEGER NOT NULL,
  end_line INTEGER NOT NULL,
  end_char INTEGER NOT NULL,
  doc TEXT NOT NULL,
  text TEXT NOT NULL,
  -- identifier terms of doc + text: the chunk's length for BM25's length normalisation
  term_count INTEGER NOT NULL,
  vector BLOB,
  scale REAL
);
CREATE INDEX chunks_by_file ON chunks(file_id);
-- Contentless: the terms are derived from chunks.text, so only the inverted index is stored.
CREATE VIRTUAL TABLE chunk_terms USING fts5(name, path, body, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2');
CREATE TABLE skipped (path TEXT PRIMARY KEY, rel TEXT NOT NULL, reason TEXT NOT NULL, detail TEXT, is_directory INTEGER NOT NULL);
PRAGMA application_id = ${APPLICATION_ID};
PRAGMA user_version = ${SCHEMA_VERSION};
`;

export interface FileRecord {
  path: string;
  root: string;
  rel: string;
  language: string;
  mtimeMs: number;
  size: number;
  hash: string;
}

export interface StoredFile extends FileRecord {
  id: number;
}

/** A chunk to store, with its vector when an embedder made one. */
export interface ChunkRecord extends Chunk {
  vector?: QuantizedVector;
}

export interface StoredChunk {
  id: number;
  fileId: number;
  path: string;
  rel: string;
  language: string;
  kind: ChunkKind;
  name: string;
  container: string;
  range: TextRange;
  doc: string;
  text: string;
}

export interface Bm25Hit {
  id: number;
  fileId: number;
  /** Higher is better. */
  score: number;
}

export interface StoreStats {
  files: number;
  chunks: number;
  vectors: number;
  databaseBytes: number;
  vectorBytes: number;
  skipped: Partial<Record<SkipReason, number>>;
}

export interface OpenOptions {
  /** Vector length of the embedder (0 when searching by BM25 only). */
  dimension: number;
  /**
   * What produced the stored chunks and vectors (chunker version, embedder id). A different value
   * empties the index: every file is chunked and embedded again.
   */
  signature: string;
  /** Told why a database was rebuilt. */
  onRebuild?: (reason: string) => void;
}

export class IndexStore {
  /** Why the database was rebuilt on open, if it was. */
  readonly rebuiltBecause: string | undefined;
  readonly vectors: VectorMatrix;
  private readonly db: SqliteDatabase;
  private readonly databaseFile: string;
  private readonly filesById = new Map<number, StoredFile>();
  private readonly filesByPath = new Map<string, StoredFile>();
  /** chunk id -> file id, for filters on BM25 hits without a join. */
  private readonly chunkFiles = new Map<number, number>();
  /** Chunks per term, learnt from queries (to skip common terms without reading them again). */
  private readonly termChunks = new Map<string, number>();
  private changesSinceTermCounts = 0;
  /** chunk id -> ' terms of its container and name ' (spaces around), for BM25's name bonus. */
  private readonly chunkNames = new Map<number, string>();
  /** chunk id -> its number of terms, and their sum: BM25's length normalisation. */
  private readonly chunkLengths = new Map<number, number>();
  private totalLength = 0;

  private constructor(db: SqliteDatabase, file: string, dimension: number, rebuiltBecause: string | undefined) {
    this.db = db;
    this.databaseFile = file;
    this.rebuiltBecause = rebuiltBecause;
    this.vectors = new VectorMatrix(Math.max(1, dimension));
  }

  /** Moves the database of `folder` aside (to index.sqlite.bad), for a rebuild. */
  static discard(folder: string): void {
    moveAside(join(folder, DATABASE_FILE));
  }

  /**
   * Opens (or creates, or rebuilds) the index in `folder`, loading it into memory in slices with
   * `pause()` awaited between them (100k chunks take seconds: the worker keeps answering).
   * Throws only when the folder is unusable.
   */
  static async open(folder: string, options: OpenOptions, pause?: () => Promise<void>): Promise<IndexStore> {
    mkdirSync(folder, { recursive: true });
    const file = join(folder, DATABASE_FILE);
    removeStaleLock(file);
    try {
      return await IndexStore.openFile(file, options, undefined, pause);
    } catch (error) {
      // Anything wrong with an existing file (foreign, old, truncated, damaged pages read while
      // loading): move it aside and start empty. A second failure is the folder's fault: throw.
      const reason = error instanceof Error ? error.message : String(error);
      moveAside(file);
      options.onRebuild?.(reason);
      return await IndexStore.openFile(file, options, reason, pause);
    }
  }

  private static async openFile(file: string, options: OpenOptions, rebuiltBecause: string | undefined, pause: (() => Promise<void>) | undefined): Promise<IndexStore> {
    const headerProblem = checkHeader(file);
    if (headerProblem) throw new Error(headerProblem);
    const db = new Database(file);
    try {
      const problem = checkDatabase(db);
      if (problem === 'empty') db.exec(SCHEMA);
      else if (problem) throw new Error(problem);
      db.exec('PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;');
      const store = new IndexStore(db, file, options.dimension, rebuiltBecause);
      if (store.meta('signature') !== options.signature || store.meta('dimension') !== String(options.dimension)) {
        store.clear();
        store.setMeta('signature', options.signature);
        store.setMeta('dimension', String(options.dimension));
      }
      await store.load(pause);
      return store;
    } catch (error) {
      try { db.close(); } catch { /* already unusable */ }
      throw error;
    }
  }

  /** Loads files, chunk metadata and vectors into memory, a slice of rows at a time. */
  private async load(pause: (() => Promise<void>) | undefined): Promise<void> {
    for (const row of this.db.all('SELECT id, path, root, rel, language, mtime, size, hash FROM files')) {
      const file = fileFromRow(row as Record<string, SQLiteValue>);
      this.filesById.set(file.id, file);
      this.filesByPath.set(file.path, file);
    }
    // One allocation for the matrix instead of doubling its way up.
    const withVectors = Number((this.db.get('SELECT COUNT(*) AS n FROM chunks WHERE vector IS NOT NULL') as Record<string, SQLiteValue>)['n']);
    this.vectors.reserve(withVectors);
    // Nothing else uses the store until open() returns, so the statement can stay open across pauses.
    const statement = this.db.prepare('SELECT id, file_id, term_count, name, container, vector, scale FROM chunks');
    try {
      let rows = 0;
      for (const row of statement.iterate()) {
        this.loadChunk(row as Record<string, SQLiteValue>);
        if (++rows % LOAD_SLICE === 0 && pause) await pause();
      }
    } finally {
      statement.finalize();
    }
  }

  private loadChunk(row: Record<string, SQLiteValue>): void {
    const id = row['id'] as number;
    this.chunkFiles.set(id, row['file_id'] as number);
    this.chunkNames.set(id, nameTerms(String(row['container']), String(row['name'])));
    this.chunkLengths.set(id, row['term_count'] as number);
    this.totalLength += row['term_count'] as number;
    if (row['vector'] === null) return;
    const bytes = row['vector'] as Uint8Array;
    const data = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (data.length === this.vectors.dimension) this.vectors.set(id, row['file_id'] as number, { data, scale: row['scale'] as number });
  }

  meta(key: string): string | undefined {
    const row = this.db.get('SELECT value FROM meta WHERE key = ?', key);
    return row ? String(row['value']) : undefined;
  }

  setMeta(key: string, value: string): void {
    this.db.run('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value', [key, value]);
  }

  file(path: string): StoredFile | undefined {
    return this.filesByPath.get(path);
  }

  fileById(id: number): StoredFile | undefined {
    return this.filesById.get(id);
  }

  files(): StoredFile[] {
    return [...this.filesById.values()];
  }

  /**
   * Replaces the chunks of each file in one transaction (a file with no chunks is still recorded,
   * so it is not read again until it changes).
   */
  writeFiles(batch: readonly { file: FileRecord; chunks: readonly ChunkRecord[] }[]): void {
    const removedVectors: number[] = [];
    const addedVectors: { id: number; fileId: number; vector: QuantizedVector }[] = [];
    const addedChunks: { id: number; fileId: number; length: number; name: string }[] = [];
    const written: StoredFile[] = [];
    this.transaction(() => {
      const insertChunk = this.db.prepare(
        'INSERT INTO chunks (file_id, kind, name, container, start_line, start_char, end_line, end_char, doc, text, term_count, vector, scale) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      );
      const insertTerms = this.db.prepare('INSERT INTO chunk_terms (rowid, name, path, body) VALUES (?, ?, ?, ?)');
      try {
        for (const { file, chunks } of batch) {
          const existing = this.filesByPath.get(file.path);
          if (existing) removedVectors.push(...this.deleteChunksOf(existing.id));
          const row = this.db.get(
            `INSERT INTO files (path, root, rel, language, mtime, size, hash) VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT(path) DO UPDATE SET root = excluded.root, rel = excluded.rel, language = excluded.language,
               mtime = excluded.mtime, size = excluded.size, hash = excluded.hash
             RETURNING id`,
            [file.path, file.root, file.rel, file.language, file.mtimeMs, file.size, file.hash],
          );
          const fileId = (row as Record<string, SQLiteValue>)['id'] as number;
          written.push({ ...file, id: fileId });
          const pathTerms = termText(file.rel);
          for (const chunk of chunks) {
            const vector = chunk.vector;
            const body = identifierTerms(`${chunk.doc}\n${chunk.text}`);
            const info = insertChunk.run([
              fileId, chunk.kind, chunk.name, chunk.container,
              chunk.range.start.line, chunk.range.start.character, chunk.range.end.line, chunk.range.end.character,
              chunk.doc, chunk.text, body.length,
              vector ? new Uint8Array(vector.data.buffer, vector.data.byteOffset, vector.data.byteLength) : null,
              vector ? vector.scale : null,
            ]);
            const id = Number(info.lastInsertRowid);
            insertTerms.run([id, termText(`${chunk.container} ${chunk.name}`), pathTerms, body.join(' ')]);
            addedChunks.push({ id, fileId, length: body.length, name: nameTerms(chunk.container, chunk.name) });
            if (vector) addedVectors.push({ id, fileId, vector });
          }
        }
      } finally {
        insertChunk.finalize();
        insertTerms.finalize();
      }
    });
    // Memory follows the database only once the transaction has committed.
    for (const id of removedVectors) this.forgetChunk(id);
    this.noteChanges(addedChunks.length + removedVectors.length);
    for (const { id, fileId, length, name } of addedChunks) {
      this.chunkFiles.set(id, fileId);
      this.chunkNames.set(id, name);
      this.chunkLengths.set(id, length);
      this.totalLength += length;
    }
    for (const { id, fileId, vector } of addedVectors) this.vectors.set(id, fileId, vector);
    for (const file of written) {
      const old = this.filesById.get(file.id);
      if (old) this.filesByPath.delete(old.path);
      this.filesById.set(file.id, file);
      this.filesByPath.set(file.path, file);
    }
  }

  /** Records a new mtime for a file whose content hash did not change (no re-chunking). */
  touchFile(path: string, mtimeMs: number, size: number): void {
    const file = this.filesByPath.get(path);
    if (!file) return;
    this.db.run('UPDATE files SET mtime = ?, size = ? WHERE id = ?', [mtimeMs, size, file.id]);
    file.mtimeMs = mtimeMs;
    file.size = size;
  }

  removeFiles(paths: readonly string[]): void {
    const removed: number[] = [];
    const files = paths.map((p) => this.filesByPath.get(p)).filter((f): f is StoredFile => f !== undefined);
    if (files.length === 0) return;
    this.transaction(() => {
      for (const file of files) {
        removed.push(...this.deleteChunksOf(file.id));
        this.db.run('DELETE FROM files WHERE id = ?', file.id);
      }
    });
    for (const id of removed) this.forgetChunk(id);
    this.noteChanges(removed.length);
    for (const file of files) {
      this.filesById.delete(file.id);
      this.filesByPath.delete(file.path);
    }
  }

  /** Deletes a file's chunks and terms; returns the chunk ids (for the caller to drop vectors). */
  private deleteChunksOf(fileId: number): number[] {
    const ids = this.db.all('SELECT id FROM chunks WHERE file_id = ?', fileId).map((r) => r['id'] as number);
    this.db.run('DELETE FROM chunk_terms WHERE rowid IN (SELECT id FROM chunks WHERE file_id = ?)', fileId);
    this.db.run('DELETE FROM chunks WHERE file_id = ?', fileId);
    return ids;
  }

  /** Replaces the list of skipped paths (the walker's latest verdicts). */
  setSkipped(skipped: readonly SkippedPath[]): void {
    this.transaction(() => {
      this.db.run('DELETE FROM skipped');
      const insert = this.db.prepare('INSERT OR REPLACE INTO skipped (path, rel, reason, detail, is_directory) VALUES (?, ?, ?, ?, ?)');
      try {
        for (const s of skipped) insert.run([s.path, s.rel, s.reason, s.detail ?? null, s.isDirectory ? 1 : 0]);
      } finally {
        insert.finalize();
      }
    });
  }

  /** Adds or clears one path's skip record (after a single file was checked). */
  setSkippedPath(path: string, skipped: SkippedPath | undefined): void {
    if (skipped) this.db.run('INSERT OR REPLACE INTO skipped (path, rel, reason, detail, is_directory) VALUES (?, ?, ?, ?, ?)', [skipped.path, skipped.rel, skipped.reason, skipped.detail ?? null, skipped.isDirectory ? 1 : 0]);
    else this.db.run('DELETE FROM skipped WHERE path = ?', path);
  }

  skipped(limit = 10_000): SkippedPath[] {
    return this.db.all('SELECT path, rel, reason, detail, is_directory FROM skipped ORDER BY rel LIMIT ?', limit).map((r) => ({
      path: String(r['path']),
      rel: String(r['rel']),
      reason: r['reason'] as SkipReason,
      isDirectory: r['is_directory'] === 1,
      ...(r['detail'] === null ? {} : { detail: String(r['detail']) }),
    }));
  }

  /** Learnt term counts go stale as chunks change; forget them after enough change. */
  private noteChanges(chunks: number): void {
    this.changesSinceTermCounts += chunks;
    if (this.changesSinceTermCounts > Math.max(500, this.chunkFiles.size * 0.05)) {
      this.termChunks.clear();
      this.changesSinceTermCounts = 0;
    }
  }

  private forgetChunk(id: number): void {
    this.vectors.delete(id);
    this.chunkFiles.delete(id);
    this.chunkNames.delete(id);
    this.totalLength -= this.chunkLengths.get(id) ?? 0;
    this.chunkLengths.delete(id);
  }

  /**
   * BM25 over identifier-split terms, best first. FTS5 finds the chunks holding each term (one
   * query per term); the scoring is done here, because FTS5's bm25() costs ~10 us per matching
   * chunk in WebAssembly (60 ms for a four-word query at 100k chunks) while reading the matches
   * costs ~3 us. The score is BM25 with each term counted once per chunk (term frequencies would
   * need FTS5's position lists), plus bonuses when the term is in the chunk's name or its path,
   * both checked in memory. Common terms are left out when rarer ones remain (see below).
   */
  bm25(query: string, limit: number): Bm25Hit[] {
    return this.read(() => this.bm25InTransaction(query, limit));
  }

  private bm25InTransaction(query: string, limit: number): Bm25Hit[] {
    const terms = queryTerms(query).filter((t) => !STOP_WORDS.has(t)).slice(0, MAX_QUERY_TERMS);
    const total = this.chunkFiles.size;
    if (terms.length === 0 || total === 0) return [];
    const averageLength = Math.max(1, this.totalLength / total);
    // Reading a term's matches costs ~3 us each: a term in more than `cap` chunks (a word like
    // "get" or "value") is left out when the query has rarer ones, where its low idf adds little.
    const cap = Math.max(MIN_COMMON_CHUNKS, Math.round(total * COMMON_TERM_SHARE));
    const statement = this.db.prepare('SELECT rowid AS id FROM chunk_terms WHERE chunk_terms MATCH ? LIMIT ?');
    const matched: { terms: string[]; ids: number[] }[] = [];
    const common: string[] = [];
    try {
      for (const term of [...terms].sort((a, b) => (this.termChunks.get(a) ?? 0) - (this.termChunks.get(b) ?? 0))) {
        if ((this.termChunks.get(term) ?? 0) > cap) {
          common.push(term);
          continue;
        }
        const ids = statement.all([quoteTerm(term), cap + 1]).map((r) => r['id'] as number);
        this.termChunks.set(term, ids.length);
        if (ids.length > cap) common.push(term);
        else if (ids.length > 0) matched.push({ terms: [term], ids });
      }
      if (matched.length === 0 && common.length > 0) {
        // Only common words: chunks holding all of them (for one word, its first `cap` chunks).
        const ids = statement.all([common.map(quoteTerm).join(' AND '), cap]).map((r) => r['id'] as number);
        if (ids.length > 0) matched.push({ terms: common, ids });
      }
    } finally {
      statement.finalize();
    }
    const scores = new Map<number, number>();
    const pathTerms = new Map<number, string>();
    for (const { terms: group, ids } of matched) {
      const idf = Math.log(1 + (total - ids.length + 0.5) / (ids.length + 0.5));
      const padded = group.map((t) => ` ${t} `);
      for (const id of ids) {
        const length = this.chunkLengths.get(id) ?? averageLength;
        let score = (idf * (BM25_K1 + 1)) / (1 + BM25_K1 * (1 - BM25_B + (BM25_B * length) / averageLength));
        const name = this.chunkNames.get(id) ?? '';
        const fileId = this.chunkFiles.get(id);
        let path = fileId === undefined ? '' : pathTerms.get(fileId);
        if (path === undefined) {
          path = ` ${termText(this.filesById.get(fileId as number)?.rel ?? '')} `;
          pathTerms.set(fileId as number, path);
        }
        for (const term of padded) {
          if (name.includes(term)) score += idf * NAME_WEIGHT;
          if (path.includes(term)) score += idf * PATH_WEIGHT;
        }
        scores.set(id, (scores.get(id) ?? 0) + score);
      }
    }
    // The best `limit` without sorting every match: a common term matches tens of thousands.
    const best: Bm25Hit[] = [];
    for (const [id, score] of scores) {
      if (best.length === limit && score <= (best[best.length - 1] as Bm25Hit).score) continue;
      const fileId = this.chunkFiles.get(id);
      if (fileId === undefined) continue;
      let at = best.length;
      while (at > 0 && (best[at - 1] as Bm25Hit).score < score) at--;
      best.splice(at, 0, { id, fileId, score });
      if (best.length > limit) best.pop();
    }
    return best;
  }

  chunks(ids: readonly number[]): StoredChunk[] {
    if (ids.length === 0) return [];
    const rows = this.db.all(
      `SELECT id, file_id, kind, name, container, start_line, start_char, end_line, end_char, doc, text FROM chunks WHERE id IN (${ids.map(() => '?').join(',')})`,
      [...ids],
    );
    const byId = new Map<number, StoredChunk>();
    for (const r of rows) {
      const file = this.filesById.get(r['file_id'] as number);
      if (!file) continue;
      byId.set(r['id'] as number, {
        id: r['id'] as number,
        fileId: file.id,
        path: file.path,
        rel: file.rel,
        language: file.language,
        kind: r['kind'] as ChunkKind,
        name: String(r['name']),
        container: String(r['container']),
        range: {
          start: { line: r['start_line'] as number, character: r['start_char'] as number },
          end: { line: r['end_line'] as number, character: r['end_char'] as number },
        },
        doc: String(r['doc']),
        text: String(r['text']),
      });
    }
    return ids.map((id) => byId.get(id)).filter((c): c is StoredChunk => c !== undefined);
  }

  /**
   * The stored vectors of a file's chunks by chunk text: after an edit most chunks are unchanged,
   * and their vectors are reused instead of embedding them again.
   */
  vectorsByText(path: string): Map<string, QuantizedVector> {
    const file = this.filesByPath.get(path);
    const found = new Map<string, QuantizedVector>();
    if (!file) return found;
    for (const r of this.db.all('SELECT text, vector, scale FROM chunks WHERE file_id = ? AND vector IS NOT NULL', file.id)) {
      const bytes = r['vector'] as Uint8Array;
      found.set(String(r['text']), { data: new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), scale: r['scale'] as number });
    }
    return found;
  }

  /** Chunk ids of one file, in order (for "find similar" from a location). */
  chunkIdsOf(path: string): number[] {
    const file = this.filesByPath.get(path);
    if (!file) return [];
    return this.db.all('SELECT id FROM chunks WHERE file_id = ? ORDER BY start_line', file.id).map((r) => r['id'] as number);
  }

  stats(): StoreStats {
    const skipped: Partial<Record<SkipReason, number>> = {};
    for (const r of this.db.all('SELECT reason, COUNT(*) AS n FROM skipped GROUP BY reason')) skipped[r['reason'] as SkipReason] = Number(r['n']);
    let databaseBytes = 0;
    try { databaseBytes = statSync(this.databaseFile).size; } catch { /* just created */ }
    return {
      files: this.filesById.size,
      chunks: this.chunkFiles.size,
      vectors: this.vectors.size,
      databaseBytes,
      vectorBytes: this.vectors.byteLength,
      skipped,
    };
  }

  /** Empties the index (files, chunks, terms, vectors, skips), keeping the schema. */
  clear(): void {
    this.transaction(() => {
      this.db.exec("INSERT INTO chunk_terms (chunk_terms) VALUES ('delete-all'); DELETE FROM chunks; DELETE FROM files; DELETE FROM skipped;");
    });
    this.vectors.clear();
    this.chunkFiles.clear();
    this.termChunks.clear();
    this.chunkNames.clear();
    this.chunkLengths.clear();
    this.totalLength = 0;
    this.filesById.clear();
    this.filesByPath.clear();
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }

  /**
   * Runs reads in one transaction. HACK: node-sqlite3-wasm takes its file lock by creating and
   * removing a `.lock` folder, once per statement outside a transaction: two syscalls that were
   * 40% of a search's time. One transaction around a search's statements takes the lock once.
   */
  read<T>(body: () => T): T {
    if (this.db.inTransaction) return body();
    this.db.exec('BEGIN');
    try {
      return body();
    } finally {
      this.db.exec('COMMIT');
    }
  }

  private transaction(body: () => void): void {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      body();
      this.db.exec('COMMIT');
    } catch (error) {
      try { this.db.exec('ROLLBACK'); } catch { /* the transaction is already gone */ }
      throw error;
    }
  }
}

/** undefined when the database is ours and current, 'empty' when new, else what is wrong. */
function checkDatabase(db: SqliteDatabase): string | undefined {
  // Reading the header throws "file is not a database" for garbage.
  const applicationId = Number((db.get('PRAGMA application_id') as Record<string, SQLiteValue>)['application_id']);
  const version = Number((db.get('PRAGMA user_version') as Record<string, SQLiteValue>)['user_version']);
  const tables = db.all("SELECT name FROM sqlite_master WHERE type = 'table'").map((r) => String(r['name']));
  if (applicationId === 0 && version === 0 && tables.length === 0) return 'empty';
  if (applicationId !== APPLICATION_ID) return `not a Kestrel index (application id ${applicationId})`;
  if (version !== SCHEMA_VERSION) return `index schema ${version}, expected ${SCHEMA_VERSION}`;
  for (const table of ['meta', 'files', 'chunks', 'chunk_terms', 'skipped']) {
    if (!tables.includes(table)) return `table ${table} is missing`;
  }
  return undefined;
}

/**
 * Cheap checks of the file header (no page is read beyond it): a full integrity check reads the
 * whole file, seconds at 100k chunks on the worker's thread. Damage inside pages that survives this
 * surfaces as an SQLite "malformed" error later; see isCorruptionError.
 */
function checkHeader(file: string): string | undefined {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return undefined; // a new database
  }
  if (size === 0) return undefined;
  const header = Buffer.alloc(100);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, header, 0, 100, 0);
  } finally {
    closeSync(fd);
  }
  if (size < 100 || header.toString('latin1', 0, 16) !== 'SQLite format 3\0') return 'not an SQLite database';
  const rawPageSize = header.readUInt16BE(16);
  const pageSize = rawPageSize === 1 ? 65536 : rawPageSize;
  if (pageSize < 512 || (pageSize & (pageSize - 1)) !== 0) return `invalid page size ${rawPageSize}`;
  // The page count in the header is valid when its change counter matches "version-valid-for".
  const pages = header.readUInt32BE(28);
  if (header.readUInt32BE(24) === header.readUInt32BE(92) && pages * pageSize > size) {
    return `truncated: the header says ${pages * pageSize} bytes, the file has ${size}`;
  }
  return undefined;
}

/** True for SQLite errors that mean the file is damaged: the index should be rebuilt. */
export function isCorruptionError(error: unknown): boolean {
  return error instanceof Error && /malformed|not a database|corrupt|disk image/i.test(error.message);
}

function moveAside(file: string): void {
  for (const suffix of ['-journal', '-wal', '-shm']) rmSync(file + suffix, { force: true });
  rmSync(`${file}.lock`, { recursive: true, force: true });
  try {
    renameSync(file, `${file}.bad`);
  } catch {
    rmSync(file, { force: true });
  }
}

function removeStaleLock(file: string): void {
  try {
    const lock = statSync(`${file}.lock`);
    if (Date.now() - lock.mtimeMs > STALE_LOCK_MS) rmSync(`${file}.lock`, { recursive: true, force: true });
  } catch {
    // no lock: the usual case
  }
}

function quoteTerm(term: string): string {
  return `"${term.replace(/"/g, '""')}"`;
}

function nameTerms(container: string, name: string): string {
  return ` ${termText(`${container} ${name}`)} `;
}

function fileFromRow(row: Record<string, SQLiteValue>): StoredFile {
  return {
    id: row['id'] as number,
    path: String(row['path']),
    root: String(row['root']),
    rel: String(row['rel']),
    language: String(row['language']),
    mtimeMs: row['mtime'] as number,
    size: row['size'] as number,
    hash: String(row['hash']),
  };
}
