// Fresh copies of the fixture workspace.
//
// Why: tests and the browser-driven e2e runs type into editors, and VS Code saves into the folder it
// has open; working on a copy keeps test/fixtures/workspace pristine and runs independent.

import { cpSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FIXTURE_WORKSPACE } from './paths.mjs';
import { onExitSync, removeDirSync, removeIfOwnerDies } from './cleanup.mjs';

/**
 * Copies `source` (default: test/fixtures/workspace) into a new temporary folder.
 * @returns {{ path: string, remove: () => void }} remove() also runs automatically at exit.
 */
export function copyFixtureWorkspace(source = FIXTURE_WORKSPACE) {
  const root = mkdtempSync(path.join(os.tmpdir(), 'kestrel-workspace-'));
  // A readable folder name: it is what the workbench shows as the workspace title.
  const target = path.join(root, path.basename(source));
  cpSync(source, target, {
    recursive: true,
    filter: (src) => !/(^|\/)(__pycache__|\.pytest_cache)(\/|$)/.test(src),
  });
  const stopReaper = removeIfOwnerDies(root);
  const remove = () => {
    unregister();
    removeDirSync(root);
    stopReaper();
  };
  const unregister = onExitSync(remove);
  return { path: target, remove };
}
