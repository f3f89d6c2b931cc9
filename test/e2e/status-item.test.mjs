// End to end: with Kestrel loaded as a development extension, opening a Python file (which activates
// Kestrel) makes its status bar item appear. Screenshot: test-results/e2e-status-item.png.
//
// Run: node --test test/e2e/   (needs `bash test/host/setup.sh` and `node esbuild.mjs` first)

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { REPO_ROOT, openFile, useKestrelWorkbench, waitForStatusBarItem } from './workbench.mjs';

const SCREENSHOT = path.join(REPO_ROOT, 'test-results/e2e-status-item.png');

const workbench = useKestrelWorkbench({ before, after });

test('the status bar shows a Kestrel item', { timeout: 120_000 }, async () => {
  try {
    await openFile(workbench().page, 'inventory/warehouse.py');
    const item = await waitForStatusBarItem(
      workbench().page,
      (candidate) => /Kestrel/.test(candidate.text) || /Kestrel/.test(candidate.ariaLabel),
      { timeoutMs: 60_000 },
    );
    assert.match(`${item.text} ${item.ariaLabel}`, /Kestrel/);
  } finally {
    // Evidence either way: what the user would have seen.
    await workbench().screenshot(SCREENSHOT);
  }
});
