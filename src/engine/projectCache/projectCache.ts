/**
 * The project cache: a nested cache n-gram model of the user's own code (Hellendoorn & Devanbu,
 * "Are deep neural networks the best choice for modeling source code?", FSE 2017), over the
 * completion model's token ids. Three nested scopes, each a superset of the one inside it:
 *   - the document being completed,
 *   - the open and recently edited documents,
 *   - every file the cache has read (the workspace's Python files, open documents in their live form).
 * For each context length (0..order-1) the innermost scope that has seen the context gives that
 * level's counts, and the levels are smoothed together with Witten-Bell interpolation. So a name or
 * idiom repeated in this file wins over the project's habits, and those over nothing at all.
 *
 * Edits are applied as token splices (trackedText.ts): a keystroke re-counts only the n-grams that
 * cross it. Memory is bounded: past the budget, the least recently used workspace files are dropped.
 */
import { NgramTrie, SMALL_PAGES, type NextTokens } from './ngramTrie';
import { TrackedText, type PieceEncoder, type TokenSplice } from './trackedText';

export interface ProjectCacheOptions {
  /** Longest n-gram counted (context of order - 1 tokens). Default 6. */
  order?: number;
  /** Bytes the counts and tokens may take before least recently used workspace files are dropped. Default 40 MB. */
  memoryBudgetBytes?: number;
  /** Open and recently edited documents kept in the middle scope. Default 20. */
  recentDocuments?: number;
}

export const DEFAULT_ORDER = 6;
export const DEFAULT_MEMORY_BUDGET = 40 * 1024 * 1024;
const DEFAULT_RECENT = 20;

/** What the cache has seen of a context: the longest level it predicts from. */
export interface CacheGuess {
  /** Context tokens of that level (0: no context, the tokens' frequencies); -1: the cache is empty. */
  order: number;
  /** How often that context was followed by a token, and by how many different ones. */
  count: number;
  distinct: number;
  /** Which scope gave that level. */
  scope: 'document' | 'open' | 'workspace' | 'none';
  /**
   * The order-0 level (token frequencies), left for the caller to add when it asked for that: its
   * weight and the dense counts, so a mix can fold it into its own pass over the vocabulary.
   */
  unigrams?: { share: number; counts: Int32Array; ceiling: number };
}

/** Tokens a prediction wrote into its row (levels above order 0), so a caller can visit and clear just those. */
export interface TouchedTokens {
  tokens: Int32Array;
  size: number;
}

export interface ProjectCacheStats {
  /** Files whose tokens are counted (open documents included). */
  files: number;
  openDocuments: number;
  tokens: number;
  /** Bytes of the counts and the stored tokens. */
  bytes: number;
  /** Workspace files dropped to stay within the memory budget, since the cache was created. */
  evictedFiles: number;
}

interface FileEntry {
  /** Tokens of the file: a plain array while it is edited, packed once it is only read. */
  tokens: number[] | Uint16Array | Int32Array;
  /** Open and recently edited documents: their own counts (the innermost scope) and live text. */
  document?: { text: TrackedText; counts: NgramTrie; hidden?: () => void };
}

export class ProjectCache {
  readonly order: number;
  private readonly budget: number;
  private readonly recentLimit: number;
  /** Every file, least recently used first (Map order). */
  private readonly files = new Map<string, FileEntry>();
  private readonly all: NgramTrie;
  private readonly open: NgramTrie;
  private evicted = 0;
  /** The tokens that followed one context, gathered once per level of a prediction. */
  private readonly nextTokens: NextTokens;

  constructor(
    private readonly encoder: PieceEncoder,
    readonly vocabSize: number,
    options: ProjectCacheOptions = {},
  ) {
    this.order = Math.max(1, options.order ?? DEFAULT_ORDER);
    this.budget = options.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET;
    this.recentLimit = Math.max(1, options.recentDocuments ?? DEFAULT_RECENT);
    this.all = new NgramTrie(this.order, vocabSize);
    this.open = new NgramTrie(this.order, vocabSize, SMALL_PAGES);
    this.nextTokens = { tokens: new Int32Array(vocabSize), counts: new Int32Array(vocabSize), size: 0 };
  }

  /**
   * The live text of an open document (on open and on every change): counted in all three scopes,
   * replacing what was read from disk for it. Only the tokens around an edit are re-counted.
   */
  updateDocument(key: string, text: string): void {
    let entry = this.files.get(key);
    entry?.document?.hidden?.(); // counts are edited only whole
    if (entry?.document) {
      this.touch(key, entry);
      const splice = entry.document.text.update(text);
      if (splice) this.apply(entry.tokens as number[], splice, [this.all, this.open, entry.document.counts]);
      return;
    }
    const tracked = new TrackedText(this.encoder);
    const splice = tracked.update(text);
    const ids = splice ? [...splice.added] : [];
    const counts = new NgramTrie(this.order, this.vocabSize, SMALL_PAGES);
    counts.add(ids, 0, ids.length, 1);
    this.open.add(ids, 0, ids.length, 1);
    if (entry) {
      // it was read from disk: move the workspace counts to the live text with the fewest changes
      const old = Array.from(entry.tokens);
      this.all.add(old, 0, old.length, -1);
    }
    this.all.add(ids, 0, ids.length, 1);
    entry = { tokens: ids, document: { text: tracked, counts } };
    this.files.delete(key);
    this.files.set(key, entry);
    this.demoteOldDocuments();
    this.keepWithinBudget(key);
  }

  /**
   * A workspace file's tokens as read from disk (the caller encodes it, in slices that yield). An
   * open document's live text wins: its disk version is ignored.
   */
  setFile(key: string, ids: readonly number[]): void {
    const entry = this.files.get(key);
    if (entry?.document) return;
    if (entry) this.all.add(entry.tokens, 0, entry.tokens.length, -1);
    const packed = this.vocabSize <= 65536 ? Uint16Array.from(ids) : Int32Array.from(ids);
    this.all.add(packed, 0, packed.length, 1);
    this.files.delete(key);
    this.files.set(key, { tokens: packed });
    this.keepWithinBudget(key);
  }

  /**
   * Hides, until the returned function is called (or the document changes), the n-grams of document
   * `key` that run from before character `cursor` to after it: they would predict the text after the
   * cursor from the cursor's own position (a completion at a line's end would be told the line ends
   * there). The text after the cursor still counts on its own, as the model's FIM suffix does.
   */
  hideAcross(key: string, cursor: number): () => void {
    const entry = this.files.get(key);
    const document = entry?.document;
    if (!entry || !document) return () => {};
    document.hidden?.();
    const tokens = entry.tokens as number[];
    const at = document.text.tokenIndexAt(cursor);
    const from = Math.max(0, at - this.order + 1);
    if (at >= tokens.length || from >= at) return () => {};
    const tries = [this.all, this.open, document.counts];
    const before = tokens.slice(from, at);
    for (const trie of tries) {
      trie.add(tokens, from, at, -1);
      trie.add(before, 0, before.length, 1);
    }
    const restore = (): void => {
      if (document.hidden !== restore) return;
      delete document.hidden;
      for (const trie of tries) {
        trie.add(before, 0, before.length, -1);
        trie.add(tokens, from, at, 1);
      }
    };
    document.hidden = restore;
    return restore;
  }

  /** Whether the cache holds `key` (from disk or live). */
  has(key: string): boolean {
    return this.files.has(key);
  }

  /** Forgets a file (deleted on disk, or left the workspace). */
  removeFile(key: string): void {
    const entry = this.files.get(key);
    if (!entry) return;
    entry.document?.hidden?.();
    this.all.add(entry.tokens, 0, entry.tokens.length, -1);
    if (entry.document) this.open.add(entry.tokens, 0, entry.tokens.length, -1);
    this.files.delete(key);
    this.all.compactIfSparse();
    this.open.compactIfSparse();
  }

  clear(): void {
    for (const key of [...this.files.keys()]) this.removeFile(key);
    this.all.compact();
    this.open.compact();
  }

  stats(): ProjectCacheStats {
    let tokens = 0;
    let bytes = this.all.bytes() + this.open.bytes();
    let openDocuments = 0;
    for (const entry of this.files.values()) {
      tokens += entry.tokens.length;
      bytes += tokenBytes(entry.tokens);
      if (entry.document) {
        openDocuments++;
        bytes += entry.document.counts.bytes() + entry.document.text.length * 2;
      }
    }
    return { files: this.files.size, openDocuments, tokens, bytes, evictedFiles: this.evicted };
  }

  /** Counts of every n-gram in all files, as "t1,t2,..." -> count (tests compare with counts built from scratch). */
  countsForTest(scope: 'workspace' | 'open' | string): Map<string, number> {
    if (scope === 'workspace') return this.all.entries();
    if (scope === 'open') return this.open.entries();
    return this.files.get(scope)?.document?.counts.entries() ?? new Map();
  }

  /**
   * The cache's distribution over the next token after `context` (the newest ids, at least the last
   * order - 1 of them) in document `key`, added into `into` (a zeroed array of vocabSize), and what
   * the cache has seen of that context.
   */
  predict(key: string, context: ArrayLike<number>, into: Float32Array, touched?: TouchedTokens): CacheGuess {
    if (touched) touched.size = 0;
    const document = this.files.get(key)?.document?.counts;
    const scopes: Array<[NgramTrie, CacheGuess['scope']]> = [];
    if (document && document.total > 0) scopes.push([document, 'document']);
    if (this.open.total > 0) scopes.push([this.open, 'open']);
    if (this.all.total > 0) scopes.push([this.all, 'workspace']);
    const none: CacheGuess = { order: -1, count: 0, distinct: 0, scope: 'none' };
    if (scopes.length === 0) return none;
    const end = context.length;
    const longest = Math.min(this.order - 1, end);
    // Witten-Bell, unrolled from the longest level down: level l adds coefficient x count for each
    // token that followed its context, and passes on D / (N + D) of the mass to the level below.
    let mass = 1;
    let top: CacheGuess = none;
    for (let k = longest; k >= 0; k--) {
      for (const [counts, scope] of scopes) {
        const node = k === 0 ? 0 : counts.find(context, end - k, end);
        if (node < 0) continue;
        const [total, distinct] = k === 0 ? [counts.total, counts.distinctTokens] : counts.nextTokensOf(node, this.nextTokens);
        if (total <= 0) continue;
        if (top.order < 0) top = { order: k, count: total, distinct, scope };
        const share = mass / (total + distinct);
        if (k === 0 && touched) {
          top = { ...top, unigrams: { share, counts: counts.unigrams, ceiling: counts.unigramCeiling } };
        } else if (k === 0) {
          const unigrams = counts.unigrams;
          for (let t = 0; t < unigrams.length; t++) {
            const c = unigrams[t] as number;
            if (c > 0) into[t] = (into[t] as number) + share * c;
          }
        } else {
          const seen = this.nextTokens;
          for (let i = 0; i < seen.size; i++) {
            const token = seen.tokens[i] as number;
            if (touched && into[token] === 0) touched.tokens[touched.size++] = token;
            into[token] = (into[token] as number) + share * (seen.counts[i] as number);
          }
        }
        mass *= distinct / (total + distinct);
        break; // the innermost scope that has seen this context decides this level
      }
    }
    return top;
  }

  private apply(tokens: number[], splice: TokenSplice, tries: readonly NgramTrie[]): void {
    const from = Math.max(0, splice.at - this.order + 1);
    for (const trie of tries) trie.add(tokens, from, splice.at + splice.removed, -1);
    tokens.splice(splice.at, splice.removed, ...splice.added);
    for (const trie of tries) trie.add(tokens, from, splice.at + splice.added.length, 1);
    for (const trie of tries) trie.compactIfSparse();
  }

  private touch(key: string, entry: FileEntry): void {
    this.files.delete(key);
    this.files.set(key, entry);
  }

  /**
   * Beyond `recentDocuments` open or recently edited documents, the least recently used leave the
   * middle scope: their counts stay in the workspace scope, as if read from disk.
   */
  private demoteOldDocuments(): void {
    let documents = 0;
    for (const entry of this.files.values()) if (entry.document) documents++;
    for (const [, entry] of this.files) {
      if (documents <= this.recentLimit) break;
      if (!entry.document) continue;
      entry.document.hidden?.();
      this.open.add(entry.tokens, 0, entry.tokens.length, -1);
      entry.tokens = this.vocabSize <= 65536 ? Uint16Array.from(entry.tokens) : Int32Array.from(entry.tokens);
      delete entry.document;
      documents--;
    }
    this.open.compactIfSparse();
  }

  /** Drops least recently used workspace files (never `keep`, never open documents) while over budget. */
  private keepWithinBudget(keep: string): void {
    if (this.stats().bytes <= this.budget) return;
    // Allocated arrays only shrink when compacted: drop files until the live counts fit in 80% of
    // the budget, then compact.
    const target = this.budget * 0.8;
    let stored = 0;
    for (const entry of this.files.values()) {
      stored += tokenBytes(entry.tokens);
      if (entry.document) stored += entry.document.counts.bytes() + entry.document.text.length * 2;
    }
    for (const [key, entry] of this.files) {
      if (this.all.liveBytes() + this.open.liveBytes() + stored <= target) break;
      if (key === keep || entry.document) continue;
      this.all.add(entry.tokens, 0, entry.tokens.length, -1);
      stored -= tokenBytes(entry.tokens);
      this.files.delete(key);
      this.evicted++;
    }
    this.all.compact();
    this.open.compactIfSparse();
  }
}

function tokenBytes(tokens: number[] | Uint16Array | Int32Array): number {
  return Array.isArray(tokens) ? tokens.length * 8 : tokens.byteLength;
}
