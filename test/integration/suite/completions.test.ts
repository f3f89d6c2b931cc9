import * as assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { KestrelApi } from '../../../src/extension/main';
import type { ModelState } from '../../../src/protocol';
import { findGpus } from '../../../src/shared/devices/gpus';
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

  it('under kestrel.device "auto" the status bar warns only when a GPU this machine has did not run the model', async () => {
    const { model } = await readyModel(api);
    const gpus = findGpus();
    assert.deepEqual(model.gpus, gpus, 'the worker reports the GPUs of this machine');
    const text = api.statusBarText();
    const tooltip = api.statusBarTooltip();
    // The reasons the GPU providers did not run stay in the tooltip either way.
    for (const why of model.providerFallbacks) assert.ok(tooltip.includes(`Not used: ${why}`), `the tooltip says ${why}`);
    if (gpus !== null && gpus.length === 0) {
      // No GPU at all (the test machines): the CPU is simply the device, nothing to warn about.
      assert.equal(model.provider, 'cpu');
      assert.ok(model.providerFallbacks.length > 0, 'the GPU providers were tried first');
      assert.match(text, new RegExp(`${model.id} · CPU$`));
      assert.doesNotMatch(text, /\$\(warning\)/);
      assert.match(tooltip, /GPUs on this machine: none found/);
    } else if (model.provider === 'cpu') {
      assert.match(text, /· CPU \$\(warning\)$/, 'a GPU was there and did not start');
    } else {
      assert.doesNotMatch(text, /\$\(warning\)/, 'the GPU runs the model');
    }
  });

  it('warns when kestrel.device names a GPU that cannot run here, while the model that ran keeps serving', async () => {
    const { model } = await readyModel(api);
    // A provider this platform never has: DirectML outside Windows, Core ML on Windows.
    const unavailable = process.platform === 'win32' ? 'coreml' : 'dml';
    const config = vscode.workspace.getConfiguration('kestrel');
    try {
      await config.update('device', unavailable, vscode.ConfigurationTarget.Global);
      await eventually('the status bar to warn', () => (/\$\(warning\)/.test(api.statusBarText()) ? true : undefined), 60_000);
      assert.match(api.statusBarText(), new RegExp(`^\\$\\(circuit-board\\) ${model.id} · `), 'the serving model is still named');
      assert.match(api.statusBarTooltip(), new RegExp(`Last model change failed: .*"${unavailable}" device is not available`));
      assert.equal(api.modelState().state, 'ready', 'completions keep coming from the model that ran');
    } finally {
      await config.update('device', undefined, vscode.ConfigurationTarget.Global);
    }
    await eventually('the warning to go once the device is "auto" again', () => {
      const state = api.modelState();
      return state.state === 'ready' && !api.statusBarTooltip().includes('Last model change failed') ? true : undefined;
    }, 60_000);
    if (findGpus()?.length === 0) assert.doesNotMatch(api.statusBarText(), /\$\(warning\)/);
  });

  it("says in the status tooltip how many files the project cache read, and turns it off and on live", async () => {
    await readyModel(api);
    // the fixture workspace's six Python files (and any scratch file an earlier test left there)
    const filesRead = (): number | undefined => {
      const match = /Project cache: (\d+) files? read/.exec(api.statusBarTooltip());
      return match && Number(match[1]) >= 6 ? Number(match[1]) : undefined;
    };
    await eventually('the project cache in the tooltip', filesRead, 60_000);
    const config = vscode.workspace.getConfiguration('kestrel');
    try {
      await config.update('completions.projectCache', false, vscode.ConfigurationTarget.Global);
      await eventually('the tooltip to say the cache is off', () => (api.statusBarTooltip().includes('Project cache: off') ? true : undefined));
    } finally {
      await config.update('completions.projectCache', undefined, vscode.ConfigurationTarget.Global);
    }
    await eventually('the project cache to read the workspace again', filesRead, 60_000);
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
