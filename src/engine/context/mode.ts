/**
 * Single line or multi-line, from the text alone: multi-line right after a block opener (a line
 * ending with ":") or on a blank line whose block has no body yet; a single line everywhere else.
 * syntax/python.ts refines this with the parse tree when tree-sitter is available.
 */
import { indentOf } from '../postprocess/context';

export function chooseMultiline(prefix: string, suffix: string): boolean {
  const lines = prefix.split('\n');
  const cursorLine = lines.pop() ?? '';
  const lineSuffix = suffix.split('\n', 1)[0] ?? '';
  if (lineSuffix.trim() !== '') return false;
  if (cursorLine.trim() !== '') return /:\s*(#.*)?$/.test(cursorLine) && !/^\s*(lambda|.*\blambda\b)/.test(cursorLine) && opensBlock(cursorLine);
  let previous = '';
  for (let i = lines.length - 1; i >= 0; i--) {
    if ((lines[i] as string).trim() !== '') {
      previous = lines[i] as string;
      break;
    }
  }
  if (/:\s*(#.*)?$/.test(previous) && opensBlock(previous)) return true;
  // An empty body: the next non-blank line is shallower than the cursor line's indentation.
  const next = suffix.split('\n').slice(1).find((l) => l.trim() !== '');
  return next !== undefined && cursorLine.length > 0 && indentOf(next) < indentOf(cursorLine) && indentOf(previous) < indentOf(cursorLine);
}

/** A colon that ends a compound-statement header, not a dict literal or a slice. */
function opensBlock(line: string): boolean {
  return /^\s*(async\s+)?(def|class|if|elif|else|for|while|try|except|finally|with|match|case)\b/.test(line);
}
