// Builds a platform-specific VSIX: `npm run package -- --target linux-x64` (default: this machine's).
// The bundles are built minified; onnxruntime-node, which cannot be bundled (native), is staged into
// dist/node_modules with only the target platform's binary, so a VSIX never carries the other
// platforms' 200+ MB. vsce runs with --no-dependencies: everything else is already in the bundles.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const TARGETS = {
  'linux-x64': ['linux', 'x64'], 'linux-arm64': ['linux', 'arm64'],
  'darwin-arm64': ['darwin', 'arm64'], 'win32-x64': ['win32', 'x64'], 'win32-arm64': ['win32', 'arm64'],
};
const argIndex = process.argv.indexOf('--target');
const target = argIndex > 0 ? process.argv[argIndex + 1] : `${process.platform}-${process.arch}`;
if (!TARGETS[target]) {
  console.error(`package: unsupported target '${target}'; choose one of ${Object.keys(TARGETS).join(', ')}`);
  process.exit(2);
}
const [os, arch] = TARGETS[target];

execFileSync(process.execPath, ['esbuild.mjs', '--production'], { stdio: 'inherit' });

const staged = join('dist', 'node_modules');
rmSync(staged, { recursive: true, force: true });
const ortSource = join('node_modules', 'onnxruntime-node');
const ortTarget = join(staged, 'onnxruntime-node');
mkdirSync(ortTarget, { recursive: true });
for (const part of ['package.json', 'dist', 'LICENSE', join('bin', 'napi-v6', os, arch)]) {
  if (existsSync(join(ortSource, part))) cpSync(join(ortSource, part), join(ortTarget, part), { recursive: true });
}
cpSync(join('node_modules', 'onnxruntime-common'), join(staged, 'onnxruntime-common'), { recursive: true });

const { name, version } = JSON.parse(readFileSync('package.json', 'utf8'));
const out = `${name}-${target}-${version}.vsix`;
execFileSync('npx', ['--no-install', 'vsce', 'package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '--target', target, '--out', out], { stdio: 'inherit' });
// The staged copy is only for the VSIX; development builds load onnxruntime-node from node_modules.
rmSync(staged, { recursive: true, force: true });
console.log(`package: wrote ${out}`);
