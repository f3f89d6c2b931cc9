// Builds a platform-specific VSIX: `npm run package -- --target linux-x64` (default: this machine's).
//
// The VSIX is packed from a staging folder that holds only what runs on a user's machine:
// - the bundles, built minified and without source maps (stale maps from development builds in
//   dist/ are left behind);
// - each shipped model's int8 graph (what the CPU runs) and fp16 graph (what GPUs run), with its
//   kestrel.json listing just those two: the fp32 graphs stay in the repository for the parity tests
//   (models/training/common/fp16.py makes the fp16 graphs from them);
// - onnxruntime-node, which cannot be bundled (native), with only the target platform's binary, so a
//   VSIX never carries the other platforms' 200+ MB.
// vsce runs with --no-dependencies: everything else is already in the bundles.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const TARGETS = {
  'linux-x64': ['linux', 'x64'], 'linux-arm64': ['linux', 'arm64'],
  'darwin-arm64': ['darwin', 'arm64'], 'win32-x64': ['win32', 'x64'], 'win32-arm64': ['win32', 'arm64'],
};
/** The model variants a VSIX carries: int8 for the CPU, fp16 for the GPU providers. */
const SHIPPED_VARIANTS = ['int8', 'fp16'];
/** What a model folder ships besides its graphs (parity references and training logs stay behind). */
const MODEL_FILES = /^(kestrel\.json|tokenizer\.json|README\.md|.*\.png)$/;

const argIndex = process.argv.indexOf('--target');
const target = argIndex > 0 ? process.argv[argIndex + 1] : `${process.platform}-${process.arch}`;
if (!TARGETS[target]) {
  console.error(`package: unsupported target '${target}'; choose one of ${Object.keys(TARGETS).join(', ')}`);
  process.exit(2);
}
const [os, arch] = TARGETS[target];

execFileSync(process.execPath, ['esbuild.mjs', '--production'], { stdio: 'inherit' });

const stage = mkdtempSync(join(tmpdir(), 'kestrel-vsix-'));
try {
  for (const file of ['package.json', 'README.md', '.vscodeignore']) cpSync(file, join(stage, file));
  cpSync('media', join(stage, 'media'), { recursive: true });
  cpSync('docs', join(stage, 'docs'), { recursive: true }); // the README links to them
  cpSync('dist', join(stage, 'dist'), { recursive: true, filter: (path) => !path.endsWith('.map') });
  for (const id of readdirSync('models')) stageModel(join('models', id), join(stage, 'models', id));

  // Their type declarations and source maps are for developers, not for the running extension.
  const runtimeOnly = (path) => !path.endsWith('.map') && !path.endsWith('.d.ts');
  const ortSource = join('node_modules', 'onnxruntime-node');
  const ortTarget = join(stage, 'dist', 'node_modules', 'onnxruntime-node');
  mkdirSync(ortTarget, { recursive: true });
  for (const part of ['package.json', 'dist', 'LICENSE', join('bin', 'napi-v6', os, arch)]) {
    if (existsSync(join(ortSource, part))) cpSync(join(ortSource, part), join(ortTarget, part), { recursive: true, filter: runtimeOnly });
  }
  cpSync(join('node_modules', 'onnxruntime-common'), join(stage, 'dist', 'node_modules', 'onnxruntime-common'), { recursive: true, filter: runtimeOnly });

  const { name, version } = JSON.parse(readFileSync('package.json', 'utf8'));
  const out = resolve(`${name}-${target}-${version}.vsix`);
  const vsce = resolve('node_modules', '.bin', 'vsce');
  execFileSync(vsce, [
    'package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '--target', target, '--out', out,
    // The README's pictures (media/) and documents (docs/) ship in the VSIX, where VS Code resolves
    // its relative links; there is no repository URL to rewrite them to.
    '--no-rewrite-relative-links',
  ], { cwd: stage, stdio: 'inherit' });
  console.log(`package: wrote ${out} (${(statSync(out).size / 1e6).toFixed(1)} MB)`);
} finally {
  rmSync(stage, { recursive: true, force: true });
}

/** Copies a model folder's shipped files, with a kestrel.json that lists only the shipped variants. */
function stageModel(from, to) {
  const manifestPath = join(from, 'kestrel.json');
  if (!existsSync(manifestPath)) return; // models/training and the like
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const missing = SHIPPED_VARIANTS.filter((v) => !manifest.files?.[v]);
  if (missing.length > 0) {
    throw new Error(`${manifestPath} lists no ${missing.join(', ')} file: run /usr/bin/python3 models/training/common/fp16.py ${from}`);
  }
  mkdirSync(to, { recursive: true });
  for (const file of readdirSync(from).filter((f) => MODEL_FILES.test(f))) cpSync(join(from, file), join(to, file));
  manifest.files = Object.fromEntries(SHIPPED_VARIANTS.map((v) => [v, manifest.files[v]]));
  for (const variant of Object.values(manifest.files)) cpSync(join(from, variant.path), join(to, variant.path));
  writeFileSync(join(to, 'kestrel.json'), JSON.stringify(manifest, null, 2) + '\n');
}
