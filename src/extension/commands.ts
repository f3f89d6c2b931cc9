import * as vscode from 'vscode';
import { COMMANDS, type CommandId } from './commandIds';
import type { Ctx } from './ctx';
import { showModelSwitcher } from './modelSwitcher';
import { findSimilarCode, IndexStatusDocument, INDEX_STATUS_URI, rebuildIndex, searchWorkspace } from './searchCommands';
import { StatsPanel } from './statsView';

type CommandFactory = (ctx: Ctx) => (...args: unknown[]) => unknown;

/** Every contributed command, name -> implementation. */
const COMMAND_TABLE: Record<CommandId, CommandFactory> = {
  [COMMANDS.searchWorkspace]: (ctx) => (query?: unknown) => searchWorkspace(ctx, typeof query === 'string' ? query : undefined),
  [COMMANDS.findSimilarCode]: (ctx) => () => findSimilarCode(ctx),
  [COMMANDS.switchModel]: (ctx) => () => showModelSwitcher(ctx),
  [COMMANDS.toggleCompletions]: (ctx) => async () => {
    const enabled = !ctx.config.get('completions.enable');
    await ctx.config.set('completions.enable', enabled);
    vscode.window.setStatusBarMessage(`Kestrel: inline completions ${enabled ? 'on' : 'off'}`, 2_000);
  },
  [COMMANDS.triggerCompletion]: () => () => vscode.commands.executeCommand('editor.action.inlineSuggest.trigger'),
  [COMMANDS.showCompletionStats]: (ctx) => () => StatsPanel.show(ctx),
  [COMMANDS.rebuildIndex]: (ctx) => () => rebuildIndex(ctx),
  [COMMANDS.showIndexStatus]: (ctx) => {
    const document = new IndexStatusDocument(ctx);
    ctx.extension.subscriptions.push(document, vscode.workspace.registerTextDocumentContentProvider(INDEX_STATUS_URI.scheme, document));
    return () => document.show();
  },
  [COMMANDS.showLog]: (ctx) => () => ctx.output.show(true),
  [COMMANDS.restartWorker]: (ctx) => () => ctx.restartWorker(),
};

export function registerCommands(ctx: Ctx): void {
  for (const [id, factory] of Object.entries(COMMAND_TABLE)) {
    ctx.extension.subscriptions.push(vscode.commands.registerCommand(id, factory(ctx)));
  }
}
