import * as vscode from 'vscode';
import type { IndexProgressParams, SearchHitInfo } from '../protocol';
import type { FromWebview, PanelHit, ToWebview } from '../webview/messages';
import { COMMANDS } from './commandIds';
import type { Ctx } from './ctx';
import { errorMessage } from './errorMessage';
import { openHit } from './searchCommands';
import { indexSummary } from './statusBar';
import { renderWebviewHtml } from './webviewHtml';
import type { WorkerState } from './workerClient';

const PANEL_LIMIT = 30;

/** What the Search view last drew, as its script reported it (tests read it through the API). */
export interface SearchViewRendered {
  query: string;
  labels: string[];
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
  rendered: SearchViewRendered | undefined;

  constructor(private readonly ctx: Ctx) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
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
    ];
    view.onDidDispose(() => {
      for (const s of subscriptions) s.dispose();
      this.view = undefined;
    });
  }

  /** Shows the view and searches `query` in it, as if typed. */
  async search(query: string): Promise<void> {
    await vscode.commands.executeCommand(`${SearchViewProvider.viewType}.focus`);
    this.post({ type: 'setQuery', query });
  }

  private async onMessage(message: FromWebview): Promise<void> {
    switch (message.type) {
      case 'ready':
        this.postWorkerState(this.ctx.state);
        this.postIndex(this.ctx.indexProgress);
        break;
      case 'showLog':
        void vscode.commands.executeCommand(COMMANDS.showLog);
        break;
      case 'cancelIndex':
        await (await this.ctx.worker()).cancelIndex().catch((error: unknown) => this.ctx.output.warn(`Could not stop indexing: ${errorMessage(error)}`));
        break;
      case 'search':
        await this.runSearch(message.id, message.query);
        break;
      case 'open': {
        const hit = this.lastResults?.id === message.id ? this.lastResults.hits[message.index] : undefined;
        if (hit) await openHit(hit).catch((error: unknown) => vscode.window.showErrorMessage(`Kestrel: could not open ${hit.rel}: ${errorMessage(error)}`));
        break;
      }
      case 'rendered':
        this.rendered = { query: message.query, labels: message.labels };
        break;
    }
  }

  private async runSearch(id: number, query: string): Promise<void> {
    this.inFlight?.cancel();
    const source = new vscode.CancellationTokenSource();
    this.inFlight = source;
    try {
      const result = await (await this.ctx.worker()).search({ query, limit: PANEL_LIMIT }, { token: source.token });
      if (this.inFlight !== source) return;
      this.lastResults = { id, hits: result.hits };
      this.post({ type: 'results', id, query, hits: result.hits.map(toPanelHit), elapsedMs: result.elapsedMs, ...(result.notice ? { notice: result.notice } : {}) });
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
}

export function registerSearchView(ctx: Ctx): SearchViewProvider {
  const provider = new SearchViewProvider(ctx);
  ctx.extension.subscriptions.push(vscode.window.registerWebviewViewProvider(SearchViewProvider.viewType, provider));
  return provider;
}
