import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sqlite from 'node-sqlite3-wasm';
import type { Chunk } from '../../src/index/chunker';
import { identifierParts, identifierTerms, queryTerms } from '../../src/index/identifiers';
import { DATABASE_FILE, IndexStore, type ChunkRecord, type FileRecord } from '../../src/index/store';
import { dequantize, quantize, VectorMatrix } from '../../src/index/vectors';

const OPTIONS = { dimension: 4, signature: 'test 1' };

function tempFolder(): string {
  return mkdtempSync(join(tmpdir(), 'kestrel-store-'));
}

function fileRecord(path: string, hash = 'h1'): FileRecord {
  return { path, root: '/ws', rel: path.replace('/ws/', ''), language: 'python', mtimeMs: 1000, size: 10, hash };
}

function chunk(name: string, text: string, vector?: number[]): ChunkRecord {
  const base: Chunk = { kind: 'function', name, container: '', doc: '', text, range: { start: { line: 0, character: 0 }, end: { line: 1, character: 0 } } };
  return vector ? { ...base, vector: quantize(Float32Array.from(vector)) } : base;
}

test('identifiers split on snake_case, camelCase and acronyms, and keep the whole name as a term', async () => {
  assert.deepEqual(identifierParts('parseHTTPRequest'), ['parse', 'http', 'request']);
  assert.deepEqual(identifierParts('get_user_id2'), ['get', 'user', 'id2']);
  assert.deepEqual(identifierParts('XMLHttpRequest'), ['xml', 'http', 'request']);
  assert.deepEqual(identifierTerms('self.add_item(x)'), ['self', 'add', 'item', 'additem', 'x']);
  assert.deepEqual(queryTerms('how to add an item'), ['how', 'to', 'add', 'an', 'item']);
});

test('int8 vectors keep cosine ranking; the matrix scans, filters, updates and deletes rows', async () => {
  const v = Float32Array.from([0.6, -0.8, 0, 0]);
  const back = dequantize(quantize(v));
  assert.ok(Math.abs((back[0] as number) - 0.6) < 0.01 && Math.abs((back[1] as number) + 0.8) < 0.01);
  for (const simd of [true, false]) {
    const matrix = new VectorMatrix(4, 1, simd);
    assert.equal(matrix.simd, simd, 'WebAssembly SIMD loads in Node');
    matrix.set(1, 10, quantize(Float32Array.from([1, 0, 0, 0])));
    matrix.set(2, 10, quantize(Float32Array.from([0.7, 0.7, 0, 0])));
    matrix.set(3, 20, quantize(Float32Array.from([0, 1, 0, 0])));
    matrix.set(4, 20, quantize(Float32Array.from([0, 0, 1, 0])));
    const query = Float32Array.from([1, 0.1, 0, 0]);
    assert.deepEqual(matrix.nearest(query, 3).map((h) => h.id), [1, 2, 3]);
    assert.ok(Math.abs((matrix.nearest(query, 1)[0]?.score as number) - 1 / Math.hypot(1, 0.1)) < 0.01, 'scores are cosines');
    assert.deepEqual(matrix.nearest(query, 3, (file) => file === 20).map((h) => h.id), [3, 4]);
    matrix.delete(1);
    matrix.set(2, 10, quantize(Float32Array.from([0, 0, 0, 1])));
    assert.equal(matrix.size, 3);
    assert.equal(matrix.nearest(query, 10)[0]?.id, 3, 'row 1 is gone');
    assert.deepEqual(matrix.nearest(Float32Array.from([0, 0, 0, 1]), 1).map((h) => h.id), [2], 'row 2 was replaced in place');
    assert.deepEqual(matrix.nearest(query, 0), []);
  }
});

test('the SIMD scan ranks exactly like the plain loop on many random vectors', async () => {
  const dimension = 40; // not a multiple of 16: rows are padded
  const simd = new VectorMatrix(dimension, 8, true);
  const plain = new VectorMatrix(dimension, 8, false);
  let seed = 7;
  const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  for (let id = 1; id <= 3000; id++) {
    const vector = quantize(Float32Array.from({ length: dimension }, random));
    simd.set(id, id % 7, vector);
    plain.set(id, id % 7, vector);
  }
  for (let q = 0; q < 5; q++) {
    const query = Float32Array.from({ length: dimension }, random);
    assert.deepEqual(simd.nearest(query, 25), plain.nearest(query, 25));
    assert.deepEqual(simd.nearest(query, 10, (f) => f === 3), plain.nearest(query, 10, (f) => f === 3));
  }
});

test('files, chunks, terms and vectors are written together and survive a reopen', async () => {
  const folder = tempFolder();
  try {
    let store = await IndexStore.open(folder, OPTIONS);
    assert.equal(store.rebuiltBecause, undefined);
    store.writeFiles([
      { file: fileRecord('/ws/a.py'), chunks: [chunk('parse_http_request', 'def parse_http_request(raw): ...', [1, 0, 0, 0]), chunk('helper', 'def helper(): ...', [0, 1, 0, 0])] },
      { file: fileRecord('/ws/b.py'), chunks: [] },
    ]);
    assert.deepEqual(store.stats().files, 2);
    assert.equal(store.stats().chunks, 2);
    assert.equal(store.vectors.size, 2);
    assert.equal(store.bm25('HTTP request', 10).length, 1, 'camelCase query finds snake_case code');
    assert.equal(store.bm25('parseHttpRequest', 10).length, 1);
    store.close();

    store = await IndexStore.open(folder, OPTIONS);
    assert.equal(store.file('/ws/a.py')?.hash, 'h1');
    assert.equal(store.vectors.size, 2, 'vectors are loaded back into memory');
    // Replacing a file's chunks drops the old ones, terms and vectors included.
    store.writeFiles([{ file: fileRecord('/ws/a.py', 'h2'), chunks: [chunk('render_page', 'def render_page(): ...', [0, 0, 1, 0])] }]);
    assert.equal(store.bm25('parse', 10).length, 0);
    assert.equal(store.bm25('render', 10).length, 1);
    assert.equal(store.vectors.size, 1);
    store.removeFiles(['/ws/a.py']);
    assert.equal(store.stats().chunks, 0);
    assert.equal(store.vectors.size, 0);
    assert.equal(store.file('/ws/a.py'), undefined);
    store.close();
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test('BM25 skips a term most chunks hold when the query has rarer ones, and still answers a query of common words', async () => {
  const folder = tempFolder();
  try {
    const store = await IndexStore.open(folder, { dimension: 0, signature: 'bm25' });
    const many = Array.from({ length: 1100 }, (_, i) => chunk(`handler_${i}`, `def handler_${i}(value): return value + ${i}`));
    many.push(chunk('parse_invoice', 'def parse_invoice(value): return value'));
    many.push(chunk('invoice_total', 'def invoice_total(lines): return sum(lines)'));
    store.writeFiles([{ file: fileRecord('/ws/many.py'), chunks: many }]);
    const hits = store.bm25('value invoice', 10);
    assert.deepEqual(hits.map((h) => h.id).length, 2, '"value" is in 1101 chunks: only "invoice" is read');
    assert.ok(hits.every((h) => h.score > 0));
    assert.ok(store.bm25('value', 10).length > 0, 'a query of common words only still has answers');
    assert.equal(store.bm25('value return', 10).length, 10);
    store.close();
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test('a garbage file where the database should be is moved aside and rebuilt', async () => {
  const folder = tempFolder();
  try {
    writeFileSync(join(folder, DATABASE_FILE), 'this is not a database '.repeat(300));
    const reasons: string[] = [];
    const store = await IndexStore.open(folder, { ...OPTIONS, onRebuild: (r) => reasons.push(r) });
    assert.ok(store.rebuiltBecause, 'says why');
    assert.equal(reasons.length, 1);
    assert.ok(existsSync(join(folder, `${DATABASE_FILE}.bad`)), 'the old file is kept aside once');
    store.writeFiles([{ file: fileRecord('/ws/a.py'), chunks: [chunk('f', 'def f(): pass', [1, 0, 0, 0])] }]);
    assert.equal(store.stats().chunks, 1, 'the rebuilt index works');
    store.close();
    const reopened = await IndexStore.open(folder, OPTIONS);
    assert.equal(reopened.rebuiltBecause, undefined);
    reopened.close();
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test('another application\'s SQLite database, an older schema or a truncated file are rebuilt too', async () => {
  const folder = tempFolder();
  try {
    const foreign = new sqlite.Database(join(folder, DATABASE_FILE));
    foreign.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users (name) VALUES ('ada');");
    foreign.close();
    let store = await IndexStore.open(folder, OPTIONS);
    assert.match(store.rebuiltBecause ?? '', /not a Kestrel index/);
    store.writeFiles([{ file: fileRecord('/ws/a.py'), chunks: [chunk('f', 'def f(): pass', [1, 0, 0, 0])] }]);
    store.close();

    const older = new sqlite.Database(join(folder, DATABASE_FILE));
    older.exec('PRAGMA user_version = 0');
    older.close();
    store = await IndexStore.open(folder, OPTIONS);
    assert.match(store.rebuiltBecause ?? '', /schema/);
    store.writeFiles([{ file: fileRecord('/ws/a.py'), chunks: [chunk('f', 'def f(): pass ' + 'x '.repeat(5000), [1, 0, 0, 0])] }]);
    store.close();

    const bytes = readFileSync(join(folder, DATABASE_FILE));
    writeFileSync(join(folder, DATABASE_FILE), bytes.subarray(0, Math.floor(bytes.length / 2)));
    store = await IndexStore.open(folder, OPTIONS);
    assert.ok(store.rebuiltBecause, 'a truncated file is detected');
    assert.equal(store.stats().files, 0);
    store.close();
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test('damaged pages behind a valid header are found while loading, and the index starts again', async () => {
  const folder = tempFolder();
  try {
    let store = await IndexStore.open(folder, OPTIONS);
    const chunks = Array.from({ length: 400 }, (_, i) => chunk(`function_${i}`, `def function_${i}(): return ${'x + '.repeat(40)}1`, [1, 0, 0, i / 400]));
    store.writeFiles([{ file: fileRecord('/ws/a.py'), chunks }]);
    store.close();
    const path = join(folder, DATABASE_FILE);
    const bytes = readFileSync(path);
    // Keep the header page; overwrite the rest with noise.
    for (let i = 4096; i < bytes.length; i++) bytes[i] = (i * 7919) & 0xff;
    writeFileSync(path, bytes);
    store = await IndexStore.open(folder, OPTIONS);
    assert.ok(store.rebuiltBecause, 'rebuilt');
    assert.equal(store.stats().chunks, 0);
    store.writeFiles([{ file: fileRecord('/ws/a.py'), chunks: chunks.slice(0, 3) }]);
    assert.equal(store.bm25('function 2', 5)[0]?.id !== undefined, true);
    store.close();
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test('a new chunker or embedder signature empties the index; a stale lock from a crash is cleared', async () => {
  const folder = tempFolder();
  try {
    let store = await IndexStore.open(folder, OPTIONS);
    store.writeFiles([{ file: fileRecord('/ws/a.py'), chunks: [chunk('f', 'def f(): pass', [1, 0, 0, 0])] }]);
    store.close();
    store = await IndexStore.open(folder, { dimension: 8, signature: 'test 2' });
    assert.equal(store.stats().files, 0);
    assert.equal(store.vectors.dimension, 8);
    store.close();

    const lock = join(folder, `${DATABASE_FILE}.lock`);
    mkdirSync(lock);
    const old = new Date(Date.now() - 10 * 60_000);
    utimesSync(lock, old, old);
    store = await IndexStore.open(folder, { dimension: 8, signature: 'test 2' });
    store.writeFiles([{ file: fileRecord('/ws/a.py'), chunks: [] }]);
    assert.equal(store.stats().files, 1);
    store.close();
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
