import type { PostprocessStep } from './context';

/** Trailing spaces on each line, and trailing blank lines, are never worth suggesting. */
export const trimTrailingWhitespace: PostprocessStep = (completion) =>
  completion.split('\n').map((line) => line.trimEnd()).join('\n').replace(/\n+$/, '');
