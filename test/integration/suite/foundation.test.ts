import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activateKestrel, eventually, EXTENSION_ID } from './helpers';

describe('Kestrel in a real VS Code', () => {
  it('activates and reports its activation time', async () => {
    const api = await activateKestrel();
    assert.equal(vscode.extensions.getExtension(EXTENSION_ID)?.isActive, true);
    assert.equal(typeof api.activationMs, 'number');
    assert.ok(api.activationMs > 0);
  });

  it('registers every command it contributes', async () => {
    await activateKestrel();
    const manifest = vscode.extensions.getExtension(EXTENSION_ID)?.packageJSON as { contributes: { commands: Array<{ command: string }> } };
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = manifest.contributes.commands.map((c) => c.command).filter((c) => !registered.has(c));
    assert.deepEqual(missing, []);
  });

  it('starts the worker, which answers kestrel/status', async () => {
    const api = await activateKestrel();
    const spawnToReadyMs = await api.whenWorkerReady();
    assert.ok(spawnToReadyMs > 0);
    const status = await api.workerStatus();
    const version = (vscode.extensions.getExtension(EXTENSION_ID)?.packageJSON as { version: string }).version;
    assert.equal(status.version, version);
    assert.notEqual(status.pid, process.pid, 'the worker is its own process, not the extension host');
    assert.ok(status.memory.rssBytes > 0);
    assert.ok(status.uptimeMs >= 0);
  });

  it('shows its state in a status-bar item', async () => {
    const api = await activateKestrel();
    await api.whenWorkerReady();
    assert.match(api.statusBarText(), /kestrel/i);
  });

  it('restarts a killed worker, which answers again', async () => {
    const api = await activateKestrel();
    await api.whenWorkerReady();
    const before = await api.workerStatus();
    process.kill(before.pid, 'SIGKILL');
    const after = await eventually('a new worker', async () => {
      const status = await api.workerStatus();
      return status.pid !== before.pid ? status : undefined;
    });
    assert.notEqual(after.pid, before.pid);
    assert.equal(after.version, before.version);
    assert.match(api.statusBarText(), /kestrel/i);
  });

  it('applies a changed kestrel.device setting in the worker without a restart', async () => {
    const api = await activateKestrel();
    await api.whenWorkerReady();
    const before = await api.workerStatus();
    const config = vscode.workspace.getConfiguration('kestrel');
    await config.update('device', 'cpu', vscode.ConfigurationTarget.Global);
    try {
      const after = await eventually('the worker to see device=cpu', async () => {
        const status = await api.workerStatus();
        return status.device.requested === 'cpu' ? status : undefined;
      });
      assert.equal(after.pid, before.pid, 'same worker process');
    } finally {
      await config.update('device', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  it('has a Kestrel view container with the Search view', async () => {
    await activateKestrel();
    await vscode.commands.executeCommand('workbench.view.extension.kestrel');
    await vscode.commands.executeCommand('kestrel.search.focus');
    const registered = new Set(await vscode.commands.getCommands(true));
    assert.ok(registered.has('kestrel.search.focus'));
  });
});
