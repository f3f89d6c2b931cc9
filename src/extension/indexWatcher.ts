import * as vscode from 'vscode';
import type { FileChangeKind, FilesChangedParams } from '../protocol';
import type { Ctx } from './ctx';

/** Changes gathered this long are sent together: a save reaches the index well within a second. */
const BATCH_MS = 100;

/**
 * Forwards files created, changed (saved) and deleted on disk to the worker's index. A rename
 * arrives as a delete and a create. Only file: folders are watched; the worker ignores paths
 * outside the indexed folders and applies its own exclude rules.
 */
export function registerIndexWatcher(ctx: Ctx): void {
  let pending = new Map<string, FileChangeKind>();
  let timer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    timer = undefined;
    if (pending.size === 0) return;
    const params: FilesChangedParams = { changes: [...pending].map(([path, kind]) => ({ path, kind })) };
    pending = new Map();
    void ctx.worker().then((worker) => worker.filesChanged(params)).catch(() => undefined);
  };
  const note = (kind: FileChangeKind) => (uri: vscode.Uri): void => {
    if (uri.scheme !== 'file') return;
    pending.set(uri.fsPath, kind);
    timer ??= setTimeout(flush, BATCH_MS);
  };
  const watcher = vscode.workspace.createFileSystemWatcher('**/*');
  ctx.extension.subscriptions.push(
    watcher,
    watcher.onDidCreate(note('created')),
    watcher.onDidChange(note('changed')),
    watcher.onDidDelete(note('deleted')),
    // A save inside VS Code can beat the watcher; both land in the same batch when they coincide.
    vscode.workspace.onDidSaveTextDocument((document) => note('changed')(document.uri)),
    { dispose: () => { if (timer) clearTimeout(timer); } },
  );
}
