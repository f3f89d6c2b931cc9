/**
 * Runs inside the real VS Code extension host (as --extensionTestsPath) for test/bench/activation.mjs:
 * measures Kestrel's activation and its worker's start, and writes the figures to
 * KESTREL_BENCH_RESULTS. One launch of VS Code gives one sample.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { KestrelApi } from '../../../src/extension/main';

export async function run(): Promise<void> {
  const extension = vscode.extensions.getExtension<KestrelApi>('kestrel-dev.kestrel');
  if (!extension) throw new Error('Kestrel is not loaded in this VS Code');

  // Module load as the host does it: read, compile and evaluate a fresh copy of the bundle.
  const scratch = mkdtempSync(join(tmpdir(), 'kestrel-bench-'));
  const copy = join(scratch, 'extension.js');
  copyFileSync(join(extension.extensionPath, 'dist', 'extension.js'), copy);
  const loadStart = performance.now();
  require(copy);
  const moduleLoadMs = performance.now() - loadStart;
  rmSync(scratch, { recursive: true, force: true });

  const activateStart = performance.now();
  const api = await extension.activate();
  const activateReturnedMs = performance.now() - activateStart;
  const spawnToReadyMs = await api.whenWorkerReady();
  const activateToWorkerReadyMs = performance.now() - activateStart;

  const sample = {
    moduleLoadMs,
    activateMs: api.activationMs,
    activateReturnedMs,
    spawnToReadyMs,
    activateToWorkerReadyMs,
  };
  console.log(`kestrel bench sample: ${JSON.stringify(sample)}`);
  const out = process.env['KESTREL_BENCH_RESULTS'];
  if (out) writeFileSync(out, JSON.stringify(sample));
}
