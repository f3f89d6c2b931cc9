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

/** A Python module of a dozen small functions: many chunks, so a rebuild of a few hundred takes a while. */
function shipmentModule(i: number): string {
  const functions = Array.from({ length: 12 }, (_, j) => `def shipment_${i}_step_${j}(parcels):\n    """Step ${j} of shipment ${i}: weigh, label and route the parcels."""\n    return [p.weight * ${j} for p in parcels if p.route == ${i}]\n`);
  return `"""Shipment ${i}."""\n\n\n${functions.join('\n\n')}`;
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

  it('the Search view\'s language filter and lang: in the query keep only that language\'s files', async () => {
    const api = await activateKestrel();
    await indexed(api);
    const doc = vscode.Uri.joinPath(workspaceRoot(), 'docs', 'stock-levels.md');
    await vscode.workspace.fs.writeFile(doc, Buffer.from('# Stock levels\n\nWhen an item falls to its reorder point, order more: the reorder point is the stock level that triggers a purchase.\n'));
    await eventually('the Markdown page in the index', async () => ((await api.search({ query: 'reorder point', languages: ['markdown'] })).hits.some((h) => h.rel === 'docs/stock-levels.md') ? true : undefined), 10_000);
    const shown = (query: string, ok: (labels: string[]) => boolean) => eventually(`the view to show "${query}"`, () => {
      const rendered = api.searchView.rendered();
      return rendered?.query === query && rendered.labels.length > 0 && ok(rendered.labels) ? rendered : undefined;
    }, 20_000);
    try {
      // Unfiltered, the query finds Python first: the filter must be what removes it.
      await api.searchView.setFilters({ language: '', pathGlob: '' });
      await api.searchView.search('reorder point');
      const all = await shown('reorder point', () => true);
      assert.ok(all.labels.some((l) => /^[^:]+\.py:/.test(l)), all.labels.join('; '));
      // The language list comes from the workspace's files, a moment after the view opens.
      await eventually('Python and Markdown among the languages offered', () => {
        const offered = api.searchView.rendered()?.languageOptions ?? [];
        return offered.includes('python') && offered.includes('markdown') ? true : undefined;
      }, 10_000);

      await api.searchView.setFilters({ language: 'markdown' });
      const markdown = await shown('reorder point', (labels) => labels.every((l) => /^[^:]+\.md:/.test(l)));
      assert.ok(markdown.labels.some((l) => l.startsWith('docs/stock-levels.md:')), markdown.labels.join('; '));
      assert.deepEqual(markdown.filters, { languages: ['markdown'] });

      // A lang: token in the query wins over the control.
      await api.searchView.search('lang:py reorder point');
      const python = await shown('lang:py reorder point', (labels) => labels.every((l) => /^[^:]+\.py:/.test(l)));
      assert.deepEqual(python.filters, { languages: ['python'] });
    } finally {
      await api.searchView.setFilters({ language: '', pathGlob: '' });
      await vscode.workspace.fs.delete(vscode.Uri.joinPath(workspaceRoot(), 'docs'), { recursive: true });
    }
  });

  it('a path glob in the Search view and path: in Search Workspace keep only matching paths', async () => {
    const api = await activateKestrel();
    await indexed(api);
    const unfiltered = await api.search({ query: 'warehouse stock' });
    assert.ok(unfiltered.hits.some((h) => !h.rel.startsWith('tests/')), 'without a filter, results outside tests/ come too');
    try {
      await api.searchView.setFilters({ language: '', pathGlob: 'tests/**' });
      await api.searchView.search('warehouse stock');
      const view = await eventually('the view to show tests/ only', () => {
        const rendered = api.searchView.rendered();
        return rendered?.query === 'warehouse stock' && rendered.filters.pathGlob === 'tests/**' && rendered.labels.length > 0 ? rendered : undefined;
      }, 20_000);
      assert.ok(view.labels.every((l) => l.startsWith('tests/')), view.labels.join('; '));
    } finally {
      await api.searchView.setFilters({ language: '', pathGlob: '' });
    }

    await vscode.commands.executeCommand('kestrel.searchWorkspace', 'path:tests/** warehouse stock');
    try {
      const pick = await eventually('the quick pick to list results', () => {
        const shown = api.searchPick();
        return shown?.value === 'path:tests/** warehouse stock' && shown.labels.length > 0 ? shown : undefined;
      }, 15_000);
      assert.ok(pick.labels.every((l) => l.startsWith('tests/')), pick.labels.join('; '));
      assert.match(pick.title, /tests\/\*\*/, 'the title names the filter in force');
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    }
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
  it('the workspace\'s first index run showed a progress notification, closed when the run ended', async () => {
    const api = await activateKestrel();
    await indexed(api);
    const [first] = api.indexNotifications();
    assert.ok(first, 'a notification was shown');
    assert.equal(first.kind, 'index');
    assert.equal(first.title, 'Kestrel: indexing the workspace');
    assert.match(first.message, /^\d+\/\d+ files · \d+ chunks$/);
    assert.equal(first.open, false);
  });

  it('saving a file re-indexes it without a notification', async () => {
    const api = await activateKestrel();
    await indexed(api);
    const before = api.indexNotifications().length;
    const uri = vscode.Uri.joinPath(workspaceRoot(), 'inventory', 'customs.py');
    await vscode.workspace.fs.writeFile(uri, Buffer.from('def customs_declaration_for_export(parcel):\n    return {"value": parcel.value, "origin": parcel.origin}\n'));
    try {
      await eventually('the saved file in the index', async () => ((await api.search({ query: 'customs declaration export' })).hits[0]?.rel === 'inventory/customs.py' ? true : undefined), 10_000);
      assert.equal(api.indexNotifications().length, before, JSON.stringify(api.indexNotifications().slice(before)));
    } finally {
      await vscode.workspace.fs.delete(uri);
    }
  });

  it('many files changed while the index was off get a notification when it catches up, unless kestrel.index.progressNotification is off', async function () {
    this.timeout(180_000);
    const api = await activateKestrel();
    await indexed(api);
    const config = vscode.workspace.getConfiguration('kestrel');
    /** Writes `count` modules while indexing is off, turns it on, and waits for them in the index. */
    const catchUp = async (folder: string, count: number) => {
      await config.update('index.enable', false, vscode.ConfigurationTarget.Global);
      await eventually('indexing to be off', async () => ((await api.search({ query: 'reorder point' })).notice ? true : undefined));
      for (let i = 0; i < count; i++) {
        await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(workspaceRoot(), folder, `shipment_${i}.py`), Buffer.from(shipmentModule(i)));
      }
      const before = api.indexNotifications().length;
      await config.update('index.enable', undefined, vscode.ConfigurationTarget.Global);
      await eventually(`${folder} in the index`, async () => {
        const status = await api.indexStatus();
        const hits = (await api.search({ query: 'weigh label route parcels', pathGlob: `${folder}/**`, limit: 200 })).hits;
        return !status.indexing && new Set(hits.map((h) => h.rel)).size >= Math.min(count, 20) ? true : undefined;
      }, 120_000);
      return api.indexNotifications().slice(before);
    };
    try {
      const shown = await catchUp('catchup', 80);
      assert.deepEqual(shown.map((r) => [r.kind, r.title, r.open]), [['index', 'Kestrel: indexing the workspace', false]]);
      assert.match(shown[0]?.message ?? '', /^\d+\/80 files · \d+ chunks$/);

      await config.update('index.progressNotification', false, vscode.ConfigurationTarget.Global);
      const quiet = await catchUp('catchup-quiet', 80);
      assert.deepEqual(quiet, [], 'no notification with the setting off');
    } finally {
      await config.update('index.progressNotification', undefined, vscode.ConfigurationTarget.Global);
      await config.update('index.enable', undefined, vscode.ConfigurationTarget.Global);
      for (const folder of ['catchup', 'catchup-quiet']) {
        await vscode.workspace.fs.delete(vscode.Uri.joinPath(workspaceRoot(), folder), { recursive: true }).then(undefined, () => undefined);
      }
    }
  });

  it('Rebuild Index shows files done of total in a notification whose Cancel stops the rebuild', async function () {
    this.timeout(300_000);
    const api = await activateKestrel();
    await indexed(api);
    // Enough files that the rebuild is still running when Cancel is pressed.
    // Written through VS Code, whose file events reach the index as a user's saves would.
    const generated = vscode.Uri.joinPath(workspaceRoot(), 'generated');
    const count = 300;
    try {
      for (let i = 0; i < count; i++) {
        await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(generated, `shipment_${i}.py`), Buffer.from(shipmentModule(i)));
      }
      // The watcher indexes them one by one; the rebuild must not race with it.
      let last = -1;
      let steady = 0;
      const writtenAt = Date.now();
      const total = await eventually('the generated files in the index', async () => {
        const files = (await api.indexStatus()).folders[0]?.files ?? 0;
        steady = files === last ? steady + 1 : 0;
        last = files;
        return files >= count && steady >= 20 ? files : undefined;
      }, 180_000);
      console.log(`      (${total} files in the index ${Date.now() - writtenAt} ms after the writes)`);
      await vscode.commands.executeCommand('notifications.clearAll');
      const before = api.indexNotifications().length;
      const started = Date.now();
      const rebuilding = vscode.commands.executeCommand('kestrel.rebuildIndex');
      const midway = await eventually('the notification to count files', () => {
        const record = api.indexNotifications()[before];
        const counted = record?.open ? /^(\d+)\/(\d+) files · \d+ chunks$/.exec(record.message) : null;
        return counted && Number(counted[2]) >= count && Number(counted[1]) < Number(counted[2]) ? record : undefined;
      }, 60_000);
      console.log(`      (${midway.message} after ${Date.now() - started} ms: Cancel pressed)`);
      assert.equal(midway.kind, 'rebuild');
      assert.equal(midway.title, 'Kestrel: rebuilding the index');
      // Cancel as the keyboard does it: Ctrl+Shift+A presses the newest notification's first button.
      await vscode.commands.executeCommand('notification.acceptPrimaryAction');
      await rebuilding;
      console.log(`      (rebuild ended ${Date.now() - started} ms after it began)`);
      const cancelled = api.indexNotifications()[before];
      assert.ok(cancelled?.cancelled, 'the notification saw Cancel');
      assert.equal(cancelled.open, false);
      const stopped = (await api.indexStatus()).folders[0];
      assert.ok(stopped?.lastRun?.cancelled, 'the rebuild stopped');
      assert.ok(stopped.files < total, `${stopped.files} of ${total} files indexed when it stopped`);
      assert.equal(api.indexProgress()?.indexing, false);
    } finally {
      await vscode.workspace.fs.delete(generated, { recursive: true });
    }

    // A rebuild left alone runs to the end, and its notification closes by itself.
    const before = api.indexNotifications().length;
    const wholeStarted = Date.now();
    await vscode.commands.executeCommand('kestrel.rebuildIndex');
    console.log(`      (full rebuild ${Date.now() - wholeStarted} ms)`);
    const finished = api.indexNotifications()[before];
    assert.ok(finished && finished.kind === 'rebuild' && !finished.open && !finished.cancelled, JSON.stringify(finished));
    const whole = (await api.indexStatus()).folders[0];
    assert.ok(whole?.lastRun && !whole.lastRun.cancelled && whole.lastRun.filesIndexed >= 5, JSON.stringify(whole?.lastRun));
    assert.deepEqual((await api.search({ query: 'shipment weight kilograms', pathGlob: 'generated/**' })).hits, []);
  });
});
