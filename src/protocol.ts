/**
 * Every custom request and notification between the Kestrel extension (client) and the Kestrel
 * worker (server), declared once. Both sides import these constants; no method string appears
 * anywhere else. Any LSP client can use them too (see README, "Other editors").
 */
import { RequestType, RequestType0, NotificationType } from 'vscode-languageserver-protocol';

import type { DeviceSetting } from './shared/devices/deviceSetting';
export { DEVICE_SETTINGS, type DeviceSetting } from './shared/devices/deviceSetting';

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
  /** kestrel.index.enable; absent: on. */
  indexEnable?: boolean;
  /** Folder for the index databases (the extension's workspace storage); absent: no index. */
  indexStorage?: string;
  /** Absolute paths of the workspace folders to index. */
  workspaceFolders?: string[];
  /** Globs to leave out: kestrel.index.exclude plus files.exclude keys set to true. */
  indexExclude?: string[];
  /** kestrel.index.maxFileSizeKB. */
  indexMaxFileSizeKB?: number;
  /** kestrel.completions.projectCache: mix the project cache of the workspace's code into completions; absent: on. */
  projectCache?: boolean;
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
  /**
   * GPUs the worker found on this machine, [] for none, null where it cannot tell (not Linux). A
   * fallback to the CPU is worth a warning only when there was a GPU to fall back from.
   */
  gpus: string[] | null;
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

// --- Workspace index and search ----------------------------------------------------------------

/** A zero-based line/character position and range, as in LSP. */
export interface IndexRange {
  start: { line: number; character: number };
  end: { line: number; character: number };
}

/** Filters shared by search and similar. */
export interface SearchFilters {
  /** Only these language ids (e.g. ['python']). */
  languages?: string[];
  /** Only paths matching this glob, relative to the workspace folder ('*.py' means any depth). */
  pathGlob?: string;
  /** Results wanted (default 20, at most 200). */
  limit?: number;
}

export interface SearchParams extends SearchFilters {
  query: string;
}

export interface SimilarParams extends SearchFilters {
  code: string;
  /** The file the code comes from and its lines, left out of the results. */
  notIn?: { path: string; startLine: number; endLine: number };
}

export interface SearchHitInfo {
  /** Absolute path on disk. */
  path: string;
  /** Relative to its workspace folder, '/'-separated. */
  rel: string;
  language: string;
  /** Function, class, method... as the chunker named it, and the enclosing name. */
  kind: string;
  name: string;
  container: string;
  /** The chunk's range in the file. */
  range: IndexRange;
  /** A few lines of the chunk around the best-matching lines. */
  snippet: string;
  /** Zero-based line of the snippet's first line. */
  snippetLine: number;
  score: number;
}

export interface SearchResult {
  hits: SearchHitInfo[];
  /** Why there are no hits beyond "nothing matched" (index off, no workspace folder, still indexing). */
  notice?: string;
  elapsedMs: number;
}

export namespace SearchRequest {
  /** client -> server: hybrid (BM25 + vectors when an embedder runs) search of the workspace index. */
  export const method = 'kestrel/search' as const;
  export const type = new RequestType<SearchParams, SearchResult, void>(method);
}

export namespace SimilarRequest {
  /** client -> server: chunks most like a piece of code ("Find Similar Code"). */
  export const method = 'kestrel/similar' as const;
  export const type = new RequestType<SimilarParams, SearchResult, void>(method);
}

export interface IndexProgressInfo {
  phase: 'walking' | 'indexing' | 'done';
  filesDone: number;
  filesTotal: number;
  filesSeen: number;
  chunksDone: number;
  skipped: number;
}

export interface SkippedPathInfo {
  rel: string;
  reason: string;
  isDirectory: boolean;
  detail?: string;
}

export interface FolderIndexStatus {
  folder: string;
  /** Folder of the index database (the extension's workspace storage). */
  storage: string;
  state: 'opening' | 'idle' | 'indexing' | 'error';
  error?: string;
  progress?: IndexProgressInfo;
  lastRun?: { filesSeen: number; filesIndexed: number; filesUnchanged: number; filesRemoved: number; chunksWritten: number; skipped: number; durationMs: number; cancelled: boolean };
  /** ISO time of the last run that went to the end. */
  lastCompleteRun?: string;
  files: number;
  chunks: number;
  vectors: number;
  databaseBytes: number;
  skippedCounts: Record<string, number>;
  /** Up to 200 skipped paths with their reasons. */
  skipped: SkippedPathInfo[];
  rebuiltBecause?: string;
}

export interface IndexStatusInfo {
  enabled: boolean;
  /** Embedder id (model/variant), or null: BM25 only. */
  embedder: string | null;
  /** Why no embedder runs, when none does. */
  embedderNote?: string;
  indexing: boolean;
  folders: FolderIndexStatus[];
}

export namespace IndexStatusRequest {
  /** client -> server: what is indexed, by which embedder, and what was skipped and why. */
  export const method = 'kestrel/indexStatus' as const;
  export const type = new RequestType0<IndexStatusInfo, void>(method);
}

export namespace RebuildIndexRequest {
  /** client -> server: empty every folder's index and index everything again; resolves when done or cancelled. */
  export const method = 'kestrel/rebuildIndex' as const;
  export const type = new RequestType0<IndexStatusInfo, void>(method);
}

export namespace CancelIndexRequest {
  /** client -> server: stop the index run in flight (the next start or file change resumes it). */
  export const method = 'kestrel/cancelIndex' as const;
  export const type = new RequestType0<void, void>(method);
}

export type FileChangeKind = 'created' | 'changed' | 'deleted';

export interface FilesChangedParams {
  changes: Array<{ path: string; kind: FileChangeKind }>;
}

export namespace FilesChangedNotification {
  /** client -> server: files created, saved or deleted on disk (a rename is a delete and a create). */
  export const method = 'kestrel/filesChanged' as const;
  export const type = new NotificationType<FilesChangedParams>(method);
}

export interface IndexProgressParams {
  /** True while any folder is being indexed. */
  indexing: boolean;
  /** Summed over folders. */
  progress: IndexProgressInfo;
  embedder: string | null;
}

export namespace IndexProgressNotification {
  /** server -> client: indexing started, advanced or ended. */
  export const method = 'kestrel/indexProgress' as const;
  export const type = new NotificationType<IndexProgressParams>(method);
}

// --- Project cache ---------------------------------------------------------------------------------

/** The project cache (an n-gram model of the workspace's own code mixed into completions) as it fills. */
export interface ProjectCacheParams {
  /** kestrel.completions.projectCache, and whether a completion model is loaded to count tokens for. */
  enabled: boolean;
  /** Files read so far: open documents and workspace Python files. */
  files: number;
  tokens: number;
  bytes: number;
  /** Whether workspace files are still being read in the background. */
  reading: boolean;
  /** Workspace files dropped to stay within the memory budget. */
  evictedFiles: number;
}

export namespace ProjectCacheNotification {
  /** server -> client: the project cache read more files, finished reading, or was turned on or off. */
  export const method = 'kestrel/projectCache' as const;
  export const type = new NotificationType<ProjectCacheParams>(method);
}

export interface PrefetchParams {
  textDocument: { uri: string };
  position: { line: number; character: number };
}

export namespace PrefetchNotification {
  /**
   * client -> server: the client is about to ask for an inline completion here, after its debounce.
   * The worker may fill the model's KV cache with the prompt meanwhile, so the request that follows
   * only decodes. No answer; a later request or prefetch supersedes it.
   */
  export const method = 'kestrel/prefetch' as const;
  export const type = new NotificationType<PrefetchParams>(method);
}

export interface CompletionTimingParams {
  textDocument: { uri: string };
  position: { line: number; character: number };
  /** From the request's arrival to its answer, in the worker. */
  workerMs: number;
  /** Of workerMs, the completion pipeline itself (prompt, model, stop rules, postprocessing). */
  engineMs: number;
  /**
   * Of workerMs, the time spent waiting for the engine: a superseded request or prefetch still
   * finishing its current ONNX Runtime step (steps cannot be interrupted).
   */
  queuedMs: number;
  /** The completion came from the completion cache (no model run). */
  fromCache: boolean;
  /** Present when the model ran. */
  model?: {
    promptTokens: number;
    /** Prompt tokens whose keys and values were already in the KV cache (a prefetch or the last request). */
    reusedTokens: number;
    generatedTokens: number;
    /** Prefill of the prompt tokens not in the cache, plus the first token. */
    timeToFirstTokenMs: number;
    decodeMsPerToken: number;
    finish: string;
    /** Before generation: mode, cache lookup, cross-file context, prompt building. */
    promptMs: number;
    /** After generation: stop rules and syntax checks. */
    postprocessMs: number;
  };
}

export namespace CompletionTimingNotification {
  /**
   * server -> client: where the time of the inline completion just answered went, for the status
   * bar's latency figures and the keystroke benchmark's breakdown.
   */
  export const method = 'kestrel/completionTiming' as const;
  export const type = new NotificationType<CompletionTimingParams>(method);
}
