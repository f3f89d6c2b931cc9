import * as vscode from 'vscode';
import type { KestrelApi } from '../../../src/extension/main';

export const EXTENSION_ID = 'kestrel-dev.kestrel';

export async function activateKestrel(): Promise<KestrelApi> {
  const extension = vscode.extensions.getExtension<KestrelApi>(EXTENSION_ID);
  if (!extension) throw new Error(`${EXTENSION_ID} is not installed in this VS Code`);
  return extension.activate();
}

/** Polls `probe` until it returns a value (not undefined) or the time runs out. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
}
