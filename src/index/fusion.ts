/**
 * How search combines its two ranked lists (BM25 over identifier parts, and the embedder's vectors):
 * weighted reciprocal-rank fusion, score = bm25 / (k + rank_bm25) + vector / (k + rank_vector), a
 * list that did not return a chunk adding nothing. The weights belong to the embedding model: they
 * are tuned on its valid pairs (`kestrel eval-search --tune-fusion`) and recorded in its kestrel.json
 * (`embedding.fusion`), so a weak embedder gets a small vector weight and search keeps BM25's order,
 * while a strong one gets the weight it earns. The grid includes vector weight 0 (BM25's order
 * exactly), so on the pairs it was tuned on the fusion never scores below BM25 alone; and other
 * weights are taken only when their gain over BM25 is larger than chance (two standard errors of the
 * per-query difference), so vectors that only break BM25's ties by luck do not move it.
 */

export interface FusionWeights {
  /** Weight of the BM25 list. */
  bm25: number;
  /** Weight of the vector list. */
  vector: number;
  /** Rank offset: larger values flatten the difference between the first ranks. */
  k: number;
}

/**
 * For an embedding model whose kestrel.json records no tuned fusion: plain reciprocal-rank fusion
 * with the original paper's k = 60, both lists weighted alike.
 */
export const UNTUNED_FUSION: FusionWeights = { bm25: 1, vector: 1, k: 60 };

export interface RankedLists {
  /** Chunk ids, best first. */
  bm25: readonly number[];
  vector: readonly number[];
  /**
   * Search's relevance floor (search.ts): when given, a chunk only the vector list found is kept
   * only if it is in this set (close enough to the query by meaning alone).
   */
  closeByVector?: ReadonlySet<number>;
}

export interface FusedHit {
  id: number;
  score: number;
  /** 1-based rank in each list that found it. */
  ranks: { bm25?: number; vector?: number };
}

/**
 * Every chunk of either list with its fused score, best first. Equal scores keep BM25's order,
 * then the vector list's, so with vector weight 0 the result is BM25's order followed by the
 * chunks only the vectors found.
 */
export function fuse(lists: RankedLists, weights: FusionWeights): FusedHit[] {
  const hits = new Map<number, FusedHit>();
  const add = (ids: readonly number[], list: 'bm25' | 'vector', weight: number): void => {
    ids.forEach((id, i) => {
      let hit = hits.get(id);
      if (!hit) {
        hit = { id, score: 0, ranks: {} };
        hits.set(id, hit);
      }
      hit.score += weight / (weights.k + i + 1);
      hit.ranks[list] = i + 1;
    });
  };
  add(lists.bm25, 'bm25', weights.bm25);
  add(lists.vector, 'vector', weights.vector);
  const close = lists.closeByVector;
  const kept = close ? [...hits.values()].filter((hit) => hit.ranks.bm25 !== undefined || close.has(hit.id)) : [...hits.values()];
  return kept.sort((a, b) => b.score - a.score); // stable: ties keep insertion order
}

/** One query of a tuning set: its two lists and the chunk it should find. */
export interface TuningQuery extends RankedLists {
  right: number;
}

export interface TunedFusion {
  weights: FusionWeights;
  /** MRR of the fusion with these weights on the tuning queries (right chunk outside both lists: 0). */
  mrr: number;
  /** MRR of BM25's list alone on the same queries, for comparison. */
  bm25Mrr: number;
  /** MRR of the vector list alone. */
  vectorMrr: number;
  queries: number;
}

/** Vector weights tried, with BM25's weight 1; the last, vector only, is BM25 weight 0. */
const VECTOR_WEIGHTS = [0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5, 2, 3, 5, 10, Infinity];
const K_VALUES = [1, 2, 5, 10, 20, 30, 60, 100];

function reciprocalRank(ranked: readonly number[], right: number): number {
  const at = ranked.indexOf(right);
  return at < 0 ? 0 : 1 / (at + 1);
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((s, x) => s + x, 0) / xs.length;
}

/**
 * The weights with the best MRR on the queries, by grid search over the vector weight (BM25's is 1)
 * and k, among the weights whose gain over BM25 alone is significant: the mean per-query difference
 * in reciprocal rank minus two standard errors is above 0. Otherwise BM25 alone (vector weight 0).
 * Ties go to the smaller vector weight, then to k nearest 60.
 */
export function tuneFusion(queries: readonly TuningQuery[]): TunedFusion {
  const bm25Ranks = queries.map((q) => reciprocalRank(q.bm25, q.right));
  const bm25Mrr = mean(bm25Ranks);
  const vectorMrr = mean(queries.map((q) => reciprocalRank(q.vector, q.right)));
  let best: TunedFusion = { weights: { bm25: 1, vector: 0, k: 60 }, mrr: bm25Mrr, bm25Mrr, vectorMrr, queries: queries.length };
  for (const vectorWeight of VECTOR_WEIGHTS) {
    if (vectorWeight === 0) continue; // BM25's order: the starting point
    for (const k of K_VALUES) {
      const weights = vectorWeight === Infinity ? { bm25: 0, vector: 1, k } : { bm25: 1, vector: vectorWeight, k };
      const gains = queries.map((q, i) => reciprocalRank(fuse(q, weights).map((h) => h.id), q.right) - (bm25Ranks[i] as number));
      const gain = mean(gains);
      const spread = Math.sqrt(mean(gains.map((g) => (g - gain) ** 2)) / Math.max(1, queries.length - 1));
      const mrr = bm25Mrr + gain;
      // 1e-9: sums of the same terms in another order must not count as better.
      if (gain - 2 * spread <= 0 || mrr <= best.mrr + 1e-9) continue;
      best = { ...best, weights, mrr };
    }
  }
  const round = (x: number): number => Number(x.toFixed(4));
  return { ...best, mrr: round(best.mrr), bm25Mrr: round(bm25Mrr), vectorMrr: round(vectorMrr) };
}

/** Checks the `embedding.fusion` record of a kestrel.json; returns the problems found (none: valid). */
export function fusionProblems(value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return ['"embedding.fusion" must be an object {"bm25", "vector", "k"}'];
  const record = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of ['bm25', 'vector', 'k'] as const) {
    const x = record[key];
    if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) problems.push(`"embedding.fusion.${key}" must be a number >= 0`);
  }
  if (problems.length === 0 && (record['bm25'] as number) + (record['vector'] as number) === 0) problems.push('"embedding.fusion" must weigh at least one list');
  return problems;
}
