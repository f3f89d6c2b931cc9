/** Test documents mark the cursor with `║` (as Tabby's postprocess tests do). */
export const CURSOR = '║';

export function splitAtCursor(document: string): { prefix: string; suffix: string } {
  const at = document.indexOf(CURSOR);
  if (at === -1 || document.indexOf(CURSOR, at + 1) !== -1) throw new Error(`test document must hold exactly one ${CURSOR}`);
  return { prefix: document.slice(0, at), suffix: document.slice(at + 1) };
}
