import * as vscode from 'vscode';
import { COMMANDS } from './commandIds';
import type { WorkerState } from './workerClient';

/** The status-bar item: one union of worker states, rendered by a single switch. */
export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;

  constructor() {
    this.item = vscode.window.createStatusBarItem('kestrel.status', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'Kestrel';
    this.item.command = COMMANDS.showLog;
    this.update({ kind: 'starting' });
    this.item.show();
  }

  get text(): string {
    return this.item.text;
  }

  update(state: WorkerState): void {
    const tooltip = new vscode.MarkdownString(undefined, true);
    this.item.backgroundColor = undefined;
    switch (state.kind) {
      case 'starting':
        this.item.text = '$(loading~spin) Kestrel';
        tooltip.appendMarkdown('**Kestrel** — starting the worker…');
        break;
      case 'ready': {
        const { status } = state;
        this.item.text = '$(circuit-board) Kestrel';
        tooltip.appendMarkdown(`**Kestrel ${status.version}** — worker ready\n\n`);
        tooltip.appendMarkdown(`- Worker pid ${status.pid}, ${(status.memory.rssBytes / 2 ** 20).toFixed(0)} MB resident\n`);
        tooltip.appendMarkdown(`- Device: ${status.device.active ?? 'no model loaded'} (setting: ${status.device.requested})\n`);
        tooltip.appendMarkdown(`- Models: ${status.models.length === 0 ? 'none loaded' : status.models.map((m) => `${m.id} (${m.variant}, ${m.provider})`).join(', ')}\n\n`);
        tooltip.appendMarkdown('Click to show the Kestrel log.');
        break;
      }
      case 'restarting':
        this.item.text = '$(loading~spin) Kestrel: restarting';
        this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
        tooltip.appendMarkdown(`**Kestrel** — restarting the worker (attempt ${state.attempt}, in ${state.delayMs} ms)\n\nWhy: ${state.reason}`);
        break;
      case 'error':
        this.item.text = '$(error) Kestrel';
        this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
        tooltip.appendMarkdown(`**Kestrel** — error\n\n${state.reason}\n\nClick to show the Kestrel log.`);
        break;
      case 'stopped':
        this.item.text = '$(circle-slash) Kestrel';
        tooltip.appendMarkdown('**Kestrel** — worker stopped');
        break;
    }
    this.item.tooltip = tooltip;
    this.item.accessibilityInformation = { label: `Kestrel: ${state.kind}` };
  }

  dispose(): void {
    this.item.dispose();
  }
}
