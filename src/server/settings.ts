import type { WorkerSettings } from '../protocol';

export const DEFAULT_WORKER_SETTINGS: WorkerSettings = { device: 'auto', model: '', modelPaths: [] };

type Listener = (next: WorkerSettings, previous: WorkerSettings) => void;

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
