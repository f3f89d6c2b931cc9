/** The worker did not answer in time; the request was cancelled in the worker too. */
export class WorkerTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`The Kestrel worker did not answer ${what} within ${ms} ms`);
    this.name = 'WorkerTimeoutError';
  }
}

/** The worker is not running (starting, restarting or stopped). */
export class WorkerUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkerUnavailableError';
  }
}

/** Cancellation is normal while typing: callers drop it silently instead of reporting an error. */
export function isCancellation(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return error.name === 'Canceled' || error.name === 'CancellationError' || /request (got )?cancel+ed/i.test(error.message);
}
