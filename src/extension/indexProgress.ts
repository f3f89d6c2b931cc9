import * as vscode from 'vscode';
import type { IndexProgressParams } from '../protocol';
import type { Config } from './config';
import { errorMessage } from './errorMessage';
import type { WorkerClient, WorkerState } from './workerClient';

/**
 * A run with this many files to (re)index gets a notification; fewer finish in a second or two,
 * and a notification that flashes by is noise. A first run always gets one (see wantsNotification).
 */
export const NOTIFY_MIN_FILES = 20;

/** One index progress notification as it was shown (the test API reads these). */
export interface IndexNotificationRecord {
  kind: 'index' | 'rebuild';
  title: string;
  /** The last message it showed, e.g. "12/40 files · 310 chunks". */
  message: string;
  open: boolean;
  /** The user pressed Cancel. */
  cancelled: boolean;
}

/** What the notification and the window progress say about a run. */
export function progressMessage(p: IndexProgressParams): string {
  const { phase, filesSeen, filesDone, filesTotal, chunksDone } = p.progress;
  if (phase === 'walking') return `looking for files… (${filesSeen} found)`;
  return `${filesDone}/${filesTotal} files · ${chunksDone} chunks`;
}

/**
 * Whether a run is worth a notification: the first run of a workspace (every file it found is new)
 * or many changed files. A save re-indexes its file outside any run, so it never gets here.
 */
export function wantsNotification(p: IndexProgressParams): boolean {
  const { phase, filesSeen, filesTotal } = p.progress;
  return p.indexing && phase === 'indexing' && filesTotal > 0 && (filesTotal >= NOTIFY_MIN_FILES || filesTotal === filesSeen);
}

/**
 * What the progress UI reads from the extension's Ctx. Declared here rather than importing Ctx, which
 * owns this UI: the two modules would otherwise import each other.
 */
export interface IndexProgressSource {
  readonly config: Config;
  readonly output: vscode.LogOutputChannel;
  /** The index's latest progress report, once the worker sent one. */
  readonly indexProgress: IndexProgressParams | undefined;
  onDidChangeIndexProgress(listener: (progress: IndexProgressParams) => void): vscode.Disposable;
  onDidChangeState(listener: (state: WorkerState) => void): vscode.Disposable;
  worker(): Promise<Pick<WorkerClient, 'cancelIndex'>>;
}

interface OpenNotification {
  record: IndexNotificationRecord;
  report: (p: IndexProgressParams) => void;
  close: () => void;
}

/**
 * Index progress in VS Code's UI: a cancellable notification for runs with real work and for
 * Rebuild Index, and a window (status-bar) progress item for every other run. The Search view draws
 * its own progress bar from the same reports (see searchView.ts).
 *
 * One of the two at a time: VS Code files a window progress in the notification centre too (a
 * silent entry), and one opened after the notification would become the newest notification, the
 * one Ctrl+Shift+A acts on, so the keyboard could no longer press Cancel. While the notification's
 * toast is hidden, VS Code puts its progress in the status bar itself.
 */
export class IndexProgressUi implements vscode.Disposable {
  private endWindowProgress: (() => void) | undefined;
  /** A run is going (the latest report said so and the worker runs). */
  private running = false;
  private notification: OpenNotification | undefined;
  private readonly records: IndexNotificationRecord[] = [];
  private readonly subscriptions: vscode.Disposable[];

  constructor(private readonly ctx: IndexProgressSource) {
    this.subscriptions = [
      ctx.onDidChangeIndexProgress((p) => this.update(p)),
      // A worker that stops mid-run sends no last report; the next one resumes the run and reports anew.
      ctx.onDidChangeState((state) => { if (state.kind !== 'ready') this.endRun(); }),
      ctx.config.onDidChange(() => this.applySetting()),
    ];
  }

  /** Every notification shown so far, oldest first. */
  get history(): IndexNotificationRecord[] {
    return this.records.map((r) => ({ ...r }));
  }

  /**
   * Runs a rebuild under its own notification, shown at once whatever the setting says (the user
   * asked for it); Cancel cancels `work` through its token.
   */
  rebuild<T>(work: (token: vscode.CancellationToken) => Promise<T>): Promise<T> {
    this.notification?.close();
    return new Promise<T>((resolve, reject) => {
      this.open('rebuild', 'Kestrel: rebuilding the index', (token) => {
        const done = work(token);
        done.then(resolve, reject);
        return done.then(() => undefined, () => undefined);
      });
    });
  }

  private update(p: IndexProgressParams): void {
    if (!p.indexing) {
      // A rebuild goes folder by folder with a report between them: its notification lasts as long as its request.
      this.endRun();
      return;
    }
    this.running = true;
    if (!this.notification && this.ctx.config.get('index.progressNotification') && wantsNotification(p)) this.openForRun();
    if (this.notification) this.notification.report(p);
    else this.endWindowProgress ??= this.showWindowProgress();
  }

  private endRun(): void {
    this.running = false;
    this.stopWindowProgress();
    if (this.notification?.record.kind === 'index') this.notification.close();
  }

  private stopWindowProgress(): void {
    this.endWindowProgress?.();
    this.endWindowProgress = undefined;
  }

  /** The setting applies live: off closes the notification of a run in flight, on opens one. */
  private applySetting(): void {
    const enabled = this.ctx.config.get('index.progressNotification');
    const progress = this.ctx.indexProgress;
    if (!enabled && this.notification?.record.kind === 'index') this.notification.close();
    else if (enabled && !this.notification && progress && wantsNotification(progress)) this.openForRun();
  }

  /** The notification of a run the worker started by itself; Cancel asks the worker to stop it. */
  private openForRun(): void {
    this.open('index', 'Kestrel: indexing the workspace', (token) => new Promise<void>((resolve) => {
      token.onCancellationRequested(() => {
        // The run stops after its current batch; its last report then closes the notification.
        this.ctx.worker().then((worker) => worker.cancelIndex()).then(
          () => vscode.window.setStatusBarMessage('Kestrel: indexing stopped; it resumes at the next start or with Rebuild Index', 5_000),
          (error: unknown) => {
            this.ctx.output.warn(`Could not stop indexing: ${errorMessage(error)}`);
            resolve();
          },
        );
      });
    }));
  }

  /**
   * Shows a notification until `task` settles or the notification is closed. The handle exists
   * before VS Code calls back, so reports that arrive meanwhile are kept, not lost.
   */
  private open(kind: IndexNotificationRecord['kind'], title: string, task: (token: vscode.CancellationToken) => Promise<void>): void {
    const record: IndexNotificationRecord = { kind, title, message: '', open: true, cancelled: false };
    this.records.push(record);
    let reporter: vscode.Progress<{ message?: string; increment?: number }> | undefined;
    let percent = 0;
    let closed: () => void = () => undefined;
    const whenClosed = new Promise<void>((resolve) => { closed = resolve; });
    const handle: OpenNotification = {
      record,
      report: (p) => {
        if (record.cancelled) return; // it says "stopping…" until the run ends
        record.message = progressMessage(p);
        const { phase, filesDone, filesTotal } = p.progress;
        const next = phase === 'indexing' && filesTotal > 0 ? (filesDone / filesTotal) * 100 : percent;
        // A multi-folder run adds to the total as each folder starts: the bar never goes back.
        const increment = Math.max(0, next - percent);
        percent = Math.max(percent, next);
        reporter?.report({ message: record.message, ...(increment > 0 ? { increment } : {}) });
      },
      close: () => {
        if (!record.open) return;
        record.open = false;
        closed();
        if (this.notification !== handle) return;
        this.notification = undefined;
        // A run the notification no longer shows (the setting went off, a rebuild's request ended first).
        if (this.running) this.endWindowProgress ??= this.showWindowProgress();
      },
    };
    this.stopWindowProgress();
    this.notification = handle;
    const last = this.ctx.indexProgress;
    if (last?.indexing) handle.report(last);
    void vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => {
      reporter = progress;
      if (record.message !== '') progress.report({ message: record.message, ...(percent > 0 ? { increment: percent } : {}) });
      token.onCancellationRequested(() => {
        record.cancelled = true;
        progress.report({ message: 'stopping…' });
      });
      return Promise.race([task(token), whenClosed]).finally(() => handle.close());
    });
  }

  /** A window progress item while a run goes (the status bar's spinning indicator). */
  private showWindowProgress(): () => void {
    let ended = false;
    let end: () => void = () => { ended = true; };
    void vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Kestrel index' }, (report) => new Promise<void>((resolve) => {
      if (ended) {
        resolve();
        return;
      }
      const update = (p: IndexProgressParams): void => report.report({ message: progressMessage(p) });
      if (this.ctx.indexProgress) update(this.ctx.indexProgress);
      const listener = this.ctx.onDidChangeIndexProgress(update);
      end = () => {
        listener.dispose();
        resolve();
      };
    }));
    return () => end();
  }

  dispose(): void {
    this.endRun();
    this.notification?.close();
    for (const s of this.subscriptions) s.dispose();
  }
}
