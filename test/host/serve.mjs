// Serves VS Code in the browser with Kestrel loaded as a development extension, until Ctrl-C.
// The foreground half of `npm start` (test/host/start.sh builds first, then runs this).
//
// usage: node test/host/serve.mjs --workspace DIR [--port N]
//
// The server listens on 127.0.0.1 only: it runs without a connection token, so anyone who can reach
// the port gets a terminal on this machine. From another machine, forward the port (ssh -L).
// The profile (settings, UI state) persists in .kestrel-test/start-profile; the server's log goes to
// .kestrel-test/logs/server.log.

import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PortInUseError, startServer, workbenchUrl } from './lib/server.mjs';
import { exitOnSignals, runCleanups } from './lib/cleanup.mjs';
import { KESTREL_TEST_DIR, REPO_ROOT, HostNotInstalledError } from './lib/paths.mjs';

const TAG = '[kestrel start]';
const { values } = parseArgs({
  options: { workspace: { type: 'string' }, port: { type: 'string', default: '8080' } },
});
if (!values.workspace) {
  console.error(`${TAG} usage: node test/host/serve.mjs --workspace DIR [--port N]`);
  process.exit(2);
}
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`${TAG} invalid port ${JSON.stringify(values.port)} (KESTREL_PORT)`);
  process.exit(2);
}

const logFile = path.join(KESTREL_TEST_DIR, 'logs/server.log');
mkdirSync(path.dirname(logFile), { recursive: true });
const log = createWriteStream(logFile);

let stopping = false;
exitOnSignals(() => {
  stopping = true;
  console.log(`\n${TAG} stopping the VS Code server...`);
});

let server;
try {
  server = await startServer({
    port,
    profileDir: path.join(KESTREL_TEST_DIR, 'start-profile'),
    onOutput: (line) => log.write(`${line}\n`),
  });
} catch (err) {
  if (err instanceof HostNotInstalledError) {
    console.error(`${TAG} ${err.message}`);
  } else if (err instanceof PortInUseError) {
    console.error(`${TAG} ${err.message}: set KESTREL_PORT to another port`);
  } else {
    console.error(`${TAG} ${err.message}`);
  }
  await runCleanups();
  process.exit(1);
}

const url = workbenchUrl(server, {
  folder: path.resolve(values.workspace),
  extensionDevelopmentPath: REPO_ROOT,
});
console.log(`
${TAG} VS Code with Kestrel (development build) is running.

  Open: ${url}

  Workspace: ${path.resolve(values.workspace)}
  Server log: ${path.relative(process.cwd(), logFile)}
  After rebuilding (node esbuild.mjs), reload the browser tab (or run "Developer: Reload Window").
  Stop with Ctrl-C.
`);

await server.exited;
// Ctrl-C: the signal handler is stopping everything and exits when done.
if (stopping) await new Promise(() => {});
console.error(`${TAG} the VS Code server exited unexpectedly; last output:\n${server.recentOutput()}`);
await runCleanups();
process.exit(1);
