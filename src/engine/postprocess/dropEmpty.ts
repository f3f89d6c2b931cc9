import type { PostprocessStep } from './context';

/** A suggestion of nothing but whitespace is no suggestion. */
export const dropEmpty: PostprocessStep = (completion) => (completion.trim() === '' ? null : completion);
