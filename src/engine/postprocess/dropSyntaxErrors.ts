import type { PostprocessStep } from './context';

/** Anything that can tell whether inserting text adds syntax errors (syntax/python.ts). */
export interface SyntaxChecker {
  addsErrors(prefix: string, completion: string, suffix: string): boolean;
}

/** Drops a suggestion that would leave the code with more syntax errors than it has now. */
export function dropSyntaxErrors(checker: SyntaxChecker): PostprocessStep {
  return (completion, context) => (checker.addsErrors(context.prefix, completion, context.suffix) ? null : completion);
}
