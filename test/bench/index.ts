/**
 * Index benchmark (DESIGN.md budgets: >= 100 chunks/s indexing with the default embedder, a saved
 * file re-indexed in <= 200 ms, search at 100k chunks p50 <= 15 ms excluding the query embedding,
 * worker memory <= 300 MB with a 100k-chunk index).
 *
 *   node esbuild.mjs --log-level=warning && node out/test/bench/index.mjs [options]
 *     --shard FILE     a corpus shard (JSON lines of {path, text}) to index as a real project
 *                      (default models/training/work/shards/python3-django.jsonl)
 *     --model DIR      embedding model folder (default models/kestrel-embed-tiny; without one,
 *                      indexing is measured with BM25 only and says so)
 *     --sizes LIST     chunk counts for the search latency runs (default 10000,100000)
 *     --queries N      queries per size (default 200)
 *     --json FILE      write the results there too
 *     --search-only    skip the indexing runs (search latency and memory only)
 *     --indexing-only  skip the search latency runs
 *     --no-peer        skip LanceDB (the peer for search)
 *
 * Indexing with the embedder is measured twice: in-process (the library, as the CLI runs it) and in
 * the index thread (dist/indexThread.js, built by esbuild.mjs), as the worker runs it: embedding
 * calls of 4 chunks, a write per file, at nice 19 on Linux (which costs nothing on an idle machine).
 *
 * Search at 10k/100k chunks uses the real project's chunks repeated under distinct paths (so BM25
 * sees real term statistics) with random unit vectors (the scan costs the same whatever the values).
 * Memory is measured in a fresh process that opens the 100k index, as the worker would.
 * The peer: the same vectors (float32, where Kestrel keeps int8) in a LanceDB table in a temporary
 * folder, searched flat (exact, no vector index) for the same 100 nearest by cosine, with the same
 * query vectors, in this process after Kestrel's figures for that size were taken.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspectModelDir } from '../../src/shared/models/registry';
import type { Chunk } from '../../src/index/chunker';
import type { Embedder } from '../../src/index/embedder';
import { OnnxEmbedder } from '../../src/index/onnxEmbedder';
import { IndexSearch } from '../../src/index/search';
import type { FileUpdate, IndexRunSummary } from '../../src/index/indexer';
import { PriorityGate } from '../../src/index/priorityGate';
import { IndexStore, type ChunkRecord, type StoreStats } from '../../src/index/store';
import { IndexThread } from '../../src/index/threadProxy';
import { quantize } from '../../src/index/vectors';
import { WorkspaceIndex } from '../../src/index/workspaceIndex';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i] as string;
  if (a.startsWith('--')) args.set(a.slice(2), process.argv[i + 1]?.startsWith('--') === false ? (process.argv[++i] as string) : 'true');
}

const QUERIES = [
  'get the user from the session', 'parse an http date header', 'validate an email address', 'render a template with context',
  'database connection cursor', 'migrate the schema', 'send mail to admins', 'cache key for a url', 'csrf token check',
  'paginate a queryset', 'format a date in the locale', 'escape html', 'password hashing algorithm', 'url reverse resolver',
  'timezone aware datetime', 'serialize a model to json', 'upload file storage', 'middleware process request', 'signal receiver',
  'get_object_or_404', 'QuerySet.filter', 'HttpResponseRedirect', 'slugify', 'ForeignKey on_delete', 'transaction.atomic',
];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function randomUnit(dim: number, seed: number): Float32Array {
  // xorshift: reproducible vectors without a dependency
  let s = seed | 0 || 1;
  const v = new Float32Array(dim);
  let norm = 0;
  for (let i = 0; i < dim; i++) {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    v[i] = ((s >>> 0) / 0xffffffff) * 2 - 1;
    norm += (v[i] as number) ** 2;
  }
  return v.map((x) => x / Math.sqrt(norm));
}

const THREAD_BUNDLE = 'dist/indexThread.js';

function embedderDir(): string {
  return args.get('model') ?? join(process.cwd(), 'models/kestrel-embed-tiny');
}

async function loadEmbedder(): Promise<Embedder | null> {
  const dir = embedderDir();
  if (!existsSync(join(dir, 'kestrel.json'))) return null;
  return OnnxEmbedder.load(inspectModelDir(dir), 'cpu');
}

interface Project {
  root: string;
  files: number;
  bytes: number;
  /** Typical modules (2-20 kB), by path: the files the re-index measurement edits. */
  typical: string[];
}

/** Writes the shard's files under a temporary folder: a real project tree on disk. */
function materialise(shard: string): Project {
  const root = mkdtempSync(join(tmpdir(), 'kestrel-bench-project-'));
  let files = 0;
  let bytes = 0;
  const typical: string[] = [];
  for (const line of readFileSync(shard, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const record = JSON.parse(line) as { path?: string; text?: string };
    if (!record.path || record.text === undefined) continue;
    const path = join(root, record.path.replace(/^usr\/lib\/python3\/dist-packages\//, ''));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, record.text);
    files++;
    const size = Buffer.byteLength(record.text);
    bytes += size;
    if (size > 2000 && size < 20000 && path.endsWith('.py')) typical.push(path);
  }
  return { root, files, bytes, typical: typical.sort().slice(0, 10) };
}

/** What the indexing measurement needs of an index, in-process or in the index thread. */
interface Indexable {
  embedder: string;
  update(): Promise<IndexRunSummary>;
  updateFile(path: string): Promise<FileUpdate>;
  stats(): Promise<StoreStats>;
  close(): Promise<void>;
}

async function inProcess(storageFolder: string, root: string, embedder: Embedder | null): Promise<Indexable> {
  const index = await WorkspaceIndex.open({ storageFolder, walk: { roots: [root] }, embedder });
  return {
    embedder: embedder?.id ?? 'none (BM25 only)',
    update: () => index.update(),
    updateFile: (path) => index.updateFile(path),
    stats: async () => index.status().stats,
    close: async () => index.close(),
  };
}

/** The worker's way: the index thread, with the embedder loaded in it and nothing holding the gate. */
async function inThread(storageFolder: string, root: string): Promise<Indexable> {
  const thread = await IndexThread.start({ file: THREAD_BUNDLE, gate: new PriorityGate().shared });
  const loaded = await thread.call('loadEmbedder', { dir: embedderDir(), device: 'cpu' });
  if ('failed' in loaded) throw new Error(`the embedder did not load in the index thread: ${loaded.failed}`);
  const index = await thread.open('bench', { storageFolder, walk: { roots: [root] } });
  return {
    embedder: `${loaded.loaded.id}, in the index thread`,
    update: () => index.update(),
    updateFile: (path) => index.updateFile(path),
    stats: async () => (await index.status()).stats,
    close: async () => {
      await index.close();
      await thread.terminate();
    },
  };
}

async function indexing(project: Project, open: (storageFolder: string) => Promise<Indexable>): Promise<Record<string, unknown>> {
  const storageFolder = mkdtempSync(join(tmpdir(), 'kestrel-bench-index-'));
  const index = await open(storageFolder);
  const originals = new Map(project.typical.map((path) => [path, readFileSync(path)]));
  try {
    const loadAverage = loadavg().map((x) => Number(x.toFixed(2)));
    const cpu0 = process.cpuUsage();
    const summary = await index.update();
    const cpu = process.cpuUsage(cpu0);
    const stats = await index.stats();
    const seconds = summary.durationMs / 1000;
    // Re-index of one saved file: a typical module with a function added, as after an edit.
    const saved: number[] = [];
    for (const path of project.typical) {
      appendFileSync(path, `\n\ndef kestrel_bench_added_${saved.length}(value):\n    return value\n`);
      const started = performance.now();
      const result = await index.updateFile(path);
      saved.push(performance.now() - started);
      if (result !== 'indexed') throw new Error(`expected ${path} to be re-indexed, got ${result}`);
    }
    const noChange = performance.now();
    const rerun = await index.update();
    const rerunMs = performance.now() - noChange;
    saved.sort((a, b) => a - b);
    return {
      embedder: index.embedder,
      loadAverageAtStart: loadAverage,
      files: summary.filesIndexed,
      chunks: stats.chunks,
      seconds: Number(seconds.toFixed(1)),
      filesPerSecond: Math.round(summary.filesIndexed / seconds),
      chunksPerSecond: Math.round(stats.chunks / seconds),
      cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(1)),
      skipped: stats.skipped,
      databaseMB: Number((stats.databaseBytes / 1e6).toFixed(1)),
      savedFileReindexMs: { p50: Number(percentile(saved, 50).toFixed(1)), max: Number((saved.at(-1) as number).toFixed(1)), files: saved.length },
      unchangedRerunMs: Math.round(rerunMs),
      unchangedRerunFilesIndexed: rerun.filesIndexed,
    };
  } finally {
    await index.close();
    // The next measurement indexes the same project as this one did.
    for (const [path, content] of originals) writeFileSync(path, content);
    rmSync(storageFolder, { recursive: true, force: true });
  }
}

/** A store of `size` chunks: the project's real chunks repeated under distinct paths, random vectors. */
async function syntheticStore(folder: string, base: Chunk[], size: number, dimension: number): Promise<void> {
  const store = await IndexStore.open(folder, { dimension, signature: 'bench' });
  const perFile = 20;
  let made = 0;
  let batch: { file: Parameters<IndexStore['writeFiles']>[0][number]['file']; chunks: ChunkRecord[] }[] = [];
  for (let f = 0; made < size; f++) {
    const chunks: ChunkRecord[] = [];
    for (let i = 0; i < perFile && made < size; i++, made++) {
      const chunk = base[made % base.length] as Chunk;
      chunks.push({ ...chunk, vector: quantize(randomUnit(dimension, made + 1)) });
    }
    const rel = `copy${Math.floor(made / base.length)}/module_${f}.py`;
    batch.push({ file: { path: join('/bench', rel), root: '/bench', rel, language: 'python', mtimeMs: 0, size: 0, hash: String(f) }, chunks });
    if (batch.length === 200) {
      store.writeFiles(batch);
      batch = [];
    }
  }
  store.writeFiles(batch);
  store.close();
}

async function searchLatency(folder: string, dimension: number, queries: number): Promise<Record<string, unknown>> {
  const rssBefore = process.memoryUsage().rss;
  const opened = performance.now();
  const store = await IndexStore.open(folder, { dimension, signature: 'bench' });
  const openMs = performance.now() - opened;
  const search = new IndexSearch(store, null);
  const fused: number[] = [];
  const bm25: number[] = [];
  const vector: number[] = [];
  for (let i = 0; i < queries + 10; i++) {
    const query = QUERIES[i % QUERIES.length] as string;
    const q = randomUnit(dimension, 1_000_003 + i);
    let t = performance.now();
    search.rank(query, q, { limit: 20 });
    const total = performance.now() - t;
    t = performance.now();
    store.bm25(query, 100);
    const lexical = performance.now() - t;
    t = performance.now();
    store.vectors.nearest(q, 100);
    const scan = performance.now() - t;
    if (i >= 10) { // the first queries warm SQLite's page cache and the JIT
      fused.push(total);
      bm25.push(lexical);
      vector.push(scan);
    }
  }
  const filtered: number[] = [];
  for (let i = 0; i < 50; i++) {
    const t = performance.now();
    search.rank(QUERIES[i % QUERIES.length] as string, randomUnit(dimension, 7 + i), { limit: 20, include: ['copy0/**'] });
    filtered.push(performance.now() - t);
  }
  const stats = store.stats();
  const rss = process.memoryUsage().rss;
  store.close();
  const summary = (xs: number[]): { p50: number; p95: number } => {
    xs.sort((a, b) => a - b);
    return { p50: Number(percentile(xs, 50).toFixed(2)), p95: Number(percentile(xs, 95).toFixed(2)) };
  };
  return {
    chunks: stats.chunks,
    openMs: Math.round(openMs),
    hybridMs: summary(fused),
    bm25Ms: summary(bm25),
    vectorScanMs: summary(vector),
    hybridWithPathFilterMs: summary(filtered),
    vectorMB: Number((stats.vectorBytes / 1e6).toFixed(1)),
    databaseMB: Number((stats.databaseBytes / 1e6).toFixed(1)),
    rssMB: Math.round(rss / 1e6),
    rssGrowthMB: Math.round((rss - rssBefore) / 1e6),
  };
}

/**
 * The part of @lancedb/lancedb's API the peer run uses. LanceDB is not a project dependency (its lock
 * entries for other platforms' binaries break `npm ci`); install it for a run with
 * `ONNXRUNTIME_NODE_INSTALL=skip npm install --no-save @lancedb/lancedb`.
 */
interface LanceQuery {
  distanceType(type: 'cosine'): LanceQuery;
  bypassVectorIndex(): LanceQuery;
  select(columns: string[]): LanceQuery;
  limit(n: number): LanceQuery;
  toArray(): Promise<unknown[]>;
}
interface LanceTable {
  add(rows: object[]): Promise<unknown>;
  vectorSearch(vector: number[]): LanceQuery;
  countRows(): Promise<number>;
  close(): void;
}
interface LanceConnection {
  createTable(name: string, rows: object[], options: { mode: 'overwrite' }): Promise<LanceTable>;
  close(): void;
}
interface LanceModule {
  connect(uri: string): Promise<LanceConnection>;
}

/** LanceDB flat (exact) vector search over the vectors syntheticStore wrote (before quantisation), 100 nearest. */
async function lanceLatency(size: number, dimension: number, queries: number): Promise<Record<string, unknown>> {
  let lancedb: LanceModule;
  try {
    const specifier = '@lancedb/lancedb'; // a variable: the package is optional, installed only for this run
    lancedb = (await import(specifier)) as LanceModule;
  } catch (error) {
    return { skipped: `@lancedb/lancedb is not installed (ONNXRUNTIME_NODE_INSTALL=skip npm install --no-save @lancedb/lancedb): ${error instanceof Error ? error.message : String(error)}` };
  }
  const folder = mkdtempSync(join(tmpdir(), 'kestrel-bench-lancedb-'));
  try {
    const built = performance.now();
    const db = await lancedb.connect(folder);
    let table: LanceTable | undefined;
    const batch = 10_000;
    for (let start = 0; start < size; start += batch) {
      const rows = [];
      for (let made = start; made < Math.min(size, start + batch); made++) rows.push({ id: made, vector: Array.from(randomUnit(dimension, made + 1)) });
      if (table) await table.add(rows);
      else table = await db.createTable('chunks', rows, { mode: 'overwrite' });
    }
    if (!table) throw new Error('no rows');
    const buildSeconds = (performance.now() - built) / 1000;
    const times: number[] = [];
    for (let i = 0; i < queries + 10; i++) {
      const q = randomUnit(dimension, 1_000_003 + i);
      const t = performance.now();
      const hits = await table.vectorSearch(Array.from(q)).distanceType('cosine').bypassVectorIndex().select(['id', '_distance']).limit(100).toArray();
      const ms = performance.now() - t;
      if (hits.length !== Math.min(100, size)) throw new Error(`LanceDB returned ${hits.length} rows`);
      if (i >= 10) times.push(ms); // as for Kestrel: the first queries warm caches
    }
    times.sort((a, b) => a - b);
    const rows = await table.countRows();
    table.close();
    db.close();
    return {
      rows,
      flatVectorSearchMs: { p50: Number(percentile(times, 50).toFixed(2)), p95: Number(percentile(times, 95).toFixed(2)) },
      tableWriteSeconds: Number(buildSeconds.toFixed(1)),
    };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  // Child mode: open one store in a fresh process and report (memory as the worker would see it).
  if (args.has('measure-store')) {
    const result = await searchLatency(args.get('measure-store') as string, Number(args.get('dimension')), Number(args.get('queries') ?? 200));
    process.stdout.write(JSON.stringify(result));
    return;
  }
  const shard = args.get('shard') ?? join(process.cwd(), 'models/training/work/shards/python3-django.jsonl');
  if (!existsSync(shard)) throw new Error(`${shard} not found: pass --shard FILE (JSON lines of {path, text})`);
  const results: Record<string, unknown> = {
    machine: { cores: availableParallelism(), loadAverage: loadavg().map((x) => Number(x.toFixed(2))), node: process.version },
  };
  const project = materialise(shard);
  results['project'] = { shard, files: project.files, MB: Number((project.bytes / 1e6).toFixed(1)) };
  console.error(`project: ${project.files} files, ${(project.bytes / 1e6).toFixed(1)} MB`);
  try {
    const embedder = await loadEmbedder();
    const searchOnly = args.has('search-only');
    if (!searchOnly) {
      results['indexingBm25Only'] = await indexing(project, (folder) => inProcess(folder, project.root, null));
      console.error('indexing, BM25 only:', JSON.stringify(results['indexingBm25Only']));
    }
    if (embedder && !searchOnly) {
      results['indexing'] = await indexing(project, (folder) => inProcess(folder, project.root, embedder));
      console.error('indexing:', JSON.stringify(results['indexing']));
      if (existsSync(THREAD_BUNDLE)) {
        results['indexingInThread'] = await indexing(project, (folder) => inThread(folder, project.root));
        console.error('indexing in the index thread:', JSON.stringify(results['indexingInThread']));
      } else {
        console.error(`${THREAD_BUNDLE} is missing (run node esbuild.mjs): indexing in the index thread not measured`);
      }
    } else if (!embedder) {
      console.error('no embedding model (pass --model DIR): indexing with the embedder not measured');
    }
    // Search latency at each size, each in a fresh process.
    const dimension = embedder?.dimension ?? 256;
    const sizes = args.has('indexing-only') ? [] : (args.get('sizes') ?? '10000,100000').split(',').map(Number);
    let chunks: Chunk[] = [];
    if (sizes.length > 0) {
      const baseFolder = mkdtempSync(join(tmpdir(), 'kestrel-bench-base-'));
      const base = await WorkspaceIndex.open({ storageFolder: baseFolder, walk: { roots: [project.root] }, embedder: null });
      await base.update();
      chunks = base.store.chunks(base.store.files().flatMap((f) => base.store.chunkIdsOf(f.path)));
      base.close();
      rmSync(baseFolder, { recursive: true, force: true });
    }
    const searchResults: Record<string, unknown> = {};
    for (const size of sizes) {
      const folder = mkdtempSync(join(tmpdir(), 'kestrel-bench-store-'));
      try {
        const built = performance.now();
        await syntheticStore(folder, chunks, size, dimension);
        const buildSeconds = (performance.now() - built) / 1000;
        const output = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--measure-store', folder, '--dimension', String(dimension), '--queries', args.get('queries') ?? '200'], { encoding: 'utf8', maxBuffer: 1 << 20 });
        const kestrel = { ...JSON.parse(output), storeWriteSeconds: Number(buildSeconds.toFixed(1)) } as Record<string, unknown>;
        searchResults[String(size)] = kestrel;
        console.error(`search at ${size} chunks:`, JSON.stringify(kestrel));
        if (!args.has('no-peer')) {
          const peer = await lanceLatency(size, dimension, Number(args.get('queries') ?? 200));
          const lance = peer['flatVectorSearchMs'] as { p50: number; p95: number } | undefined;
          if (lance) {
            const ours = kestrel['vectorScanMs'] as { p50: number; p95: number };
            const hybrid = kestrel['hybridMs'] as { p50: number; p95: number };
            // Above 1: Kestrel is faster by that factor.
            peer['lanceOverKestrelVectorScan'] = { p50: Number((lance.p50 / ours.p50).toFixed(1)), p95: Number((lance.p95 / ours.p95).toFixed(1)) };
            peer['lanceOverKestrelHybrid'] = { p50: Number((lance.p50 / hybrid.p50).toFixed(1)), p95: Number((lance.p95 / hybrid.p95).toFixed(1)) };
          }
          kestrel['lancedb'] = peer;
          console.error(`LanceDB flat at ${size} vectors:`, JSON.stringify(peer));
        }
      } finally {
        rmSync(folder, { recursive: true, force: true });
      }
    }
    results['search'] = searchResults;
    if (embedder instanceof OnnxEmbedder) {
      const times: number[] = [];
      for (let i = 0; i < 30; i++) {
        const t = performance.now();
        await embedder.embed([QUERIES[i % QUERIES.length] as string], 'query');
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      results['queryEmbeddingMs'] = { p50: Number(percentile(times, 50).toFixed(1)), p95: Number(percentile(times, 95).toFixed(1)) };
      await embedder.dispose();
    }
  } finally {
    rmSync(project.root, { recursive: true, force: true });
  }
  console.log(JSON.stringify(results, null, 1));
  if (args.get('json')) writeFileSync(args.get('json') as string, JSON.stringify(results, null, 1) + '\n');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
