/**
 * Counts of token n-grams (lengths 1..order) in a trie kept in typed arrays: a node is an n-gram,
 * its children are the tokens that followed it. A node takes 14 bytes (token, count, first child,
 * next sibling) in pages of 32k nodes, so memory follows the n-grams held without a doubling array's
 * slack: the project cache's budget is 40 MB for 100k lines of Python, which make about 950k tokens
 * and 2.3M distinct n-grams of orders 1 to 6.
 *
 * Finding a child: single tokens through a dense table, pairs through a hash table (a token like
 * "." or "(" is followed by thousands of different ones), longer n-grams by walking the parent's
 * short list of children, most recently used first.
 *
 * Counting is by start position: the path t[j], t[j+1], .., t[j+order-1] from the root adds one to
 * every n-gram that starts at j, so a token costs `order` steps, and an edit re-counts only the
 * starts whose n-grams touch the changed tokens (`add` with sign -1, then +1). Nodes whose count
 * falls to zero stay until `compact` rebuilds the pages without them.
 */

const ROOT = 0;
const NONE = -1;
/** Nodes per page: 32k for the workspace's counts, 2k for one document's. */
export const LARGE_PAGES = 15;
export const SMALL_PAGES = 11;
/** Room a compacted trie's pair table keeps (it is rebuilt when 70% full). */
const PAIR_LOAD = 0.7;

export interface NgramTrieStats {
  /** Nodes with a count above zero: distinct n-grams. */
  liveNodes: number;
  /** Nodes allocated (live and zero-count). */
  allocatedNodes: number;
  /** Bytes of the typed arrays. */
  bytes: number;
}

type TokenPage = Uint16Array | Int32Array;

/** Tokens that followed a context and their counts, in reusable arrays (vocabulary-sized). */
export interface NextTokens {
  tokens: Int32Array;
  counts: Int32Array;
  size: number;
}

export class NgramTrie {
  private tokenPages: TokenPage[] = [];
  private countPages: Int32Array[] = [];
  private firstPages: Int32Array[] = [];
  private nextPages: Int32Array[] = [];
  /** Next free node; node 0 is the root. */
  private used = 1;
  private live = 0;
  /** Tokens counted (n-grams of length 1), the root's count as a context. */
  private tokens = 0;
  private distinct = 0;
  private ceiling = 0;
  /** Dense counts of single tokens, for the order-0 level of every prediction (a vocabulary-wide add). */
  readonly unigrams: Int32Array;
  /** Node of each single token, or NONE. */
  private readonly singles: Int32Array;
  /** Open addressing over pairs (first token x vocabulary + second) -> node; empty slots hold -1. */
  private pairKeys: Int32Array;
  private pairNodes: Int32Array;
  private pairs = 0;
  private readonly pairHash: boolean;

  private readonly pageBits: number;
  private readonly inPage: number;

  constructor(
    readonly order: number,
    readonly vocabSize: number,
    pageBits = LARGE_PAGES,
  ) {
    this.pageBits = pageBits;
    this.inPage = (1 << pageBits) - 1;
    this.unigrams = new Int32Array(vocabSize);
    this.singles = new Int32Array(vocabSize).fill(NONE);
    // a pair key must fit an int32: true for vocabularies up to 46k tokens; larger ones walk lists
    this.pairHash = vocabSize * vocabSize < 2 ** 31;
    this.pairKeys = new Int32Array(this.pairHash ? 256 : 0).fill(-1);
    this.pairNodes = new Int32Array(this.pairKeys.length);
    this.allocate(); // page 0 holds the root
    this.setFirst(ROOT, NONE);
  }

  /** Tokens counted: how many times the empty context was followed by a token. */
  get total(): number {
    return this.tokens;
  }

  /** At least the largest count of a single token (it never decreases): a bound for the mix's choice. */
  get unigramCeiling(): number {
    return this.ceiling;
  }

  /** Different tokens counted. */
  get distinctTokens(): number {
    return this.distinct;
  }

  stats(): NgramTrieStats {
    return { liveNodes: this.live, allocatedNodes: this.used, bytes: this.bytes() };
  }

  bytes(): number {
    const pages = this.countPages.length;
    const tokenBytes = this.tokenPages[0]?.BYTES_PER_ELEMENT ?? 4;
    return pages * (this.inPage + 1) * (12 + tokenBytes) + this.pairKeys.byteLength * 2 + this.unigrams.byteLength * 2;
  }

  /** What the arrays would take holding the live nodes alone (after `compact`). */
  liveBytes(): number {
    const pages = Math.ceil((this.live + 1) / (this.inPage + 1));
    const tokenBytes = this.vocabSize <= 65536 ? 2 : 4;
    return pages * (this.inPage + 1) * (12 + tokenBytes) + this.pairKeys.byteLength * 2 + this.unigrams.byteLength * 2;
  }

  /**
   * Adds (sign 1) or removes (sign -1) the n-grams of `tokens` that start at positions
   * [from, to): each start's path runs to at most `order` tokens or the end of `tokens`.
   */
  add(tokens: ArrayLike<number>, from: number, to: number, sign: 1 | -1): void {
    const n = tokens.length;
    for (let j = Math.max(0, from); j < Math.min(to, n); j++) {
      const end = Math.min(n, j + this.order);
      let node = ROOT;
      let previous = -1;
      for (let i = j; i < end; i++) {
        const t = tokens[i] as number;
        if (t < 0 || t >= this.vocabSize) break; // never counted: not a token of this vocabulary
        const depth = i - j;
        node = sign > 0 ? this.childOrCreate(node, t, depth, previous) : this.child(node, t, depth, previous);
        if (node < 0) break; // removing what was never added: nothing deeper either
        previous = t;
        const count = this.countPages[node >>> this.pageBits] as Int32Array;
        const before = count[node & this.inPage] as number;
        const after = before + sign;
        count[node & this.inPage] = after;
        if (before === 0 && after > 0) this.live++;
        else if (before > 0 && after === 0) this.live--;
        if (depth === 0) {
          this.tokens += sign;
          const single = (this.unigrams[t] as number) + sign;
          this.unigrams[t] = single;
          if (single > this.ceiling) this.ceiling = single;
          if (before === 0 && after > 0) this.distinct++;
          else if (before > 0 && after === 0) this.distinct--;
        }
      }
    }
  }

  /** The node of the n-gram `tokens[from..to)`, or -1 when it was never counted. */
  find(tokens: ArrayLike<number>, from: number, to: number): number {
    let node = ROOT;
    let previous = -1;
    for (let i = from; i < to && node >= 0; i++) {
      const t = tokens[i] as number;
      if (t < 0 || t >= this.vocabSize) return NONE;
      node = this.child(node, t, i - from, previous);
      previous = t;
    }
    return node;
  }

  /**
   * Calls `visit(token, count)` for each token that followed the n-gram at `node` (count > 0), and
   * returns [sum of those counts, how many there were].
   */
  forEachNext(node: number, visit?: (token: number, count: number) => void): [number, number] {
    let total = 0;
    let distinct = 0;
    for (let c = this.first(node); c > 0; c = this.next(c)) {
      const k = this.count(c);
      if (k <= 0) continue;
      total += k;
      distinct++;
      visit?.(this.token(c), k);
    }
    return [total, distinct];
  }

  /** `forEachNext` into arrays: one walk of the children, no callback. */
  nextTokensOf(node: number, out: NextTokens): [number, number] {
    let total = 0;
    let size = 0;
    for (let c = this.first(node); c > 0; c = this.next(c)) {
      const k = this.count(c);
      if (k <= 0) continue;
      total += k;
      out.tokens[size] = this.token(c);
      out.counts[size] = k;
      size++;
    }
    out.size = size;
    return [total, size];
  }

  /** Every n-gram with a count above zero, as "t1,t2,..." -> count (tests compare tries with it). */
  entries(): Map<string, number> {
    const out = new Map<string, number>();
    const walk = (node: number, path: number[]): void => {
      for (let c = this.first(node); c > 0; c = this.next(c)) {
        const next = [...path, this.token(c)];
        if (this.count(c) > 0) out.set(next.join(','), this.count(c));
        walk(c, next);
      }
    };
    walk(ROOT, []);
    return out;
  }

  /** Rebuilds the pages with only the live nodes, when zero-count nodes take a large share. */
  compactIfSparse(): boolean {
    const zeroed = this.used - 1 - this.live;
    if (zeroed <= this.inPage || zeroed < this.live) return false;
    this.compact();
    return true;
  }

  compact(): void {
    const fresh = new NgramTrie(this.order, this.vocabSize, this.pageBits);
    fresh.tokens = this.tokens;
    fresh.distinct = this.distinct;
    fresh.unigrams.set(this.unigrams);
    fresh.ceiling = this.ceiling;
    const copy = (from: number, to: number, depth: number, previous: number): void => {
      for (let c = this.first(from); c > 0; c = this.next(c)) {
        const k = this.count(c);
        if (k <= 0) continue; // a zero-count n-gram has no live descendants: each counts its prefix too
        const t = this.token(c);
        const node = fresh.childOrCreate(to, t, depth, previous);
        (fresh.countPages[node >>> this.pageBits] as Int32Array)[node & this.inPage] = k;
        fresh.live++;
        copy(c, node, depth + 1, t);
      }
    };
    copy(ROOT, ROOT, 0, -1);
    this.tokenPages = fresh.tokenPages;
    this.countPages = fresh.countPages;
    this.firstPages = fresh.firstPages;
    this.nextPages = fresh.nextPages;
    this.used = fresh.used;
    this.live = fresh.live;
    this.singles.set(fresh.singles);
    this.pairKeys = fresh.pairKeys;
    this.pairNodes = fresh.pairNodes;
    this.pairs = fresh.pairs;
  }

  private token(node: number): number {
    return (this.tokenPages[node >>> this.pageBits] as TokenPage)[node & this.inPage] as number;
  }

  private count(node: number): number {
    return (this.countPages[node >>> this.pageBits] as Int32Array)[node & this.inPage] as number;
  }

  private first(node: number): number {
    return (this.firstPages[node >>> this.pageBits] as Int32Array)[node & this.inPage] as number;
  }

  private next(node: number): number {
    return (this.nextPages[node >>> this.pageBits] as Int32Array)[node & this.inPage] as number;
  }

  private setFirst(node: number, value: number): void {
    (this.firstPages[node >>> this.pageBits] as Int32Array)[node & this.inPage] = value;
  }

  private setNext(node: number, value: number): void {
    (this.nextPages[node >>> this.pageBits] as Int32Array)[node & this.inPage] = value;
  }

  /** `previous`: the parent's own token (depth 1), for the pair table. */
  private child(parent: number, token: number, depth: number, previous: number): number {
    if (depth === 0) return this.singles[token] as number;
    if (depth === 1 && this.pairHash) return this.pairLookup(previous * this.vocabSize + token);
    // most recently used first: move a found child to the front of its parent's list
    let before = NONE;
    for (let c = this.first(parent); c > 0; c = this.next(c)) {
      if (this.token(c) === token) {
        if (before !== NONE) {
          this.setNext(before, this.next(c));
          this.setNext(c, this.first(parent));
          this.setFirst(parent, c);
        }
        return c;
      }
      before = c;
    }
    return NONE;
  }

  private childOrCreate(parent: number, token: number, depth: number, previous: number): number {
    const found = this.child(parent, token, depth, previous);
    if (found !== NONE) return found;
    const node = this.used++;
    if (node >>> this.pageBits >= this.countPages.length) this.allocate();
    const page = node >>> this.pageBits;
    const at = node & this.inPage;
    (this.tokenPages[page] as TokenPage)[at] = token;
    (this.countPages[page] as Int32Array)[at] = 0;
    (this.firstPages[page] as Int32Array)[at] = NONE;
    (this.nextPages[page] as Int32Array)[at] = this.first(parent);
    this.setFirst(parent, node);
    if (depth === 0) this.singles[token] = node;
    else if (depth === 1 && this.pairHash) this.pairInsert(previous * this.vocabSize + token, node);
    return node;
  }

  private allocate(): void {
    const size = this.inPage + 1;
    this.tokenPages.push(this.vocabSize <= 65536 ? new Uint16Array(size) : new Int32Array(size));
    this.countPages.push(new Int32Array(size));
    this.firstPages.push(new Int32Array(size));
    this.nextPages.push(new Int32Array(size));
  }

  private pairSlot(key: number): number {
    return Math.imul(key, 0x9e3779b1) >>> 0;
  }

  private pairLookup(key: number): number {
    const keys = this.pairKeys;
    const mask = keys.length - 1;
    for (let s = this.pairSlot(key) & mask; ; s = (s + 1) & mask) {
      const k = keys[s] as number;
      if (k === -1) return NONE;
      if (k === key) return this.pairNodes[s] as number;
    }
  }

  private pairInsert(key: number, node: number): void {
    if ((this.pairs + 1) > this.pairKeys.length * PAIR_LOAD) this.growPairs();
    const keys = this.pairKeys;
    const mask = keys.length - 1;
    let s = this.pairSlot(key) & mask;
    while (keys[s] !== -1) s = (s + 1) & mask;
    keys[s] = key;
    this.pairNodes[s] = node;
    this.pairs++;
  }

  private growPairs(): void {
    const oldKeys = this.pairKeys;
    const oldNodes = this.pairNodes;
    this.pairKeys = new Int32Array(oldKeys.length * 2).fill(-1);
    this.pairNodes = new Int32Array(oldKeys.length * 2);
    this.pairs = 0;
    for (let s = 0; s < oldKeys.length; s++) if (oldKeys[s] !== -1) this.pairInsert(oldKeys[s] as number, oldNodes[s] as number);
  }
}
