import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { KestrelApi } from '../../../src/extension/main';
import { activateKestrel, eventually } from './helpers';

/** Waits until every folder's first index run has finished. */
async function indexed(api: KestrelApi) {
  return eventually('the workspace to be indexed', async () => {
    const status = await api.indexStatus();
    const [folder] = status.folders;
    return folder && folder.state === 'idle' && folder.lastCompleteRun && folder.files > 0 ? status : undefined;
  }, 60_000);
}

function workspaceRoot(): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('the integration run opens the fixture workspace');
  return folder.uri;
}

describe('Semantic search in a real VS Code', () => {
  it('indexes the fixture workspace in the extension\'s storage, with a vector per chunk when the embedder loads', async () => {
    const api = await activateKestrel();
    await api.whenWorkerReady();
    const started = Date.now();
    const status = await indexed(api);
    console.log(`      (index complete ${Date.now() - started} ms after this test began waiting; earlier suites ran meanwhile)`);
    const [folder] = status.folders;
    assert.ok(folder);
    assert.equal(folder.folder, workspaceRoot().fsPath);
    assert.ok(folder.files >= 5, `${folder.files} files indexed`);
    assert.ok(folder.chunks > folder.files);
    assert.ok(!folder.storage.startsWith(workspaceRoot().fsPath), 'the index lives outside the workspace');
    if (status.embedder) assert.equal(folder.vectors, folder.chunks, `embedder ${status.embedder}`);
    else assert.match(status.embedderNote ?? '', /BM25/);
    await eventually('the index in the status-bar tooltip', () => (/Index: up to date/.test(api.statusBarTooltip()) ? true : undefined));
  });

  it('the search request finds the warehouse function for "reorder point"', async () => {
    const api = await activateKestrel();
    await indexed(api);
    const result = await api.search({ query: 'reorder point', limit: 5 });
    const found = result.hits.slice(0, 3).find((h) => h.rel === 'inventory/warehouse.py' && ['low_stock', 'add_item'].includes(h.name));
    assert.ok(found, result.hits.map((h) => `${h.rel}:${h.name}`).join(', '));
    const python = await api.search({ query: 'reorder point', languages: ['python'], pathGlob: 'inventory/**' });
    assert.ok(python.hits.length > 0 && python.hits.every((h) => h.rel.startsWith('inventory/')));
  });

  it('Search Workspace opens the chosen result at its chunk\'s line', async () => {
    const api = await activateKestrel();
    await indexed(api);
    const query = 'items at or below their reorder point';
    const [top] = (await api.search({ query, limit: 5 })).hits;
    assert.ok(top);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand('kestrel.searchWorkspace', query);
    // Moving onto the first item previews it; accepting opens it for good.
    await eventually('the first result to be previewed', () => (vscode.window.activeTextEditor?.document.uri.fsPath === top.path ? true : undefined), 15_000);
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    const editor = await eventually('the result to open', () => {
      const active = vscode.window.activeTextEditor;
      return active?.document.uri.fsPath === top.path && active.selection.active.line === top.range.start.line ? active : undefined;
    }, 10_000);
    assert.equal(editor.selection.active.line, top.range.start.line);
    assert.ok(editor.visibleRanges.some((r) => r.contains(new vscode.Position(top.range.start.line, 0))));
  });

  it('the Search view lists results for a typed query', async () => {
    const api = await activateKestrel();
    await indexed(api);
    await api.searchView.search('reorder point');
    const rendered = await eventually('the view to show results', () => {
      const shown = api.searchView.rendered();
      return shown?.query === 'reorder point' && shown.labels.length > 0 ? shown : undefined;
    }, 20_000);
    assert.ok(rendered.labels.some((l) => l.startsWith('inventory/warehouse.py:')), rendered.labels.join('; '));
  });

  it('Show Index Status lists what was skipped and why', async () => {
    const api = await activateKestrel();
    await indexed(api);
    await vscode.commands.executeCommand('kestrel.showIndexStatus');
    const document = await eventually('the status document', () => vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'kestrel-index'));
    const text = document.getText();
    assert.match(text, /# Kestrel index status/);
    assert.match(text, /`\.env` — secret/);
    assert.match(text, /Indexed: \d+ files, \d+ chunks/);
    assert.match(text, /keywords \(BM25\)/);
  });

  it('a new file saved on disk is searchable within seconds', async () => {
    const api = await activateKestrel();
    await indexed(api);
    const uri = vscode.Uri.joinPath(workspaceRoot(), 'inventory', 'freight.py');
    const written = Date.now();
    await vscode.workspace.fs.writeFile(uri, Buffer.from('def freight_surcharge_for_heavy_parcels(weight_kg):\n    return max(0, weight_kg - 20) * 1.5\n'));
    const hit = await eventually('the new file in the index', async () => {
      const [first] = (await api.search({ query: 'freight surcharge heavy parcels' })).hits;
      return first?.name === 'freight_surcharge_for_heavy_parcels' ? first : undefined;
    }, 10_000);
    console.log(`      (searchable ${Date.now() - written} ms after the write)`);
    assert.equal(hit.rel, 'inventory/freight.py');
  });

  it('Find Similar Code previews and opens code like the selection, never the selection itself', async () => {
    const api = await activateKestrel();
    await indexed(api);
    const document = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(workspaceRoot(), 'inventory', 'warehouse.py'));
    const editor = await vscode.window.showTextDocument(document);
    const start = document.getText().split('\n').findIndex((line) => line.includes('def low_stock'));
    assert.ok(start > 0);
    editor.selection = new vscode.Selection(start, 0, start + 4, 0);
    await vscode.commands.executeCommand('kestrel.findSimilarCode');
    const preview = await eventually('a similar chunk to be previewed', () => {
      const active = vscode.window.activeTextEditor;
      if (!active) return undefined;
      const line = active.selection.active.line;
      const moved = active.document.uri.fsPath !== document.uri.fsPath || line < start || line > start + 4;
      return moved ? { path: active.document.uri.fsPath, line } : undefined;
    }, 15_000);
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    const opened = await eventually('the similar chunk to open', () => {
      const active = vscode.window.activeTextEditor;
      return active?.document.uri.fsPath === preview.path ? active : undefined;
    });
    assert.equal(opened.selection.active.line, preview.line);
  });

  it('kestrel.index.enable off stops search with a reason; on again reopens the stored index', async () => {
    const api = await activateKestrel();
    await indexed(api);
    const config = vscode.workspace.getConfiguration('kestrel');
    await config.update('index.enable', false, vscode.ConfigurationTarget.Global);
    try {
      const off = await eventually('search to say indexing is off', async () => {
        const result = await api.search({ query: 'reorder point' });
        return result.notice ? result : undefined;
      });
      assert.deepEqual(off.hits, []);
      assert.match(off.notice ?? '', /kestrel\.index\.enable/);
    } finally {
      await config.update('index.enable', undefined, vscode.ConfigurationTarget.Global);
    }
    await eventually('search to answer again', async () => ((await api.search({ query: 'reorder point' })).hits.length > 0 ? true : undefined));
    await indexed(api);
  });

  it('Rebuild Index indexes everything again and search still answers', async () => {
    const api = await activateKestrel();
    await indexed(api);
    const started = Date.now();
    await vscode.commands.executeCommand('kestrel.rebuildIndex');
    console.log(`      (rebuilt in ${Date.now() - started} ms)`);
    const status = await api.indexStatus();
    const [folder] = status.folders;
    assert.ok(folder?.lastRun && !folder.lastRun.cancelled);
    assert.ok(folder.lastRun.filesIndexed >= 5, `${folder.lastRun.filesIndexed} files indexed by the rebuild`);
    assert.ok((await api.search({ query: 'reorder point' })).hits.length > 0);
  });
});
