/**
 * A document's tokens, kept up to date as it is edited without re-encoding it: an edit re-encodes
 * only the pieces (tokenize/chunks.ts, stable cuts at line ends) that it touched, and reports the
 * change as a token splice, which the n-gram counts apply by re-counting just the n-grams that
 * cross it.
 */
import { splitStable } from '../tokenize/chunks';

/** What the project cache needs of a tokenizer: ids of stable pieces (their concatenation is the text's ids). */
export interface PieceEncoder {
  encodePieces(text: string): ReadonlyArray<{ text: string; ids: readonly number[] }>;
}

/** Replace `removed` tokens at `at` with `added`. */
export interface TokenSplice {
  at: number;
  removed: number;
  added: readonly number[];
}

interface Piece {
  length: number;
  ids: readonly number[];
}

export class TrackedText {
  private text = '';
  private pieces: Piece[] = [];

  constructor(private readonly encoder: PieceEncoder) {}

  get length(): number {
    return this.text.length;
  }

  /**
   * Moves to `next` and returns the token splice from the old tokens to the new, or null when the
   * tokens did not change.
   */
  update(next: string): TokenSplice | null {
    const old = this.text;
    if (next === old) return null;
    let prefix = 0;
    const shorter = Math.min(old.length, next.length);
    while (prefix < shorter && old.charCodeAt(prefix) === next.charCodeAt(prefix)) prefix++;
    let suffix = 0;
    while (suffix < shorter - prefix && old.charCodeAt(old.length - 1 - suffix) === next.charCodeAt(next.length - 1 - suffix)) suffix++;
    // The pieces around the change: from the one holding the last unchanged character before it to
    // the one holding the first unchanged character after it. Their outer boundaries are stable
    // cuts made of unchanged characters, so they stay cuts in the new text.
    let first = 0;
    let firstStart = 0;
    let tokenStart = 0;
    while (first < this.pieces.length - 1 && firstStart + (this.pieces[first] as Piece).length < prefix) {
      firstStart += (this.pieces[first] as Piece).length;
      tokenStart += (this.pieces[first] as Piece).ids.length;
      first++;
    }
    if (prefix === 0) {
      first = 0;
      firstStart = 0;
      tokenStart = 0;
    }
    const changedOldEnd = old.length - suffix; // first unchanged old character after the change
    let last = first;
    let lastEnd = firstStart;
    let removed = 0;
    while (last < this.pieces.length) {
      const piece = this.pieces[last] as Piece;
      lastEnd += piece.length;
      removed += piece.ids.length;
      last++;
      if (lastEnd > changedOldEnd) break;
    }
    const newEnd = lastEnd + (next.length - old.length);
    const encoded = this.encoder.encodePieces(next.slice(firstStart, newEnd));
    const fresh: Piece[] = encoded.map((p) => ({ length: p.text.length, ids: p.ids }));
    const oldIds = this.pieces.slice(first, last).flatMap((p) => p.ids);
    const newIds = fresh.flatMap((p) => p.ids);
    this.pieces.splice(first, last - first, ...fresh);
    this.text = next;
    // only the tokens that differ: typing inside a long line changes one or two
    let same = 0;
    while (same < oldIds.length && same < newIds.length && oldIds[same] === newIds[same]) same++;
    let sameEnd = 0;
    while (sameEnd < oldIds.length - same && sameEnd < newIds.length - same && oldIds[oldIds.length - 1 - sameEnd] === newIds[newIds.length - 1 - sameEnd]) sameEnd++;
    if (same === oldIds.length && same === newIds.length) return null;
    return { at: tokenStart + same, removed: oldIds.length - same - sameEnd, added: newIds.slice(same, newIds.length - sameEnd) };
  }

  /**
   * Index of the first token that does not lie wholly before character `offset`: the token the
   * cursor is in (or the one after it, at a boundary). Re-encodes only the piece around it.
   */
  tokenIndexAt(offset: number): number {
    let start = 0;
    let tokens = 0;
    for (const piece of this.pieces) {
      if (offset < start + piece.length) {
        const partial = this.encoder.encodePieces(this.text.slice(start, offset)).flatMap((p) => p.ids);
        let same = 0;
        while (same < partial.length && same < piece.ids.length && partial[same] === piece.ids[same]) same++;
        // the piece's tokens that the text before the cursor encodes to as well lie wholly before it
        return tokens + same;
      }
      start += piece.length;
      tokens += piece.ids.length;
    }
    return tokens;
  }

  /** All tokens, in order (for tests and for building counts from scratch). */
  ids(): number[] {
    return this.pieces.flatMap((p) => p.ids);
  }
}

/** The ids of a whole text (stable pieces encoded one at a time). */
export function encodeWhole(encoder: PieceEncoder, text: string): number[] {
  return encoder.encodePieces(text).flatMap((p) => p.ids);
}

export { splitStable };
