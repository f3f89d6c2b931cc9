/** What every postprocess step sees: the text around the cursor and the mode the pipeline chose. */
export interface PostprocessContext {
  /** Document text before the cursor (may be cut to a window; only its end matters here). */
  prefix: string;
  /** Document text after the cursor. */
  suffix: string;
  /** Multi-line completion (a block body) or a single line. */
  multiline: boolean;
}

/** A step returns the cleaned completion, or null to drop it. Steps are pure and run in order. */
export type PostprocessStep = (completion: string, context: PostprocessContext) => string | null;

export function currentLinePrefix(context: PostprocessContext): string {
  return context.prefix.slice(context.prefix.lastIndexOf('\n') + 1);
}

export function currentLineSuffix(context: PostprocessContext): string {
  const end = context.suffix.indexOf('\n');
  return end === -1 ? context.suffix : context.suffix.slice(0, end);
}

export function indentOf(line: string): number {
  const match = /^[ \t]*/.exec(line);
  return match ? match[0].replace(/\t/g, '        ').length : 0;
}
