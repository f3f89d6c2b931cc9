// Starts the VS Code server build (from npm code-server, see test/host/setup.sh) under Node 24 for
// Kestrel's integration tests, end-to-end tests and `npm start`.
//
// The server runs in its own process group (led by server-group.sh, which also kills the group if we
// die without stopping it) with private data, extensions, TMPDIR and XDG_* folders, so nothing it
// writes or forks outlives stop(): no stray extension hosts, watchers or sockets in /tmp.

import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE24, SERVER_MAIN, assertHostInstalled } from './paths.mjs';
import { onCleanup, onExitSync, removeDirSync } from './cleanup.mjs';
import { QUIET_SETTINGS } from './settings.mjs';
import { listProcesses, waitSync } from './procs.mjs';

const GROUP_LEADER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'server-group.sh');
const HOST = '127.0.0.1';
// The server prints this once its HTTP/WebSocket listener is up (with the real port when given 0).
const LISTENING = /Extension host agent listening on (\d+)/;
// ...and this when the port is taken, after which it keeps running without listening.
const ADDRESS_IN_USE = /EADDRINUSE: address already in use (\S+)/;

/**
 * @param {object} [options]
 * @param {number} [options.port] 0 (default) picks a free port.
 * @param {object} [options.settings] User settings, merged over QUIET_SETTINGS.
 * @param {string} [options.profileDir] Keep user data and extensions here (persists across runs);
 *   default: a fresh temporary profile removed on stop().
 * @param {(line: string) => void} [options.onOutput] Receives each line the server prints.
 * @param {number} [options.startTimeoutMs]
 * @returns {Promise<{ host: string, port: number, authority: string, origin: string, pgid: number,
 *   dirs: Record<string, string>, tmpRoot: string, exited: Promise<void>,
 *   recentOutput: () => string, remoteUri: (absPath: string) => string, stop: () => Promise<void> }>}
 */
export async function startServer({
  port = 0,
  settings = {},
  profileDir,
  onOutput,
  startTimeoutMs = 60_000,
} = {}) {
  assertHostInstalled({ browser: false });

  // Everything temporary lives in one folder, removed on stop. Keep its path short: the server puts
  // unix sockets in TMPDIR and socket paths are limited to ~100 bytes.
  const tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'kestrel-vscode-'));
  const profile = profileDir ?? path.join(tmpRoot, 'profile');
  const dirs = {
    serverData: path.join(profile, 'server-data'),
    userData: path.join(profile, 'user-data'),
    extensions: path.join(profile, 'extensions'),
    tmp: path.join(tmpRoot, 'tmp'),
    xdgConfig: path.join(tmpRoot, 'xdg/config'),
    xdgData: path.join(tmpRoot, 'xdg/data'),
    xdgCache: path.join(tmpRoot, 'xdg/cache'),
    xdgState: path.join(tmpRoot, 'xdg/state'),
    xdgRuntime: path.join(tmpRoot, 'xdg/runtime'),
  };
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true, mode: 0o700 });

  // The server build stores user settings on the server side, in <user-data-dir>/User/settings.json.
  // A persistent profile keeps the user's own edits: only write the file when there is none.
  const settingsFile = path.join(dirs.userData, 'User/settings.json');
  if (!profileDir || !existsSync(settingsFile)) {
    mkdirSync(path.dirname(settingsFile), { recursive: true });
    writeFileSync(settingsFile, JSON.stringify({ ...QUIET_SETTINGS, ...settings }, null, 2));
  }

  const serverArgs = [
    SERVER_MAIN,
    '--host', HOST,
    '--port', String(port),
    '--without-connection-token',
    '--accept-server-license-terms',
    // Lets the page's URL carry a `payload` with extensionDevelopmentPath/extensionTestsPath, and
    // exposes window.driver; a built server ignores the payload otherwise.
    '--enable-smoke-test-driver',
    '--disable-telemetry',
    '--disable-workspace-trust',
    '--server-data-dir', dirs.serverData,
    '--user-data-dir', dirs.userData,
    '--extensions-dir', dirs.extensions,
  ];
  const env = {
    ...process.env,
    TMPDIR: dirs.tmp,
    XDG_CONFIG_HOME: dirs.xdgConfig,
    XDG_DATA_HOME: dirs.xdgData,
    XDG_CACHE_HOME: dirs.xdgCache,
    XDG_STATE_HOME: dirs.xdgState,
    XDG_RUNTIME_DIR: dirs.xdgRuntime,
    // Ours, not the server's: Node options meant for the test runner must not leak into Node 24.
    NODE_OPTIONS: '',
  };
  delete env.ELECTRON_RUN_AS_NODE;
  delete env.VSCODE_IPC_HOOK_CLI;

  const child = spawn('/bin/sh', [GROUP_LEADER, String(process.pid), tmpRoot, '--', NODE24, ...serverArgs], {
    cwd: tmpRoot,
    env,
    detached: true, // new process group, led by server-group.sh: pgid === child.pid
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pgid = child.pid;

  let exited = false;
  let exitInfo = '';
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exited = true;
      exitInfo = signal ? `signal ${signal}` : `code ${code}`;
      resolve();
    });
  });

  // Keep the last lines for error messages; forward every line when asked.
  const recent = [];
  let onListening;
  let onStartFailure;
  const listening = new Promise((resolve, reject) => {
    onListening = resolve;
    onStartFailure = reject;
  });
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop();
      for (const line of lines) {
        recent.push(line);
        if (recent.length > 60) recent.shift();
        const match = LISTENING.exec(line);
        if (match) onListening(Number(match[1]));
        const inUse = ADDRESS_IN_USE.exec(line);
        if (inUse) onStartFailure(new PortInUseError(`port ${port} is in use (${inUse[1]})`));
        onOutput?.(line);
      }
    });
  }

  let stopped;
  /** Kills the whole process group (TERM, then KILL after a grace period) and removes temp files. */
  const stop = () => {
    stopped ??= (async () => {
      if (!exited) {
        killGroup(pgid, 'SIGTERM');
        let graceTimer;
        const graceful = await Promise.race([
          exitPromise.then(() => true),
          new Promise((resolve) => (graceTimer = setTimeout(resolve, 5000, false))),
        ]);
        clearTimeout(graceTimer);
        if (!graceful) killGroup(pgid, 'SIGKILL');
      }
      // The leader may be gone while helpers it started still run: make sure the group is empty.
      await waitForGroupGone(pgid, 3000);
      killGroup(pgid, 'SIGKILL');
      unregisterAsync();
      unregisterSync();
      removeDirSync(tmpRoot);
    })();
    return stopped;
  };
  const unregisterAsync = onCleanup(stop);
  const unregisterSync = onExitSync(() => {
    killGroup(pgid, 'SIGKILL');
    waitSync(() => listProcesses().some((proc) => proc.pgid === pgid), 2000);
    removeDirSync(tmpRoot);
  });

  let startTimer;
  const actualPort = await Promise.race([
    listening,
    exitPromise.then(() => {
      throw new Error(`VS Code server exited during startup (${exitInfo}). Last output:\n${recent.join('\n')}`);
    }),
    new Promise((_, reject) => {
      startTimer = setTimeout(() => {
        reject(new Error(`VS Code server did not start listening within ${startTimeoutMs / 1000} s. ` +
          `Last output:\n${recent.join('\n')}`));
      }, startTimeoutMs);
    }),
  ])
    .catch(async (err) => {
      await stop();
      throw err;
    })
    .finally(() => clearTimeout(startTimer));

  const authority = `${HOST}:${actualPort}`;
  return {
    host: HOST,
    port: actualPort,
    authority,
    origin: `http://${authority}`,
    pgid,
    dirs,
    /** Temporary folder removed on stop (and by the watchdog if this process dies). */
    tmpRoot,
    /** Resolves when the server has exited (on its own or through stop()). */
    exited: exitPromise,
    /** The server's last output lines, for error messages. */
    recentOutput: () => recent.join('\n'),
    /** A vscode-remote URI for an absolute path on this machine, as the workbench payload expects. */
    remoteUri: (absPath) =>
      `vscode-remote://${authority}${path.resolve(absPath).split('/').map(encodeURIComponent).join('/')}`,
    stop,
  };
}

/**
 * The workbench URL for a folder (or .code-workspace file), with optional development extension(s) and extension tests.
 * @param {{ origin: string, remoteUri: (p: string) => string }} server
 * @param {{ folder?: string, extensionDevelopmentPath?: string | string[], extensionTestsPath?: string }} what
 */
export function workbenchUrl(server, { folder, extensionDevelopmentPath, extensionTestsPath } = {}) {
  const params = new URLSearchParams();
  // A .code-workspace file opens as a multi-root workspace, anything else as a folder.
  if (folder) params.set(folder.endsWith('.code-workspace') ? 'workspace' : 'folder', path.resolve(folder));
  const payload = [];
  for (const devPath of [extensionDevelopmentPath].flat().filter(Boolean)) {
    payload.push(['extensionDevelopmentPath', server.remoteUri(devPath)]);
  }
  if (extensionTestsPath) payload.push(['extensionTestsPath', server.remoteUri(extensionTestsPath)]);
  if (payload.length) params.set('payload', JSON.stringify(payload));
  const query = params.toString();
  return `${server.origin}/${query ? `?${query}` : ''}`;
}

export class PortInUseError extends Error {}

function killGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    if (err.code !== 'ESRCH') throw err; // ESRCH: the group is already gone
  }
}

function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitForGroupGone(pgid, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (groupAlive(pgid) && Date.now() < deadline) await delay(100);
}

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
