import { currentLinePrefix, type PostprocessStep } from './context';

const OPEN: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
const CLOSE = new Set([')', ']', '}']);

/**
 * Keeps brackets balanced: the completion may close brackets opened on the current line before the
 * cursor, but is cut before a closing bracket nothing opened (or that mismatches), which would
 * otherwise leave the line unbalanced. Brackets inside string literals are ignored.
 */
export const balanceBrackets: PostprocessStep = (completion, context) => {
  const stack: string[] = [];
  scan(currentLinePrefix(context), stack, () => true);
  let cut = -1;
  scan(completion, stack, (_ch, index) => {
    cut = index;
    return false;
  });
  return cut === -1 ? completion : completion.slice(0, cut);
};

/** Walks code outside string literals; calls `onUnmatched` for a closer with no opener (return false to stop). */
function scan(text: string, stack: string[], onUnmatched: (ch: string, index: number) => boolean): void {
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charAt(i);
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = null;
      else if (ch === '\n') quote = null;
      continue;
    }
    if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '#') {
      const end = text.indexOf('\n', i);
      if (end === -1) return;
      i = end;
    } else if (OPEN[ch]) stack.push(OPEN[ch] as string);
    else if (CLOSE.has(ch)) {
      if (stack[stack.length - 1] === ch) stack.pop();
      else if (!onUnmatched(ch, i)) return;
    }
  }
}
