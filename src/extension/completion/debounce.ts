/**
 * How long to wait after a keystroke before asking the model, adapted to the user's typing speed:
 * a fast typist gets a longer wait (a request per keystroke would be wasted), a pause gets the base.
 * No `vscode` import: unit-tested directly.
 */
export const MIN_DEBOUNCE_MS = 20;
export const MAX_DEBOUNCE_MS = 400;
/** Keystrokes further apart than this are pauses, not typing; they do not count toward the speed. */
const PAUSE_MS = 1_500;
/** How many recent intervals make up the typing speed. */
const WINDOW = 8;

export class AdaptiveDebounce {
  private lastKeystrokeAt: number | undefined;
  private readonly intervals: number[] = [];

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Records a keystroke (a text change in the active document). */
  keystroke(): void {
    const at = this.now();
    if (this.lastKeystrokeAt !== undefined) {
      const interval = at - this.lastKeystrokeAt;
      if (interval < PAUSE_MS) {
        this.intervals.push(interval);
        if (this.intervals.length > WINDOW) this.intervals.shift();
      }
    }
    this.lastKeystrokeAt = at;
  }

  /** Median interval between recent keystrokes, or undefined before there is enough typing. */
  typingIntervalMs(): number | undefined {
    if (this.intervals.length < 3) return undefined;
    const sorted = [...this.intervals].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
  }

  /**
   * The delay for the next request. While the user types faster than the base delay, wait a bit
   * longer than their usual gap between keys (the next key is likely coming); otherwise the base.
   */
  delayMs(baseMs: number): number {
    const interval = this.typingIntervalMs();
    const wanted = interval !== undefined && interval < baseMs * 2 ? Math.max(baseMs, interval * 1.5) : baseMs;
    return Math.round(Math.min(MAX_DEBOUNCE_MS, Math.max(MIN_DEBOUNCE_MS, wanted)));
  }
}
