/**
 * Keeps Kestrel's layers apart (DESIGN.md, "Processes and layers"): reads every import in src/ with
 * TypeScript's own pre-processor (static, type-only, re-exports, `import()` and `require()`) and fails
 * on any import that crosses a layer the wrong way, or that closes a circle between modules.
 *
 *   src/shared/     the pure layer under everything: grammars, model registry and manifests, devices,
 *                   languages, errors, CLI arguments, restart policy, search-query filters
 *   src/engine/     completion library        -> shared only
 *   src/index/      search-index library      -> shared only
 *   src/protocol.ts the worker's LSP messages -> shared only
 *   src/server/     the worker                -> engine, index, protocol, shared
 *   src/extension/  the VS Code host          -> protocol, webview message types, shared
 *   src/webview/    the panels' scripts       -> shared
 *   src/cli.ts      the headless CLI          -> server (stdio), engine, index, protocol, shared
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const ROOT = process.cwd();
const SRC = join(ROOT, 'src');

type Layer = 'shared' | 'engine' | 'index' | 'protocol' | 'server' | 'extension' | 'webview' | 'webviewMessages' | 'cli' | 'version';

/** Which layer a file under src/ belongs to, from its path relative to the repository root. */
function layerOf(file: string): Layer {
  const path = file.replaceAll('\\', '/');
  if (path === 'src/protocol.ts') return 'protocol';
  if (path === 'src/cli.ts') return 'cli';
  if (path === 'src/version.ts') return 'version';
  if (path === 'src/webview/messages.ts') return 'webviewMessages';
  const top = path.split('/')[1];
  switch (top) {
    case 'shared': case 'engine': case 'index': case 'server': case 'extension': case 'webview':
      return top;
    default:
      throw new Error(`${path} is in no layer: add its folder to the layer table in import-rules.test.ts`);
  }
}

/** The layers each layer may import (its own layer always allowed). */
const ALLOWED: Record<Layer, readonly Layer[]> = {
  shared: [],
  engine: ['shared'],
  index: ['shared'],
  protocol: ['shared'],
  version: [],
  webviewMessages: ['shared'],
  webview: ['webviewMessages', 'shared'],
  server: ['engine', 'index', 'protocol', 'shared', 'version'],
  extension: ['protocol', 'webviewMessages', 'shared'],
  cli: ['server', 'engine', 'index', 'protocol', 'shared', 'version'],
};

/** Packages a layer must never load: the editor API and the LSP libraries stay out of the libraries. */
const EDITOR_PACKAGES = ['vscode', 'vscode-languageclient', 'vscode-languageserver', 'vscode-languageserver-protocol'];
const FORBIDDEN_PACKAGES: Record<Layer, readonly string[]> = {
  shared: EDITOR_PACKAGES,
  engine: EDITOR_PACKAGES,
  index: EDITOR_PACKAGES,
  protocol: ['vscode', 'vscode-languageclient', 'vscode-languageserver'],
  version: EDITOR_PACKAGES,
  webviewMessages: EDITOR_PACKAGES,
  webview: EDITOR_PACKAGES,
  server: ['vscode', 'vscode-languageclient'],
  // The host never loads ONNX Runtime or parses: that is the worker's work.
  extension: ['vscode-languageserver', 'onnxruntime-node', 'web-tree-sitter', 'node-sqlite3-wasm', '@huggingface/tokenizers'],
  cli: ['vscode', 'vscode-languageclient', 'vscode-languageserver'],
};

interface ImportEdge {
  from: string;
  /** A file under src/ (relative to the root), or a package name. */
  to: string;
  isPackage: boolean;
}

/** Why an import breaks the layer rules, or undefined when it is allowed. */
function violation(edge: ImportEdge): string | undefined {
  const from = layerOf(edge.from);
  if (edge.isPackage) {
    const bare = edge.to.startsWith('@') ? edge.to.split('/').slice(0, 2).join('/') : edge.to.split('/')[0] ?? edge.to;
    return FORBIDDEN_PACKAGES[from].includes(bare) ? `${edge.from} (${from}) imports the package ${edge.to}` : undefined;
  }
  const to = layerOf(edge.to);
  if (to === from || ALLOWED[from].includes(to)) return undefined;
  return `${edge.from} (${from}) imports ${edge.to} (${to})`;
}

function sourceFiles(dir: string): string[] {
  let found: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found = found.concat(sourceFiles(path));
    else if (name.endsWith('.ts')) found.push(path);
  }
  return found;
}

function resolveSource(fromFile: string, specifier: string): string {
  const base = resolve(dirname(fromFile), specifier);
  for (const candidate of [base, `${base}.ts`, join(base, 'index.ts')]) {
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // try the next spelling
    }
  }
  throw new Error(`${relative(ROOT, fromFile)}: cannot resolve import '${specifier}'`);
}

function importsOf(file: string): ImportEdge[] {
  const text = readFileSync(file, 'utf8');
  const from = relative(ROOT, file);
  return ts.preProcessFile(text, true, true).importedFiles.map(({ fileName }) => {
    if (fileName.startsWith('.')) return { from, to: relative(ROOT, resolveSource(file, fileName)), isPackage: false };
    return { from, to: fileName, isPackage: true };
  }).filter((edge) => !edge.to.startsWith('node:'));
}

const edges = sourceFiles(SRC).flatMap(importsOf);

/** The import circles among src/ files, each as the list of files around it. */
function circles(all: readonly ImportEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const edge of all) if (!edge.isPackage) next.set(edge.from, [...(next.get(edge.from) ?? []), edge.to]);
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const to of next.get(file) ?? []) {
      if (state.get(to) === 'open') found.push([...stack.slice(stack.indexOf(to)), to]);
      else if (!state.has(to)) visit(to);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of [...next.keys()].sort()) if (!state.has(file)) visit(file);
  return found;
}

test('the import reader sees the imports src/ really has', () => {
  // A checker that read nothing would pass everything: it must find the known ties between layers.
  assert.ok(edges.length > 200, `only ${edges.length} imports read`);
  assert.ok(edges.some((e) => e.from === join('src', 'server', 'completionFeature.ts') && e.to === join('src', 'engine', 'engine.ts')));
  assert.ok(edges.some((e) => e.from === join('src', 'extension', 'ctx.ts') && e.to === 'vscode' && e.isPackage));
  // `typeof import('./workerClient')` is an import too (ctx.ts loads that bundle lazily).
  assert.ok(edges.some((e) => e.from === join('src', 'extension', 'ctx.ts') && e.to === join('src', 'extension', 'workerClient.ts')));
});

test('the rules reject each kind of forbidden import', () => {
  const at = (from: string, to: string, isPackage = false): string | undefined => violation({ from, to, isPackage });
  assert.ok(at('src/engine/engine.ts', 'src/index/store.ts'), 'engine -> index');
  assert.ok(at('src/index/store.ts', 'src/engine/engine.ts'), 'index -> engine');
  assert.ok(at('src/engine/engine.ts', 'src/protocol.ts'), 'engine -> protocol');
  assert.ok(at('src/index/cli.ts', 'src/server/main.ts'), 'index -> server');
  assert.ok(at('src/extension/ctx.ts', 'src/index/search.ts'), 'host -> index');
  assert.ok(at('src/extension/ctx.ts', 'src/webview/search.ts'), 'host -> webview script');
  assert.ok(at('src/shared/models/registry.ts', 'src/engine/engine.ts'), 'shared -> engine');
  assert.ok(at('src/engine/engine.ts', 'vscode', true), 'engine -> vscode');
  assert.ok(at('src/extension/ctx.ts', 'onnxruntime-node', true), 'host -> ONNX Runtime');
  assert.equal(at('src/extension/searchView.ts', 'src/webview/messages.ts'), undefined);
  assert.equal(at('src/index/indexer.ts', 'src/shared/languages/languages.ts'), undefined);
  assert.deepEqual(circles([
    { from: 'src/extension/a.ts', to: 'src/extension/b.ts', isPackage: false },
    { from: 'src/extension/b.ts', to: 'src/extension/a.ts', isPackage: false },
  ]), [['src/extension/a.ts', 'src/extension/b.ts', 'src/extension/a.ts']]);
});

test('no import in src/ crosses a layer the wrong way', () => {
  const broken = edges.map(violation).filter((v): v is string => v !== undefined);
  assert.deepEqual(broken, []);
});

test('no two modules in src/ import each other, directly or around a circle', () => {
  assert.deepEqual(circles(edges).map((circle) => circle.join(' -> ')), []);
});
