// Opens the VS Code web workbench (served by server.mjs) in Debian's headless Chromium through
// playwright-core.
//
// playwright-core ships no browser and downloads none: we point it at the system Chromium. The
// profile is fresh per launch (inside a temporary folder removed on close) so no state leaks
// between runs.

import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM, assertHostInstalled } from './paths.mjs';
import { onCleanup, onExitSync, removeDirSync, removeIfOwnerDies } from './cleanup.mjs';
import { listProcesses, waitSync } from './procs.mjs';

// Offline and quiet: no first-run UI, no background downloads or sync, no QUIC probing, no GPU (there
// is none in CI containers). --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  // No crash handler processes (they outlive the browser for a moment and write into the profile).
  '--disable-breakpad',
  '--disable-crash-reporter',
];

/**
 * @param {object} [options]
 * @param {boolean} [options.headless] default true; KESTREL_HEADED=1 shows the window (needs a display).
 * @param {{width: number, height: number}} [options.viewport]
 * @param {string} [options.tmpParent] Where to create the browser's temporary folder (default: the
 *   system temp dir). Pass the server's `tmpRoot` so that the server's watchdog also removes it if this
 *   process is killed outright.
 * @returns {Promise<{ context: import('playwright-core').BrowserContext,
 *   page: import('playwright-core').Page, close: () => Promise<void> }>}
 */
export async function launchBrowser({
  headless = process.env.KESTREL_HEADED !== '1',
  viewport = { width: 1280, height: 800 },
  tmpParent = os.tmpdir(),
} = {}) {
  assertHostInstalled();
  const tmpRoot = mkdtempSync(path.join(tmpParent, 'kestrel-chromium-'));
  // Also removed if we are SIGKILLed (Chromium itself quits when its debugging pipe closes).
  const stopReaper = removeIfOwnerDies(tmpRoot);
  const removeTmp = () => {
    removeDirSync(tmpRoot);
    stopReaper();
  };
  let context;
  try {
    context = await chromium.launchPersistentContext(path.join(tmpRoot, 'profile'), {
      executablePath: CHROMIUM,
      headless,
      args: CHROMIUM_ARGS,
      viewport,
      // Chromium's own files go to our folder too: temp files, and the crash handler's database,
      // which would otherwise land in ~/.config/chromium (Debian's wrapper enables crash reporting).
      env: {
        ...process.env,
        TMPDIR: tmpRoot,
        XDG_CONFIG_HOME: path.join(tmpRoot, 'config'),
        XDG_CACHE_HOME: path.join(tmpRoot, 'cache'),
      },
      // We handle signals ourselves (cleanup.mjs) so that teardown order is under our control.
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
      timeout: 60_000,
    });
  } catch (err) {
    removeTmp();
    throw new Error(`could not start Chromium (${CHROMIUM}): ${err.message}`);
  }
  const page = context.pages()[0] ?? (await context.newPage());

  let closed;
  const close = () => {
    closed ??= (async () => {
      unregisterAsync();
      unregisterSync();
      // A hung renderer can make close() wait forever; the browser process is ours, kill it then.
      let timer;
      await Promise.race([
        context.close().catch(() => {}),
        new Promise((resolve) => (timer = setTimeout(resolve, 10_000))),
      ]);
      clearTimeout(timer);
      killBrowserProcesses(tmpRoot);
      removeTmp();
    })();
    return closed;
  };
  const unregisterAsync = onCleanup(close);
  // If we exit abruptly, Chromium notices its closed debugging pipe and quits; we still remove the
  // profile and make sure the process is gone.
  const unregisterSync = onExitSync(() => {
    killBrowserProcesses(tmpRoot);
    removeTmp();
  });
  return { context, page, close };
}

/**
 * Kills any Chromium process still using our profile folder. A persistent context does not expose
 * its browser process, but every process of that browser carries the folder in its command line
 * (--user-data-dir=...), so this only ever touches our own browser. Synchronous: usable on 'exit'.
 */
function killBrowserProcesses(tmpRoot) {
  const ours = () => listProcesses().filter((proc) => proc.cmdline.includes(tmpRoot));
  for (const { pid } of ours()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  // Wait until they are gone, so nothing writes into the profile folder while it is removed.
  waitSync(() => ours().length > 0, 2000);
}

/**
 * Waits until the workbench has restored (editors, views and contributions created). Uses the smoke
 * test driver (window.driver, enabled by --enable-smoke-test-driver), the same hook VS Code's own UI
 * tests wait on.
 */
export async function waitForWorkbench(page, { timeoutMs = 60_000 } = {}) {
  await page.waitForFunction(() => typeof window.driver?.whenWorkbenchRestored === 'function', null, {
    timeout: timeoutMs,
  });
  await page.evaluate(() => window.driver.whenWorkbenchRestored());
  await page.locator('#workbench\\.parts\\.statusbar').waitFor({ state: 'visible', timeout: timeoutMs });
}
