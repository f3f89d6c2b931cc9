/** Every command Kestrel contributes; package.json's `contributes.commands` must list exactly these. */
export const COMMANDS = {
  searchWorkspace: 'kestrel.searchWorkspace',
  findSimilarCode: 'kestrel.findSimilarCode',
  switchModel: 'kestrel.switchModel',
  toggleCompletions: 'kestrel.toggleCompletions',
  rebuildIndex: 'kestrel.rebuildIndex',
  showIndexStatus: 'kestrel.showIndexStatus',
  showLog: 'kestrel.showLog',
  restartWorker: 'kestrel.restartWorker',
  triggerCompletion: 'kestrel.triggerCompletion',
  showCompletionStats: 'kestrel.showCompletionStats',
} as const;

/** Commands Kestrel registers for its own use (keybindings, item callbacks); not in the palette. */
export const INTERNAL_COMMANDS = {
  completionAccepted: 'kestrel.completionAccepted',
  dismissCompletion: 'kestrel.dismissCompletion',
} as const;

export type CommandId = (typeof COMMANDS)[keyof typeof COMMANDS];
