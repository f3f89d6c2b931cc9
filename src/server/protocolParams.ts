/**
 * The params of every request and notification a client sends to the worker (src/protocol.ts and
 * the LSP inline completion request), as schemas the handlers are registered with (see
 * validatedHandlers.ts). Each is typed by its protocol type, so a change to one fails to compile
 * until the other follows.
 */
import type { InlineCompletionParams } from 'vscode-languageserver/node';
import { VARIANTS } from '../shared/models/manifest';
import {
  DEVICE_SETTINGS,
  type FilesChangedParams,
  type PrefetchParams,
  type SearchParams,
  type SelectModelParams,
  type SimilarParams,
  type WorkerSettings,
} from '../protocol';
import { array, boolean, finite, integer, object, oneOf, optional, string, type Schema } from './paramsSchema';

const PATH = string(4096);
const position = object<{ line: number; character: number }>({ line: integer(0), character: integer(0) });
const textDocument = object<{ uri: string }>({ uri: string(8192) });

/** Filters of search and similar; `limit` is clamped to 1..200 by the index feature. */
const filters = {
  languages: optional(array(string(64), 64)),
  pathGlob: optional(string(1000)),
  limit: optional(finite(-1e9, 1e9)),
};

export const searchParams: Schema<SearchParams> = object<SearchParams>({ query: string(10_000), ...filters });

export const similarParams: Schema<SimilarParams> = object<SimilarParams>({
  // a selection of code: long is fine, the embedder reads only its first tokens
  code: string(1_000_000),
  notIn: optional(object<NonNullable<SimilarParams['notIn']>>({ path: PATH, startLine: integer(0), endLine: integer(0) })),
  ...filters,
});

export const selectModelParams: Schema<SelectModelParams> = object<SelectModelParams>({ id: string(256), variant: optional(oneOf(VARIANTS)) });

export const filesChangedParams: Schema<FilesChangedParams> = object<FilesChangedParams>({
  changes: array(object<FilesChangedParams['changes'][number]>({ path: PATH, kind: oneOf(['created', 'changed', 'deleted'] as const) }), 100_000),
});

export const prefetchParams: Schema<PrefetchParams> = object<PrefetchParams>({ textDocument, position });

/** textDocument/inlineCompletion: the fields the worker reads (the context is not used). */
export const inlineCompletionParams: Schema<Pick<InlineCompletionParams, 'textDocument' | 'position'>> = object<Pick<InlineCompletionParams, 'textDocument' | 'position'>>({ textDocument, position });

/**
 * Each field of the worker settings on its own: settings are applied field by field, so one wrong
 * value (`kestrel.device: 12`) falls back to its default, with a message, and the rest still apply.
 */
export const workerSettingsFields: { [K in keyof WorkerSettings]-?: Schema<WorkerSettings[K]> } = {
  device: oneOf(DEVICE_SETTINGS),
  model: string(256),
  modelPaths: array(PATH, 256),
  completionMaxTokens: optional(integer(1, 4096)),
  indexEnable: optional(boolean),
  indexStorage: optional(PATH),
  workspaceFolders: optional(array(PATH, 1024)),
  indexExclude: optional(array(string(1000), 10_000)),
  indexMaxFileSizeKB: optional(finite(1, 1024 * 1024)),
  projectCache: optional(boolean),
};

/** The user's names of the settings behind the worker's fields, for messages. */
export const SETTING_NAMES: Partial<Record<keyof WorkerSettings, string>> = {
  device: 'kestrel.device',
  model: 'kestrel.model',
  modelPaths: 'kestrel.modelPaths',
  completionMaxTokens: 'kestrel.completions.maxTokens',
  indexEnable: 'kestrel.index.enable',
  indexExclude: 'kestrel.index.exclude (with files.exclude)',
  indexMaxFileSizeKB: 'kestrel.index.maxFileSizeKB',
  projectCache: 'kestrel.completions.projectCache',
};
