import { currentLineSuffix, type PostprocessStep } from './context';

/**
 * Drops text the document already has after the cursor: a completion ending in the rest of the
 * current line (the model closed a bracket that is already there), or lines that repeat the lines
 * that follow.
 */
export const dropSuffixRepetition: PostprocessStep = (completion, context) => {
  let result = completion;
  const lineSuffix = currentLineSuffix(context).trimEnd();
  if (lineSuffix.length > 0) {
    const firstEnd = result.indexOf('\n');
    const firstLine = firstEnd === -1 ? result : result.slice(0, firstEnd);
    if (firstLine.trimEnd().endsWith(lineSuffix)) {
      const cut = firstLine.trimEnd().length - lineSuffix.length;
      result = firstLine.slice(0, cut);
    }
  }
  // Lines repeating the text after the cursor: stop before the first of them.
  const nextLines = context.suffix.split('\n').slice(1).filter((l) => l.trim() !== '');
  const firstNext = nextLines[0]?.trim();
  if (firstNext) {
    const lines = result.split('\n');
    const at = lines.findIndex((line, i) => i > 0 && line.trim() === firstNext);
    if (at > 0) result = lines.slice(0, at).join('\n');
  }
  return result;
};
