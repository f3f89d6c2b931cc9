/**
 * A completion model ready to run: tokenizer, decoder session on the chosen provider, generator
 * with its KV cache and prompt builder. Loading includes a warm-up run, so the first keystroke does
 * not pay for ONNX Runtime's lazy initialisation.
 */
import type { DeviceSetting } from '../../shared/devices/deviceSetting';
import { EngineError } from '../../shared/errors/errors';
import { Generator } from '../generate/generator';
import { PromptBuilder } from '../prompt/fim';
import type { VariantName } from '../../shared/models/manifest';
import { checkVocabularies, chooseVariant, isUsable, manifestVocabSize, verifyVariantFile, type ModelEntry, type VariantStatus } from '../../shared/models/registry';
import { KestrelTokenizer } from '../tokenize/tokenizer';
import { Decoder } from './decoder';
import { describeAttempts, openWithFallback, type ProviderAttempt } from '../../shared/devices/providers';
import { resolve } from 'node:path';

export interface LoadedCompletionModel {
  entry: ModelEntry & { manifest: NonNullable<ModelEntry['manifest']> };
  variant: VariantStatus;
  tokenizer: KestrelTokenizer;
  decoder: Decoder;
  generator: Generator;
  prompts: PromptBuilder;
  /** Width of a logit row: the ids the project cache counts. */
  vocabSize: number;
  provider: string;
  /** Providers tried before the one that runs, with reasons. */
  attempts: ProviderAttempt[];
  /** Human summary, e.g. "cpu (cuda: Failed to load shared library)". */
  providerSummary: string;
  loadMs: number;
  warmupMs: number;
}

export function describeProblems(entry: ModelEntry): string {
  return `Model "${entry.id}" (${entry.dir}) cannot be used: ${entry.problems.join('; ')}`;
}

/**
 * The variant depends on the provider (int8 for cpu, fp16 for GPUs), and the provider is only known
 * once a session opens. So: for each candidate provider in order, open that provider's preferred
 * variant; the first that opens wins. A requested variant is used on every provider.
 */
export async function loadCompletionModel(
  entry: ModelEntry,
  device: DeviceSetting,
  requestedVariant?: VariantName,
): Promise<LoadedCompletionModel> {
  if (!isUsable(entry)) throw new EngineError('model-invalid', describeProblems(entry));
  if (entry.manifest.kind !== 'completion') {
    throw new EngineError('model-incompatible', `Model "${entry.id}" is an ${entry.manifest.kind} model, not a completion model`);
  }
  const started = performance.now();
  const tokenizer = KestrelTokenizer.load(resolve(entry.dir, entry.manifest.tokenizer), entry.manifest.specialTokens);
  const chosen = new Map<string, VariantStatus>();
  const opened = await openWithFallback(
    device,
    async (provider) => {
      const variant = chooseVariant(entry, provider, requestedVariant);
      if (!variant) throw new Error(requestedVariant ? `model "${entry.id}" has no usable ${requestedVariant} file` : `no variant of "${entry.id}" lists this provider`);
      chosen.set(provider, variant);
      const problem = verifyVariantFile(variant);
      if (problem) throw new EngineError('model-invalid', `Model "${entry.id}" (${entry.dir}) cannot be used: ${problem}`);
      const decoder = await Decoder.openOn(variant.path, provider);
      const vocabulary = checkVocabularies({ graph: decoder.shape.vocabSize, manifest: manifestVocabSize(entry.manifest), tokenizer: tokenizer.vocab().texts.length, file: variant.file });
      if (vocabulary) {
        await decoder.release();
        throw new EngineError('model-invalid', `Model "${entry.id}" (${entry.dir}) cannot be used: ${vocabulary}`);
      }
      return decoder;
    },
    (error) => error instanceof EngineError,
  );
  const decoder = opened.session;
  const variant = chosen.get(opened.provider) as VariantStatus;
  const attempts = opened.attempts;
  const loadMs = performance.now() - started;
  const generator = new Generator(decoder, entry.manifest.contextLength);
  const warmStarted = performance.now();
  const { fimPrefix, fimSuffix, fimMiddle } = tokenizer.special;
  const warmupIds = [fimPrefix, fimSuffix, fimMiddle, ...tokenizer.encode('import os\n')];
  await decoder.warmUp(warmupIds);
  await generator.generate(warmupIds, { maxTokens: 2, reuseCache: false });
  generator.reset();
  tokenizer.vocab(); // token healing's index, built now rather than on the first keystroke
  const warmupMs = performance.now() - warmStarted;
  return {
    entry,
    variant,
    tokenizer,
    decoder,
    generator,
    prompts: new PromptBuilder(tokenizer, entry.manifest.fimMode),
    vocabSize: vocabularySize(entry, tokenizer),
    provider: decoder.provider,
    attempts,
    providerSummary: describeAttempts(decoder.provider, attempts),
    loadMs,
    warmupMs,
  };
}

/** The architecture's vocabulary when the manifest records it (logit rows are that wide), else the tokenizer's. */
function vocabularySize(entry: LoadedCompletionModel['entry'], tokenizer: KestrelTokenizer): number {
  const arch = entry.manifest.raw['architecture'] as { vocabSize?: unknown } | undefined;
  return typeof arch?.vocabSize === 'number' && arch.vocabSize > 0 ? arch.vocabSize : tokenizer.vocab().texts.length;
}
