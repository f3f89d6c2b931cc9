/**
 * Every custom request and notification between the Kestrel extension (client) and the Kestrel
 * worker (server), declared once. Both sides import these constants; no method string appears
 * anywhere else. Any LSP client can use them too (see README, "Other editors").
 */
import { RequestType0, NotificationType } from 'vscode-languageserver-protocol';

/** Which compute device the user asked for (setting `kestrel.device`). */
export type DeviceSetting = 'auto' | 'cpu' | 'cuda' | 'webgpu' | 'dml' | 'coreml';
export const DEVICE_SETTINGS: readonly DeviceSetting[] = ['auto', 'cpu', 'cuda', 'webgpu', 'dml', 'coreml'];

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
}

export namespace SettingsNotification {
  /** client -> server: the current worker settings; applied live, without a restart. */
  export const method = 'kestrel/settings' as const;
  export const type = new NotificationType<WorkerSettings>(method);
}
