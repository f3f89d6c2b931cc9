import type { PostprocessStep } from './context';

/** Longest repeated unit looked for, in characters, and how many repeats in a row count as a loop. */
const MAX_UNIT = 40;
const MIN_REPEATS = 3;

/**
 * Small models fall into loops ("self.self.self.", the same line again and again). Where the text
 * ends in a unit repeated three or more times, keep the first copy and drop the rest.
 */
export const dropRepetition: PostprocessStep = (completion) => {
  const cut = repetitionStart(completion);
  return cut === -1 ? completion : completion.slice(0, cut);
};

/** Where the looping tail's second copy starts, or -1 when the text does not end in a loop. */
export function repetitionStart(text: string): number {
  const trimmed = text.trimEnd();
  for (let unit = 1; unit <= MAX_UNIT && unit * MIN_REPEATS <= trimmed.length; unit++) {
    const pattern = trimmed.slice(trimmed.length - unit);
    // runs of punctuation ("=====", "----") are separators people write on purpose
    if (!/[A-Za-z0-9_]/.test(pattern)) continue;
    let start = trimmed.length - unit;
    let repeats = 1;
    while (start - unit >= 0 && trimmed.slice(start - unit, start) === pattern) {
      start -= unit;
      repeats++;
    }
    if (repeats < MIN_REPEATS) continue;
    // a partial copy before the first whole one ("self" in "self.self.self.self") is the loop's
    // first copy: cut right after it; otherwise keep one whole copy
    for (let k = unit - 1; k > 0; k--) {
      if (start - k >= 0 && trimmed.slice(start - k, start) === pattern.slice(unit - k)) return start;
    }
    return start + unit;
  }
  return -1;
}

/** Token-level loop check for the generator's stop rule: the last ids are one short unit repeated. */
export function endsInTokenLoop(ids: readonly number[], maxUnit = 8, repeats = 4): boolean {
  for (let unit = 1; unit <= maxUnit && unit * repeats <= ids.length; unit++) {
    let loops = true;
    for (let i = ids.length - unit * repeats; i < ids.length - unit && loops; i++) if (ids[i] !== ids[i + unit]) loops = false;
    if (loops) return true;
  }
  return false;
}
