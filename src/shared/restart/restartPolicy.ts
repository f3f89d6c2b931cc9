/**
 * How Kestrel restarts what crashed (the worker process, from the extension; the index thread, from
 * the worker): exponential backoff from a base delay, at most a number of crashes inside a window.
 * Something that stays up for the window earns a fresh budget, so an occasional crash over a long day
 * never exhausts it. The defaults are the worker's. No `vscode` import: both sides use it.
 */
export const BASE_DELAY_MS = 250;
export const MAX_DELAY_MS = 8_000;
export const MAX_ATTEMPTS = 5;
export const WINDOW_MS = 3 * 60_000;

export interface RestartLimits {
  baseDelayMs: number;
  maxDelayMs: number;
  maxAttempts: number;
  windowMs: number;
}

const WORKER_LIMITS: RestartLimits = { baseDelayMs: BASE_DELAY_MS, maxDelayMs: MAX_DELAY_MS, maxAttempts: MAX_ATTEMPTS, windowMs: WINDOW_MS };

export class RestartPolicy {
  private crashes: number[] = [];

  constructor(
    private readonly now: () => number = Date.now,
    readonly limits: RestartLimits = WORKER_LIMITS,
  ) {}

  /** Crashes counted in the current window. */
  get attempts(): number {
    return this.crashes.length;
  }

  /** Records a crash; returns how long to wait before restarting, or undefined when the cap is reached. */
  nextDelayMs(): number | undefined {
    const now = this.now();
    const { baseDelayMs, maxDelayMs, maxAttempts, windowMs } = this.limits;
    this.crashes = this.crashes.filter((at) => now - at < windowMs);
    this.crashes.push(now);
    if (this.crashes.length > maxAttempts) return undefined;
    return Math.min(maxDelayMs, baseDelayMs * 2 ** (this.crashes.length - 1));
  }

  reset(): void {
    this.crashes = [];
  }
}
