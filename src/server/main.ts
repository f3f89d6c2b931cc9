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
  type InitializeResult,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { join } from 'node:path';
import { SettingsNotification, type WorkerSettings } from '../protocol';
import { kestrelVersion } from '../version';
import type { Feature } from './feature';
import { connectionLogger } from './logger';
import { DEFAULT_WORKER_SETTINGS, SettingsStore } from './settings';
import { StatusFeature } from './statusFeature';
import { CompletionFeature } from './completionFeature';
import { IndexFeature } from './indexFeature';
import { ProjectCacheFeature } from './projectCacheFeature';
import { PriorityGate } from '../index/priorityGate';

// The transport (--node-ipc, --stdio, --socket=N) is read from argv by createConnection.
const connection = createConnection(ProposedFeatures.all);
const log = connectionLogger(connection);
const documents = new TextDocuments(TextDocument);

function initialSettings(options: unknown): WorkerSettings {
  // Clients other than Kestrel's own may send nothing: fall back to defaults field by field.
  const given = (typeof options === 'object' && options !== null ? options : {}) as Partial<WorkerSettings>;
  return { ...DEFAULT_WORKER_SETTINGS, ...given };
}

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

connection.onInitialize((params): InitializeResult => {
  settings.update(initialSettings(params.initializationOptions));
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

connection.onNotification(SettingsNotification.type, (next) => {
  log.debug(`settings: ${JSON.stringify(next)}`);
  settings.update(initialSettings(next));
});

connection.onShutdown(async () => {
  await Promise.allSettled(features.map((feature) => feature.shutdown?.()));
});

for (const feature of features) feature.register(connection);
documents.listen(connection);
connection.listen();
