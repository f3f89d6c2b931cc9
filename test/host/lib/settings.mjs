// User settings for every workbench the test host opens.
//
// Why: tests and screenshots must show Kestrel, not VS Code's own onboarding, chat panel, surveys or
// notifications about updates and recommendations; and nothing may try to reach the network (there is
// none on CI, and waiting for it slows runs down).

export const QUIET_SETTINGS = Object.freeze({
  // Built-in AI: hides the chat panel, Copilot status item and agent sign-in prompts.
  'chat.disableAIFeatures': true,
  'chat.commandCenter.enabled': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',

  // No telemetry, surveys or experiments.
  'telemetry.telemetryLevel': 'off',
  'telemetry.feedback.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.settings.enableNaturalLanguageSearch': false,
  'typescript.surveys.enabled': false,

  // No welcome page, walkthroughs, tips or release notes.
  'workbench.startupEditor': 'none',
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.tips.enabled': false,
  'update.mode': 'none',
  'update.showReleaseNotes': false,

  // No extension gallery traffic or recommendation toasts.
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'workbench.remoteIndicator.showExtensionRecommendations': false,

  // Built-in extensions that would otherwise go online or prompt.
  'git.openRepositoryInParentFolders': 'never',
  'git.autofetch': false,
  'npm.fetchOnlinePackageInfo': false,
  'json.schemaDownload.enable': false,
  'typescript.disableAutomaticTypeAcquisition': true,
  'remote.autoForwardPorts': false,

  // Deterministic editor state: tests type into files and inspect them.
  'files.autoSave': 'off',
  'security.workspace.trust.enabled': false,
});
