import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { COMMANDS, INTERNAL_COMMANDS } from '../../src/extension/commandIds';
import { SETTING_DEFAULTS } from '../../src/extension/settingKeys';
import { DEVICE_SETTINGS } from '../../src/protocol';

interface Manifest {
  main: string;
  icon: string;
  activationEvents: string[];
  capabilities: { untrustedWorkspaces: { supported: boolean | 'limited'; description?: string } };
  contributes: {
    commands: Array<{ command: string; title: string; category: string }>;
    configuration: { properties: Record<string, { default: unknown; description: string; enum?: string[] }> };
    views: Record<string, Array<{ id: string; type?: string }>>;
    viewsContainers: { activitybar: Array<{ id: string; icon: string }> };
    keybindings: Array<{ command: string; key: string }>;
  };
}

const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as Manifest;

test('package.json contributes exactly the commands the extension registers', () => {
  const declared = manifest.contributes.commands.map((c) => c.command).sort();
  assert.deepEqual(declared, Object.values(COMMANDS).sort());
  for (const c of manifest.contributes.commands) {
    assert.equal(c.category, 'Kestrel', `${c.command} shows as "Kestrel: ..." in the palette`);
    assert.ok(c.title.length > 0);
    assert.ok(manifest.activationEvents.includes(`onCommand:${c.command}`), `${c.command} activates Kestrel`);
  }
});

test('every kestrel.* setting in package.json has a default matching settingKeys.ts and a description', () => {
  const properties = manifest.contributes.configuration.properties;
  const declared = Object.keys(properties).map((k) => k.replace(/^kestrel\./, '')).sort();
  assert.deepEqual(declared, Object.keys(SETTING_DEFAULTS).sort());
  for (const [key, value] of Object.entries(SETTING_DEFAULTS)) {
    const property = properties[`kestrel.${key}`];
    assert.ok(property, key);
    assert.deepEqual(property.default, value, `default of kestrel.${key}`);
    assert.ok(property.description.length > 20, `kestrel.${key} says what it does`);
  }
  assert.deepEqual(properties['kestrel.device']?.enum, [...DEVICE_SETTINGS]);
});

test('activation is lazy: Python files, the view and the commands, never "*"', () => {
  assert.ok(!manifest.activationEvents.includes('*'));
  assert.ok(manifest.activationEvents.includes('onLanguage:python'));
  assert.ok(manifest.activationEvents.includes('onView:kestrel.search'));
});

test('the Search webview view lives in Kestrel\'s activity-bar container, whose icon exists', () => {
  const container = manifest.contributes.viewsContainers.activitybar.find((c) => c.id === 'kestrel');
  assert.ok(container && existsSync(container.icon));
  assert.deepEqual(manifest.contributes.views['kestrel']?.map((v) => [v.id, v.type]), [['kestrel.search', 'webview']]);
  assert.ok(existsSync(manifest.icon));
});

test('untrusted-workspace support is declared and explained', () => {
  assert.equal(manifest.capabilities.untrustedWorkspaces.supported, 'limited');
  assert.ok((manifest.capabilities.untrustedWorkspaces.description ?? '').includes('kestrel.modelPaths'));
});

test('keybindings point at contributed commands', () => {
  const commands = new Set([...Object.values(COMMANDS), ...Object.values(INTERNAL_COMMANDS)] as string[]);
  assert.ok(manifest.contributes.keybindings.length > 0);
  for (const binding of manifest.contributes.keybindings) assert.ok(commands.has(binding.command), binding.command);
});

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

test('config.ts is the only reader of workspace settings', () => {
  const readers = sources('src').filter((file) => /getConfiguration\s*\(/.test(readFileSync(file, 'utf8')));
  assert.deepEqual(readers, [join('src', 'extension', 'config.ts')]);
});

test('the worker, engine, index and protocol never import vscode', () => {
  const offenders = ['src/server', 'src/engine', 'src/index', 'src/protocol.ts', 'src/cli.ts']
    .flatMap((p) => (existsSync(p) ? (statSync(p).isDirectory() ? sources(p) : [p]) : []))
    .filter((file) => /from ['"]vscode['"]|require\(['"]vscode['"]\)/.test(readFileSync(file, 'utf8')));
  assert.deepEqual(offenders, []);
});

test('custom LSP method names appear only in src/protocol.ts', () => {
  const offenders = sources('src')
    .filter((file) => file !== join('src', 'protocol.ts'))
    .filter((file) => /['"]kestrel\/[a-zA-Z]/.test(readFileSync(file, 'utf8')));
  assert.deepEqual(offenders, []);
});
