/**
 * How Kestrel restarts a crashed worker: exponential backoff from BASE_DELAY_MS, at most MAX_ATTEMPTS
 * crashes inside WINDOW_MS. A worker that stays up for the window earns a fresh budget, so an
 * occasional crash over a long day never exhausts it. No `vscode` import: unit-tested directly.
 */
export const BASE_DELAY_MS = 250;
export const MAX_DELAY_MS = 8_000;
export const MAX_ATTEMPTS = 5;
export const WINDOW_MS = 3 * 60_000;

export class RestartPolicy {
  private crashes: number[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  /** Crashes counted in the current window. */
  get attempts(): number {
    return this.crashes.length;
  }

  /** Records a crash; returns how long to wait before restarting, or undefined when the cap is reached. */
  nextDelayMs(): number | undefined {
    const now = this.now();
    this.crashes = this.crashes.filter((at) => now - at < WINDOW_MS);
    this.crashes.push(now);
    if (this.crashes.length > MAX_ATTEMPTS) return undefined;
    return Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (this.crashes.length - 1));
  }

  reset(): void {
    this.crashes = [];
  }
}
