import * as vscode from 'vscode';
import type { IndexProgressParams, ModelDescription, ModelState } from '../protocol';
import { CompletionStats, type StatsData } from './completion/stats';
import { InlineCompletions } from './completion/inlineCompletions';
import { Config } from './config';
import { errorMessage } from './errorMessage';
import { IndexProgressUi } from './indexProgress';
import { StatusBar } from './statusBar';
import type { WorkerClient, WorkerState } from './workerClient';

const STATS_KEY = 'kestrel.completionStats';

/**
 * Everything the extension owns for its lifetime: settings, log, status bar, completion statistics
 * and the worker. Each piece is disposed with the extension; the worker's per-process state lives
 * inside WorkerClient, which rebuilds it on every (re)start.
 */
export class Ctx {
  readonly config = new Config();
  readonly output: vscode.LogOutputChannel;
  readonly statusBar: StatusBar;
  readonly stats: CompletionStats;
  readonly completions: InlineCompletions;
  private workerClient: Promise<WorkerClient> | undefined;
  private readonly stateListeners: Array<(state: WorkerState) => void> = [];
  private lastState: WorkerState = { kind: 'starting' };
  private lastModelState: ModelState = { state: 'none' };
  /** The model the worker answers with, kept while another one loads or fails to. */
  private servingModel: ModelDescription | undefined;
  private readonly modelListeners: Array<(state: ModelState) => void> = [];
  private lastIndexProgress: IndexProgressParams | undefined;
  private readonly indexListeners: Array<(progress: IndexProgressParams) => void> = [];
  /** The index's progress in the window, in notifications, and Rebuild Index's notification. */
  readonly indexProgressUi: IndexProgressUi;

  constructor(readonly extension: vscode.ExtensionContext) {
    this.output = vscode.window.createOutputChannel('Kestrel', { log: true });
    this.statusBar = new StatusBar();
    this.stats = new CompletionStats({
      load: () => extension.globalState.get<StatsData>(STATS_KEY),
      save: (data) => void extension.globalState.update(STATS_KEY, data),
    });
    this.completions = new InlineCompletions(this.config, this.stats, (document, position) => {
      void this.workerClient?.then((worker) => worker.prefetch(document.uri.toString(), { line: position.line, character: position.character }));
    }, this.output);
    this.completions.onDidChangeGenerating((generating) => this.statusBar.update({
      generating,
      medianLatencyMs: this.stats.medianLatencyMs(),
    }));
    this.statusBar.update({ completionsEnabled: this.config.get('completions.enable'), medianLatencyMs: this.stats.medianLatencyMs() });
    this.indexProgressUi = new IndexProgressUi(this);
    extension.subscriptions.push(
      this.output,
      this.statusBar,
      this.indexProgressUi,
      this.completions,
      { dispose: () => void this.workerClient?.then((worker) => worker.dispose()) },
      this.config.onDidChange((needsRestart) => {
        this.statusBar.update({ completionsEnabled: this.config.get('completions.enable') });
        if (!this.workerClient) return; // the worker reads settings when it starts
        if (needsRestart) void this.restartWorker();
        else void this.workerClient.then((worker) => worker.pushSettings());
      }),
    );
  }

  /**
   * The worker client, loaded on first use. Its module (vscode-languageclient and the protocol) is a
   * separate bundle, dist/workerClient.js, so loading it never counts against activation time.
   */
  worker(): Promise<WorkerClient> {
    this.workerClient ??= loadWorkerClientModule(this.extension).then(({ WorkerClient }) => new WorkerClient({
      serverModule: vscode.Uri.joinPath(this.extension.extensionUri, 'dist', 'server.js').fsPath,
      output: this.output,
      documentLanguages: () => this.config.get('completions.languages'),
      settings: () => this.config.workerSettings(this.extension.storageUri?.fsPath),
      onState: (state) => this.setState(state),
      inlineCompletionMiddleware: this.completions.provide,
      onModelState: (state) => this.setModelState(state),
      onCompletionTiming: (timing) => this.completions.workerTiming(timing),
      onIndexProgress: (progress) => this.setIndexProgress(progress),
      onProjectCache: (projectCache) => this.statusBar.update({ projectCache }),
    }));
    return this.workerClient;
  }

  get state(): WorkerState {
    return this.lastState;
  }

  get modelState(): ModelState {
    return this.lastModelState;
  }

  onDidChangeState(listener: (state: WorkerState) => void): vscode.Disposable {
    this.stateListeners.push(listener);
    return { dispose: () => this.stateListeners.splice(this.stateListeners.indexOf(listener), 1) };
  }

  /** Calls back on every model state the worker reports (loading, ready, error). */
  onDidChangeModelState(listener: (state: ModelState) => void): vscode.Disposable {
    this.modelListeners.push(listener);
    return { dispose: () => this.modelListeners.splice(this.modelListeners.indexOf(listener), 1) };
  }

  /** The index's latest progress report, once the worker sent one. */
  get indexProgress(): IndexProgressParams | undefined {
    return this.lastIndexProgress;
  }

  onDidChangeIndexProgress(listener: (progress: IndexProgressParams) => void): vscode.Disposable {
    this.indexListeners.push(listener);
    return { dispose: () => this.indexListeners.splice(this.indexListeners.indexOf(listener), 1) };
  }

  private setIndexProgress(progress: IndexProgressParams): void {
    this.lastIndexProgress = progress;
    this.statusBar.update({ index: progress });
    for (const listener of [...this.indexListeners]) listener(progress);
  }

  /** Starts the worker in the background; failures are reported, never thrown into activation. */
  startWorker(): void {
    this.worker().then((worker) => worker.start()).catch((error: unknown) => this.reportOnce('start', `Kestrel's worker could not start: ${errorMessage(error)}`));
  }

  async restartWorker(): Promise<void> {
    try {
      await (await this.worker()).restart();
    } catch (error) {
      this.reportOnce('restart', `Kestrel's worker could not restart: ${errorMessage(error)}`);
    }
  }

  private readonly reported = new Set<string>();

  /** Shows an error notification once per kind of failure, pointing at the log for detail. */
  reportOnce(kind: string, message: string): void {
    this.output.error(message);
    if (this.reported.has(kind)) return;
    this.reported.add(kind);
    void vscode.window.showErrorMessage(message, 'Show Log').then((choice) => {
      if (choice) this.output.show(true);
    });
  }

  private setState(state: WorkerState): void {
    this.lastState = state;
    // A new worker process starts with no model until it reports one.
    if (state.kind !== 'ready') this.setModelState({ state: 'none' });
    this.statusBar.update({ worker: state });
    if (state.kind === 'error') this.reportOnce('crash-loop', state.reason);
    for (const listener of [...this.stateListeners]) listener(state);
  }

  private setModelState(reported: ModelState): void {
    let state = reported;
    if (reported.state === 'ready') {
      this.servingModel = reported.model;
      this.statusBar.update({ modelError: undefined });
      const m = reported.model;
      this.output.info(`Model ${m.id} (${m.variant}) ready on ${m.provider} in ${m.loadMs} ms${m.providerFallbacks.length ? `; not used: ${m.providerFallbacks.join('; ')}` : ''}`);
    } else if (reported.state === 'error') {
      this.output.error(`Model ${reported.id} could not load: ${reported.message}`);
      this.statusBar.update({ modelError: reported.message });
      // The model that was serving keeps serving: show the failure beside it, not instead of it.
      if (this.servingModel) state = { state: 'ready', model: this.servingModel };
    } else if (reported.state === 'none') {
      this.servingModel = undefined;
    }
    this.lastModelState = state;
    this.statusBar.update({ model: state });
    for (const listener of [...this.modelListeners]) listener(reported);
  }
}

type WorkerClientModule = typeof import('./workerClient');

function loadWorkerClientModule(extension: vscode.ExtensionContext): Promise<WorkerClientModule> {
  // HACK: a computed path keeps esbuild from inlining the module into dist/extension.js.
  const modulePath = vscode.Uri.joinPath(extension.extensionUri, 'dist', 'workerClient.js').fsPath;
  return new Promise((resolve) => setImmediate(() => resolve(require(modulePath) as WorkerClientModule)));
}
