import * as vscode from 'vscode';
import { COMMANDS, type CommandId } from './commandIds';
import type { Ctx } from './ctx';
import { showModelSwitcher } from './modelSwitcher';
import { StatsPanel } from './statsView';

type CommandFactory = (ctx: Ctx) => (...args: unknown[]) => unknown;

/**
 * Says plainly that a declared command's feature has not shipped in this version, instead of
 * pretending to work. Each use names the feature; the later release replaces the factory.
 */
function notAvailableYet(feature: string): CommandFactory {
  return () => () => {
    // Not awaited: the notice resolves only when dismissed, and the command should not wait for that.
    void vscode.window.showInformationMessage(`Kestrel: ${feature} is not available in this version yet.`);
  };
}

/** Every contributed command, name -> implementation. */
const COMMAND_TABLE: Record<CommandId, CommandFactory> = {
  [COMMANDS.searchWorkspace]: notAvailableYet('semantic workspace search'),
  [COMMANDS.findSimilarCode]: notAvailableYet('finding similar code'),
  [COMMANDS.switchModel]: (ctx) => () => showModelSwitcher(ctx),
  [COMMANDS.toggleCompletions]: (ctx) => async () => {
    const enabled = !ctx.config.get('completions.enable');
    await ctx.config.set('completions.enable', enabled);
    vscode.window.setStatusBarMessage(`Kestrel: inline completions ${enabled ? 'on' : 'off'}`, 2_000);
  },
  [COMMANDS.triggerCompletion]: () => () => vscode.commands.executeCommand('editor.action.inlineSuggest.trigger'),
  [COMMANDS.showCompletionStats]: (ctx) => () => StatsPanel.show(ctx),
  [COMMANDS.rebuildIndex]: notAvailableYet('the workspace index'),
  [COMMANDS.showIndexStatus]: notAvailableYet('the workspace index'),
  [COMMANDS.showLog]: (ctx) => () => ctx.output.show(true),
  [COMMANDS.restartWorker]: (ctx) => () => ctx.restartWorker(),
};

export function registerCommands(ctx: Ctx): void {
  for (const [id, factory] of Object.entries(COMMAND_TABLE)) {
    ctx.extension.subscriptions.push(vscode.commands.registerCommand(id, factory(ctx)));
  }
}
