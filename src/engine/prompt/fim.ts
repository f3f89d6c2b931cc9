/**
 * Fill-in-the-middle prompts, in the order the model was trained on (models/training/data.py):
 *   SPM: <fim_prefix> <fim_suffix> S <fim_middle> P   -> the model continues P
 *   PSM: <fim_prefix> P <fim_suffix> S <fim_middle>
 * SPM is preferred: while the user types, the suffix and the start of the prefix do not move, so
 * the previous prompt's KV cache covers all but the last few tokens. To keep that true, the prefix
 * window starts at a stable cut that is kept from one request to the next for as long as it fits;
 * when the prefix outgrows the budget the start jumps forward by a quarter of the budget at once
 * rather than one token per keystroke.
 */
import type { FimMode } from '../../shared/models/manifest';
import { isStableCut } from '../tokenize/chunks';
import type { KestrelTokenizer } from '../tokenize/tokenizer';

export interface PromptBudget {
  /** Most tokens the prompt may hold (context length minus the tokens to generate). */
  maxTokens: number;
  /** Share of the budget the suffix may take when the prefix needs the rest (0..1). */
  suffixShare: number;
  /** Share the cross-file context may take (default 0.2). */
  contextShare?: number;
}

export interface Prompt {
  ids: number[];
  prefixTokens: number;
  suffixTokens: number;
  contextTokens: number;
  /** Offset in the prefix text where the prompt's prefix window starts. */
  prefixStart: number;
}

export const DEFAULT_BUDGET: PromptBudget = { maxTokens: 1024, suffixShare: 0.25 };

/** Upper bound on characters per token, used to bound how much text is ever split and encoded. */
export const MAX_CHARS_PER_TOKEN = 8;

export class PromptBuilder {
  /** Last prefix window start per document (an offset in the document), kept while it still fits. */
  private readonly starts = new Map<string, number>();

  constructor(
    private readonly tokenizer: KestrelTokenizer,
    private readonly mode: FimMode,
  ) {}

  /**
   * `context` (cross-file context rendered as comments, ending with a line break) goes right before
   * the prefix window and takes at most `budget.contextShare` of the room, whole lines only.
   * `prefixOffset` is where `prefix` starts in the document, when the caller passes only the end of
   * a long one (see cursorWindow.ts): the window start is remembered as a document offset, so it
   * holds while the caller's cut moves.
   */
  build(docKey: string, prefix: string, suffix: string, budget: PromptBudget = DEFAULT_BUDGET, context = '', prefixOffset = 0): Prompt {
    const room = Math.max(8, budget.maxTokens - 3); // three FIM sentinels
    const contextIds = this.contextWindow(context, Math.floor(room * (budget.contextShare ?? 0.2)));
    const suffixIds = this.suffixWindow(suffix, Math.floor(room * budget.suffixShare));
    const { ids: windowIds, start } = this.prefixWindow(docKey, prefix, room - suffixIds.length - contextIds.length, prefixOffset);
    const prefixIds = contextIds.length > 0 ? [...contextIds, ...windowIds] : windowIds;
    const { fimPrefix, fimSuffix, fimMiddle } = this.tokenizer.special;
    const ids = this.mode === 'spm'
      ? [fimPrefix, fimSuffix, ...suffixIds, fimMiddle, ...prefixIds]
      : [fimPrefix, ...prefixIds, fimSuffix, ...suffixIds, fimMiddle];
    return { ids, prefixTokens: windowIds.length, suffixTokens: suffixIds.length, contextTokens: contextIds.length, prefixStart: start };
  }

  /** Whole lines of the context, as many as fit in `budget` tokens. */
  private contextWindow(context: string, budget: number): number[] {
    if (context.length === 0 || budget <= 0) return [];
    const ids: number[] = [];
    for (const piece of this.tokenizer.encodePieces(context)) {
      if (ids.length + piece.ids.length > budget) break;
      ids.push(...piece.ids);
    }
    return ids;
  }

  /** The first `budget` tokens of the suffix. */
  private suffixWindow(suffix: string, budget: number): number[] {
    if (budget <= 0 || suffix.length === 0) return [];
    const text = suffix.slice(0, budget * MAX_CHARS_PER_TOKEN);
    const ids: number[] = [];
    for (const piece of this.tokenizer.encodePieces(text)) {
      ids.push(...piece.ids);
      if (ids.length >= budget) break;
    }
    return ids.slice(0, budget);
  }

  private prefixWindow(docKey: string, prefix: string, budget: number, prefixOffset: number): { ids: number[]; start: number } {
    const previous = (this.starts.get(docKey) ?? -Infinity) - prefixOffset;
    // More than budget x MAX_CHARS_PER_TOKEN characters cannot fit in the budget: not worth encoding
    // (after a jump from line 1,000 to the end of a 10 MB document, that would be all 10 MB).
    if (previous >= 0 && prefix.length - previous <= budget * MAX_CHARS_PER_TOKEN && isStableCut(prefix, previous)) {
      const ids = this.tokenizer.encode(prefix.slice(previous));
      if (ids.length <= budget) return { ids, start: previous };
    }
    let from = Math.max(0, prefix.length - budget * MAX_CHARS_PER_TOKEN);
    while (from > 0 && !isStableCut(prefix, from)) from++;
    if (from >= prefix.length) from = Math.max(0, prefix.length - budget * MAX_CHARS_PER_TOKEN); // no cut: take raw text
    const pieces = this.tokenizer.encodePieces(prefix.slice(from));
    let total = pieces.reduce((n, p) => n + p.ids.length, 0);
    const target = total > budget ? budget - Math.floor(budget / 4) : budget;
    let first = 0;
    while (total > target && first < pieces.length - 1) {
      total -= (pieces[first] as { ids: readonly number[] }).ids.length;
      first++;
    }
    let ids = pieces.slice(first).flatMap((p) => p.ids);
    const start = from + (pieces[first]?.start ?? 0);
    if (ids.length > budget) ids = ids.slice(ids.length - budget); // one enormous line: cut tokens
    else this.starts.set(docKey, prefixOffset + start);
    return { ids, start };
  }

  forget(docKey: string): void {
    this.starts.delete(docKey);
  }
}
