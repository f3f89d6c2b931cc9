/**
 * The completion pipeline, steps in order:
 *   prefilter -> mode (single/multi-line, from the parse tree when there is one) -> cache
 *   -> cross-file context -> prompt
 *   -> generate (with stop rules) -> postprocess (+ drop suggestions that add syntax errors) -> cache
 * Plain library code: the worker, the CLI, the benchmarks and the tests all call `complete`.
 */
import { CompletionCache } from './cache/completionCache';
import { CrossFileContext } from './context/crossFile';
import { chooseMultiline } from './context/mode';
import { cursorWindow } from './prompt/cursorWindow';
import { MAX_CHARS_PER_TOKEN } from './prompt/fim';
import type { OpenDocument } from './context/snippets';
import { PythonSyntax } from './syntax/python';
import { isAbortError } from '../shared/errors/errors';
import type { GenerateResult } from './generate/generator';
import type { SamplingOptions } from './generate/sampler';
import { POSTPROCESS_STEPS, postprocess, type PostprocessContext } from './postprocess';
import { dropSyntaxErrors, type SyntaxChecker } from './postprocess/dropSyntaxErrors';
import { blockEndLine } from './postprocess/limitToBlock';
import { endsInTokenLoop } from './postprocess/dropRepetition';
import { shouldComplete } from './prefilter/shouldComplete';
import { CacheMixer, DEFAULT_MIX, mixParametersOf, type MixMode, type MixParameters, type MixStats } from './projectCache/mixing';
import { ProjectCache, type ProjectCacheOptions } from './projectCache/projectCache';
import type { LoadedCompletionModel } from './session/model';

export interface CompletionRequest {
  /** Identifies the document (its URI) so the prompt window stays stable across keystrokes. */
  docKey: string;
  prefix: string;
  suffix: string;
  signal?: AbortSignal;
  maxTokens?: number;
  /** Wall-clock budget in ms (default 2000). */
  timeBudgetMs?: number;
  /** Force single- or multi-line instead of deciding from the code. */
  multiline?: boolean;
  sampling?: SamplingOptions;
  /** Skip the completion cache (benchmarks of the model itself). */
  noCache?: boolean;
  /**
   * Fill the KV cache with this request's prompt and stop after one token, answering nothing: a
   * prefetch while the client's debounce runs. The prompt is built with the same budget as the real
   * request (so the real one finds all of it in the cache); nothing is cached as a completion.
   */
  prefillOnly?: boolean;
  /** The document's language (LSP language id); syntax checks run for languages with SyntaxTools. */
  languageId?: string;
  /** Other open documents, for cross-file context (similar snippets, imported signatures). */
  documents?: readonly OpenDocument[];
  /** The document's key in the project cache (default docKey); the worker uses file paths there. */
  cacheKey?: string;
  /** Mix the project cache into decoding (default true; kestrel.completions.projectCache). */
  projectCache?: boolean;
}

export type SkipReason = 'prefilter' | 'empty';

export interface CompletionResult {
  /** Text to insert at the cursor, or null when there is nothing worth showing. */
  text: string | null;
  skipped?: SkipReason;
  multiline: boolean;
  fromCache: boolean;
  /** Raw model output before postprocessing. */
  raw?: string;
  stats?: Omit<GenerateResult, 'tokens'> & {
    promptTokens: number;
    contextTokens: number;
    generatedTokens: number;
    /** The ids the model was fed (after token healing took the last one back), for benchmarks that replay them elsewhere. */
    promptIds: readonly number[];
    /** The ids it generated (a stop token that ended the run not included). */
    generatedIds: readonly number[];
    /** From the call to the start of generation: mode, cache lookup, cross-file context, prompt. */
    promptMs: number;
    /** Stop rules and syntax checks on the raw output. */
    postprocessMs: number;
    /** The project cache's part: decoding steps it was consulted on and had weight on, and its time. */
    projectCache?: MixStats;
  };
  totalMs: number;
}

/** Parse-tree help for one language (syntax/python.ts); without it the text rules decide. */
export interface SyntaxTools extends SyntaxChecker {
  decideMultiline(prefix: string, suffix: string): boolean;
}

export interface PipelineOptions {
  /** Token healing at the cursor and speculative decoding (both on by default; off to compare). */
  healing: boolean;
  drafts: boolean;
  /** How decoding uses the project cache (default 'mix'; 'model' leaves it out, 'cache' decodes from it alone). */
  mixMode?: MixMode;
  /** Lambda's parameters (default: the model's kestrel.json record, else DEFAULT_MIX). */
  mixParameters?: MixParameters;
  projectCache?: ProjectCacheOptions;
}

export class CompletionPipeline {
  readonly cache = new CompletionCache();
  /** The nested n-gram model of the user's code, over this model's token ids; the worker and the eval fill it. */
  readonly projectCache: ProjectCache;
  /** Lambda's parameters and how decoding uses the cache; changeable between requests (the eval's comparisons). */
  mixParameters: MixParameters;
  mixMode: MixMode;
  /** The mix mode the completion cache's answers were made with. */
  private cachedFor: MixMode = 'mix';
  private readonly crossFile: CrossFileContext;

  constructor(
    private readonly model: LoadedCompletionModel,
    /** Syntax tools by language id. */
    private readonly syntax: ReadonlyMap<string, SyntaxTools> = new Map(),
    private readonly options: PipelineOptions = { healing: true, drafts: true },
  ) {
    const python = syntax.get('python');
    this.crossFile = new CrossFileContext(python instanceof PythonSyntax ? python : undefined);
    this.projectCache = new ProjectCache(model.tokenizer, model.vocabSize, options.projectCache);
    this.mixParameters = options.mixParameters ?? mixParametersOf(model.entry.manifest.raw) ?? DEFAULT_MIX;
    this.mixMode = options.mixMode ?? 'mix';
  }

  async complete(request: CompletionRequest): Promise<CompletionResult> {
    const started = performance.now();
    const manifest = this.model.entry.manifest;
    // Everything below sees a bounded window around the cursor, never the whole document.
    const { prefix, suffix, prefixOffset } = cursorWindow(request.prefix, request.suffix, ...windowChars(manifest.contextLength));
    const done = (result: Omit<CompletionResult, 'totalMs'>): CompletionResult => ({ ...result, totalMs: performance.now() - started });

    // 1. prefilter
    if (!shouldComplete(prefix, suffix)) return done({ text: null, skipped: 'prefilter', multiline: false, fromCache: false });
    // 2. mode
    const syntax = request.languageId !== undefined ? this.syntax.get(request.languageId) : undefined;
    const multiline = request.multiline ?? (syntax ? syntax.decideMultiline(prefix, suffix) : chooseMultiline(prefix, suffix));
    // 3. cache (also serves a cached completion whose start was typed since); turning the project
    // cache on or off makes its answers another model's
    const mixMode = request.projectCache === false ? 'model' : this.mixMode;
    if (mixMode !== this.cachedFor) {
      this.cache.clear();
      this.cachedFor = mixMode;
    }
    if (!request.noCache && !request.prefillOnly) {
      const cached = this.cache.get(prefix, suffix);
      if (cached !== undefined) return done({ text: cached, multiline, fromCache: true });
    }
    // 4. cross-file context, then the prompt
    const context = request.documents && request.languageId === 'python'
      ? this.crossFile.build({ uri: request.docKey, prefix, suffix, documents: request.documents })
      : '';
    const maxTokens = Math.max(1, Math.min(request.maxTokens ?? (multiline ? 128 : 48), manifest.contextLength >> 2));
    const prompt = this.model.prompts.build(request.docKey, prefix, suffix, {
      maxTokens: manifest.contextLength - maxTokens,
      suffixShare: 0.25,
    }, context, prefixOffset);
    // 5. generate, stopping as soon as the stop rules say the rest would be cut anyway
    const around: PostprocessContext = { prefix, suffix, multiline };
    const { tokenizer } = this.model;
    const special = tokenizer.special;
    // Token healing (SPM: the prefix ends the prompt): the cursor often splits a token ("x = fo"
    // is "x", " =", " fo" but the model saw " foo"), so the last token is taken back and the
    // completion must start by re-typing it, with the model free to pick the token that fits.
    const lastId = prompt.ids[prompt.ids.length - 1] as number;
    const healText = this.options.healing && manifest.fimMode === 'spm' && prompt.prefixTokens > 0 && !tokenizer.isSpecial(lastId) ? tokenizer.decode([lastId]) : '';
    const promptIds = healText ? prompt.ids.slice(0, -1) : prompt.ids;
    const completionText = (ids: readonly number[]): string => {
      const text = tokenizer.decode(ids);
      return text.startsWith(healText) ? text.slice(healText.length) : '';
    };
    let healTokens = healText ? -1 : 0; // generated tokens spent re-typing the healed text
    const shouldStop = (ids: readonly number[]): boolean => {
      if (healTokens === -1) {
        if (tokenizer.decode(ids).length < healText.length) return false; // still re-typing
        healTokens = ids.length;
      }
      if (endsInTokenLoop(ids.slice(healTokens))) return true;
      const text = completionText(ids);
      // single line: everything after the first line break would be cut by stopAtLineEnd
      if (!multiline) return text.includes('\n');
      return blockEndLine(text, around) !== -1;
    };
    const mixer = mixMode !== 'model' && !request.prefillOnly
      ? new CacheMixer(this.projectCache, request.cacheKey ?? request.docKey, promptIds, mixMode, this.mixParameters)
      : undefined;
    // the cache must not learn what follows the cursor from the cursor's own place
    const reveal = mixer ? this.projectCache.hideAcross(request.cacheKey ?? request.docKey, prefixOffset + prefix.length) : undefined;
    const generateStarted = performance.now();
    const result = await this.model.generator.generate(promptIds, {
      maxTokens: request.prefillOnly ? 1 : maxTokens,
      ...(request.signal ? { signal: request.signal } : {}),
      timeBudgetMs: request.timeBudgetMs ?? 2000,
      stopIds: new Set([special.endOfText, special.fimPrefix, special.fimSuffix, special.fimMiddle, ...manifest.stopTokenIds]),
      shouldStop,
      ...(healText ? { heal: { text: healText, vocab: tokenizer.vocab() } } : {}),
      ...(this.options.drafts ? {} : { draftTokens: 0 }),
      ...(mixer ? { mixer } : {}),
      ...request.sampling,
    }).finally(reveal);
    if (request.prefillOnly) return done({ text: null, skipped: 'empty', multiline, fromCache: false });
    const raw = completionText(result.tokens);
    // 6. postprocess
    const postprocessStarted = performance.now();
    const text = postprocess(raw, around, syntax ? [...POSTPROCESS_STEPS, ['dropSyntaxErrors', dropSyntaxErrors(syntax)]] : POSTPROCESS_STEPS);
    const postprocessMs = performance.now() - postprocessStarted;
    if (text !== null && !request.noCache) this.cache.set(prefix, suffix, text);
    const { tokens, ...timing } = result;
    return done({
      text,
      ...(text === null ? { skipped: 'empty' as const } : {}),
      multiline,
      fromCache: false,
      raw,
      stats: { ...timing, promptTokens: promptIds.length, contextTokens: prompt.contextTokens, generatedTokens: tokens.length, promptIds, generatedIds: tokens,
        promptMs: generateStarted - started, postprocessMs, ...(mixer ? { projectCache: mixer.stats } : {}) },
    });
  }
}

/**
 * Characters of prefix and suffix a completion looks at: far more than the prompt can hold (it is cut
 * by tokens), and at least 64 KB before the cursor so the imports of most files stay in view.
 */
function windowChars(contextLength: number): [prefixChars: number, suffixChars: number] {
  return [Math.max(64 * 1024, 2 * contextLength * MAX_CHARS_PER_TOKEN), Math.max(16 * 1024, contextLength * MAX_CHARS_PER_TOKEN)];
}

export { isAbortError };
