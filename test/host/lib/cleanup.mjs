// One place that knows how to tear down what a test host started: the VS Code server's process
// group, the browser, temporary folders.
//
// Why: a VS Code server leaves helper processes (extension host, file watcher, pty host) and sockets
// behind unless its whole process group is killed, and a test run can end in many ways (suite done,
// assertion error, timeout, Ctrl-C, SIGTERM from CI, an exception). Every resource registers an async
// cleanup (graceful) and may register a sync one (last resort from the 'exit' event, where nothing
// async can run).

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
 * SIGINT/SIGTERM/SIGHUP: clean up, then exit with 128+signal. A second signal while cleaning up
 * exits at once (the sync cleanups still kill the process groups).
 * `onSignal(name)` runs first, e.g. to print why we are stopping.
 */
export function exitOnSignals(onSignal) {
  if (signalsInstalled) return;
  signalsInstalled = true;
  const codes = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };
  let received = false;
  for (const [signal, code] of Object.entries(codes)) {
    process.on(signal, () => {
      if (received) process.exit(code);
      received = true;
      onSignal?.(signal);
      runCleanups().finally(() => process.exit(code));
    });
  }
}
