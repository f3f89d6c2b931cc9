import * as assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { KestrelApi } from '../../../src/extension/main';
import type { ModelState } from '../../../src/protocol';
import { activateKestrel, eventually, EXTENSION_ID } from './helpers';

const SHIPPED_MODEL = 'kestrel-py-tiny';

async function readyModel(api: KestrelApi, id?: string): Promise<Extract<ModelState, { state: 'ready' }>> {
  return eventually(`model ${id ?? '(any)'} ready`, () => {
    const state = api.modelState();
    return state.state === 'ready' && (id === undefined || state.model.id === id) ? state : undefined;
  }, 60_000);
}

/** Opens a fresh Python file in the workspace with `text`, the cursor at its end. */
async function editorWith(text: string): Promise<vscode.TextEditor> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('the test workspace has no folder');
  const uri = vscode.Uri.joinPath(folder.uri, `scratch_${Date.now()}_${Math.random().toString(36).slice(2, 7)}.py`);
  await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(text));
  const editor = await vscode.window.showTextDocument(uri);
  const end = editor.document.positionAt(text.length);
  editor.selection = new vscode.Selection(end, end);
  return editor;
}

/** Asks VS Code for inline suggestions at the cursor and waits for Kestrel's answer. */
async function suggestionAt(api: KestrelApi): Promise<string> {
  const before = api.lastCompletion();
  await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
  return eventually('an inline suggestion', () => {
    const last = api.lastCompletion();
    return last !== before && last?.text ? last.text : undefined;
  }, 30_000);
}

const PROMPT = `import os


def read_lines(path):
    """Return the lines of the file at path."""
    with open(path) as handle:
        return handle.read().splitlines()


def count_lines(path):
    """Return how many lines the file at path has."""
    return len(read_`;

describe('Inline completions from the shipped model', function () {
  this.timeout(120_000);
  let api: KestrelApi;

  before(async () => {
    api = await activateKestrel();
    await api.whenWorkerReady();
    await readyModel(api);
  });

  afterEach(async () => {
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('shows a suggestion from the real model in the status bar\'s named model, and accepting inserts it', async () => {
    const state = await readyModel(api);
    assert.match(api.statusBarText(), new RegExp(`${state.model.id} · CPU`));
    const editor = await editorWith(PROMPT);
    const suggestion = await suggestionAt(api);
    assert.ok(suggestion.trim().length > 0, 'a non-empty suggestion');
    assert.ok(!suggestion.includes('\n') || suggestion.trim().length > 0);
    const before = editor.document.getText();
    await eventually('the suggestion to be accepted', async () => {
      await vscode.commands.executeCommand('editor.action.inlineSuggest.commit');
      return editor.document.getText() !== before ? true : undefined;
    }, 10_000);
    assert.equal(editor.document.getText(), before + suggestion, 'accepting inserts exactly the suggested text at the cursor');
  });

  it('stops asking the worker when completions are disabled, and resumes when enabled', async () => {
    const config = vscode.workspace.getConfiguration('kestrel');
    await editorWith(PROMPT);
    await config.update('completions.enable', false, vscode.ConfigurationTarget.Global);
    try {
      await eventually('the status bar to say off', () => (/· off/.test(api.statusBarText()) ? true : undefined));
      const before = api.lastCompletion();
      await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      assert.equal(api.lastCompletion(), before, 'no request reached the worker');
    } finally {
      await config.update('completions.enable', undefined, vscode.ConfigurationTarget.Global);
    }
    await eventually('the status bar to leave "off"', () => (/· off/.test(api.statusBarText()) ? undefined : true));
    await vscode.commands.executeCommand('type', { text: 'l' });
    assert.ok((await suggestionAt(api)).length > 0, 'completions come back when enabled again');
  });

  it('switches models live: the status bar and the answering model change', async () => {
    // A second real model: the shipped one under another id, found through kestrel.modelPaths.
    const extensionPath = vscode.extensions.getExtension(EXTENSION_ID)?.extensionPath ?? '';
    const root = mkdtempSync(join(tmpdir(), 'kestrel-models-'));
    const copyDir = join(root, 'kestrel-py-tiny-copy');
    cpSync(join(extensionPath, 'models', SHIPPED_MODEL), copyDir, { recursive: true });
    const manifestPath = join(copyDir, 'kestrel.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { id: string; displayName: string };
    manifest.id = 'kestrel-py-tiny-copy';
    manifest.displayName = 'Kestrel Py Tiny (copy)';
    writeFileSync(manifestPath, JSON.stringify(manifest));
    const config = vscode.workspace.getConfiguration('kestrel');
    try {
      await config.update('modelPaths', [root], vscode.ConfigurationTarget.Global);
      await config.update('model', 'kestrel-py-tiny-copy', vscode.ConfigurationTarget.Global);
      const switched = await readyModel(api, 'kestrel-py-tiny-copy');
      assert.equal(switched.model.id, 'kestrel-py-tiny-copy');
      await eventually('the status bar to name the new model', () => (api.statusBarText().includes('kestrel-py-tiny-copy') ? true : undefined));
      const status = await api.workerStatus();
      assert.equal(status.models[0]?.id, 'kestrel-py-tiny-copy', 'the worker answers with the new model');
    } finally {
      await config.update('model', undefined, vscode.ConfigurationTarget.Global);
      await config.update('modelPaths', undefined, vscode.ConfigurationTarget.Global);
      await readyModel(api, SHIPPED_MODEL);
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('survives the worker being killed mid-request: completions come back after the restart', async () => {
    await editorWith(PROMPT);
    const { pid } = await api.workerStatus();
    void vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
    process.kill(pid, 'SIGKILL');
    await eventually('a new worker', async () => ((await api.workerStatus()).pid !== pid ? true : undefined));
    await readyModel(api);
    assert.ok((await suggestionAt(api)).length > 0, 'a suggestion from the restarted worker');
    assert.doesNotMatch(api.statusBarText(), /error/i);
  });
});
