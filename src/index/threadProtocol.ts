/**
 * The messages between the worker's main thread and the index thread (indexThread.ts): calls of an
 * IndexHost method with their results, cancellation of a call, and events the host raises
 * (progress, a database rebuilt, a log line). Everything here must survive structured cloning.
 */
import type { DeviceSetting } from '../devices';
import type { FileUpdate, IndexProgress, IndexRunSummary } from './indexer';
import type { SearchHit, SearchOptions } from './search';
import type { SkippedPath, WalkOptions } from './walker';
import type { IndexStatus } from './workspaceIndex';

/** What the thread is started with (worker_threads' workerData). */
export interface IndexThreadData {
  /** PriorityGate.shared of the main thread: indexing pauses while it counts foreground work. */
  gate: SharedArrayBuffer;
  /** Lower the thread's CPU priority (Linux only; see indexThread.ts). */
  lowerPriority: boolean;
  /** Chunks per embedding call. */
  embedBatch: number;
}

/** The embedder as loaded inside the thread, for the status and the log. */
export interface EmbedderInfo {
  /** Model id and variant (the index signature's part). */
  id: string;
  modelId: string;
  variant: string;
  provider: string;
  /** "cpu", or "cpu (cuda: ...)" when faster providers failed. */
  providerSummary: string;
}

export type EmbedderLoad = { loaded: EmbedderInfo } | { failed: string };

export type WalkSettings = Omit<WalkOptions, 'signal'>;

/** Every call the host answers: its arguments and its result. */
export interface HostMethods {
  loadEmbedder: { args: { dir: string; device: DeviceSetting }; result: EmbedderLoad };
  open: { args: { key: string; storageFolder: string; walk: WalkSettings }; result: null };
  update: { args: { key: string }; result: IndexRunSummary };
  rebuild: { args: { key: string }; result: IndexRunSummary };
  updateFile: { args: { key: string; path: string }; result: FileUpdate };
  removeFile: { args: { key: string; path: string }; result: null };
  search: { args: { key: string; query: string; options: SearchOptions }; result: SearchHit[] };
  similar: { args: { key: string; code: string; options: SearchOptions }; result: SearchHit[] };
  status: { args: { key: string }; result: IndexStatus };
  skipped: { args: { key: string; limit: number }; result: SkippedPath[] };
  close: { args: { key: string }; result: null };
  /** Closes every index and releases the embedder: the thread may then be terminated. */
  dispose: { args: Record<string, never>; result: null };
}

export type HostMethod = keyof HostMethods;
export type HostArgs<M extends HostMethod> = HostMethods[M]['args'];
export type HostResult<M extends HostMethod> = HostMethods[M]['result'];

export interface CallMessage<M extends HostMethod = HostMethod> {
  type: 'call';
  id: number;
  method: M;
  args: HostArgs<M>;
}

export interface CancelMessage {
  type: 'cancel';
  id: number;
}

export type ToThread = CallMessage | CancelMessage;

export interface ResultMessage {
  type: 'result';
  id: number;
  value: unknown;
}

export interface ErrorMessage {
  type: 'error';
  id: number;
  /** Error.name: 'AbortError' for a cancelled call. */
  name: string;
  message: string;
}

/** Raised by the host, not answering a call. */
export type HostEvent =
  | { type: 'progress'; key: string; progress: IndexProgress }
  | { type: 'rebuilt'; key: string; reason: string }
  | { type: 'log'; level: 'info' | 'warn'; message: string };

export type FromThread = ResultMessage | ErrorMessage | HostEvent;
