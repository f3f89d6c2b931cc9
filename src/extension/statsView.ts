import * as vscode from 'vscode';
import type { FromStatsWebview, StatsPayload, ToStatsWebview } from '../webview/messages';
import type { Ctx } from './ctx';
import { renderWebviewHtml } from './webviewHtml';

const HISTOGRAM_EDGES_MS = [25, 50, 100, 200, 400, 800];

/** "Kestrel: Show Completion Stats": local statistics drawn in a webview panel (one at a time). */
export class StatsPanel {
  private static current: StatsPanel | undefined;

  static show(ctx: Ctx): void {
    if (StatsPanel.current) {
      StatsPanel.current.panel.reveal();
      StatsPanel.current.refresh();
      return;
    }
    StatsPanel.current = new StatsPanel(ctx);
  }

  private readonly panel: vscode.WebviewPanel;

  private constructor(private readonly ctx: Ctx) {
    const root = ctx.extension.extensionUri;
    this.panel = vscode.window.createWebviewPanel('kestrel.completionStats', 'Kestrel Completion Stats', vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(root, 'media'), vscode.Uri.joinPath(root, 'dist', 'webview')],
    });
    this.panel.webview.html = renderWebviewHtml(this.panel.webview, {
      title: 'Kestrel Completion Stats',
      styles: [vscode.Uri.joinPath(root, 'media', 'stats.css')],
      scripts: [vscode.Uri.joinPath(root, 'dist', 'webview', 'stats.js')],
      body: `<h1>Kestrel completion statistics</h1>
<p class="note">Counted on this machine only; never sent anywhere.</p>
<section class="totals">
  <div><strong id="shown">0</strong><span>shown</span></div>
  <div><strong id="accepted">0</strong><span>accepted</span></div>
  <div><strong id="partial">0</strong><span>partly accepted</span></div>
  <div><strong id="dismissed">0</strong><span>dismissed</span></div>
  <div><strong id="rate">0%</strong><span>acceptance</span></div>
  <div><strong id="median">—</strong><span>median latency (recent)</span></div>
</section>
<p id="empty" class="note">No suggestions shown yet.</p>
<h2>Latency (ms)</h2>
<div id="latency"></div>
<h2>Acceptance per day</h2>
<div id="acceptance"></div>
<p><button id="reset" type="button">Reset statistics</button></p>`,
    });
    const subscription = this.panel.webview.onDidReceiveMessage((message: FromStatsWebview) => {
      if (message.type === 'reset') ctx.stats.reset();
      this.refresh();
    });
    this.panel.onDidDispose(() => {
      subscription.dispose();
      StatsPanel.current = undefined;
    });
  }

  private refresh(): void {
    const stats: StatsPayload = {
      totals: this.ctx.stats.totals(),
      medianLatencyMs: this.ctx.stats.medianLatencyMs(100) ?? null,
      histogram: { edgesMs: HISTOGRAM_EDGES_MS, counts: this.ctx.stats.histogram(HISTOGRAM_EDGES_MS) },
      days: [...this.ctx.stats.days()],
    };
    const message: ToStatsWebview = { type: 'stats', stats };
    void this.panel.webview.postMessage(message);
  }
}
