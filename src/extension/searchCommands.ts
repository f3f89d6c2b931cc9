import * as vscode from 'vscode';
import type { IndexRange, SearchHitInfo, SearchResult } from '../protocol';
import { describeFilters, effectiveFilters, parseQuery, searchRequest } from '../shared/search/queryFilters';
import type { Ctx } from './ctx';
import { errorMessage } from './errorMessage';
import { formatIndexStatus } from './indexReport';

/** Typing pauses this long before the quick pick asks the worker. */
const SEARCH_DEBOUNCE_MS = 150;
const QUICK_PICK_LIMIT = 30;
export const INDEX_STATUS_URI = vscode.Uri.parse('kestrel-index:Kestrel%20Index%20Status.md');

interface HitItem extends vscode.QuickPickItem {
  /** Absent on the line that says why there are no results. */
  hit?: SearchHitInfo;
}

function toItem(hit: SearchHitInfo): HitItem {
  const line = hit.range.start.line + 1;
  const firstLine = hit.snippet.split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
  return {
    label: hit.name || hit.rel,
    description: `${hit.rel}:${line}${hit.container ? ` · ${hit.container}` : ''}`,
    detail: firstLine,
    // The worker ranked these; the quick pick must not filter them again by label.
    alwaysShow: true,
    hit,
  };
}

function toRange(range: IndexRange): vscode.Range {
  return new vscode.Range(range.start.line, range.start.character, range.end.line, range.end.character);
}

/** Opens a hit's file with the cursor at the start of its chunk, the chunk in view. */
export async function openHit(hit: Pick<SearchHitInfo, 'path' | 'range'>, options: { preview?: boolean; preserveFocus?: boolean } = {}): Promise<vscode.TextEditor> {
  const range = toRange(hit.range);
  const editor = await vscode.window.showTextDocument(vscode.Uri.file(hit.path), {
    preview: options.preview ?? false,
    preserveFocus: options.preserveFocus ?? false,
    selection: new vscode.Range(range.start, range.start),
  });
  editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  return editor;
}

/** A quick pick over hits; moving through items previews each in the editor. */
function hitPicker(title: string, placeholder: string): vscode.QuickPick<HitItem> {
  const pick = vscode.window.createQuickPick<HitItem>();
  pick.title = title;
  pick.placeholder = placeholder;
  pick.matchOnDescription = false;
  pick.matchOnDetail = false;
  pick.onDidChangeActive(([item]) => {
    if (item?.hit) void openHit(item.hit, { preview: true, preserveFocus: true }).catch(() => undefined);
  });
  pick.onDidAccept(() => {
    const item = pick.selectedItems[0] ?? pick.activeItems[0];
    pick.hide();
    const hit = item?.hit;
    if (hit) void openHit(hit).catch((error: unknown) => vscode.window.showErrorMessage(`Kestrel: could not open ${hit.rel}: ${errorMessage(error)}`));
  });
  pick.onDidHide(() => pick.dispose());
  return pick;
}

function showResult(pick: vscode.QuickPick<HitItem>, result: SearchResult, emptyMessage: string): void {
  pick.busy = false;
  pick.items = result.hits.length > 0 ? result.hits.map(toItem) : [{ label: result.notice ?? emptyMessage, alwaysShow: true }];
  pick.placeholder = result.hits.length === 0 ? (result.notice ?? emptyMessage) : `${result.hits.length} results in ${result.elapsedMs.toFixed(0)} ms`;
}

const SEARCH_TITLE = 'Kestrel: Search Workspace';

/** What a Search Workspace quick pick shows (the test API reads the latest one). */
export interface SearchPickView {
  value: string;
  title: string;
  /** "rel:line name" of each result, in order. */
  labels: string[];
}

let latestSearchPick: (() => SearchPickView) | undefined;

/** The latest Search Workspace quick pick, open or not. */
export function searchPickView(): SearchPickView | undefined {
  return latestSearchPick?.();
}

/** "Search Workspace": results as you type, debounced; the previous request is cancelled. */
export function searchWorkspace(ctx: Ctx, initialQuery?: string): void {
  const pick = hitPicker(SEARCH_TITLE, 'Describe the code you want, or name it; filter with lang:python path:src/**');
  let timer: NodeJS.Timeout | undefined;
  let inFlight: vscode.CancellationTokenSource | undefined;
  latestSearchPick = () => ({
    value: pick.value,
    title: pick.title ?? '',
    labels: pick.items.flatMap((item) => (item.hit ? [`${item.hit.rel}:${item.hit.range.start.line + 1} ${item.hit.name}`] : [])),
  });
  const run = async (typed: string): Promise<void> => {
    inFlight?.cancel();
    const source = new vscode.CancellationTokenSource();
    inFlight = source;
    const filters = describeFilters(effectiveFilters(parseQuery(typed)));
    pick.title = filters === '' ? SEARCH_TITLE : `${SEARCH_TITLE} — ${filters}`;
    const request = searchRequest(typed);
    if (!request) {
      // Only filters so far: say what they are, and that the words to look for come next.
      pick.items = filters === '' ? [] : [{ label: `Type what to look for in ${filters}`, alwaysShow: true }];
      pick.busy = false;
      return;
    }
    const params = { query: request.query, ...request.filters, limit: QUICK_PICK_LIMIT };
    pick.busy = true;
    try {
      const result = await (await ctx.worker()).search(params, { token: source.token });
      if (inFlight === source) showResult(pick, result, `No good match for “${params.query}”${filters === '' ? '' : ` in ${filters}`}`);
    } catch (error) {
      if (inFlight !== source) return;
      pick.busy = false;
      pick.placeholder = `Search failed: ${errorMessage(error)}`;
    }
  };
  pick.onDidChangeValue((value) => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      void run(value);
    }, SEARCH_DEBOUNCE_MS);
  });
  // A query typed while the index was filling is asked again when the run ends.
  const indexListener = ctx.onDidChangeIndexProgress((progress) => {
    if (!progress.indexing && pick.value.trim() !== '' && !timer) void run(pick.value);
  });
  pick.onDidHide(() => {
    if (timer) clearTimeout(timer);
    inFlight?.cancel();
    indexListener.dispose();
  });
  pick.show();
  if (initialQuery) pick.value = initialQuery;
}

/** "Find Similar Code": the selection (or the current line) as the query; the selection itself is left out. */
export async function findSimilarCode(ctx: Ctx): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showInformationMessage('Kestrel: select some code in an editor to find code like it.');
    return;
  }
  const selection = editor.selection;
  const range = selection.isEmpty ? editor.document.lineAt(selection.active.line).range : selection;
  const code = editor.document.getText(range);
  if (code.trim() === '') {
    void vscode.window.showInformationMessage('Kestrel: select some code to find code like it.');
    return;
  }
  const pick = hitPicker('Kestrel: Find Similar Code', 'Searching…');
  pick.busy = true;
  pick.show();
  try {
    const result = await (await ctx.worker()).similar({
      code,
      limit: QUICK_PICK_LIMIT,
      ...(editor.document.uri.scheme === 'file' ? { notIn: { path: editor.document.uri.fsPath, startLine: range.start.line, endLine: range.end.line } } : {}),
    });
    showResult(pick, result, 'No similar code: nothing in the index is close enough to the selection');
  } catch (error) {
    pick.busy = false;
    pick.placeholder = `Search failed: ${errorMessage(error)}`;
  }
}

/** "Rebuild Index": under the index's cancellable progress notification (see indexProgress.ts). */
export async function rebuildIndex(ctx: Ctx): Promise<void> {
  const worker = await ctx.worker();
  const status = await ctx.indexProgressUi.rebuild((token) => worker.rebuildIndex({ token })).then((s) => s, (error: unknown) => {
    void vscode.window.showErrorMessage(`Kestrel: rebuilding the index failed: ${errorMessage(error)}`);
    return undefined;
  });
  if (!status) return;
  const files = status.folders.reduce((n, f) => n + f.files, 0);
  const chunks = status.folders.reduce((n, f) => n + f.chunks, 0);
  const cancelled = status.folders.some((f) => f.lastRun?.cancelled);
  void vscode.window.showInformationMessage(`Kestrel: index ${cancelled ? 'rebuild cancelled' : 'rebuilt'}: ${files} files, ${chunks} chunks.`);
}

/** Serves the "Show Index Status" document, built fresh from the worker each time it opens. */
export class IndexStatusDocument implements vscode.TextDocumentContentProvider {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly ctx: Ctx) {}

  async provideTextDocumentContent(): Promise<string> {
    try {
      return formatIndexStatus(await (await this.ctx.worker()).indexStatus());
    } catch (error) {
      return `# Kestrel index status\n\nThe worker did not answer: ${errorMessage(error)}\n`;
    }
  }

  async show(): Promise<void> {
    this.changed.fire(INDEX_STATUS_URI);
    const document = await vscode.workspace.openTextDocument(INDEX_STATUS_URI);
    await vscode.window.showTextDocument(document, { preview: false });
  }

  dispose(): void {
    this.changed.dispose();
  }
}
