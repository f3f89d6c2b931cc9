/**
 * Every custom request and notification between the Kestrel extension (client) and the Kestrel
 * worker (server), declared once. Both sides import these constants; no method string appears
 * anywhere else. Any LSP client can use them too (see README, "Other editors").
 */
import { RequestType, RequestType0, NotificationType } from 'vscode-languageserver-protocol';

import type { DeviceSetting } from './devices';
export { DEVICE_SETTINGS, type DeviceSetting } from './devices';

export interface LoadedModel {
  id: string;
  kind: 'completion' | 'embedding';
  variant: string;
  /** The ONNX Runtime execution provider that actually runs the model. */
  provider: string;
}

export interface WorkerStatus {
  /** Kestrel's version, from package.json at build time. */
  version: string;
  pid: number;
  uptimeMs: number;
  memory: { rssBytes: number; heapUsedBytes: number };
  models: LoadedModel[];
  device: {
    requested: DeviceSetting;
    /** Provider in use, or null while no model is loaded. */
    active: string | null;
  };
}

export namespace StatusRequest {
  /** client -> server: the worker's version, process, memory, loaded models and device. */
  export const method = 'kestrel/status' as const;
  export const type = new RequestType0<WorkerStatus, void>(method);
}

/** Settings the worker needs, pushed by the client at start and whenever they change. */
export interface WorkerSettings {
  device: DeviceSetting;
  model: string;
  modelPaths: string[];
  /** Most tokens one completion may generate (kestrel.completions.maxTokens); absent: the engine's defaults. */
  completionMaxTokens?: number;
}

export namespace SettingsNotification {
  /** client -> server: the current worker settings; applied live, without a restart. */
  export const method = 'kestrel/settings' as const;
  export const type = new NotificationType<WorkerSettings>(method);
}

// --- Completion models -------------------------------------------------------------------------

/** One ONNX file of a model (fp32, int8, fp16) as found on disk. */
export interface ModelVariantInfo {
  name: string;
  file: string;
  sizeBytes: number;
  /** Execution providers this variant suits. */
  providers: string[];
  /** Why the file cannot be used (missing, truncated, not ONNX); absent when it looks right. */
  problem?: string;
}

/** A model folder found in the shipped models/ or in kestrel.modelPaths. */
export interface ModelInfo {
  id: string;
  displayName: string;
  kind: 'completion' | 'embedding' | 'unknown';
  languages: string[];
  dir: string;
  variants: ModelVariantInfo[];
  /** What makes the model unusable; empty when it can load. */
  problems: string[];
  /** True for the completion model the worker runs now. */
  loaded: boolean;
}

/** The model the worker runs (or the one asked about), with where and how it runs. */
export interface ModelDescription {
  id: string;
  displayName: string;
  dir: string;
  languages: string[];
  contextLength: number;
  fimMode: string;
  /** The variant in use (fp32, int8, fp16) and its size on disk. */
  variant: string;
  sizeBytes: number;
  /** The ONNX Runtime execution provider that runs it. */
  provider: string;
  /** Providers tried first and why they did not run it, e.g. "cuda: Failed to load shared library". */
  providerFallbacks: string[];
  loadMs: number;
  /** Training record and metrics from kestrel.json, as written there. */
  training?: unknown;
  metrics?: unknown;
}

export namespace ListModelsRequest {
  /** client -> server: every model folder found (usable or not, with what is wrong). */
  export const method = 'kestrel/listModels' as const;
  export const type = new RequestType0<ModelInfo[], void>(method);
}

export interface SelectModelParams {
  /** Model id; empty selects the default. */
  id: string;
  /** Force a variant (fp32, int8, fp16); omitted picks the best for the provider. */
  variant?: string;
}

export namespace SelectModelRequest {
  /**
   * client -> server: load a model now (the previous one serves until it is ready). Fails with the
   * reason when the model cannot load; the previous model then stays. The client should also save
   * the choice in kestrel.model so the next start uses it.
   */
  export const method = 'kestrel/selectModel' as const;
  export const type = new RequestType<SelectModelParams, ModelDescription, void>(method);
}

export namespace DescribeModelRequest {
  /** client -> server: the completion model in use, or null while none is loaded. */
  export const method = 'kestrel/describeModel' as const;
  export const type = new RequestType0<ModelDescription | null, void>(method);
}

/** What the worker's completion model is doing, pushed whenever it changes. */
export type ModelState =
  | { state: 'none' }
  | { state: 'loading'; id: string }
  | { state: 'ready'; model: ModelDescription }
  | { state: 'error'; id: string; message: string };

export namespace ModelStateNotification {
  /** server -> client: the completion model started loading, is ready, failed, or none is wanted. */
  export const method = 'kestrel/modelState' as const;
  export const type = new NotificationType<ModelState>(method);
}
