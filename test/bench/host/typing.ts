/**
 * Runs inside the real VS Code extension host for test/bench/typing.mjs: types through real Python
 * files with VS Code's own `type` command (the path a keystroke takes) and measures, for each typed
 * line, the time from the last keystroke to Kestrel's suggestion being available — split into the
 * debounce and the model's share (the worker round trip). Figures go to KESTREL_BENCH_RESULTS.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { KestrelApi } from '../../../src/extension/main';

const FILES = (process.env['KESTREL_BENCH_FILES'] ?? '/usr/lib/python3.11/textwrap.py,/usr/lib/python3.11/json/decoder.py,/usr/lib/python3.11/shlex.py').split(',');
const LINES_PER_FILE = Number(process.env['KESTREL_BENCH_LINES'] ?? 15);
const KEY_INTERVAL_MS = 70;

/** Deterministic choice of lines (a fixed-seed LCG), so runs compare. */
function pickLines(lines: string[], count: number, seed: number): number[] {
  const candidates = lines.map((line, i) => ({ line, i })).filter(({ line }) => line.trim().length >= 12 && !line.trim().startsWith('#')).map(({ i }) => i);
  const picked: number[] = [];
  let state = seed;
  while (picked.length < count && candidates.length > 0) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    picked.push(...candidates.splice(state % candidates.length, 1));
  }
  return picked.sort((a, b) => a - b);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function run(): Promise<void> {
  const api = await vscode.extensions.getExtension<KestrelApi>('kestrel-dev.kestrel')?.activate();
  if (!api) throw new Error('Kestrel is not loaded in this VS Code');
  await api.whenWorkerReady();
  const deadline = Date.now() + 90_000;
  while (api.modelState().state !== 'ready' && Date.now() < deadline) await sleep(200);
  if (api.modelState().state !== 'ready') throw new Error(`no model ready: ${JSON.stringify(api.modelState())}`);

  const samples: Array<{ totalMs: number; debounceMs: number; modelMs: number; worker?: NonNullable<ReturnType<KestrelApi['lastCompletion']>>['worker'] }> = [];
  let missed = 0;
  for (const [fileIndex, file] of FILES.entries()) {
    const source = readFileSync(file, 'utf8');
    const lines = source.split('\n');
    for (const lineIndex of pickLines(lines, LINES_PER_FILE, 17 + fileIndex)) {
      const line = lines[lineIndex] ?? '';
      const indent = line.length - line.trimStart().length;
      const typed = line.slice(indent, indent + Math.max(3, Math.floor((line.length - indent) / 2)));
      const before = lines.slice(0, lineIndex).join('\n') + '\n' + line.slice(0, indent);
      const after = '\n' + lines.slice(lineIndex + 1).join('\n');
      const document = await vscode.workspace.openTextDocument({ language: 'python', content: before + after });
      const editor = await vscode.window.showTextDocument(document);
      const cursor = document.positionAt(before.length);
      editor.selection = new vscode.Selection(cursor, cursor);
      const previous = api.lastCompletion();
      let lastKeyAt = 0;
      for (const ch of typed) {
        await vscode.commands.executeCommand('type', { text: ch });
        lastKeyAt = performance.now();
        await sleep(KEY_INTERVAL_MS);
      }
      // Wait for the answer to the last keystroke (earlier ones are cancelled by VS Code).
      let answered: ReturnType<KestrelApi['lastCompletion']>;
      const waitUntil = performance.now() + 5_000;
      let answeredAt = 0;
      while (performance.now() < waitUntil) {
        const last = api.lastCompletion();
        if (last && last !== previous && last.text !== undefined) {
          answered = last;
          answeredAt = performance.now();
          break;
        }
        await sleep(2);
      }
      if (answered) samples.push({ totalMs: answeredAt - lastKeyAt, debounceMs: answered.debounceMs, modelMs: answered.modelMs, ...(answered.worker ? { worker: answered.worker } : {}) });
      else missed += 1;
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    }
  }
  const result = { samples, missed, keyIntervalMs: KEY_INTERVAL_MS, model: api.modelState() };
  console.log(`kestrel typing bench: ${samples.length} answered, ${missed} without a suggestion`);
  const out = process.env['KESTREL_BENCH_RESULTS'];
  if (out) writeFileSync(out, JSON.stringify(result));
}
