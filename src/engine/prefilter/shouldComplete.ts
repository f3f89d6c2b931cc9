/**
 * Whether a completion is worth asking for at all. Like Tabby and Continue: not in the middle of a
 * word or expression — the rest of the line may only hold closing brackets, quotes and separators.
 */
const LINE_SUFFIX_ALLOWED = /^[\s)\]}'"`:;,]*$/;

export function shouldComplete(prefix: string, suffix: string): boolean {
  const lineEnd = suffix.indexOf('\n');
  const lineSuffix = lineEnd === -1 ? suffix : suffix.slice(0, lineEnd);
  return LINE_SUFFIX_ALLOWED.test(lineSuffix) && prefix.length + suffix.length > 0;
}
