import type { Connection, InlineCompletionList, InlineCompletionParams, TextDocuments } from 'vscode-languageserver/node';
import { ErrorCodes, MessageType, ResponseError, ShowMessageNotification } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { CompletionEngine } from '../engine/engine';
import { EngineError, errorMessage, isAbortError } from '../shared/errors/errors';
import type { VariantName } from '../shared/models/manifest';
import type { ModelEntry } from '../shared/models/registry';
import { findGpus } from '../shared/devices/gpus';
import type { LoadedCompletionModel } from '../engine/session/model';
import type { CompletionRequest } from '../engine/provider';
import type { ProjectCache } from '../engine/projectCache/projectCache';
import type { KestrelTokenizer } from '../engine/tokenize/tokenizer';
import { cacheKeyOf } from './projectCacheFeature';
import {
  CompletionTimingNotification,
  DescribeModelRequest,
  ListModelsRequest,
  ModelStateNotification,
  PrefetchNotification,
  type PrefetchParams,
  SelectModelRequest,
  type ModelState,
  type LoadedModel,
  type ModelDescription,
  type ModelInfo,
  type WorkerSettings,
} from '../protocol';
import type { Feature } from './feature';
import type { Logger } from './logger';
import { noParams } from './paramsSchema';
import { inlineCompletionParams, prefetchParams, selectModelParams } from './protocolParams';
import type { SettingsStore } from './settings';
import { onNotification, onRequest } from './validatedHandlers';

/**
 * Inline completions (LSP 3.18 `textDocument/inlineCompletion`) from the local model, and the
 * requests to list, select and describe models. The model follows the settings live: changing
 * kestrel.model, kestrel.device or kestrel.modelPaths loads the new choice while the old one serves.
 */
export class CompletionFeature implements Feature {
  private readonly engine: CompletionEngine;
  private loadedFor: string | null = null;
  private readonly reported = new Set<string>();
  private connection: Connection | null = null;
  private readonly loadListeners: Array<() => void> = [];

  constructor(
    private readonly settings: SettingsStore,
    private readonly documents: TextDocuments<TextDocument>,
    /** Folders that ship with Kestrel (the extension's models/); kestrel.modelPaths come after them. */
    private readonly shippedModelRoots: readonly string[],
    private readonly log: Logger,
    /**
     * Foreground marker shared with background work (the indexer's PriorityGate): a completion
     * holds it while it runs, so no indexing batch starts meanwhile.
     */
    private readonly foreground?: { enter(): () => void },
  ) {
    this.engine = new CompletionEngine(() => [...this.shippedModelRoots, ...this.settings.value.modelPaths], log);
  }

  register(connection: Connection): void {
    this.connection = connection;
    connection.languages.inlineCompletion.on((params, token) => {
      const problem = inlineCompletionParams(params, 'params');
      if (problem) throw new ResponseError(ErrorCodes.InvalidParams, `textDocument/inlineCompletion: ${problem}`);
      return this.inlineCompletion(params, token);
    });
    onNotification(connection, PrefetchNotification, prefetchParams, (params) => this.prefetch(params), this.log);
    onRequest(connection, ListModelsRequest, noParams, () => this.listModels());
    onRequest(connection, SelectModelRequest, selectModelParams, (params) => this.select(params.id, params.variant as VariantName | undefined));
    onRequest(connection, DescribeModelRequest, noParams, () => (this.engine.loaded ? describe(this.engine.loaded) : null));
    this.settings.onDidChange((next) => void this.follow(next));
  }

  /** Capability to merge into the server's InitializeResult. */
  static readonly capabilities = { inlineCompletionProvider: true } as const;

  loadedModels(): LoadedModel[] {
    const model = this.engine.loaded;
    return model ? [{ id: model.entry.id, kind: 'completion', variant: model.variant.name, provider: model.provider }] : [];
  }

  /** The loaded model's project cache and the tokenizer whose ids it counts; null while no model is loaded. */
  projectCache(): { cache: ProjectCache; tokenizer: KestrelTokenizer } | null {
    const model = this.engine.loaded;
    const cache = this.engine.projectCache;
    return model && cache ? { cache, tokenizer: model.tokenizer } : null;
  }

  /** Calls back after each model load (a new model starts an empty project cache). */
  onModelLoaded(listener: () => void): void {
    this.loadListeners.push(listener);
  }

  /** The engine request for a position in an open document, or null when there is nothing to ask. */
  private requestAt(uri: string, position: { line: number; character: number }, signal: AbortSignal): CompletionRequest | null {
    const document = this.documents.get(uri);
    if (!document || !this.engine.loaded) return null;
    const text = document.getText();
    const offset = document.offsetAt(position);
    return {
      docKey: uri,
      prefix: text.slice(0, offset),
      suffix: text.slice(offset),
      signal,
      languageId: document.languageId,
      ...(this.settings.value.completionMaxTokens ? { maxTokens: this.settings.value.completionMaxTokens } : {}),
      documents: this.documents.all().map((d) => ({ uri: d.uri, text: d.getText(), languageId: d.languageId })),
      cacheKey: cacheKeyOf(uri),
      projectCache: this.settings.value.projectCache ?? true,
    };
  }

  /**
   * Prefills the prompt for where the client will ask next, while its debounce runs: the request
   * that follows finds the prompt in the KV cache (built with the same token budget, so the same
   * window). One token is generated and thrown away; the real request aborts it, keeping the prefill.
   */
  private async prefetch(params: PrefetchParams): Promise<void> {
    const request = this.requestAt(params.textDocument.uri, params.position, new AbortController().signal);
    if (!request) return;
    const leave = this.foreground?.enter();
    try {
      await this.engine.complete({ ...request, prefillOnly: true });
    } catch (error) {
      if (!isAbortError(error)) this.log.debug(`prefetch failed: ${errorMessage(error)}`);
    } finally {
      leave?.();
    }
  }

  private async inlineCompletion(
    params: InlineCompletionParams,
    token: { isCancellationRequested: boolean; onCancellationRequested(listener: () => void): unknown },
  ): Promise<InlineCompletionList | null> {
    if (token.isCancellationRequested) return null;
    const arrived = performance.now();
    const controller = new AbortController();
    const request = this.requestAt(params.textDocument.uri, params.position, controller.signal);
    if (!request) return null;
    const prepared = performance.now();
    token.onCancellationRequested(() => controller.abort());
    const leave = this.foreground?.enter();
    try {
      const result = await this.engine.complete(request);
      const answered = performance.now();
      const s = result.stats;
      if (s) {
        this.log.debug(
          `completion ${result.totalMs.toFixed(0)} ms: prompt ${s.promptTokens} (reused ${s.reusedTokens}, context ${s.contextTokens}), ` +
            `first token ${s.timeToFirstTokenMs.toFixed(0)} ms, ${s.generatedTokens} tokens at ${s.decodeMsPerToken.toFixed(1)} ms, ${s.finish}`,
        );
      }
      if (result.text === null || token.isCancellationRequested) return null;
      void this.connection?.sendNotification(CompletionTimingNotification.type, {
        textDocument: params.textDocument,
        position: params.position,
        workerMs: answered - arrived,
        engineMs: result.totalMs,
        queuedMs: Math.max(0, answered - prepared - result.totalMs),
        fromCache: result.fromCache,
        ...(s ? {
          model: {
            promptTokens: s.promptTokens, reusedTokens: s.reusedTokens, generatedTokens: s.generatedTokens,
            timeToFirstTokenMs: s.timeToFirstTokenMs, decodeMsPerToken: s.decodeMsPerToken, finish: s.finish,
            promptMs: s.promptMs, postprocessMs: s.postprocessMs,
          },
        } : {}),
      });
      const at = params.position;
      return { items: [{ insertText: result.text, range: { start: at, end: at } }] };
    } catch (error) {
      if (isAbortError(error)) return null;
      this.reportOnce(`completion failed: ${errorMessage(error)}`);
      return null;
    } finally {
      leave?.();
    }
  }

  private listModels(): ModelInfo[] {
    const loaded = this.engine.loaded;
    return this.engine.listModels().map((entry) => modelInfo(entry, loaded));
  }

  private async select(id: string, variant?: VariantName): Promise<ModelDescription> {
    try {
      const model = await this.load({ model: id, device: this.settings.value.device, ...(variant ? { variant } : {}) });
      this.loadedFor = loadKey(this.settings.value);
      return describe(model);
    } catch (error) {
      throw new ResponseError(ErrorCodes.InvalidRequest, errorMessage(error));
    }
  }

  /** Loads what the settings ask for, unless that is already loaded (the client repeats settings on start). */
  private async follow(settings: WorkerSettings): Promise<void> {
    const key = loadKey(settings);
    if (key === this.loadedFor) return;
    this.loadedFor = key;
    try {
      await this.load({ model: settings.model, device: settings.device });
    } catch (error) {
      if (this.loadedFor === key) this.loadedFor = null;
      const message = errorMessage(error);
      this.log.error(message);
      if (error instanceof EngineError) this.notifyOnce(message);
    }
  }

  /** Loads a model, telling the client when loading starts, ends and fails (its status bar shows it). */
  private async load(request: Parameters<CompletionEngine['load']>[0]): Promise<LoadedCompletionModel> {
    const id = request.model || 'default';
    this.sendState({ state: 'loading', id });
    try {
      const previous = this.engine.loaded;
      const model = await this.engine.load(request);
      this.sendState({ state: 'ready', model: describe(model) });
      if (model !== previous) for (const listener of this.loadListeners) listener();
      return model;
    } catch (error) {
      // The previous model, if any, keeps serving; the client shows the failure beside it.
      this.sendState({ state: 'error', id, message: errorMessage(error) });
      throw error;
    }
  }

  /** The latest model state, for a client that (re)connects after it was sent. */
  modelState(): ModelState {
    return this.lastState;
  }

  private lastState: ModelState = { state: 'none' };

  private sendState(state: ModelState): void {
    this.lastState = state;
    void this.connection?.sendNotification(ModelStateNotification.type, state);
  }

  private reportOnce(message: string): void {
    if (this.reported.has(message)) return;
    this.reported.add(message);
    this.log.error(message);
  }

  /** An actionable error (a broken model, an unavailable device) is shown to the user once. */
  private notifyOnce(message: string): void {
    if (this.reported.has(message)) return;
    this.reported.add(message);
    // a notification, not window/showMessageRequest: nothing to answer, nothing to fail
    void this.connection?.sendNotification(ShowMessageNotification.type, { type: MessageType.Error, message: `Kestrel: ${message}` });
  }

  async shutdown(): Promise<void> {
    await this.engine.dispose();
  }
}

function loadKey(settings: WorkerSettings): string {
  return JSON.stringify([settings.model, settings.device, settings.modelPaths]);
}

function modelInfo(entry: ModelEntry, loaded: LoadedCompletionModel | null): ModelInfo {
  return {
    id: entry.id,
    displayName: entry.manifest?.displayName ?? entry.id,
    kind: entry.manifest?.kind ?? 'unknown',
    languages: entry.manifest?.languages ?? [],
    dir: entry.dir,
    variants: entry.variants.map((v) => ({
      name: v.name,
      file: v.file,
      sizeBytes: v.sizeBytes,
      providers: v.providers,
      ...(v.problem !== undefined ? { problem: v.problem } : {}),
    })),
    problems: entry.problems,
    loaded: loaded !== null && loaded.entry.dir === entry.dir,
  };
}

function describe(model: LoadedCompletionModel): ModelDescription {
  const manifest = model.entry.manifest;
  return {
    id: model.entry.id,
    displayName: manifest.displayName,
    dir: model.entry.dir,
    languages: manifest.languages,
    contextLength: manifest.contextLength,
    fimMode: manifest.fimMode,
    variant: model.variant.name,
    sizeBytes: model.variant.sizeBytes,
    provider: model.provider,
    providerFallbacks: model.attempts.filter((a) => !a.ok).map((a) => `${a.provider}: ${a.reason ?? 'failed'}`),
    gpus: findGpus(),
    loadMs: Math.round(model.loadMs),
    ...(manifest.raw['training'] !== undefined ? { training: manifest.raw['training'] } : {}),
    ...(manifest.raw['metrics'] !== undefined ? { metrics: manifest.raw['metrics'] } : {}),
  };
}
