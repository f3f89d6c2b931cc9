/**
 * Hybrid search: BM25 over identifier-split terms (finds exact names) and exact cosine over every
 * vector (finds meaning), fused by weighted reciprocal rank with the weights the embedding model
 * records (fusion.ts). Rank fusion needs no score calibration between the two, and a chunk both
 * lists like rises to the top. The Search view, the quick pick and Find Similar Code all rank here.
 */
import type { ChunkKind, TextRange } from './chunker';
import type { SearchEmbedder } from './embedder';
import { fuse, UNTUNED_FUSION, type FusedHit, type RankedLists } from './fusion';
import { GlobSet } from './glob';
import { queryTerms } from './identifiers';
import type { IndexStore, StoredChunk } from './store';

export interface SearchOptions {
  /** Results wanted (default 20). */
  limit?: number;
  /** Only these language ids (e.g. ['python']). */
  languages?: readonly string[];
  /** Only paths matching one of these globs, relative to the workspace folder ('*.py' means any depth). */
  include?: readonly string[];
  /** Never paths matching these globs. */
  exclude?: readonly string[];
  /** Leave out chunks overlapping these lines of this file (the selection "Find Similar Code" starts from). */
  notIn?: { path: string; startLine: number; endLine: number };
}

export interface SearchHit {
  chunkId: number;
  path: string;
  /** Relative to its workspace folder, '/'-separated. */
  rel: string;
  language: string;
  kind: ChunkKind;
  name: string;
  container: string;
  range: TextRange;
  /** A few lines of the chunk, around the lines that match the query best. */
  snippet: string;
  /** Zero-based line of the snippet's first line in the file. */
  snippetLine: number;
  /** Fused score (higher is better). */
  score: number;
  /** 1-based rank in each list that found it. */
  ranks: { bm25?: number; vector?: number };
}

/** Candidates taken from each list before fusion. */
const CANDIDATES = 100;
const SNIPPET_LINES = 6;
/**
 * The relevance floor of what a user is shown: a chunk that shares no word with the query is
 * listed only when its vector is at least this close to the query's. Nearest
 * neighbours always exist, so without a floor a search for a random word lists the workspace.
 * With kestrel-embed-tiny, words unrelated to any code ("zebra", "purple", "banana bread recipe")
 * reach a cosine of 0.24-0.40 with some chunk of Kestrel's src/index (513 chunks), as high as real
 * queries' best chunks: its similarities alone cannot tell a match from noise, so the floor sits
 * above them. The floor decides what is listed, not the order: fusion sees every candidate, and
 * evaluations (candidates()) too.
 */
const MIN_VECTOR_SIMILARITY = 0.5;

export class IndexSearch {
  constructor(
    private readonly store: IndexStore,
    private readonly embedder: SearchEmbedder | null,
  ) {}

  /** Natural-language or identifier query. */
  async search(query: string, options: SearchOptions = {}): Promise<SearchHit[]> {
    const vector = this.embedder && this.store.vectors.size > 0 ? (await this.embedder.embed([query], 'query'))[0] ?? null : null;
    return this.rank(query, vector, options);
  }

  /** Code like the given code (the "Find Similar Code" command): embedded as code, not as a query. */
  async similar(code: string, options: SearchOptions = {}): Promise<SearchHit[]> {
    const vector = this.embedder && this.store.vectors.size > 0 ? (await this.embedder.embed([code], 'code'))[0] ?? null : null;
    return this.rank(code, vector, options);
  }

  /** The search itself, once the query is embedded (synchronous: what the latency budget covers). */
  rank(query: string, queryVector: Float32Array | null, options: SearchOptions = {}): SearchHit[] {
    return this.store.read(() => this.rankInTransaction(query, queryVector, options));
  }

  /**
   * The two lists fusion starts from, after the options' filters: BM25's and the vectors' best
   * CANDIDATES chunk ids (the vector list is empty without a query vector or stored vectors), and
   * which vector candidates clear the relevance floor (MIN_VECTOR_SIMILARITY).
   */
  candidates(query: string, queryVector: Float32Array | null, options: SearchOptions = {}): RankedLists {
    return this.store.read(() => this.candidatesInTransaction(query, queryVector, this.fileFilter(options)));
  }

  private candidatesInTransaction(query: string, queryVector: Float32Array | null, accept: ((fileId: number) => boolean) | undefined): RankedLists {
    // Filters drop candidates after BM25 ranks them, so ask for more when filtering.
    const bm25Limit = accept ? CANDIDATES * 5 : CANDIDATES;
    const bm25: number[] = [];
    for (const hit of this.store.bm25(query, bm25Limit)) {
      if (accept && !accept(hit.fileId)) continue;
      bm25.push(hit.id);
      if (bm25.length === CANDIDATES) break;
    }
    const nearest = queryVector && this.store.vectors.size > 0 ? this.store.vectors.nearest(queryVector, CANDIDATES, accept) : [];
    const floor = this.embedder?.minVectorSimilarity ?? MIN_VECTOR_SIMILARITY;
    const closeByVector = new Set(nearest.filter((hit) => hit.score >= floor).map((hit) => hit.id));
    // A chunk that holds a query word is relevant even when BM25's capped lists left it out (a word
    // in most chunks is read only up to a cap, and path filters apply after): check the text itself.
    const words = queryTerms(query).filter((term) => term.length > 2);
    const inBm25 = new Set(bm25);
    const unsure = nearest.filter((hit) => !closeByVector.has(hit.id) && !inBm25.has(hit.id)).map((hit) => hit.id);
    if (words.length > 0 && unsure.length > 0) {
      for (const chunk of this.store.chunks(unsure)) {
        const text = chunk.text.toLowerCase();
        if (words.some((word) => text.includes(word))) closeByVector.add(chunk.id);
      }
    }
    return { bm25, vector: nearest.map((hit) => hit.id), closeByVector };
  }

  private rankInTransaction(query: string, queryVector: Float32Array | null, options: SearchOptions): SearchHit[] {
    const limit = options.limit ?? 20;
    const lists = this.candidatesInTransaction(query, queryVector, this.fileFilter(options));
    // with the relevance floor: what BM25 found, or what is close enough by meaning alone
    const fused = fuse(lists, this.embedder?.fusion ?? UNTUNED_FUSION);
    const notIn = options.notIn;
    // Extra candidates make up for those dropped for overlapping `notIn` once their ranges are read.
    const best = fused.slice(0, notIn ? limit + 10 : limit);
    const entries = new Map(best.map((hit) => [hit.id, hit]));
    let chunks = this.store.chunks(best.map((hit) => hit.id));
    if (notIn) {
      chunks = chunks
        .filter((c) => c.path !== notIn.path || c.range.end.line < notIn.startLine || c.range.start.line > notIn.endLine)
        .slice(0, limit);
    }
    const terms = new Set(queryTerms(query));
    return chunks.map((chunk) => {
      const entry = entries.get(chunk.id) as FusedHit;
      const { snippet, snippetLine } = snippetOf(chunk, terms);
      return {
        chunkId: chunk.id,
        path: chunk.path,
        rel: chunk.rel,
        language: chunk.language,
        kind: chunk.kind,
        name: chunk.name,
        container: chunk.container,
        range: chunk.range,
        snippet,
        snippetLine,
        score: entry.score,
        ranks: entry.ranks,
      };
    });
  }

  /** A per-file predicate for the options' filters (memoised per file), or undefined when none. */
  private fileFilter(options: SearchOptions): ((fileId: number) => boolean) | undefined {
    const languages = options.languages && options.languages.length > 0 ? new Set(options.languages) : undefined;
    const include = options.include && options.include.length > 0 ? new GlobSet(options.include.map(anywhere)) : undefined;
    const exclude = options.exclude && options.exclude.length > 0 ? new GlobSet(options.exclude.map(anywhere)) : undefined;
    if (!languages && !include && !exclude) return undefined;
    const verdicts = new Map<number, boolean>();
    return (fileId) => {
      let verdict = verdicts.get(fileId);
      if (verdict === undefined) {
        const file = this.store.fileById(fileId);
        verdict =
          file !== undefined &&
          (!languages || languages.has(file.language)) &&
          (!include || include.matches(file.rel)) &&
          !(exclude && exclude.matches(file.rel));
        verdicts.set(fileId, verdict);
      }
      return verdict;
    };
  }
}

/** In a search box, `*.py` or `tests` means at any depth, as in VS Code's search view. */
function anywhere(glob: string): string {
  const g = glob.trim();
  if (g.startsWith('**') || g.startsWith('/') || g.startsWith('./')) return g;
  return g.includes('/') && !g.endsWith('/') ? `{${g},**/${g}}` : `**/${g.replace(/\/$/, '')}{,/**}`;
}

/** The lines of a chunk that share the most terms with the query, or its first lines. */
function snippetOf(chunk: StoredChunk, terms: ReadonlySet<string>): { snippet: string; snippetLine: number } {
  const lines = chunk.text.split('\n');
  let bestLine = 0;
  let bestHits = 0;
  if (terms.size > 0) {
    // Substring tests, not tokenising every line: this runs for every result of every query.
    const wanted = [...terms].filter((t) => t.length > 2);
    lines.forEach((line, i) => {
      const lower = line.toLowerCase();
      let hits = 0;
      for (const term of wanted) if (lower.includes(term)) hits++;
      if (hits > bestHits) {
        bestHits = hits;
        bestLine = i;
      }
    });
  }
  // Keep the definition's first line in view when the match is near the top.
  let start = bestLine < SNIPPET_LINES - 1 ? 0 : bestLine - 1;
  while (start < lines.length - 1 && (lines[start] ?? '').trim() === '') start++;
  const snippet = lines
    .slice(start, start + SNIPPET_LINES)
    .map((l) => (l.length > 200 ? l.slice(0, 200) + '…' : l))
    .join('\n')
    .trimEnd();
  return { snippet, snippetLine: chunk.range.start.line + start };
}
