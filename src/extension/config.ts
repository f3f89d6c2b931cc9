import * as vscode from 'vscode';
import type { WorkerSettings } from '../protocol';
import { RESTART_WORKER_KEYS, SETTING_DEFAULTS, UNTRUSTED_IGNORED_KEYS, type KestrelSettings, type SettingKey } from './settingKeys';

const SECTION = 'kestrel';

/** The one reader of `kestrel.*` settings: typed getters over the live configuration. */
export class Config {
  get<K extends SettingKey>(key: K): KestrelSettings[K] {
    if (UNTRUSTED_IGNORED_KEYS.includes(key) && !vscode.workspace.isTrusted) return SETTING_DEFAULTS[key];
    return vscode.workspace.getConfiguration(SECTION).get<KestrelSettings[K]>(key, SETTING_DEFAULTS[key]);
  }

  async set<K extends SettingKey>(key: K, value: KestrelSettings[K]): Promise<void> {
    await vscode.workspace.getConfiguration(SECTION).update(key, value, vscode.ConfigurationTarget.Global);
  }

  /** `indexStorage`: the extension's workspace storage folder (context.storageUri), absent without a workspace. */
  workerSettings(indexStorage?: string): WorkerSettings {
    return {
      device: this.get('device'),
      model: this.get('model'),
      modelPaths: this.get('modelPaths'),
      completionMaxTokens: this.get('completions.maxTokens'),
      projectCache: this.get('completions.projectCache'),
      indexEnable: this.get('index.enable'),
      ...(indexStorage ? { indexStorage } : {}),
      workspaceFolders: this.workspaceFolders(),
      indexExclude: [...this.get('index.exclude'), ...this.filesExclude()],
      indexMaxFileSizeKB: this.get('index.maxFileSizeKB'),
    };
  }

  /** Folders on disk (virtual workspaces are not indexed). */
  private workspaceFolders(): string[] {
    return (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
  }

  /** The `files.exclude` globs switched on (a `when` condition counts as on: leaving a file out is the safe side). */
  private filesExclude(): string[] {
    const globs = vscode.workspace.getConfiguration('files').get<Record<string, unknown>>('exclude', {});
    return Object.entries(globs).filter(([, value]) => value === true || (typeof value === 'object' && value !== null)).map(([glob]) => glob);
  }

  /**
   * Calls back on any Kestrel setting change, saying whether the worker must restart to apply it.
   * Trust changes too: they decide whether workspace-supplied model paths count.
   */
  onDidChange(listener: (needsWorkerRestart: boolean) => void): vscode.Disposable {
    const configuration = vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('files.exclude')) listener(false);
      if (!event.affectsConfiguration(SECTION)) return;
      listener(RESTART_WORKER_KEYS.some((key) => event.affectsConfiguration(`${SECTION}.${key}`)));
    });
    const trust = vscode.workspace.onDidGrantWorkspaceTrust(() => listener(false));
    const folders = vscode.workspace.onDidChangeWorkspaceFolders(() => listener(false));
    return vscode.Disposable.from(configuration, trust, folders);
  }
}
