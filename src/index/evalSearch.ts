/**
 * `kestrel eval-search --pairs FILE`: code-search quality of this index's ranking on {query, code}
 * pairs (the JSON lines of models/training/embed_pairs.py), by the CodeSearchNet protocol: the
 * pairs are shuffled (seeded) and cut into groups of 1,000; each group becomes an index of its
 * codes (one function chunk per pair, in an IndexStore in a temporary folder), and each query
 * ranks its own code among the group's 999 others by BM25, by the vector scan and by the hybrid
 * fusion, the same calls the product's search makes. Reported: MRR and recall@1/5/10 for each.
 *
 * A right code outside a list (BM25 shares no term with it, or the fusion's candidates left it
 * out) counts as not found: reciprocal rank 0. Ties keep the order the ranking returns.
 *
 * The hybrid uses the fusion weights the embedder records (fusion.ts). With `tuneFusion`, the two
 * candidate lists of every query are kept and the weights with the best MRR are searched for
 * (tuneFusion): what embed_card.py records in the model's kestrel.json.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Embedder } from './embedder';
import { tuneFusion, UNTUNED_FUSION, type FusionWeights, type TunedFusion, type TuningQuery } from './fusion';
import { storeOptionsFor } from './indexer';
import { IndexSearch } from './search';
import { IndexStore, type ChunkRecord } from './store';
import { quantize } from './vectors';

export interface SearchPair {
  query: string;
  code: string;
  /** Function name, when the pairs file has it (the chunk's name, as the chunker would find it). */
  name?: string;
}

export type Ranker = 'bm25' | 'vector' | 'hybrid';

export interface RankSummary {
  mrr: number;
  'recall@1': number;
  'recall@5': number;
  'recall@10': number;
  /** Queries whose right code the list did not return at all. */
  notFound: number;
  n: number;
}

export interface EvalSearchResult {
  pairs: number;
  groups: number;
  groupSize: number;
  seed: number;
  embedder: string | null;
  /** The weights the hybrid ranker used (the embedder's, or UNTUNED_FUSION); absent without an embedder. */
  fusion?: FusionWeights;
  /** With `tuneFusion`: the best weights on these pairs and their MRR. */
  tunedFusion?: TunedFusion;
  rankers: Partial<Record<Ranker, RankSummary>>;
  timing: {
    totalSeconds: number;
    embedSeconds: number;
    storeWriteSeconds: number;
    /** Per query, the query's embedding excluded. */
    bm25Ms: { p50: number; p95: number };
    vectorMs?: { p50: number; p95: number };
    hybridMs?: { p50: number; p95: number };
  };
}

export interface EvalSearchOptions {
  groupSize?: number;
  seed?: number;
  /** Use only the first N pairs (before shuffling). */
  limit?: number;
  /** Texts per embedder call. */
  batch?: number;
  /** Also search for the fusion weights with the best MRR on these pairs. */
  tuneFusion?: boolean;
  onProgress?: (message: string) => void;
}

/** Reads a pairs file: JSON lines with at least `query` and `code`. */
export function readPairs(file: string): SearchPair[] {
  const pairs: SearchPair[] = [];
  readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    const record = JSON.parse(line) as Partial<SearchPair>;
    if (typeof record.query !== 'string' || typeof record.code !== 'string') throw new Error(`${file}:${i + 1}: a pair needs "query" and "code" strings`);
    pairs.push({ query: record.query, code: record.code, ...(typeof record.name === 'string' ? { name: record.name } : {}) });
  });
  return pairs;
}

/** Seeded Fisher-Yates (mulberry32), so a run can be repeated. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  let s = seed >>> 0;
  const random = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function summarise(ranks: number[]): RankSummary {
  const n = ranks.length;
  const share = (f: (r: number) => boolean): number => Number((ranks.filter(f).length / Math.max(1, n)).toFixed(4));
  return {
    mrr: Number((ranks.reduce((s, r) => s + (r > 0 ? 1 / r : 0), 0) / Math.max(1, n)).toFixed(4)),
    'recall@1': share((r) => r > 0 && r <= 1),
    'recall@5': share((r) => r > 0 && r <= 5),
    'recall@10': share((r) => r > 0 && r <= 10),
    notFound: ranks.filter((r) => r === 0).length,
    n,
  };
}

function percentiles(xs: number[]): { p50: number; p95: number } {
  const sorted = [...xs].sort((a, b) => a - b);
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
  return { p50: Number(at(50).toFixed(2)), p95: Number(at(95).toFixed(2)) };
}

/** 1-based position of `id` in `ids`, 0 when absent. */
function rankOf(ids: readonly number[], id: number): number {
  return ids.indexOf(id) + 1;
}

async function embedAll(embedder: Embedder, texts: string[], kind: 'query' | 'code', batch: number): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let i = 0; i < texts.length; i += batch) out.push(...(await embedder.embed(texts.slice(i, i + batch), kind)));
  return out;
}

export async function evaluateSearch(allPairs: readonly SearchPair[], embedder: Embedder | null, options: EvalSearchOptions = {}): Promise<EvalSearchResult> {
  const started = performance.now();
  const seed = options.seed ?? 0;
  const limited = options.limit !== undefined && options.limit > 0 ? allPairs.slice(0, options.limit) : allPairs;
  const pairs = shuffled(limited, seed);
  // As the Python evaluation: a split smaller than a group is one smaller group; a trailing partial group is left out.
  const groupSize = Math.min(options.groupSize ?? 1000, pairs.length);
  const groups = groupSize > 0 ? Math.floor(pairs.length / groupSize) : 0;
  const ranks: Record<Ranker, number[]> = { bm25: [], vector: [], hybrid: [] };
  const times: Record<Ranker, number[]> = { bm25: [], vector: [], hybrid: [] };
  const tuning: TuningQuery[] = [];
  let embedMs = 0;
  let writeMs = 0;
  for (let g = 0; g < groups; g++) {
    const group = pairs.slice(g * groupSize, (g + 1) * groupSize);
    let codeVectors: Float32Array[] = [];
    let queryVectors: Float32Array[] = [];
    if (embedder) {
      const t = performance.now();
      codeVectors = await embedAll(embedder, group.map((p) => p.code), 'code', options.batch ?? 16);
      queryVectors = await embedAll(embedder, group.map((p) => p.query), 'query', options.batch ?? 16);
      embedMs += performance.now() - t;
    }
    const folder = mkdtempSync(join(tmpdir(), 'kestrel-eval-search-'));
    const store = await IndexStore.open(folder, storeOptionsFor(embedder));
    try {
      const t = performance.now();
      // One file per pair, named neutrally (a name from the pair would give BM25's path bonus a hint).
      store.writeFiles(
        group.map((pair, i) => {
          const lines = pair.code.split('\n');
          const chunk: ChunkRecord = {
            kind: 'function',
            name: pair.name ?? /^\s*(?:async\s+)?def\s+(\w+)/.exec(pair.code)?.[1] ?? '',
            container: '',
            range: { start: { line: 0, character: 0 }, end: { line: lines.length - 1, character: (lines.at(-1) ?? '').length } },
            doc: '',
            text: pair.code,
            ...(embedder ? { vector: quantize(codeVectors[i] as Float32Array) } : {}),
          };
          const rel = `pair${i}.py`;
          return { file: { path: join(folder, 'pairs', rel), root: join(folder, 'pairs'), rel, language: 'python', mtimeMs: 0, size: pair.code.length, hash: String(i) }, chunks: [chunk] };
        }),
      );
      writeMs += performance.now() - t;
      // Chunk id of each pair's code: one file per pair, written in order.
      const idOf = group.map((_, i) => store.chunkIdsOf(join(folder, 'pairs', `pair${i}.py`))[0] as number);
      const search = new IndexSearch(store, embedder);
      group.forEach((pair, i) => {
        const right = idOf[i] as number;
        let t0 = performance.now();
        const lexical = store.bm25(pair.query, groupSize).map((h) => h.id);
        times.bm25.push(performance.now() - t0);
        ranks.bm25.push(rankOf(lexical, right));
        if (!embedder) return;
        const q = queryVectors[i] as Float32Array;
        t0 = performance.now();
        const nearest = store.vectors.nearest(q, groupSize).map((h) => h.id);
        times.vector.push(performance.now() - t0);
        ranks.vector.push(rankOf(nearest, right));
        t0 = performance.now();
        const fused = search.rank(pair.query, q, { limit: groupSize }).map((h) => h.chunkId);
        times.hybrid.push(performance.now() - t0);
        ranks.hybrid.push(rankOf(fused, right));
        if (options.tuneFusion) tuning.push({ ...search.candidates(pair.query, q), right });
      });
    } finally {
      store.close();
      rmSync(folder, { recursive: true, force: true });
    }
    options.onProgress?.(`group ${g + 1}/${groups} done`);
  }
  const rankers: Partial<Record<Ranker, RankSummary>> = { bm25: summarise(ranks.bm25) };
  if (embedder) {
    rankers.vector = summarise(ranks.vector);
    rankers.hybrid = summarise(ranks.hybrid);
  }
  return {
    pairs: pairs.length,
    groups,
    groupSize,
    seed,
    embedder: embedder?.id ?? null,
    ...(embedder ? { fusion: embedder.fusion ?? UNTUNED_FUSION } : {}),
    ...(options.tuneFusion && embedder ? { tunedFusion: tuneFusion(tuning) } : {}),
    rankers,
    timing: {
      totalSeconds: Number(((performance.now() - started) / 1000).toFixed(1)),
      embedSeconds: Number((embedMs / 1000).toFixed(1)),
      storeWriteSeconds: Number((writeMs / 1000).toFixed(2)),
      bm25Ms: percentiles(times.bm25),
      ...(embedder ? { vectorMs: percentiles(times.vector), hybridMs: percentiles(times.hybrid) } : {}),
    },
  };
}

/** The result as a table for a terminal. */
export function formatEvalSearch(result: EvalSearchResult): string {
  const lines = [
    `${result.pairs} pairs, ${result.groups} group(s) of ${result.groupSize} (seed ${result.seed}), embedder ${result.embedder ?? 'none (BM25 only)'}`,
    'ranker    MRR     R@1     R@5     R@10    not found',
  ];
  for (const [name, s] of Object.entries(result.rankers)) {
    lines.push(`${name.padEnd(8)}  ${s.mrr.toFixed(3)}   ${s['recall@1'].toFixed(3)}   ${s['recall@5'].toFixed(3)}   ${s['recall@10'].toFixed(3)}   ${s.notFound}/${s.n}`);
  }
  if (result.fusion) {
    const f = result.fusion;
    lines.push(`hybrid = ${f.bm25} / (${f.k} + rank_bm25) + ${f.vector} / (${f.k} + rank_vector)`);
  }
  if (result.tunedFusion) {
    const { weights: w, mrr, bm25Mrr, vectorMrr, queries } = result.tunedFusion;
    lines.push(`tuned fusion on these ${queries} queries: bm25 ${w.bm25}, vector ${w.vector}, k ${w.k}: MRR ${mrr.toFixed(4)} (bm25 ${bm25Mrr.toFixed(4)}, vector ${vectorMrr.toFixed(4)})`);
  }
  const t = result.timing;
  lines.push(
    `time: ${t.totalSeconds} s in all (embedding ${t.embedSeconds} s, store writes ${t.storeWriteSeconds} s); per query, embedding excluded: ` +
      `bm25 p50 ${t.bm25Ms.p50} ms p95 ${t.bm25Ms.p95} ms` +
      (t.vectorMs ? `, vector p50 ${t.vectorMs.p50} ms p95 ${t.vectorMs.p95} ms` : '') +
      (t.hybridMs ? `, hybrid p50 ${t.hybridMs.p50} ms p95 ${t.hybridMs.p95} ms` : ''),
  );
  return lines.join('\n');
}
