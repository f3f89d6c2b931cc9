import { fileURLToPath } from 'node:url';
import type { Connection, TextDocuments } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { errorMessage, isAbortError } from '../shared/errors/errors';
import type { ProjectCache } from '../engine/projectCache/projectCache';
import { splitStable } from '../engine/tokenize/chunks';
import type { KestrelTokenizer } from '../engine/tokenize/tokenizer';
import { ForegroundWatch, type PriorityGate } from '../index/priorityGate';
import { walkWorkspace } from '../index/walker';
import { ProjectCacheNotification, type ProjectCacheParams, type WorkerSettings } from '../protocol';
import type { Feature } from './feature';
import type { Logger } from './logger';
import type { SettingsStore } from './settings';
import { readRegularFile } from '../shared/files/regularFile';

/** Characters encoded between two yields to the event loop (about 20 ms of BPE on the 2-core machine). */
const SLICE_CHARS = 16 * 1024;
/** Progress notifications at most this often (the last one of a read is always sent). */
const NOTIFY_INTERVAL_MS = 500;
const DEFAULT_MAX_FILE_BYTES = 512 * 1024;

/** The cache's key for a document: its path for file URIs (as the workspace reader sees it), else the URI. */
export function cacheKeyOf(uri: string): string {
  if (!uri.startsWith('file:')) return uri;
  try {
    return fileURLToPath(uri);
  } catch {
    return uri;
  }
}

/** What the feature needs of the completion side: the loaded model's cache, and word of each new model. */
export interface ProjectCacheSource {
  projectCache(): { cache: ProjectCache; tokenizer: KestrelTokenizer } | null;
  onModelLoaded(listener: () => void): void;
}

interface ReadConfig {
  enabled: boolean;
  folders: string[];
  exclude: string[];
  maxFileBytes: number;
}

function readConfig(settings: WorkerSettings): ReadConfig {
  return {
    enabled: settings.projectCache ?? true,
    folders: [...(settings.workspaceFolders ?? [])],
    exclude: [...(settings.indexExclude ?? [])],
    maxFileBytes: Math.max(1, settings.indexMaxFileSizeKB ?? DEFAULT_MAX_FILE_BYTES / 1024) * 1024,
  };
}

/**
 * Feeds the project cache (engine/projectCache): open documents on every change, and in the
 * background the workspace's Python files, found by the index's walker rules (ignored, excluded,
 * huge, binary, minified, generated and secret files are never read). Reading yields to
 * completions through the same PriorityGate indexing waits on, and encodes a file in slices so a
 * keystroke's request is never stuck behind a long file. kestrel.completions.projectCache turns it
 * off (and empties the cache) live.
 */
export class ProjectCacheFeature implements Feature {
  private connection: Connection | null = null;
  private config: ReadConfig | null = null;
  private controller = new AbortController();
  private reading: Promise<void> = Promise.resolve();
  private isReading = false;
  private lastNotified = 0;
  private notifyTimer: NodeJS.Timeout | undefined;
  private readonly watch: ForegroundWatch;

  constructor(
    private readonly settings: SettingsStore,
    private readonly documents: TextDocuments<TextDocument>,
    private readonly source: ProjectCacheSource,
    private readonly log: Logger,
    gate: PriorityGate,
  ) {
    this.watch = new ForegroundWatch(gate.shared);
  }

  register(connection: Connection): void {
    this.connection = connection;
    this.documents.onDidChangeContent(({ document }) => this.feedDocument(document));
    this.settings.onDidChange((next) => this.reconfigure(readConfig(next)));
    this.source.onModelLoaded(() => this.restart());
  }

  /** The cache's figures as the status tooltip shows them. */
  status(): ProjectCacheParams {
    const target = this.source.projectCache();
    const enabled = (this.config?.enabled ?? true) && target !== null;
    const stats = target?.cache.stats();
    return {
      enabled,
      files: stats?.files ?? 0,
      tokens: stats?.tokens ?? 0,
      bytes: stats?.bytes ?? 0,
      reading: this.isReading,
      evictedFiles: stats?.evictedFiles ?? 0,
    };
  }

  private get enabled(): boolean {
    return this.config?.enabled ?? true;
  }

  private feedDocument(document: TextDocument): void {
    const target = this.source.projectCache();
    if (!this.enabled || !target || document.languageId !== 'python') return;
    const key = cacheKeyOf(document.uri);
    const text = document.getText();
    // Over the size limit of workspace files it is left out, as its file is: encoding a 10 MB
    // document whole would hold the worker for seconds, and its counts would crowd out the rest.
    if (text.length > (this.config?.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES)) {
      if (target.cache.has(key)) target.cache.removeFile(key);
      return;
    }
    target.cache.updateDocument(key, text);
    this.notify(false);
  }

  private reconfigure(next: ReadConfig): void {
    if (JSON.stringify(next) === JSON.stringify(this.config)) return;
    this.config = next;
    this.restart();
  }

  /** Starts over: after a model load (a new, empty cache), a settings change, or turning the cache on or off. */
  private restart(): void {
    this.controller.abort();
    const controller = new AbortController();
    this.controller = controller;
    const previous = this.reading;
    this.reading = (async () => {
      await previous;
      const target = this.source.projectCache();
      if (!target) return;
      if (!this.enabled) {
        target.cache.clear();
        this.notify(true);
        return;
      }
      for (const document of this.documents.all()) this.feedDocument(document);
      await this.readWorkspace(target, controller.signal);
    })().catch((error: unknown) => {
      if (!isAbortError(error) && !controller.signal.aborted) this.log.error(`project cache: ${errorMessage(error)}`);
    });
  }

  private async readWorkspace(target: { cache: ProjectCache; tokenizer: KestrelTokenizer }, signal: AbortSignal): Promise<void> {
    const config = this.config;
    if (!config || config.folders.length === 0) return;
    this.isReading = true;
    this.notify(true);
    try {
      const started = performance.now();
      const walked = await walkWorkspace({ roots: config.folders, exclude: config.exclude, maxFileBytes: config.maxFileBytes, signal });
      let read = 0;
      for (const file of walked.files) {
        if (file.language !== 'python' || target.cache.has(file.path)) continue;
        await this.watch.whenClear();
        signal.throwIfAborted();
        let text: string;
        try {
          text = (await readRegularFile(file.path, config.maxFileBytes)).toString('utf8');
        } catch (error) {
          this.log.debug(`project cache: could not read ${file.path}: ${errorMessage(error)}`);
          continue;
        }
        const ids = await this.encodeYielding(target.tokenizer, text, signal);
        // an open document fed meanwhile keeps its live text (setFile ignores the disk version)
        target.cache.setFile(file.path, ids);
        read++;
        this.notify(false);
      }
      const stats = target.cache.stats();
      this.log.info(
        `project cache: read ${read} Python files in ${((performance.now() - started) / 1000).toFixed(1)} s; ` +
          `${stats.files} files, ${stats.tokens} tokens, ${(stats.bytes / 2 ** 20).toFixed(1)} MB` +
          (stats.evictedFiles > 0 ? `, ${stats.evictedFiles} dropped for the memory budget` : ''),
      );
    } finally {
      if (this.controller.signal === signal) {
        this.isReading = false;
        this.notify(true);
      }
    }
  }

  /** The file's ids, encoded a slice at a time with the event loop and completions let through in between. */
  private async encodeYielding(tokenizer: KestrelTokenizer, text: string, signal: AbortSignal): Promise<number[]> {
    const ids: number[] = [];
    let slice = '';
    const flush = async (): Promise<void> => {
      for (const id of tokenizer.encodeRaw(slice)) ids.push(id);
      slice = '';
      await new Promise((resume) => setImmediate(resume));
      await this.watch.whenClear();
      signal.throwIfAborted();
    };
    // stable cuts: the slices' ids concatenate to the whole text's
    for (const piece of splitStable(text)) {
      slice += piece;
      if (slice.length >= SLICE_CHARS) await flush();
    }
    if (slice.length > 0) await flush();
    return ids;
  }

  private notify(now: boolean): void {
    if (!this.connection) return;
    const send = (): void => {
      this.notifyTimer = undefined;
      this.lastNotified = performance.now();
      void this.connection?.sendNotification(ProjectCacheNotification.type, this.status());
    };
    if (now || performance.now() - this.lastNotified >= NOTIFY_INTERVAL_MS) {
      clearTimeout(this.notifyTimer);
      send();
    } else {
      this.notifyTimer ??= setTimeout(send, NOTIFY_INTERVAL_MS);
    }
  }

  async shutdown(): Promise<void> {
    this.controller.abort();
    clearTimeout(this.notifyTimer);
    await this.reading;
  }
}
