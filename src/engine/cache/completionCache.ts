/**
 * LRU cache of finished completions, keyed by the text around the cursor. It also answers when the
 * user has typed the start of a cached completion since it was made: the rest is served at once,
 * with no model run (the usual case right after a suggestion appears).
 */
const PREFIX_KEY_CHARS = 2048;
const SUFFIX_KEY_CHARS = 512;
/** How far back typed-ahead text is looked for. */
const MAX_TYPED_AHEAD = 96;

export class CompletionCache {
  private readonly entries = new Map<string, string>();

  constructor(private readonly limit = 256) {}

  private key(prefix: string, suffix: string): string {
    return prefix.slice(-PREFIX_KEY_CHARS) + '\u0000' + suffix.slice(0, SUFFIX_KEY_CHARS);
  }

  set(prefix: string, suffix: string, completion: string): void {
    const key = this.key(prefix, suffix);
    this.entries.delete(key);
    this.entries.set(key, completion);
    while (this.entries.size > this.limit) this.entries.delete(this.entries.keys().next().value as string);
  }

  get(prefix: string, suffix: string): string | undefined {
    const exact = this.touch(this.key(prefix, suffix));
    if (exact !== undefined) return exact;
    const most = Math.min(MAX_TYPED_AHEAD, prefix.length);
    for (let typed = 1; typed <= most; typed++) {
      const earlier = this.entries.get(this.key(prefix.slice(0, prefix.length - typed), suffix));
      if (earlier === undefined || earlier.length <= typed) continue;
      if (earlier.startsWith(prefix.slice(prefix.length - typed))) {
        this.touch(this.key(prefix.slice(0, prefix.length - typed), suffix));
        return earlier.slice(typed);
      }
    }
    return undefined;
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  private touch(key: string): string | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }
}
