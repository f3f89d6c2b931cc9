// One place that knows how to tear down what a test host started: the VS Code server's process
// group, the browser, temporary folders.
//
// Why: a VS Code server leaves helper processes (extension host, file watcher, pty host) and sockets
// behind unless its whole process group is killed, and a test run can end in many ways (suite done,
// assertion error, timeout, Ctrl-C, SIGTERM from CI, an exception). Every resource registers an async
// cleanup (graceful) and may register a sync one (last resort from the 'exit' event, where nothing
// async can run).

import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';

const asyncCleanups = new Set();
const syncCleanups = new Set();
let running;

/** Registers an async cleanup; returns a function that unregisters it. */
export function onCleanup(fn) {
  asyncCleanups.add(fn);
  return () => asyncCleanups.delete(fn);
}

/** Registers a synchronous last-resort cleanup, run when the process exits without runCleanups(). */
export function onExitSync(fn) {
  syncCleanups.add(fn);
  return () => syncCleanups.delete(fn);
}

/** Runs every registered async cleanup once, newest first; errors are reported, never thrown. */
export function runCleanups() {
  running ??= (async () => {
    for (const fn of [...asyncCleanups].reverse()) {
      asyncCleanups.delete(fn);
      try {
        await fn();
      } catch (err) {
        console.error(`[kestrel host] cleanup failed: ${err?.stack ?? err}`);
      }
    }
    running = undefined;
  })();
  return running;
}

process.on('exit', () => {
  for (const fn of [...syncCleanups].reverse()) {
    try {
      fn();
    } catch {
      // Nothing sensible left to do while exiting.
    }
  }
});

let signalsInstalled = false;

/**
 * SIGINT/SIGTERM/SIGHUP: clean up, then exit with 128+signal.
 * One Ctrl-C often arrives twice (the terminal signals the whole foreground group, and a parent such
 * as @vscode/test-electron's runTests forwards its own SIGINT), so signals within 2 s of the first are
 * ignored; a later one exits at once (the sync cleanups still kill the process groups).
 * `onSignal(name)` runs first, e.g. to print why we are stopping.
 */
export function exitOnSignals(onSignal) {
  if (signalsInstalled) return;
  signalsInstalled = true;
  const codes = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };
  let firstAt;
  for (const [signal, code] of Object.entries(codes)) {
    process.on(signal, () => {
      if (firstAt !== undefined) {
        if (Date.now() - firstAt > 2000) process.exit(code);
        return;
      }
      firstAt = Date.now();
      onSignal?.(signal);
      runCleanups().finally(() => process.exit(code));
    });
  }
}

/** Removes a folder that processes we just killed may still be writing to. Synchronous. */
export function removeDirSync(dir) {
  rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
}

/**
 * Removes `dir` if this process dies without cleaning up (SIGKILL, e.g. from a test runner that kills
 * its workers on Ctrl-C, where neither signal handlers nor 'exit' run). A tiny detached shell polls
 * for us once a second; the returned function stops it (call it after removing `dir` yourself).
 */
export function removeIfOwnerDies(dir) {
  const watcher = spawn(
    '/bin/sh',
    [
      '-c',
      // Poll our pid; once we are gone, give our own children (e.g. a browser) a moment to exit first.
      'while kill -0 "$1" 2>/dev/null; do sleep 1; done; sleep 2; rm -rf -- "$2"',
      'kestrel-reaper',
      String(process.pid),
      dir,
    ],
    { detached: true, stdio: 'ignore' },
  );
  watcher.unref();
  return () => {
    try {
      process.kill(watcher.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
}
