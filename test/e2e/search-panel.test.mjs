// End to end: open the Kestrel view in the activity bar, type a query into the Search view and see
// results from the workspace index, highlighted, as a user would; then narrow them with the language
// and path filters, reached from the search box with Tab. Screenshot (filters set):
// test-results/e2e-search-panel.png.
//
// Run: node --test test/e2e/   (needs `bash test/host/setup.sh` and `node esbuild.mjs` first)

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { REPO_ROOT, openFile, useKestrelWorkbench } from './workbench.mjs';

const SCREENSHOT = path.join(REPO_ROOT, 'test-results/e2e-search-panel.png');

const workbench = useKestrelWorkbench({ before, after });

/** The webview's inner frame holding the Search view's page (webviews nest two iframes deep). */
async function searchViewFrame(page, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      if (await frame.locator('#query').count().catch(() => 0)) return frame;
    }
    await page.waitForTimeout(250);
  }
  throw new Error(`the Search view did not appear within ${timeoutMs / 1000} s`);
}

test('typing in the Search view lists matching code from the workspace', { timeout: 180_000 }, async () => {
  const { page } = workbench();
  try {
    // Opening a Python file activates Kestrel, whose worker then indexes the workspace.
    await openFile(page, 'inventory/warehouse.py');
    await page.locator('.activitybar .action-label[aria-label^="Kestrel"]').first().click();
    const frame = await searchViewFrame(page, 60_000);
    const input = frame.locator('#query');
    await input.click();
    await input.pressSequentially('reorder point', { delay: 30 });
    const hits = frame.locator('.results .hit');
    await hits.first().waitFor({ state: 'visible', timeout: 60_000 });
    // Results shown while the first index run is still filling are asked again when it ends.
    const warehouse = frame.locator('.results .hit', { hasText: 'inventory/warehouse.py' });
    await warehouse.first().waitFor({ state: 'visible', timeout: 60_000 }).catch(() => undefined);
    const texts = await hits.allTextContents();
    assert.ok(texts.some((text) => text.includes('inventory/warehouse.py')), texts.join('\n---\n'));
    const marked = await frame.locator('.results mark').allTextContents();
    assert.ok(marked.some((text) => /reorder|point/i.test(text)), 'the query words are highlighted');
    assert.equal(await frame.locator('.results script, .results img').count(), 0);
    // Arrow keys move the selection; the first result starts selected.
    assert.equal(await hits.first().getAttribute('aria-selected'), 'true');
    await input.press('ArrowDown');
    assert.equal(await hits.nth(1).getAttribute('aria-selected'), 'true');

    // The filters follow the search box in tab order: the language, then the path glob.
    const language = frame.locator('#language');
    await frame.locator('#language option[value="python"]').waitFor({ state: 'attached', timeout: 30_000 });
    await input.press('Tab');
    assert.equal(await frame.evaluate(() => document.activeElement?.id), 'language');
    await language.selectOption('python');
    await language.press('Tab');
    assert.equal(await frame.evaluate(() => document.activeElement?.id), 'path');
    await frame.locator('#path').pressSequentially('tests/**', { delay: 30 });
    const summary = frame.locator('#summary');
    await summary.filter({ hasText: 'python · tests/**' }).waitFor({ state: 'visible', timeout: 30_000 });
    const locations = await frame.locator('.results .hit .location').allTextContents();
    assert.ok(locations.length > 0, 'the filtered search still finds the tests');
    assert.ok(locations.every((text) => text.startsWith('tests/') && text.includes('.py:')), locations.join('\n'));
  } finally {
    await workbench().screenshot(SCREENSHOT);
  }
});
