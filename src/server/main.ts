/**
 * The Kestrel worker: a real language server. The extension starts it over IPC; any other LSP
 * editor starts it with `node dist/server.js --stdio`. Heavy work (ONNX Runtime, parsing, indexing)
 * lives here so the editor's extension host stays light.
 */
import {
  createConnection,
  ProposedFeatures,
  TextDocuments,
  TextDocumentSyncKind,
  MessageType,
  ShowMessageNotification,
  type InitializeResult,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { join } from 'node:path';
import { format } from 'node:util';
import { errorMessage } from '../shared/errors/errors';
import { SettingsNotification } from '../protocol';
import { kestrelVersion } from '../version';
import type { Feature } from './feature';
import { connectionLogger } from './logger';
import { SettingsStore, checkSettings } from './settings';
import { StatusFeature } from './statusFeature';
import { CompletionFeature } from './completionFeature';
import { IndexFeature } from './indexFeature';
import { ProjectCacheFeature } from './projectCacheFeature';
import { PriorityGate } from '../index/priorityGate';
import { transportFromArgv } from './transport';

// The transport (--node-ipc, --stdio, --socket=N, --pipe=NAME) is read from argv.
const transport = transportFromArgv(process.argv.slice(2), (reason) => connection.console.warn(`[worker] dropped a message: ${reason}`));
let shutdownReceived = false;
// A frame that cannot be read leaves the stream out of step for good: say why and exit, so the
// client sees the worker end and starts a new one (staying alive would answer nothing, forever).
transport.reader.onError((error) => {
  const message = `the message stream from the client is broken (${errorMessage(error)}); the worker exits so that a new one can start`;
  process.stderr.write(`Kestrel worker: ${message}\n`);
  connection.console.error(`[worker] ${message}`);
  setTimeout(() => process.exit(1), 100);
});
transport.reader.onClose(() => process.exit(shutdownReceived ? 0 : 1));
const connection = createConnection(ProposedFeatures.all, transport.reader, transport.writer);
const log = connectionLogger(connection);
if (transport.stdio) {
  // stdout carries the messages: anything a library prints goes to the client's log instead.
  console.log = console.info = (...args: unknown[]) => connection.console.info(format(...args));
  console.warn = (...args: unknown[]) => connection.console.warn(format(...args));
  console.error = (...args: unknown[]) => connection.console.error(format(...args));
  console.debug = (...args: unknown[]) => connection.console.debug(format(...args));
}
const documents = new TextDocuments(TextDocument);

const settings = new SettingsStore();
// Shipped models sit beside the bundle's folder: dist/server.js -> ../models.
const shippedModels = join(__dirname, '..', 'models');
// Completions hold the gate while they run; the index thread pauses while they do.
const gate = new PriorityGate();
const completion = new CompletionFeature(settings, documents, [shippedModels], connectionLogger(connection, 'completion'), gate);
// esbuild.mjs bundles the index thread beside this file (dist/indexThread.js).
const index = new IndexFeature(settings, [shippedModels], connectionLogger(connection, 'index'), gate, join(__dirname, 'indexThread.js'));
// The project cache reads the workspace's Python files with the walker's rules, behind completions too.
const projectCache = new ProjectCacheFeature(settings, documents, completion, connectionLogger(connection, 'project cache'), gate);
const features: Feature[] = [new StatusFeature(settings, () => [...completion.loadedModels(), ...index.loadedModels()]), completion, index, projectCache];

/** Applies settings a client sent; each wrong field is logged and shown to the user once. */
const shownSettingProblems = new Set<string>();
function applySettings(given: unknown): void {
  const { settings: next, problems } = checkSettings(given);
  for (const problem of problems) {
    log.warn(`settings: ${problem}`);
    if (shownSettingProblems.has(problem)) continue;
    shownSettingProblems.add(problem);
    void connection.sendNotification(ShowMessageNotification.type, { type: MessageType.Warning, message: `Kestrel: ${problem}` }).catch(() => undefined);
  }
  settings.update(next);
}

connection.onInitialize((params): InitializeResult => {
  applySettings(params?.initializationOptions);
  log.info(`Kestrel worker ${kestrelVersion} starting (pid ${process.pid}, node ${process.version})`);
  return {
    capabilities: {
      textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
      ...CompletionFeature.capabilities,
    },
    serverInfo: { name: 'kestrel', version: kestrelVersion },
  };
});

connection.onInitialized(() => log.info('ready'));

// Checked field by field (a wrong field falls back to its default), not rejected as a whole.
connection.onNotification(SettingsNotification.method, (next: unknown) => {
  log.debug(`settings: ${JSON.stringify(next)}`);
  applySettings(next);
});

connection.onShutdown(async () => {
  shutdownReceived = true;
  await Promise.allSettled(features.map((feature) => feature.shutdown?.()));
});

for (const feature of features) feature.register(connection);
documents.listen(connection);
connection.listen();
