import * as vscode from 'vscode';
import { languageOf } from '../shared/languages/languages';
import type { IndexProgressParams, SearchHitInfo } from '../protocol';
import type { FromWebview, PanelHit, ToWebview } from '../webview/messages';
import { searchRequest, type EffectiveFilters, type FilterControls } from '../shared/search/queryFilters';
import { COMMANDS } from './commandIds';
import type { Ctx } from './ctx';
import { errorMessage } from './errorMessage';
import { openHit } from './searchCommands';
import { indexSummary } from './statusBar';
import { renderWebviewHtml } from './webviewHtml';
import type { WorkerState } from './workerClient';

const PANEL_LIMIT = 30;
/** Files looked at to learn the workspace's languages: enough to meet every language a workspace really uses. */
const LANGUAGE_SCAN_FILES = 5_000;

/** What the Search view last drew, as its script reported it (tests read it through the API). */
export interface SearchViewRendered {
  query: string;
  labels: string[];
  /** The filters its results ran with (controls and query tokens together). */
  filters: EffectiveFilters;
  /** The languages its language filter offers. */
  languageOptions: string[];
}

function toPanelHit(hit: SearchHitInfo): PanelHit {
  return {
    rel: hit.rel, name: hit.name, container: hit.container, kind: hit.kind,
    line: hit.range.start.line + 1, snippet: hit.snippet, snippetLine: hit.snippetLine + 1,
  };
}

/** The "Search" webview view in Kestrel's activity-bar container: live results, index state and progress. */
export class SearchViewProvider implements vscode.WebviewViewProvider {
  static readonly viewType = 'kestrel.search';
  private view: vscode.WebviewView | undefined;
  /** The hits of each answered search id still on screen; `open` names one of them. */
  private lastResults: { id: number; hits: SearchHitInfo[] } | undefined;
  private inFlight: vscode.CancellationTokenSource | undefined;
  private wasIndexing = false;
  /** Whether the page's script listens yet; what is asked of it before then waits in `pending`. */
  private scriptReady = false;
  private pending: ToWebview[] = [];
  rendered: SearchViewRendered | undefined;

  constructor(private readonly ctx: Ctx) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.scriptReady = false;
    const root = this.ctx.extension.extensionUri;
    view.webview.options = {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(root, 'media'), vscode.Uri.joinPath(root, 'dist', 'webview')],
    };
    view.webview.html = renderWebviewHtml(view.webview, {
      title: 'Kestrel Search',
      styles: [vscode.Uri.joinPath(root, 'media', 'search.css')],
      scripts: [vscode.Uri.joinPath(root, 'dist', 'webview', 'search.js')],
      body: `<main>
  <input id="query" type="search" placeholder="Search code by meaning or name" aria-label="Search the workspace" aria-controls="results" autocomplete="off" spellcheck="false">
  <div class="filters" role="group" aria-label="Filters">
    <select id="language" aria-label="Language" title="Only results in this language (or type lang:python in the query)"></select>
    <input id="path" type="text" placeholder="Path, e.g. src/** or *.py" aria-label="Path glob" title="Only paths matching this glob, relative to the workspace folder (or type path:src/** in the query)" autocomplete="off" spellcheck="false">
  </div>
  <p id="index" class="index" role="status"></p>
  <div class="indexing"><progress id="progress" hidden></progress><button id="stop-index" type="button" class="secondary" hidden>Stop</button></div>
  <p id="summary" class="summary" aria-live="polite"></p>
  <ol id="results" class="results" role="listbox" aria-label="Results"></ol>
  <p id="worker" class="worker"></p>
  <button id="show-log" type="button">Show Log</button>
</main>`,
    });
    const subscriptions = [
      view.webview.onDidReceiveMessage((message: FromWebview) => void this.onMessage(message)),
      this.ctx.onDidChangeState((state) => this.postWorkerState(state)),
      this.ctx.onDidChangeIndexProgress((progress) => this.postIndex(progress)),
      // A finished run may have met new languages.
      this.ctx.onDidChangeIndexProgress((progress) => {
        if (this.wasIndexing && !progress.indexing) void this.postLanguages();
        this.wasIndexing = progress.indexing;
      }),
    ];
    view.onDidDispose(() => {
      for (const s of subscriptions) s.dispose();
      this.view = undefined;
      this.scriptReady = false;
    });
  }

  /** Shows the view and searches `query` in it, as if typed. */
  async search(query: string): Promise<void> {
    await vscode.commands.executeCommand(`${SearchViewProvider.viewType}.focus`);
    this.request({ type: 'setQuery', query });
  }

  /** Shows the view and sets its filter controls, as if chosen there; an absent field is left as it is. */
  async setFilters(filters: { language?: string; pathGlob?: string }): Promise<void> {
    await vscode.commands.executeCommand(`${SearchViewProvider.viewType}.focus`);
    this.request({ type: 'setFilters', ...filters });
  }

  /**
   * The languages of the workspace's files, as the index names them, for the language filter. The
   * index excludes apply; .gitignore does not, so a language only ignored files use may be offered.
   */
  private async postLanguages(): Promise<void> {
    if (!this.view) return;
    try {
      const exclude = this.ctx.config.workerSettings().indexExclude ?? [];
      const files = await vscode.workspace.findFiles('**/*', exclude.length > 0 ? `{${exclude.join(',')}}` : null, LANGUAGE_SCAN_FILES);
      const languages = new Set<string>();
      for (const file of files) {
        const language = languageOf(file.fsPath);
        // Unknown extensions map to plaintext, images and archives included: only .txt counts as plain text.
        if (language !== 'plaintext' || file.fsPath.toLowerCase().endsWith('.txt')) languages.add(language);
      }
      this.post({ type: 'languages', languages: [...languages].sort() });
    } catch (error) {
      this.ctx.output.warn(`Search view: could not list the workspace's languages: ${errorMessage(error)}`);
    }
  }

  private async onMessage(message: FromWebview): Promise<void> {
    switch (message.type) {
      case 'ready': {
        this.scriptReady = true;
        this.postWorkerState(this.ctx.state);
        this.postIndex(this.ctx.indexProgress);
        void this.postLanguages();
        const pending = this.pending;
        this.pending = [];
        for (const message of pending) this.post(message);
        break;
      }
      case 'showLog':
        void vscode.commands.executeCommand(COMMANDS.showLog);
        break;
      case 'cancelIndex':
        await (await this.ctx.worker()).cancelIndex().catch((error: unknown) => this.ctx.output.warn(`Could not stop indexing: ${errorMessage(error)}`));
        break;
      case 'search':
        await this.runSearch(message.id, message.query, message.filters);
        break;
      case 'open': {
        const hit = this.lastResults?.id === message.id ? this.lastResults.hits[message.index] : undefined;
        if (hit) await openHit(hit).catch((error: unknown) => vscode.window.showErrorMessage(`Kestrel: could not open ${hit.rel}: ${errorMessage(error)}`));
        break;
      }
      case 'rendered':
        this.rendered = { query: message.query, labels: message.labels, filters: message.filters, languageOptions: message.languageOptions };
        break;
    }
  }

  private async runSearch(id: number, query: string, controls: FilterControls): Promise<void> {
    this.inFlight?.cancel();
    const source = new vscode.CancellationTokenSource();
    this.inFlight = source;
    // The script asks only when there is text to search for; a query of filters alone answers nothing.
    const request = searchRequest(query, controls);
    const filters: EffectiveFilters = request?.filters ?? {};
    try {
      const result = request ? await (await this.ctx.worker()).search({ query: request.query, ...filters, limit: PANEL_LIMIT }, { token: source.token }) : { hits: [], elapsedMs: 0 };
      if (this.inFlight !== source) return;
      this.lastResults = { id, hits: result.hits };
      this.post({ type: 'results', id, query, filters, hits: result.hits.map(toPanelHit), elapsedMs: result.elapsedMs, ...(result.notice ? { notice: result.notice } : {}) });
    } catch (error) {
      if (this.inFlight === source) this.post({ type: 'searchFailed', id, message: errorMessage(error) });
    }
  }

  private postIndex(progress: IndexProgressParams | undefined): void {
    if (!progress) {
      this.post({ type: 'index', text: 'Index: waiting for the worker…', indexing: false, fraction: null });
      return;
    }
    const { filesDone, filesTotal, phase } = progress.progress;
    const fraction = progress.indexing && phase === 'indexing' && filesTotal > 0 ? filesDone / filesTotal : null;
    this.post({ type: 'index', text: indexSummary(progress), indexing: progress.indexing, fraction });
  }

  private postWorkerState(state: WorkerState): void {
    const detail = {
      starting: () => 'Worker starting…',
      ready: () => '',
      restarting: () => 'Worker restarting…',
      error: () => (state.kind === 'error' ? `Worker error: ${state.reason}` : ''),
      stopped: () => 'Worker stopped.',
    }[state.kind]();
    this.post({ type: 'worker', state: state.kind, detail });
  }

  private post(message: ToWebview): void {
    void this.view?.webview.postMessage(message);
  }

  /**
   * A message that must reach the script: one sent while the view is still loading would be lost
   * (focusing the view resolves it, but its script starts later), so it waits for 'ready'.
   */
  private request(message: ToWebview): void {
    if (this.view && this.scriptReady) this.post(message);
    else this.pending.push(message);
  }
}

export function registerSearchView(ctx: Ctx): SearchViewProvider {
  const provider = new SearchViewProvider(ctx);
  ctx.extension.subscriptions.push(vscode.window.registerWebviewViewProvider(SearchViewProvider.viewType, provider));
  return provider;
}
