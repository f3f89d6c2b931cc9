/**
 * Kestrel's extension entry point: builds the context, registers commands and views, and starts the
 * worker in the background. Activation never waits for the worker, so it stays within its budget.
 */
import * as vscode from 'vscode';
import type { IndexProgressParams, IndexStatusInfo, ModelState, SearchParams, SearchResult, WorkerStatus } from '../protocol';
import type { CompletionTiming } from './completion/inlineCompletions';
import { registerCommands } from './commands';
import { Ctx } from './ctx';
import type { IndexNotificationRecord } from './indexProgress';
import { registerIndexWatcher } from './indexWatcher';
import { searchPickView, type SearchPickView } from './searchCommands';
import { registerSearchView, type SearchViewRendered } from './searchView';

/** What Kestrel exports to other extensions (and to its own tests and benchmarks). */
export interface KestrelApi {
  /** Milliseconds `activate` took, measured inside it. */
  readonly activationMs: number;
  /** Resolves when the worker is ready; gives spawn-to-ready milliseconds of its latest start. */
  whenWorkerReady(): Promise<number>;
  workerStatus(): Promise<WorkerStatus>;
  /** The status-bar item's current text and tooltip. */
  statusBarText(): string;
  statusBarTooltip(): string;
  /** The completion model's state as the worker last reported it. */
  modelState(): ModelState;
  /** Calls back on each model state the worker reports. */
  onDidChangeModelState(listener: (state: ModelState) => void): { dispose(): void };
  /** Debounce and model time of the latest inline completion, and its text. */
  lastCompletion(): CompletionTiming | undefined;
  /** The request behind "Search Workspace". */
  search(params: SearchParams): Promise<SearchResult>;
  /** The request behind "Show Index Status". */
  indexStatus(): Promise<IndexStatusInfo>;
  /** The index's latest progress report. */
  indexProgress(): IndexProgressParams | undefined;
  /** Every index progress notification shown so far (VS Code offers no way to read them back). */
  indexNotifications(): IndexNotificationRecord[];
  /** The latest Search Workspace quick pick: what was typed, its title and its results. */
  searchPick(): SearchPickView | undefined;
  /** The Search view: type a query into it, set its filters, and what it last drew. */
  searchView: {
    search(query: string): Promise<void>;
    setFilters(filters: { language?: string; pathGlob?: string }): Promise<void>;
    rendered(): SearchViewRendered | undefined;
  };
}

export function activate(context: vscode.ExtensionContext): KestrelApi {
  const started = performance.now();
  try {
    const ctx = new Ctx(context);
    registerCommands(ctx);
    const searchView = registerSearchView(ctx);
    registerIndexWatcher(ctx);
    ctx.startWorker();
    const activationMs = performance.now() - started;
    ctx.output.info(`Kestrel activated in ${activationMs.toFixed(1)} ms`);
    return {
      activationMs,
      whenWorkerReady: async () => {
        const worker = await ctx.worker();
        await worker.whenReady();
        return worker.lastSpawnToReadyMs ?? Number.NaN;
      },
      workerStatus: async () => (await ctx.worker()).status(),
      statusBarText: () => ctx.statusBar.text,
      statusBarTooltip: () => ctx.statusBar.tooltipText,
      modelState: () => ctx.modelState,
      onDidChangeModelState: (listener) => ctx.onDidChangeModelState(listener),
      lastCompletion: () => ctx.completions.lastTiming,
      search: async (params) => (await ctx.worker()).search(params),
      indexStatus: async () => (await ctx.worker()).indexStatus(),
      indexProgress: () => ctx.indexProgress,
      indexNotifications: () => ctx.indexProgressUi.history,
      searchPick: () => searchPickView(),
      searchView: {
        search: (query) => searchView.search(query),
        setFilters: (filters) => searchView.setFilters(filters),
        rendered: () => searchView.rendered,
      },
    };
  } catch (error) {
    // VS Code logs activation failures where few users look: say it where they will.
    void vscode.window.showErrorMessage(`Kestrel failed to activate: ${error instanceof Error ? error.message : String(error)}`);
    throw error;
  }
}

export function deactivate(): void {
  // Everything is in context.subscriptions; VS Code disposes it, which stops the worker.
}
