/**
 * The completion engine as the worker and the CLI use it: finds models in the given roots, loads
 * one on the requested device, switches model or device without restarting the process, and runs
 * completions through the pipeline (provider.ts). One completion runs at a time; a new request
 * cancels the one in flight.
 */
import type { DeviceSetting } from '../shared/devices/deviceSetting';
import { EngineError, isAbortError } from '../shared/errors/errors';
import { CompletionPipeline, type CompletionRequest, type CompletionResult, type SyntaxTools } from './provider';
import type { MixMode, MixParameters } from './projectCache/mixing';
import type { ProjectCache, ProjectCacheOptions } from './projectCache/projectCache';
import { PythonSyntax } from './syntax/python';
import type { VariantName } from '../shared/models/manifest';
import { isUsable, scanModels, type ModelEntry } from '../shared/models/registry';
import { describeProblems, loadCompletionModel, type LoadedCompletionModel } from './session/model';

export interface EngineLog {
  info(message: string): void;
  warn(message: string): void;
}

export interface LoadRequest {
  /** Model id; empty picks the default (see `defaultModel`). */
  model: string;
  device: DeviceSetting;
  variant?: VariantName;
}

export interface EngineOptions {
  /** Load tree-sitter for syntax-aware modes and checks (default true; false: text rules only). */
  syntax?: boolean;
  /** Token healing at the cursor (default true). */
  healing?: boolean;
  /** Speculative decoding with draft tokens from the prompt (default true; false: one token per step, to compare). */
  drafts?: boolean;
  /** How decoding uses the project cache (default 'mix'), lambda's parameters and the cache's limits. */
  mixMode?: MixMode;
  mixParameters?: MixParameters;
  projectCache?: ProjectCacheOptions;
}

const silentLog: EngineLog = { info: () => {}, warn: () => {} };

export class CompletionEngine {
  private current: { model: LoadedCompletionModel; pipeline: CompletionPipeline; device: DeviceSetting } | null = null;
  private loading: Promise<LoadedCompletionModel> | null = null;
  private inFlight: AbortController | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private models: ModelEntry[] = [];

  constructor(
    private readonly roots: () => readonly string[],
    private readonly log: EngineLog = silentLog,
    private readonly options: EngineOptions = {},
  ) {}

  private get useSyntax(): boolean {
    return this.options.syntax ?? true;
  }

  private syntax: Promise<Map<string, SyntaxTools>> | null = null;

  /** tree-sitter loads once, beside the first model; if it cannot, completions go on with text rules. */
  private syntaxTools(): Promise<Map<string, SyntaxTools>> {
    this.syntax ??= !this.useSyntax
      ? Promise.resolve(new Map())
      : PythonSyntax.load().then(
          (python) => new Map<string, SyntaxTools>([['python', python]]),
          (error: unknown) => {
            this.log.warn(`tree-sitter did not load, using text rules for completions: ${error instanceof Error ? error.message : String(error)}`);
            return new Map<string, SyntaxTools>();
          },
        );
    return this.syntax;
  }

  /** Rescans the model roots; reports broken models and missing roots to the log. */
  listModels(): ModelEntry[] {
    const { models, missingRoots } = scanModels(this.roots());
    for (const root of missingRoots) this.log.warn(`model folder ${root} does not exist`);
    for (const entry of models) if (!isUsable(entry)) this.log.warn(describeProblems(entry));
    this.models = models;
    return models;
  }

  get loaded(): LoadedCompletionModel | null {
    return this.current?.model ?? null;
  }

  /**
   * The loaded model's project cache (its counts are over that model's token ids, so a new model
   * starts an empty one: `onModelLoaded` callers fill it again).
   */
  get projectCache(): ProjectCache | null {
    return this.current?.pipeline.projectCache ?? null;
  }

  /** Lambda's parameters in use with the loaded model. */
  get mixParameters(): MixParameters | null {
    return this.current?.pipeline.mixParameters ?? null;
  }

  /** Changes how the loaded model's decoding uses the project cache (comparisons and tuning). */
  configureMixing(mode: MixMode, parameters?: MixParameters): void {
    if (!this.current) throw new EngineError('no-model-loaded', 'No completion model is loaded.');
    this.current.pipeline.mixMode = mode;
    if (parameters) this.current.pipeline.mixParameters = parameters;
  }

  /** The model used when the setting names none: a manifest marked "default", else the first usable by id. */
  defaultModel(models: readonly ModelEntry[] = this.models): ModelEntry | undefined {
    const completion = models.filter((m) => isUsable(m) && m.manifest?.kind === 'completion');
    return completion.find((m) => m.manifest?.raw['default'] === true) ?? completion[0];
  }

  findModel(id: string): ModelEntry {
    const models = this.listModels();
    if (id === '') {
      const found = this.defaultModel(models);
      if (!found) {
        const broken = models.filter((m) => !isUsable(m)).map(describeProblems);
        throw new EngineError(
          'model-not-found',
          `No usable completion model was found in ${this.roots().join(', ') || '(no folders)'}.` +
            (broken.length > 0 ? ` ${broken.join(' ')}` : ' Add a model folder to kestrel.modelPaths.'),
        );
      }
      return found;
    }
    const entry = models.find((m) => m.id === id);
    if (!entry) {
      const known = models.filter(isUsable).map((m) => m.id);
      throw new EngineError(
        'model-not-found',
        `Model "${id}" was not found in ${this.roots().join(', ')}` + (known.length > 0 ? ` (available: ${known.join(', ')}).` : '.'),
      );
    }
    if (!isUsable(entry)) throw new EngineError('model-invalid', describeProblems(entry));
    return entry;
  }

  /**
   * Loads (or switches to) a model on a device. The previous model keeps serving until the new one
   * is ready, then is released; a failed load leaves the previous model in place.
   */
  async load(request: LoadRequest): Promise<LoadedCompletionModel> {
    const entry = this.findModel(request.model);
    const run = async (): Promise<LoadedCompletionModel> => {
      const same = this.current;
      if (same && same.device === request.device && same.model.entry.dir === entry.dir && (request.variant ?? same.model.variant.name) === same.model.variant.name) {
        return same.model; // already running as asked
      }
      const [model, syntax] = await Promise.all([loadCompletionModel(entry, request.device, request.variant), this.syntaxTools()]);
      const previous = this.current;
      this.inFlight?.abort();
      const { mixMode, mixParameters, projectCache } = this.options;
      this.current = {
        model,
        pipeline: new CompletionPipeline(model, syntax, {
          healing: this.options.healing ?? true, drafts: this.options.drafts ?? true,
          ...(mixMode ? { mixMode } : {}), ...(mixParameters ? { mixParameters } : {}), ...(projectCache ? { projectCache } : {}),
        }),
        device: request.device,
      };
      this.log.info(
        `loaded ${model.entry.id} (${model.variant.name}) on ${model.providerSummary} in ${model.loadMs.toFixed(0)} ms, warm-up ${model.warmupMs.toFixed(0)} ms`,
      );
      if (previous) await this.queue.then(() => previous.model.decoder.release(), () => previous.model.decoder.release());
      return model;
    };
    this.loading = (this.loading ?? Promise.resolve()).then(run, run);
    return this.loading;
  }

  /** Runs one completion; cancels the previous one if it is still running. */
  async complete(request: CompletionRequest): Promise<CompletionResult> {
    if (!this.current) {
      if (this.loading) await this.loading.catch(() => undefined);
      if (!this.current) throw new EngineError('no-model-loaded', 'No completion model is loaded.');
    }
    this.inFlight?.abort();
    const controller = new AbortController();
    this.inFlight = controller;
    const forward = (): void => controller.abort();
    request.signal?.addEventListener('abort', forward, { once: true });
    const job = this.queue.then(async () => {
      const current = this.current;
      if (!current) throw new EngineError('no-model-loaded', 'No completion model is loaded.');
      return current.pipeline.complete({ ...request, signal: controller.signal });
    });
    this.queue = job.catch(() => undefined);
    try {
      return await job;
    } finally {
      request.signal?.removeEventListener('abort', forward);
      if (this.inFlight === controller) this.inFlight = null;
    }
  }

  async dispose(): Promise<void> {
    this.inFlight?.abort();
    const current = this.current;
    this.current = null;
    await this.queue;
    await current?.model.decoder.release();
  }
}

export { isAbortError };
