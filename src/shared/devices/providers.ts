/**
 * Execution-provider choice. ONNX Runtime does not fall back on its own: a session created with
 * ['cuda', 'cpu'] throws when CUDA cannot load. So each candidate gets its own attempt, failures are
 * caught and recorded, and the caller learns which provider runs and why the others did not.
 */
import { availableParallelism } from 'node:os';
import type { InferenceSession } from 'onnxruntime-node';
import { DEVICE_SETTINGS, type DeviceSetting } from './deviceSetting';
import { EngineError, errorMessage } from '../errors/errors';

export type ProviderName = Exclude<DeviceSetting, 'auto'>;

export interface ProviderAttempt {
  provider: ProviderName;
  ok: boolean;
  /** Why it failed (ONNX Runtime's message, shortened), or why it was skipped. */
  reason?: string;
}

/** The providers `device` asks for, in the order to try them on this platform. */
export function providerCandidates(device: DeviceSetting, platform: NodeJS.Platform = process.platform): ProviderName[] {
  if (device !== 'auto') return [device];
  const gpu: ProviderName[] = ['cuda'];
  if (platform === 'win32') gpu.push('dml');
  if (platform === 'darwin') gpu.push('coreml');
  gpu.push('webgpu');
  return [...gpu, 'cpu'];
}

/** CPU threads for one session: all cores up to 4 (past that a model this small gains little). */
export function threadCount(cores: number = availableParallelism()): number {
  return Math.max(1, Math.min(4, cores));
}

export function sessionOptions(provider: ProviderName, threads: number = threadCount()): InferenceSession.SessionOptions {
  return {
    executionProviders: [provider],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // ONNX Runtime prints failed provider loads at error level; Kestrel reports them itself.
    logSeverityLevel: 3,
    // Spinning intra-op threads burn the cores the editor, the indexer and the user's own programs
    // share; measured here on 2 busy cores, not spinning made decode steps 2-5x faster at p50.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

/** ONNX Runtime's messages carry source paths and log prefixes; keep the part a user can read. */
export function shortReason(message: string): string {
  const line = message.split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? message;
  let cleaned = line.replace(/^.*?\]\s*:\s*\d+\s*:\s*[A-Z_]+\s*:\s*/, '').replace(/^\/onnxruntime_src\/\S+\s+/, '');
  // Failed checks read "<C++ expression> was false. <what went wrong>": keep what went wrong.
  const check = cleaned.indexOf(' was false. ');
  if (check !== -1) cleaned = cleaned.slice(check + ' was false. '.length);
  return cleaned.length > 240 ? cleaned.slice(0, 237) + '...' : cleaned;
}

export type SessionFactory<S> = (provider: ProviderName) => Promise<S>;

export interface OpenedSession<S> {
  session: S;
  provider: ProviderName;
  attempts: ProviderAttempt[];
}

/**
 * Tries each candidate provider in turn. With `auto`, the first that works wins and the failures
 * become reasons; with an explicit device, a failure is an error that says what to do.
 * Failures that are the model's fault (a corrupt file) are not provider failures: `isModelError`
 * stops the loop so the real cause is reported instead of "cpu failed too".
 */
export async function openWithFallback<S>(
  device: DeviceSetting,
  open: SessionFactory<S>,
  isModelError: (error: unknown) => boolean = () => false,
  platform: NodeJS.Platform = process.platform,
): Promise<OpenedSession<S>> {
  // Settings files and command lines can hold anything (`kestrel.device: 12`): say so, not "undefined".
  if (!DEVICE_SETTINGS.includes(device)) {
    throw new EngineError('provider-unavailable', `${JSON.stringify(device)} is not a device: kestrel.device must be one of ${DEVICE_SETTINGS.join(', ')}.`);
  }
  const attempts: ProviderAttempt[] = [];
  for (const provider of providerCandidates(device, platform)) {
    try {
      const session = await open(provider);
      attempts.push({ provider, ok: true });
      return { session, provider, attempts };
    } catch (error) {
      if (isModelError(error)) throw error;
      attempts.push({ provider, ok: false, reason: shortReason(errorMessage(error)) });
    }
  }
  const tried = attempts.map((a) => `${a.provider}: ${a.reason ?? 'failed'}`).join('; ');
  if (device === 'auto') throw new EngineError('provider-unavailable', `No ONNX Runtime execution provider could run the model (${tried}).`);
  throw new EngineError(
    'provider-unavailable',
    `The "${device}" device is not available (${tried}). ${providerHint(device)} Or set kestrel.device to "auto" to fall back to the CPU.`,
  );
}

function providerHint(device: ProviderName): string {
  switch (device) {
    case 'cuda':
      return 'CUDA needs an NVIDIA GPU, its driver and ONNX Runtime\'s CUDA provider libraries (reinstall onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12).';
    case 'webgpu':
      return 'WebGPU needs a GPU driver with Vulkan (Linux), Metal (macOS) or Direct3D 12 (Windows).';
    case 'dml':
      return 'DirectML runs on Windows only.';
    case 'coreml':
      return 'Core ML runs on macOS only.';
    case 'cpu':
      return 'The CPU provider ships with onnxruntime-node: check that its native binary matches this platform.';
  }
}

/** The summary a status line shows: "cpu (cuda: Failed to load shared library; webgpu: no adapter)". */
export function describeAttempts(provider: string, attempts: readonly ProviderAttempt[]): string {
  const failed = attempts.filter((a) => !a.ok);
  if (failed.length === 0) return provider;
  return `${provider} (${failed.map((a) => `${a.provider}: ${a.reason ?? 'failed'}`).join('; ')})`;
}
