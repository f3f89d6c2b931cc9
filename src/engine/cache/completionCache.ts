/**
 * LRU cache of finished completions, keyed by the text around the cursor. It also answers when the
 * user has typed the start of a cached completion since it was made: the rest is served at once,
 * with no model run (the usual case right after a suggestion appears).
 */
const PREFIX_KEY_CHARS = 2048;
const SUFFIX_KEY_CHARS = 512;
/** How far back typed-ahead text is looked for. */
const MAX_TYPED_AHEAD = 96;

interface Entry {
  completion: string;
  suffixKey: string;
  prefixLength: number;
}

export class CompletionCache {
  private readonly entries = new Map<string, Entry>();
  /**
   * Prefix lengths cached for each suffix, with how many entries have each: the typed-ahead lookup
   * builds and hashes a key (kilobytes of text) only for a length that has an entry, instead of for
   * each of the last MAX_TYPED_AHEAD characters on every keystroke.
   */
  private readonly lengths = new Map<string, Map<number, number>>();

  constructor(private readonly limit = 256) {}

  private key(prefix: string, suffixKey: string): string {
    return prefix.slice(-PREFIX_KEY_CHARS) + '\u0000' + suffixKey;
  }

  set(prefix: string, suffix: string, completion: string): void {
    const suffixKey = suffix.slice(0, SUFFIX_KEY_CHARS);
    const key = this.key(prefix, suffixKey);
    this.delete(key);
    this.entries.set(key, { completion, suffixKey, prefixLength: prefix.length });
    const lengths = this.lengths.get(suffixKey) ?? new Map<number, number>();
    lengths.set(prefix.length, (lengths.get(prefix.length) ?? 0) + 1);
    this.lengths.set(suffixKey, lengths);
    while (this.entries.size > this.limit) this.delete(this.entries.keys().next().value as string);
  }

  get(prefix: string, suffix: string): string | undefined {
    const suffixKey = suffix.slice(0, SUFFIX_KEY_CHARS);
    const lengths = this.lengths.get(suffixKey);
    if (!lengths) return undefined;
    const exact = this.touch(this.key(prefix, suffixKey));
    if (exact !== undefined) return exact.completion;
    const most = Math.min(MAX_TYPED_AHEAD, prefix.length);
    for (let typed = 1; typed <= most; typed++) {
      if (!lengths.has(prefix.length - typed)) continue;
      const key = this.key(prefix.slice(0, prefix.length - typed), suffixKey);
      const earlier = this.entries.get(key)?.completion;
      if (earlier === undefined || earlier.length <= typed) continue;
      if (earlier.startsWith(prefix.slice(prefix.length - typed))) {
        this.touch(key);
        return earlier.slice(typed);
      }
    }
    return undefined;
  }

  clear(): void {
    this.entries.clear();
    this.lengths.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  private delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    const lengths = this.lengths.get(entry.suffixKey);
    const count = lengths?.get(entry.prefixLength) ?? 0;
    if (count > 1) lengths?.set(entry.prefixLength, count - 1);
    else lengths?.delete(entry.prefixLength);
    if (lengths?.size === 0) this.lengths.delete(entry.suffixKey);
  }

  private touch(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry;
  }
}
