/**
 * What the worker's main thread, the index thread (indexThread.ts) and the builder thread
 * (builderThread.ts) say to each other, as method tables for threadRpc.ts: the calls each thread
 * answers with their results, and the events it raises. Everything here must survive structured cloning.
 */
import type { DeviceSetting } from '../shared/devices/deviceSetting';
import type { Chunk } from './chunker';
import type { EmbedKind } from './embedder';
import type { FusionWeights } from './fusion';
import type { FileUpdate, IndexProgress, IndexRunSummary } from './indexer';
import type { SearchHit, SearchOptions } from './search';
import type { SkippedPath, WalkOptions } from './walker';
import type { IndexStatus } from './workspaceIndex';

/** What the index thread is started with (worker_threads' workerData). */
export interface IndexThreadData {
  /** PriorityGate.shared of the main thread: indexing pauses while it counts foreground work. */
  gate: SharedArrayBuffer;
  /** Chunks per embedding call. */
  embedBatch: number;
  /** The builder thread's bundle. */
  builderFile: string;
  /** Run the builder thread at the lowest CPU priority (Linux only; see builderThread.ts). */
  lowerPriority: boolean;
}

/** What the builder thread is started with. */
export interface BuilderThreadData {
  lowerPriority: boolean;
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
  /** Length of each vector. */
  dimension: number;
  /** The search fusion the model records (kestrel.json's embedding.fusion), when it does. */
  fusion?: FusionWeights;
  /** Search's relevance floor for this model (kestrel.json's embedding.minVectorSimilarity), when recorded. */
  minVectorSimilarity?: number;
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
  /** ONNX Runtime embedding sessions open in each thread (one model in memory: 0 here, 1 in the builder). */
  embeddingSessions: { args: Record<string, never>; result: { indexThread: number; builderThread: number } };
}

export type HostMethod = keyof HostMethods;
export type HostArgs<M extends HostMethod> = HostMethods[M]['args'];
export type HostResult<M extends HostMethod> = HostMethods[M]['result'];

/** The builder thread's calls: the CPU-heavy part of indexing, chunking and embedding code. */
export interface BuilderMethods {
  /** Loads the embedding model (null: none, chunks sized by an estimate); null when none was asked for. */
  load: { args: { dir: string | null; device: DeviceSetting }; result: EmbedderLoad | null };
  chunk: { args: { text: string; language: string }; result: Chunk[] };
  /** Texts to vectors, in order: the index's chunks (code), and the queries of search (query). */
  embed: { args: { texts: string[]; kind: EmbedKind }; result: Float32Array[] };
  /** ONNX Runtime embedding sessions open in this thread. */
  embeddingSessions: { args: Record<string, never>; result: number };
}

export type LogEvent = { type: 'log'; level: 'info' | 'warn'; message: string };

/** Raised by the index thread, not answering a call. */
export type HostEvent =
  | { type: 'progress'; key: string; progress: IndexProgress }
  | { type: 'rebuilt'; key: string; reason: string }
  | LogEvent;
