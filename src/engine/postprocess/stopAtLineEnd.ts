import type { PostprocessStep } from './context';

/** Single-line mode: the completion ends where its first line ends. */
export const stopAtLineEnd: PostprocessStep = (completion, context) => {
  if (context.multiline) return completion;
  const end = completion.indexOf('\n');
  return end === -1 ? completion : completion.slice(0, end);
};
