// Builds every bundle Kestrel ships or tests:
//   dist/extension.js   extension host (CJS, `vscode` external)
//   dist/server.js      language-server worker (Node; onnxruntime-node stays external and ships beside it)
//   dist/indexThread.js, dist/builderThread.js
//                       the worker's index and index-builder threads (worker_threads entries, like the worker)
//   dist/cli.js         headless CLI over the same engine and index
//   dist/webview/*.js   webview scripts (browser)
//   out/test/**         unit, integration and benchmark suites
// `node esbuild.mjs --watch` rebuilds on change; `--production` minifies and drops test bundles.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
const logLevel = process.argv.find((a) => a.startsWith('--log-level='))?.split('=')[1] ?? 'info';

// web-tree-sitter's ESM build reads `import.meta.url`, which is undefined in a CJS bundle.
// HACK: define it from __filename so the worker and CLI can stay CJS (`node dist/server.js`).
const importMetaShim = {
  banner: { js: 'const __kestrelImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
  define: { 'import.meta.url': '__kestrelImportMetaUrl', KESTREL_VERSION: JSON.stringify(pkg.version) },
};

const nodeCommon = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: !production,
  minify: production,
  logLevel,
  define: { KESTREL_VERSION: JSON.stringify(pkg.version) },
  // Native and WASM-carrying packages are loaded from node_modules at run time, never bundled.
  external: ['vscode', 'onnxruntime-node'],
};

function filesUnder(dir, suffix) {
  let found = [];
  let entries = [];
  try { entries = readdirSync(dir); } catch { return found; }
  for (const name of entries) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found = found.concat(filesUnder(path, suffix));
    else if (name.endsWith(suffix)) found.push(path);
  }
  return found;
}

const builds = [
  // The language client is its own bundle, loaded after activation (see Ctx.worker()).
  { ...nodeCommon, entryPoints: { extension: 'src/extension/main.ts', workerClient: 'src/extension/workerClient.ts' }, outdir: 'dist', format: 'cjs' },
  { ...nodeCommon, ...importMetaShim, entryPoints: { server: 'src/server/main.ts', indexThread: 'src/index/indexThread.ts', builderThread: 'src/index/builderThread.ts', cli: 'src/cli.ts' }, outdir: 'dist', format: 'cjs' },
  {
    bundle: true, platform: 'browser', target: 'es2022', format: 'iife', sourcemap: !production, minify: production,
    logLevel, entryPoints: { search: 'src/webview/search.ts', stats: 'src/webview/stats.ts' }, outdir: 'dist/webview',
  },
];

if (!production) {
  // Unit tests and benchmarks import src/ directly and load packages from node_modules.
  const plain = [...filesUnder('test/unit', '.test.ts'), ...filesUnder('test/bench', '.ts').filter((f) => !f.includes(join('bench', 'host')))];
  if (plain.length > 0) {
    builds.push({
      ...nodeCommon, entryPoints: plain, outdir: 'out', outbase: '.', format: 'esm',
      packages: 'external', outExtension: { '.js': '.mjs' },
    });
  }
  // Suites that run inside the real extension host, which loads them with require().
  const suite = [...filesUnder('test/integration/suite', '.ts'), ...filesUnder(join('test', 'bench', 'host'), '.ts')];
  if (suite.length > 0) {
    builds.push({ ...nodeCommon, entryPoints: suite, outdir: 'out', outbase: '.', format: 'cjs', external: ['vscode', 'mocha'] });
  }
}

// web-tree-sitter's runtime and the grammars are WebAssembly files loaded at run time: the worker
// and CLI find them beside their bundle (dist/tree-sitter.wasm, dist/grammars/). The index chunks
// these languages (src/shared/languages/languages.ts); javascript also serves JSX.
// node-sqlite3-wasm (bundled) loads its .wasm from the bundle's own folder: dist/node-sqlite3-wasm.wasm.
const GRAMMARS = ['python', 'javascript', 'typescript', 'tsx', 'go', 'java', 'ruby', 'php', 'rust'];
function copyWasm() {
  mkdirSync('dist/grammars', { recursive: true });
  copyFileSync('node_modules/web-tree-sitter/tree-sitter.wasm', 'dist/tree-sitter.wasm');
  for (const name of GRAMMARS) copyFileSync(`node_modules/tree-sitter-wasms/out/tree-sitter-${name}.wasm`, `dist/grammars/tree-sitter-${name}.wasm`);
  copyFileSync('node_modules/node-sqlite3-wasm/dist/node-sqlite3-wasm.wasm', 'dist/node-sqlite3-wasm.wasm');
}
copyWasm();

if (watch) {
  for (const options of builds) await (await esbuild.context(options)).watch();
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
}
