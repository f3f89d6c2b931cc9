/**
 * The postprocess chain, in order. Each step is a small pure function in its own file with its own
 * test (test/unit/engine-postprocess.test.ts); per-model quirks get their own named step here.
 */
import { balanceBrackets } from './balanceBrackets';
import type { PostprocessContext, PostprocessStep } from './context';
import { dropEmpty } from './dropEmpty';
import { dropRepetition } from './dropRepetition';
import { dropSuffixRepetition } from './dropSuffixRepetition';
import { limitToBlock } from './limitToBlock';
import { stopAtLineEnd } from './stopAtLineEnd';
import { trimTrailingWhitespace } from './trimTrailingWhitespace';

export type { PostprocessContext, PostprocessStep } from './context';

export const POSTPROCESS_STEPS: ReadonlyArray<[string, PostprocessStep]> = [
  ['stopAtLineEnd', stopAtLineEnd],
  ['limitToBlock', limitToBlock],
  ['dropRepetition', dropRepetition],
  ['dropSuffixRepetition', dropSuffixRepetition],
  ['balanceBrackets', balanceBrackets],
  ['trimTrailingWhitespace', trimTrailingWhitespace],
  ['dropEmpty', dropEmpty],
];

export function postprocess(completion: string, context: PostprocessContext, steps = POSTPROCESS_STEPS): string | null {
  let text: string | null = completion;
  for (const [, step] of steps) {
    if (text === null) return null;
    text = step(text, context);
  }
  return text;
}
