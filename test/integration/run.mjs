// Runs Kestrel's integration suite (out/test/integration/suite/index.js, built by `node esbuild.mjs`)
// inside a real VS Code, offline.
//
// @vscode/test-electron's runTests normally downloads VS Code; here its vscodeExecutablePath is
// test/host/vscode-launcher, which runs the suite in the VS Code server build installed by
// test/host/setup.sh and driven through headless Chromium. Each run opens a fresh copy of
// test/fixtures/workspace, because tests that type into editors save into the workspace.
//
// Usage: node test/integration/run.mjs [SUITE_ENTRY.js]
//   (environment: see test/host/launcher.mjs, e.g. KESTREL_TEST_SCREENSHOT=test-results/integration.png)

import { existsSync } from 'node:fs';
import path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { REPO_ROOT, assertHostInstalled, HostNotInstalledError } from '../host/lib/paths.mjs';
import { copyFixtureWorkspace } from '../host/lib/workspace.mjs';

const LAUNCHER = path.join(REPO_ROOT, 'test/host/vscode-launcher');
// An argument runs another suite entry point (a file exporting run()), e.g. while developing one.
const SUITE = path.resolve(process.argv[2] ?? path.join(REPO_ROOT, 'out/test/integration/suite/index.js'));

async function main() {
  try {
    assertHostInstalled();
  } catch (err) {
    if (err instanceof HostNotInstalledError) {
      console.error(err.message);
      return 1;
    }
    throw err;
  }
  if (!existsSync(SUITE)) {
    console.error(`integration suite not built (${path.relative(REPO_ROOT, SUITE)} missing): run node esbuild.mjs`);
    return 1;
  }
  const workspace = copyFixtureWorkspace();
  try {
    return await runTests({
      vscodeExecutablePath: LAUNCHER,
      extensionDevelopmentPath: REPO_ROOT,
      extensionTestsPath: SUITE,
      launchArgs: [workspace.path],
    });
  } catch (err) {
    // runTests rejects with TestRunFailedError (code or signal) when the suite fails.
    if (typeof err?.code === 'number') return err.code;
    if (err?.signal) return 1;
    throw err;
  } finally {
    workspace.remove();
  }
}

process.exit(await main());
