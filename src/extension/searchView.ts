import * as vscode from 'vscode';
import type { FromWebview, ToWebview } from '../webview/messages';
import { COMMANDS } from './commandIds';
import type { Ctx } from './ctx';
import { renderWebviewHtml } from './webviewHtml';
import type { WorkerState } from './workerClient';

/** The "Search" webview view in Kestrel's activity-bar container. */
export class SearchViewProvider implements vscode.WebviewViewProvider {
  static readonly viewType = 'kestrel.search';
  private view: vscode.WebviewView | undefined;

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
  <p id="notice" role="status"></p>
  <p id="worker" class="worker"></p>
  <button id="show-log" type="button">Show Log</button>
</main>`,
    });
    const subscriptions = [
      view.webview.onDidReceiveMessage((message: FromWebview) => this.onMessage(message)),
      this.ctx.onDidChangeState((state) => this.postWorkerState(state)),
    ];
    view.onDidDispose(() => {
      for (const s of subscriptions) s.dispose();
      this.view = undefined;
    });
  }

  private onMessage(message: FromWebview): void {
    switch (message.type) {
      case 'ready':
        this.post({ type: 'unavailable', feature: 'semantic workspace search' });
        this.postWorkerState(this.ctx.state);
        break;
      case 'showLog':
        void vscode.commands.executeCommand(COMMANDS.showLog);
        break;
    }
  }

  private postWorkerState(state: WorkerState): void {
    const detail = {
      starting: () => 'Worker starting…',
      ready: () => 'Worker ready.',
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

export function registerSearchView(ctx: Ctx): void {
  ctx.extension.subscriptions.push(
    vscode.window.registerWebviewViewProvider(SearchViewProvider.viewType, new SearchViewProvider(ctx)),
  );
}
