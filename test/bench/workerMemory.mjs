// Benchmark: the worker's resident memory with the default completion model loaded (budget: 250 MB
// with the model, DESIGN.md). Starts `node dist/server.js --stdio` as any LSP client would, waits for
// the model, asks `kestrel/status`, then runs a few completions and asks again.
// Run: `npm run bench:memory` (after `node esbuild.mjs`).
import { spawn } from 'node:child_process';
import { StreamMessageReader, StreamMessageWriter, createProtocolConnection } from 'vscode-languageserver-protocol/node';

const child = spawn(process.execPath, ['dist/server.js', '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
const connection = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
const ready = new Promise((resolve, reject) => connection.onNotification('kestrel/modelState', (state) => {
  if (state.state === 'ready') resolve(state.model);
  if (state.state === 'error') reject(new Error(state.message));
}));
connection.onNotification('window/logMessage', () => {});
connection.listen();
const mb = (bytes) => `${(bytes / 2 ** 20).toFixed(0)} MB`;
try {
  await connection.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {} });
  await connection.sendNotification('initialized', {});
  await connection.sendNotification('kestrel/settings', { device: 'auto', model: '', modelPaths: [] });
  const model = await ready;
  const loaded = await connection.sendRequest('kestrel/status');
  const uri = 'file:///bench/example.py';
  const text = 'import os\n\n\ndef list_python_files(root):\n    """Every .py file under root."""\n    found = []\n    for dirpath, _, names in os.walk(root):\n        for name in names:\n            ';
  await connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'python', version: 1, text } });
  const lines = text.split('\n');
  for (let i = 0; i < 10; i++) {
    await connection.sendRequest('textDocument/inlineCompletion', {
      textDocument: { uri }, position: { line: lines.length - 1, character: lines.at(-1).length }, context: { triggerKind: 1 },
    });
  }
  const after = await connection.sendRequest('kestrel/status');
  console.log(`worker with ${model.id} (${model.variant}, ${model.provider}):`);
  console.log(`  RSS after load                 ${mb(loaded.memory.rssBytes)}`);
  console.log(`  RSS after 10 completions       ${mb(after.memory.rssBytes)}   (budget 250 MB)`);
} finally {
  child.kill();
  connection.dispose();
}
