import type { WorkerSettings } from '../protocol';
import { SETTING_NAMES, workerSettingsFields } from './protocolParams';

export const DEFAULT_WORKER_SETTINGS: WorkerSettings = { device: 'auto', model: '', modelPaths: [] };

type Listener = (next: WorkerSettings, previous: WorkerSettings) => void;

/**
 * Settings as a client sent them (initializationOptions, kestrel/settings), checked field by field:
 * a field that is absent or wrong takes its default, and each wrong one gets a message naming the
 * setting (`kestrel.device must be one of auto, cpu, ... not 12; using "auto"`). Clients other than
 * Kestrel's own may send nothing at all.
 */
export function checkSettings(given: unknown): { settings: WorkerSettings; problems: string[] } {
  const record = typeof given === 'object' && given !== null && !Array.isArray(given) ? (given as Record<string, unknown>) : {};
  const settings: Record<string, unknown> = { ...DEFAULT_WORKER_SETTINGS };
  const problems: string[] = [];
  for (const [key, schema] of Object.entries(workerSettingsFields) as Array<[keyof WorkerSettings, (value: unknown, at: string) => string | undefined]>) {
    const value = record[key];
    if (value === undefined || value === null) continue;
    const problem = schema(value, SETTING_NAMES[key] ?? key);
    if (problem === undefined) settings[key] = value;
    else problems.push(`${problem}; using ${key in DEFAULT_WORKER_SETTINGS ? JSON.stringify(DEFAULT_WORKER_SETTINGS[key]) : 'the default'}`);
  }
  return { settings: settings as unknown as WorkerSettings, problems };
}

/** The worker's view of the user's settings; the client pushes changes and features react live. */
export class SettingsStore {
  private current: WorkerSettings;
  private readonly listeners: Listener[] = [];

  constructor(initial: WorkerSettings = DEFAULT_WORKER_SETTINGS) {
    this.current = initial;
  }

  get value(): WorkerSettings {
    return this.current;
  }

  update(next: WorkerSettings): void {
    const previous = this.current;
    this.current = next;
    for (const listener of this.listeners) listener(next, previous);
  }

  onDidChange(listener: Listener): void {
    this.listeners.push(listener);
  }
}
