import * as vscode from 'vscode';
import type { CompletionTimingParams } from '../../protocol';
import type { Config } from '../config';
import { INTERNAL_COMMANDS } from '../commandIds';
import { AdaptiveDebounce } from './debounce';
import { DismissalMemory, type Place } from './dismissals';
import type { CompletionStats } from './stats';

/** The share of the last completion's latency spent waiting (debounce) and in the worker (model). */
export interface CompletionTiming {
  debounceMs: number;
  /** From asking the language client to its answer: the worker's time plus the transport. */
  modelMs: number;
  text: string | undefined;
  /** The worker's own account of the same request (absent if its report has not arrived). */
  worker?: CompletionTimingParams;
}

/** The language client's own provider, which the middleware calls to reach the worker. */
type ProvideInlineCompletionItemsSignature = (
  document: vscode.TextDocument,
  position: vscode.Position,
  context: vscode.InlineCompletionContext,
  token: vscode.CancellationToken,
) => vscode.ProviderResult<vscode.InlineCompletionItem[] | vscode.InlineCompletionList>;

/** How much text before the cursor identifies "the same place" for dismissals. */
const PLACE_CONTEXT_CHARS = 400;

/**
 * Kestrel's side of inline completion, as middleware around the language client's provider (which
 * sends LSP `textDocument/inlineCompletion` to the worker). It decides whether to ask at all,
 * waits an adaptive debounce, drops what the user already dismissed at that place, and records
 * outcomes for the local statistics.
 */
export class InlineCompletions implements vscode.Disposable {
  private readonly debounce = new AdaptiveDebounce();
  private readonly dismissals = new DismissalMemory();
  private readonly disposables: vscode.Disposable[] = [];
  private inFlight = 0;
  /** Timing of the latest answered request, for the status bar and the benchmark. */
  lastTiming: CompletionTiming | undefined;
  private readonly requestListeners: Array<(generating: boolean) => void> = [];
  /** The worker's timing reports by place, until the answer they belong to is back. */
  private workerTimings: CompletionTimingParams[] = [];

  constructor(
    private readonly config: Config,
    private readonly stats: CompletionStats,
    /** Lets the worker prefill the prompt while the debounce runs (the request then mostly decodes). */
    private readonly prefetch: (document: vscode.TextDocument, position: vscode.Position) => void = () => {},
    private readonly output?: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      vscode.workspace.onDidChangeTextDocument((event) => this.onTextChange(event)),
      vscode.commands.registerCommand(INTERNAL_COMMANDS.completionAccepted, () => this.onAccepted()),
      vscode.commands.registerCommand(INTERNAL_COMMANDS.dismissCompletion, () => this.onDismiss()),
    );
  }

  /** Called with true when a request goes to the worker and false when the last one settles. */
  onDidChangeGenerating(listener: (generating: boolean) => void): void {
    this.requestListeners.push(listener);
  }

  /** The language client middleware hook. */
  readonly provide = async (
    document: vscode.TextDocument,
    position: vscode.Position,
    context: vscode.InlineCompletionContext,
    token: vscode.CancellationToken,
    next: ProvideInlineCompletionItemsSignature,
  ): Promise<vscode.InlineCompletionItem[] | null> => {
    if (!this.shouldAsk(document, context)) return null;
    const place = placeOf(document, position);
    if (this.dismissals.settlePrevious(place)) this.stats.record('dismissed');

    const explicit = context.triggerKind === vscode.InlineCompletionTriggerKind.Invoke;
    const waitMs = explicit ? 0 : this.debounce.delayMs(this.config.get('completions.debounceMs'));
    if (waitMs > 0) {
      this.prefetch(document, position);
      if (!(await sleep(waitMs, token))) return null;
    }

    const started = performance.now();
    this.setGenerating(+1);
    let answer: Awaited<ReturnType<ProvideInlineCompletionItemsSignature>>;
    try {
      answer = await next(document, position, context, token);
    } catch (error) {
      // A cancelled or failed request shows nothing; the worker logs the cause.
      if (!token.isCancellationRequested) this.output?.warn(`Inline completion failed: ${String(error)}`);
      return null;
    } finally {
      this.setGenerating(-1);
    }
    const modelMs = performance.now() - started;
    if (token.isCancellationRequested) return null;

    const answered: vscode.InlineCompletionItem[] = !answer ? [] : Array.isArray(answer) ? answer : answer.items;
    const items = answered
      .filter((item) => typeof item.insertText === 'string' && item.insertText.length > 0)
      .filter((item) => explicit || !this.dismissals.wasDismissed(place, item.insertText as string))
      .map((item) => {
        // VS Code only shows inline items with an explicit range (an empty one at the cursor).
        item.range ??= new vscode.Range(position, position);
        item.command = { command: INTERNAL_COMMANDS.completionAccepted, title: 'Accept Kestrel completion' };
        return item;
      });
    const first = items[0]?.insertText as string | undefined;
    const worker = this.takeWorkerTiming(document, position);
    this.lastTiming = { debounceMs: waitMs, modelMs, text: first, ...(worker ? { worker } : {}) };
    if (first === undefined) return null;
    this.dismissals.didShow(place, first);
    this.stats.record('shown', modelMs);
    return items;
  };

  /** The worker sends its timing just before its answer; both arrive over the same ordered channel. */
  workerTiming(timing: CompletionTimingParams): void {
    this.workerTimings.push(timing);
    if (this.workerTimings.length > 8) this.workerTimings.shift();
  }

  private takeWorkerTiming(document: vscode.TextDocument, position: vscode.Position): CompletionTimingParams | undefined {
    const uri = document.uri.toString();
    const i = this.workerTimings.findIndex((t) => t.textDocument.uri === uri && t.position.line === position.line && t.position.character === position.character);
    if (i === -1) return undefined;
    const [timing] = this.workerTimings.splice(0, i + 1).slice(-1);
    return timing;
  }

  private shouldAsk(document: vscode.TextDocument, context: vscode.InlineCompletionContext): boolean {
    if (!this.config.get('completions.enable')) return false;
    if (!this.config.get('completions.languages').includes(document.languageId)) return false;
    if (vscode.workspace.fs.isWritableFileSystem(document.uri.scheme) === false) return false;
    const editor = vscode.window.activeTextEditor;
    if (editor?.document === document && !editor.selection.isEmpty) return false;
    // While the suggest widget is open, VS Code shows only inline items that extend its selection;
    // the worker completes the document as it is, so an explicit request still goes through.
    return context.selectedCompletionInfo === undefined || context.triggerKind === vscode.InlineCompletionTriggerKind.Invoke;
  }

  private onTextChange(event: vscode.TextDocumentChangeEvent): void {
    if (event.document !== vscode.window.activeTextEditor?.document || event.contentChanges.length === 0) return;
    this.debounce.keystroke();
    // A partial accept (VS Code's "Accept Next Word/Line") inserts the start of the shown suggestion
    // in one edit; typing does so one character at a time.
    const shown = this.dismissals.current;
    const change = event.contentChanges[0];
    if (shown && event.contentChanges.length === 1 && change && change.rangeLength === 0 && change.text.length > 1
      && change.text.length < shown.text.length && shown.text.startsWith(change.text)) {
      this.dismissals.didAccept();
      this.stats.record('partiallyAccepted');
    }
  }

  private onAccepted(): void {
    this.dismissals.didAccept();
    this.stats.record('accepted');
  }

  private async onDismiss(): Promise<void> {
    if (this.dismissals.dismissCurrent()) this.stats.record('dismissed');
    await vscode.commands.executeCommand('editor.action.inlineSuggest.hide');
  }

  private setGenerating(delta: number): void {
    const before = this.inFlight > 0;
    this.inFlight = Math.max(0, this.inFlight + delta);
    const after = this.inFlight > 0;
    if (before !== after) for (const listener of this.requestListeners) listener(after);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

function placeOf(document: vscode.TextDocument, position: vscode.Position): Place {
  const offset = document.offsetAt(position);
  const start = document.positionAt(Math.max(0, offset - PLACE_CONTEXT_CHARS));
  return { uri: document.uri.toString(), prefix: document.getText(new vscode.Range(start, position)) };
}

/** Resolves true after `ms`, or false as soon as the request is cancelled. */
function sleep(ms: number, token: vscode.CancellationToken): Promise<boolean> {
  return new Promise((resolve) => {
    if (token.isCancellationRequested) return resolve(false);
    const timer = setTimeout(() => { listener.dispose(); resolve(true); }, ms);
    const listener = token.onCancellationRequested(() => { clearTimeout(timer); listener.dispose(); resolve(false); });
  });
}
