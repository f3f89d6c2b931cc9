/**
 * Every `kestrel.*` setting with its default, in one vscode-free table so unit tests can check it
 * against package.json. config.ts is the only code that reads settings; it reads them from here.
 */
import type { DeviceSetting } from '../protocol';

export interface KestrelSettings {
  'completions.enable': boolean;
  'completions.languages': string[];
  'completions.maxTokens': number;
  'completions.debounceMs': number;
  'completions.projectCache': boolean;
  model: string;
  modelPaths: string[];
  device: DeviceSetting;
  'index.enable': boolean;
  'index.exclude': string[];
  'index.maxFileSizeKB': number;
  'index.progressNotification': boolean;
}

export type SettingKey = keyof KestrelSettings;

export const SETTING_DEFAULTS: KestrelSettings = {
  'completions.enable': true,
  'completions.languages': ['python'],
  'completions.maxTokens': 64,
  'completions.debounceMs': 75,
  'completions.projectCache': true,
  model: '',
  modelPaths: [],
  device: 'auto',
  'index.enable': true,
  'index.exclude': ['**/node_modules/**', '**/.venv/**', '**/venv/**', '**/__pycache__/**', '**/dist/**', '**/build/**'],
  'index.maxFileSizeKB': 512,
  'index.progressNotification': true,
};

/**
 * Settings the running worker cannot pick up live: changing them restarts the worker (its document
 * selector is fixed when the language client starts). Everything else is applied without a restart.
 */
export const RESTART_WORKER_KEYS: readonly SettingKey[] = ['completions.languages'];

/** Settings that come from files in the workspace and so are ignored in an untrusted workspace. */
export const UNTRUSTED_IGNORED_KEYS: readonly SettingKey[] = ['modelPaths'];
