// Runs one benchmark suite from test/bench/host inside the real VS Code (through the project's
// launcher, as the integration tests do) on a fresh copy of the fixture workspace, and returns the
// JSON the suite wrote to KESTREL_BENCH_RESULTS.
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runTests } from '@vscode/test-electron';

const root = resolve(import.meta.dirname, '..', '..');

export async function runInHost(suite) {
  const scratch = mkdtempSync(join(tmpdir(), 'kestrel-bench-'));
  const workspace = join(scratch, 'workspace');
  cpSync(join(root, 'test', 'fixtures', 'workspace'), workspace, { recursive: true });
  process.env.KESTREL_BENCH_RESULTS = join(scratch, 'results.json');
  try {
    await runTests({
      vscodeExecutablePath: join(root, 'test', 'host', 'vscode-launcher'),
      extensionDevelopmentPath: root,
      extensionTestsPath: join(root, 'out', 'test', 'bench', 'host', `${suite}.js`),
      launchArgs: [workspace],
    });
    return JSON.parse(readFileSync(process.env.KESTREL_BENCH_RESULTS, 'utf8'));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
