// Browser-driven end-to-end tests of Kestrel in a real VS Code workbench, offline.
//
// startWorkbench() starts the VS Code server build (test/host/lib/server.mjs, installed by
// test/host/setup.sh), opens the workbench in headless Chromium (test/host/lib/browser.mjs) with the
// extension under development loaded, waits until the workbench has restored, and hands back the
// Playwright page. Tests then use the DOM (status bar, editors, notifications) and screenshots.
//
//   const wb = await startWorkbench({ workspace, extensionDevelopmentPath: REPO_ROOT });
//   try { ...wb.page... } finally { await wb.stop(); }
//
// Environment: KESTREL_TEST_VERBOSE=1 prints the server's output and the page's console;
// KESTREL_HEADED=1 shows the browser window (needs a display).

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { startServer, workbenchUrl } from '../host/lib/server.mjs';
import { launchBrowser, waitForWorkbench } from '../host/lib/browser.mjs';
import { REPO_ROOT } from '../host/lib/paths.mjs';
import { exitOnSignals } from '../host/lib/cleanup.mjs';
import { copyFixtureWorkspace } from '../host/lib/workspace.mjs';

export { REPO_ROOT, copyFixtureWorkspace };

const verbose = process.env.KESTREL_TEST_VERBOSE === '1';

/**
 * @param {object} [options]
 * @param {string} [options.workspace] Folder to open (use copyFixtureWorkspace(): VS Code saves into
 *   it). None: an empty window.
 * @param {string | string[] | null} [options.extensionDevelopmentPath] Extension(s) to load as under
 *   development; default the repository root (Kestrel). null: no development extension.
 * @param {object} [options.settings] User settings, over the quiet test defaults.
 * @param {{width: number, height: number}} [options.viewport]
 * @param {number} [options.timeoutMs] For the workbench to restore.
 * @returns {Promise<{ page: import('playwright-core').Page, url: string,
 *   server: Awaited<ReturnType<typeof startServer>>,
 *   screenshot: (file: string) => Promise<string>, stop: () => Promise<void> }>}
 */
export async function startWorkbench({
  workspace,
  extensionDevelopmentPath = REPO_ROOT,
  settings = {},
  viewport,
  timeoutMs = 90_000,
} = {}) {
  // A test process interrupted by Ctrl-C or killed by the test runner's timeout still tears down.
  exitOnSignals();
  const server = await startServer({
    settings,
    onOutput: verbose ? (line) => console.log(`[server] ${line}`) : undefined,
  });
  let browser;
  try {
    browser = await launchBrowser({ viewport, tmpParent: server.tmpRoot });
    const { page } = browser;
    if (verbose) page.on('console', (msg) => console.log(`[page ${msg.type()}] ${msg.text()}`));
    const url = workbenchUrl(server, { folder: workspace, extensionDevelopmentPath });
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: timeoutMs });
    await waitForWorkbench(page, { timeoutMs });

    let stopped;
    return {
      page,
      url,
      server,
      /** Saves a PNG of the whole page; creates the folder. Returns the path. */
      async screenshot(file) {
        mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
        await page.screenshot({ path: file });
        return file;
      },
      /** Closes the browser and kills the server's process group; safe to call twice. */
      stop() {
        stopped ??= browser.close().finally(() => server.stop());
        return stopped;
      },
    };
  } catch (err) {
    await browser?.close();
    await server.stop();
    throw err;
  }
}

/**
 * Opens a workspace file in an editor the way a user would: Quick Open (Ctrl+P), type the path, Enter.
 * Resolves once its editor tab is active. Opening a Python file is also what activates Kestrel.
 */
export async function openFile(page, relativePath, { timeoutMs = 30_000 } = {}) {
  const name = path.posix.basename(relativePath);
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: timeoutMs });
  await input.fill(relativePath);
  // Wait for the file among the results before accepting, or Enter picks nothing.
  await page
    .locator('.quick-input-list .monaco-list-row', { hasText: name })
    .first()
    .waitFor({ state: 'visible', timeout: timeoutMs });
  await page.keyboard.press('Enter');
  await page
    .locator(`.tabs-container .tab.active[aria-label*="${name}"], .tabs-container .tab.active:has-text("${name}")`)
    .first()
    .waitFor({ state: 'visible', timeout: timeoutMs });
  await page.locator('.editor-instance .monaco-editor').first().waitFor({ state: 'visible', timeout: timeoutMs });
}

/**
 * The status bar's items as { id, text, ariaLabel }: what a user sees at the bottom of the window.
 * Ids are `<extension id>.<item id>` for extension items (e.g. "kestrel-dev.kestrel.status").
 */
export async function statusBarItems(page) {
  return page.$$eval('#workbench\\.parts\\.statusbar .statusbar-item', (elements) =>
    elements.map((element) => ({
      id: element.id,
      text: element.textContent.trim(),
      ariaLabel: element.querySelector('[aria-label]')?.getAttribute('aria-label') ??
        element.getAttribute('aria-label') ?? '',
    })),
  );
}

/**
 * Waits until a status bar item matches `predicate` (given { id, text, ariaLabel }) and returns it.
 * On timeout the error lists the items that were there.
 */
export async function waitForStatusBarItem(page, predicate, { timeoutMs = 30_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let items = [];
  while (Date.now() < deadline) {
    items = await statusBarItems(page);
    const found = items.find(predicate);
    if (found) return found;
    await page.waitForTimeout(250);
  }
  throw new Error(
    `no matching status bar item within ${timeoutMs / 1000} s; items were:\n` +
      items.map((item) => `  ${item.id}: ${JSON.stringify(item.text)} (${item.ariaLabel})`).join('\n'),
  );
}

/**
 * For a test file: a fresh copy of the fixture workspace and a workbench with Kestrel, started before
 * its tests and stopped (workspace removed) after them. Returns a getter, valid inside the tests.
 */
export function useKestrelWorkbench(hooks) {
  let workspace;
  let workbench;
  hooks.before(async () => {
    workspace = copyFixtureWorkspace();
    workbench = await startWorkbench({ workspace: workspace.path, extensionDevelopmentPath: REPO_ROOT });
  });
  hooks.after(async () => {
    await workbench?.stop();
    workspace?.remove();
  });
  return () => workbench;
}
