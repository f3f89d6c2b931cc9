/**
 * The part of a document a completion looks at: a bounded window around the cursor, whatever the
 * document's size. Every step of the pipeline (prefilter, mode, cache, cross-file context, prompt,
 * syntax checks) works on the window, so a 10 MB file costs what a 100 KB one does.
 *
 * The window is a copy (see detached.ts): caches that keep parts of a request (the completion
 * cache's keys, the last syntax tree's text) then hold no version of the document itself.
 */
import { detached } from '../text/detached';

export interface CursorWindow {
  prefix: string;
  suffix: string;
  /** Where `prefix` starts in the document's text before the cursor. */
  prefixOffset: number;
}

/**
 * The window's start moves in steps of this many characters, so while the user types it stays
 * put (and with it the prompt's start, whose tokens sit in the KV cache).
 */
const STEP_CHARS = 16 * 1024;

/**
 * `prefixChars` and `suffixChars` are the least the window keeps of each side; the prefix keeps up
 * to one step more. Callers size them well past what the prompt can hold (the prompt builder cuts
 * by tokens within them).
 */
export function cursorWindow(prefix: string, suffix: string, prefixChars: number, suffixChars: number): CursorWindow {
  let offset = 0;
  if (prefix.length > prefixChars) offset = Math.floor((prefix.length - prefixChars) / STEP_CHARS) * STEP_CHARS;
  return {
    prefix: detached(offset > 0 ? prefix.slice(offset) : prefix),
    suffix: detached(suffix.length > suffixChars ? suffix.slice(0, suffixChars) : suffix),
    prefixOffset: offset,
  };
}
