/**
 * Errors the engine raises on purpose. Each carries a code a caller can branch on and a message that
 * says what is wrong and what the user can do about it, so the worker can show it as it is.
 */
export type EngineErrorCode =
  | 'model-not-found'
  | 'model-invalid'
  | 'model-incompatible'
  | 'provider-unavailable'
  | 'no-model-loaded';

export class EngineError extends Error {
  constructor(
    readonly code: EngineErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

/** Thrown when a completion is cancelled (a newer keystroke, the editor's cancellation token). */
export class AbortedError extends Error {
  constructor() {
    super('completion cancelled');
    this.name = 'AbortError';
  }
}

/** Cancellation is normal while typing: callers drop it silently. */
export function isAbortError(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError();
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
