import { currentLinePrefix, indentOf, type PostprocessContext, type PostprocessStep } from './context';

/**
 * Multi-line mode: keep the lines of the block being written and stop at the first non-blank line
 * that leaves it, or at two blank lines in a row. On a blank cursor line the block is as deep as the cursor line's first line;
 * at the end of a block opener ("def f():║") it is anything deeper than the opener.
 */
export const limitToBlock: PostprocessStep = (completion, context) => {
  if (!context.multiline) return completion;
  const lines = completion.split('\n');
  const end = blockEndLine(completion, context);
  const kept = end === -1 ? lines : lines.slice(0, end);
  while (kept.length > 1 && (kept[kept.length - 1] as string).trim() === '') kept.pop();
  return kept.join('\n');
};

/** Index of the first line of `completion` that leaves the block, or -1 while it stays inside. */
export function blockEndLine(completion: string, context: PostprocessContext): number {
  const lines = completion.split('\n');
  const linePrefix = currentLinePrefix(context);
  const blockIndent = linePrefix.trim() === '' ? indentOf(linePrefix + (lines[0] ?? '')) : indentOf(linePrefix) + 1;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.trim() !== '' && indentOf(line) < blockIndent) return i;
    // two blank lines in a row end a block in practice (PEP 8 separates top-level code with them)
    if (i >= 2 && line.trim() === '' && (lines[i - 1] as string).trim() === '' && i < lines.length - 1) return i - 1;
  }
  return -1;
}
