/**
 * Where text can be cut so that encoding the pieces separately gives exactly the tokens of encoding
 * the whole. Kestrel's tokenizer pre-splits with the GPT-2 regex; its only look-ahead is
 * `\s+(?!\S)`, and no pattern crosses from a non-space character into whitespace. So a cut between a
 * non-space character and a "\n" is a pre-token boundary whatever follows, and the text before it
 * pre-tokenizes the same on its own. (Cutting just after "\n" would not be: "  \n" alone is one
 * pre-token, but "  " + "\n" when a line follows.)
 */
export function isStableCut(text: string, at: number): boolean {
  if (at <= 0 || at >= text.length) return at === 0 || at === text.length;
  return text.charCodeAt(at) === 10 && !/\s/.test(text.charAt(at - 1));
}

/** Splits text at every stable cut: each piece after the first starts with the "\n" of a non-blank line end. */
export function splitStable(text: string): string[] {
  const pieces: string[] = [];
  let start = 0;
  for (let i = text.indexOf('\n', 1); i !== -1; i = text.indexOf('\n', i + 1)) {
    if (isStableCut(text, i)) {
      pieces.push(text.slice(start, i));
      start = i;
    }
  }
  pieces.push(text.slice(start));
  return pieces.filter((p) => p.length > 0);
}
