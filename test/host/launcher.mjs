// Runs VS Code extension tests in a real VS Code without downloading one: the VS Code server build
// from npm code-server (test/host/setup.sh), driven through headless Chromium.
//
// @vscode/test-electron's runTests({ vscodeExecutablePath }) spawns its "VS Code executable" with the
// arguments it would give the desktop app; test/host/vscode-launcher (which runs this file) takes that
// place. Of those arguments we use:
//   --extensionDevelopmentPath=ABS (one or more), --extensionTestsPath=ABS, and the first positional
//   argument (the workspace folder to open, from runTests' launchArgs).
// The rest (--user-data-dir, --extensions-dir, --no-sandbox, --disable-updates, ...) is for the desktop
// app: every run here gets a fresh private profile instead.
//
// The exit code is the suite's: the workbench calls window.codeAutomationExit(code) when the extension
// host's test runner finishes, and the suite's console output arrives through window.codeAutomationLog.
//
// Environment:
//   KESTREL_TEST_TIMEOUT      overall limit in seconds (default 600)
//   KESTREL_TEST_SCREENSHOT   save a PNG of the workbench to this path right before exiting
//   KESTREL_TEST_LOGS         copy the workbench's log files into this folder before exiting
//   KESTREL_TEST_VERBOSE=1    also print the server's output and the page's console

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { format, inspect } from 'node:util';
import { startServer, workbenchUrl } from './lib/server.mjs';
import { launchBrowser } from './lib/browser.mjs';
import { exitOnSignals, runCleanups } from './lib/cleanup.mjs';
import { HostNotInstalledError } from './lib/paths.mjs';

const TAG = '[kestrel launcher]';
const verbose = process.env.KESTREL_TEST_VERBOSE === '1';
const timeoutS = Number(process.env.KESTREL_TEST_TIMEOUT || 600);

function parseArgs(argv) {
  const parsed = { extensionDevelopmentPath: [], extensionTestsPath: undefined, folder: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inlineValue] = arg.startsWith('--') ? splitOnce(arg, '=') : [arg, undefined];
    // Accept both --flag=value (what runTests passes) and --flag value.
    const value = () => inlineValue ?? argv[++i];
    if (flag === '--extensionDevelopmentPath') parsed.extensionDevelopmentPath.push(path.resolve(value()));
    else if (flag === '--extensionTestsPath') parsed.extensionTestsPath = path.resolve(value());
    else if (!arg.startsWith('-') && parsed.folder === undefined) parsed.folder = path.resolve(arg);
    else if (verbose) console.log(`${TAG} ignoring argument ${arg}`);
  }
  return parsed;
}

// Lines the workbench logs on every run that say nothing about the suite: connection set-up, and the
// expected failures of an offline machine (extension gallery, GitHub sign-in, code-server's service
// worker, which this server build does not serve). Shown with KESTREL_TEST_VERBOSE=1.
const WORKBENCH_CHATTER = [
  /^Resolv(ing|ed) connection token/,
  /^Creating a socket \(renderer-/,
  /^\[reconnection-grace-time\]/,
  /^Updating additional builtin extensions cache/,
  /^\[AccountPolicyGate\]/,
  /^\[AgentHost/,
  /^\[Service Worker\] registration/,
  /^Timed out waiting for authentication provider 'github'/,
  /^getaddrinfo (ENOTFOUND|EAI_AGAIN) open-vsx\.org/,
];

function formatLogPart(part) {
  if (typeof part === 'string') return part;
  if (part && typeof part === 'object' && typeof part.message === 'string') return part.stack ?? part.message;
  return inspect(part, { depth: 4 });
}

function splitOnce(text, separator) {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

async function run(args) {
  const deadline = Date.now() + timeoutS * 1000;
  if (!args.extensionTestsPath) throw new UsageError('missing --extensionTestsPath=ABSOLUTE_PATH');
  if (!args.extensionDevelopmentPath.length) {
    throw new UsageError('missing --extensionDevelopmentPath=ABSOLUTE_PATH');
  }

  const server = await startServer({
    onOutput: verbose ? (line) => console.log(`[server] ${line}`) : undefined,
  });
  const { page, close: closeBrowser } = await launchBrowser({ tmpParent: server.tmpRoot });

  let settle;
  const outcome = new Promise((resolve) => (settle = resolve));

  // In test mode the workbench sends everything it logs here as (level, [message, ...args]), the
  // suite's console output (mocha's reporter, console.log in tests) included.
  await page.exposeFunction('codeAutomationLog', (level, parts) => {
    // The first part may be a printf-style format, as in mocha's console.log('%s%s', indent, title).
    const text = format(...[parts].flat().map(formatLogPart));
    if (!verbose && WORKBENCH_CHATTER.some((pattern) => pattern.test(text))) return;
    const stream = level === 'error' || level === 'warn' ? process.stderr : process.stdout;
    stream.write(`${text}\n`);
  });
  await page.exposeFunction('codeAutomationExit', (code, logs) => {
    settle({ code: Number(code) || 0, logs });
  });
  page.on('crash', () => settle({ code: 1, reason: 'the workbench page crashed' }));
  page.on('close', () => settle({ code: 1, reason: 'the workbench page closed before the tests finished' }));
  if (verbose) page.on('console', (msg) => console.log(`[page ${msg.type()}] ${msg.text()}`));
  page.on('pageerror', (err) => console.error(`${TAG} page error: ${err.message}`));
  server.exited.then(() =>
    settle({ code: 1, reason: `the VS Code server exited unexpectedly:\n${server.recentOutput()}` }),
  );

  const url = workbenchUrl(server, {
    folder: args.folder,
    extensionDevelopmentPath: args.extensionDevelopmentPath,
    extensionTestsPath: args.extensionTestsPath,
  });
  console.log(`${TAG} VS Code server ${server.origin}, opening ${args.folder ?? '(no folder)'}`);
  if (verbose) console.log(`${TAG} ${url}`);
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });

  let timer;
  const result = await Promise.race([
    outcome,
    new Promise((resolve) => {
      timer = setTimeout(
        () => resolve({ code: 1, reason: `timed out after ${timeoutS} s (KESTREL_TEST_TIMEOUT)` }),
        Math.max(0, deadline - Date.now()),
      );
    }),
  ]);
  clearTimeout(timer);
  if (stopping) return 1; // a signal handler is tearing everything down; it sets the exit code
  if (result.reason) console.error(`${TAG} ${result.reason}`);

  await saveDiagnostics(page, result.logs);
  await closeBrowser();
  await server.stop();
  return result.code;
}

/** KESTREL_TEST_SCREENSHOT / KESTREL_TEST_LOGS: evidence for debugging a failed or hung run. */
async function saveDiagnostics(page, logs) {
  const screenshotPath = process.env.KESTREL_TEST_SCREENSHOT;
  if (screenshotPath && !page.isClosed()) {
    try {
      mkdirSync(path.dirname(path.resolve(screenshotPath)), { recursive: true });
      await page.screenshot({ path: screenshotPath, timeout: 10_000 });
      console.log(`${TAG} screenshot saved to ${screenshotPath}`);
    } catch (err) {
      console.error(`${TAG} could not save screenshot: ${err.message}`);
    }
  }
  const logsDir = process.env.KESTREL_TEST_LOGS;
  if (logsDir && Array.isArray(logs)) {
    for (const { relativePath, contents } of logs) {
      const target = path.join(logsDir, relativePath);
      if (!target.startsWith(path.resolve(logsDir) + path.sep)) continue;
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, contents);
    }
    console.log(`${TAG} workbench logs saved to ${logsDir}`);
  }
}

class UsageError extends Error {}

let stopping = false;
exitOnSignals((signal) => {
  stopping = true;
  console.error(`${TAG} ${signal}: stopping the browser and the VS Code server`);
});

let exitCode;
try {
  exitCode = await run(parseArgs(process.argv.slice(2)));
} catch (err) {
  exitCode = 1;
  if (err instanceof HostNotInstalledError || err instanceof UsageError) console.error(`${TAG} ${err.message}`);
  else console.error(`${TAG} ${err?.stack ?? err}`);
} finally {
  await runCleanups();
}
process.exit(exitCode);
