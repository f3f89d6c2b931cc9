import * as vscode from 'vscode';
import { Config } from './config';
import { StatusBar } from './statusBar';
import { errorMessage } from './errorMessage';
import type { WorkerClient, WorkerState } from './workerClient';

/**
 * Everything the extension owns for its lifetime: settings, log, status bar and the worker. Each
 * piece is disposed with the extension; the worker's per-process state lives inside WorkerClient,
 * which rebuilds it on every (re)start.
 */
export class Ctx {
  readonly config = new Config();
  readonly output: vscode.LogOutputChannel;
  readonly statusBar: StatusBar;
  private workerClient: Promise<WorkerClient> | undefined;
  private readonly stateListeners: Array<(state: WorkerState) => void> = [];
  private lastState: WorkerState = { kind: 'starting' };

  constructor(readonly extension: vscode.ExtensionContext) {
    this.output = vscode.window.createOutputChannel('Kestrel', { log: true });
    this.statusBar = new StatusBar();
    extension.subscriptions.push(
      this.output,
      this.statusBar,
      { dispose: () => void this.workerClient?.then((worker) => worker.dispose()) },
      this.config.onDidChange((needsRestart) => {
        if (!this.workerClient) return; // the worker reads settings when it starts
        if (needsRestart) void this.restartWorker();
        else void this.workerClient.then((worker) => worker.pushSettings());
      }),
    );
  }

  /**
   * The worker client, loaded on first use. Its module (vscode-languageclient and the protocol) is a
   * separate bundle, dist/workerClient.js, so loading it never counts against activation time.
   */
  worker(): Promise<WorkerClient> {
    this.workerClient ??= loadWorkerClientModule(this.extension).then(({ WorkerClient }) => new WorkerClient({
      serverModule: vscode.Uri.joinPath(this.extension.extensionUri, 'dist', 'server.js').fsPath,
      output: this.output,
      documentLanguages: () => this.config.get('completions.languages'),
      settings: () => this.config.workerSettings(),
      onState: (state) => this.setState(state),
    }));
    return this.workerClient;
  }

  get state(): WorkerState {
    return this.lastState;
  }

  onDidChangeState(listener: (state: WorkerState) => void): vscode.Disposable {
    this.stateListeners.push(listener);
    return { dispose: () => this.stateListeners.splice(this.stateListeners.indexOf(listener), 1) };
  }

  /** Starts the worker in the background; failures are reported, never thrown into activation. */
  startWorker(): void {
    this.worker().then((worker) => worker.start()).catch((error: unknown) => this.reportOnce('start', `Kestrel's worker could not start: ${errorMessage(error)}`));
  }

  async restartWorker(): Promise<void> {
    try {
      await (await this.worker()).restart();
    } catch (error) {
      this.reportOnce('restart', `Kestrel's worker could not restart: ${errorMessage(error)}`);
    }
  }

  private readonly reported = new Set<string>();

  /** Shows an error notification once per kind of failure, pointing at the log for detail. */
  reportOnce(kind: string, message: string): void {
    this.output.error(message);
    if (this.reported.has(kind)) return;
    this.reported.add(kind);
    void vscode.window.showErrorMessage(message, 'Show Log').then((choice) => {
      if (choice) this.output.show(true);
    });
  }

  private setState(state: WorkerState): void {
    this.lastState = state;
    this.statusBar.update(state);
    if (state.kind === 'error') this.reportOnce('crash-loop', state.reason);
    for (const listener of [...this.stateListeners]) listener(state);
  }
}

type WorkerClientModule = typeof import('./workerClient');

function loadWorkerClientModule(extension: vscode.ExtensionContext): Promise<WorkerClientModule> {
  // HACK: a computed path keeps esbuild from inlining the module into dist/extension.js.
  const modulePath = vscode.Uri.joinPath(extension.extensionUri, 'dist', 'workerClient.js').fsPath;
  return new Promise((resolve) => setImmediate(() => resolve(require(modulePath) as WorkerClientModule)));
}
