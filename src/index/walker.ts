/**
 * Finds the files of the workspace folders worth indexing, and records every file or folder left
 * out with its reason (for "Show Index Status"). Rules, in order: version-control folders, exclude
 * globs (files.exclude + kestrel.index.exclude), nested .gitignore files, secret names, binary or
 * generated names, symlink loops, FIFOs, sockets and devices (or links to them), the size limit,
 * then a look at the first bytes (binary, minified, generated). Secrets are never opened, and every
 * file is read through readRegularFile: a regular file after following links, up to the limit.
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import type { Dirent, Stats } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { NotReadableFileError, fileTypeOf, onDisk, readRegularFile, readRegularHead } from '../shared/files/regularFile';
import { HEAD_BYTES, VCS_FOLDERS, skipByContent, skipByName, type SkipReason } from './fileFilters';
import { GitignoreFile, IgnoreStack } from './gitignore';
import { GlobSet } from './glob';
import { languageOf } from '../shared/languages/languages';

export interface WalkOptions {
  /** Absolute paths of the workspace folders. */
  roots: readonly string[];
  /** Globs relative to each folder (files.exclude keys set to true, kestrel.index.exclude). */
  exclude?: readonly string[];
  /** Files larger than this are skipped (kestrel.index.maxFileSizeKB x 1024). */
  maxFileBytes?: number;
  /** Index .env files, keys and certificates too. Off unless a user insists. */
  includeSecrets?: boolean;
  /** Honour .gitignore files (default true). */
  useGitignore?: boolean;
  signal?: AbortSignal;
}

export interface WalkedFile {
  /** The workspace folder it belongs to. */
  root: string;
  /** Absolute path as found (through symlinks, not resolved). */
  path: string;
  /** Relative to the root, '/'-separated: what globs and the UI see. */
  rel: string;
  size: number;
  mtimeMs: number;
  language: string;
}

export interface SkippedPath {
  path: string;
  rel: string;
  reason: SkipReason;
  isDirectory: boolean;
  detail?: string;
}

export interface WalkResult {
  files: WalkedFile[];
  skipped: SkippedPath[];
}

export const DEFAULT_MAX_FILE_BYTES = 512 * 1024;
/** A .gitignore larger than this is not read (real ones are a few kilobytes). */
const MAX_GITIGNORE_BYTES = 1024 * 1024;

/** Files of one folder checked at once: enough to overlap disk latency, few enough for 2 cores. */
const FILE_CONCURRENCY = 16;

interface Rules {
  exclude: GlobSet;
  maxFileBytes: number;
  includeSecrets: boolean;
  useGitignore: boolean;
}

function rulesOf(options: WalkOptions): Rules {
  return {
    exclude: new GlobSet(options.exclude ?? []),
    maxFileBytes: options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES,
    includeSecrets: options.includeSecrets ?? false,
    useGitignore: options.useGitignore ?? true,
  };
}

function toRel(root: string, path: string): string {
  const rel = relative(root, path);
  return sep === '/' ? rel : rel.split(sep).join('/');
}

async function readGitignore(dir: string, base: string): Promise<GitignoreFile | undefined> {
  try {
    return GitignoreFile.parse(base, (await readRegularFile(join(dir, '.gitignore'), MAX_GITIGNORE_BYTES)).toString('utf8'));
  } catch {
    return undefined;
  }
}

/** What a directory entry that is neither a file, a folder nor a link is ("FIFO (named pipe)"...). */
function specialTypeOf(entry: Dirent): string {
  if (entry.isFIFO()) return 'FIFO (named pipe)';
  if (entry.isCharacterDevice()) return 'character device';
  if (entry.isBlockDevice()) return 'block device';
  if (entry.isSocket()) return 'socket';
  return 'special file';
}

/** A walk's skip record for a file that could not be read, with the reason the reader gave. */
export function unreadable(path: string, rel: string, error: unknown): SkippedPath {
  if (error instanceof NotReadableFileError) return { path, rel, reason: error.reason, isDirectory: false, detail: error.detail };
  return { path, rel, reason: 'unreadable', isDirectory: false, detail: String(error) };
}

/** Walks every root; never throws for one unreadable path (it becomes a skip record). */
export async function walkWorkspace(options: WalkOptions): Promise<WalkResult> {
  const rules = rulesOf(options);
  const result: WalkResult = { files: [], skipped: [] };
  const visitedDirs = new Set<string>();
  for (const root of options.roots) {
    let real: string;
    try {
      real = await realpath(root);
    } catch (error) {
      result.skipped.push({ path: root, rel: '', reason: 'unreadable', isDirectory: true, detail: String(error) });
      continue;
    }
    if (visitedDirs.has(real)) continue;
    visitedDirs.add(real);
    await walkDirectory(root, root, new IgnoreStack(), [real], visitedDirs, rules, result, options.signal);
  }
  return result;
}

async function walkDirectory(
  root: string,
  dir: string,
  inherited: IgnoreStack,
  ancestors: string[],
  visitedDirs: Set<string>,
  rules: Rules,
  result: WalkResult,
  signal: AbortSignal | undefined,
): Promise<void> {
  signal?.throwIfAborted();
  const relDir = toRel(root, dir);
  const ignores = rules.useGitignore ? inherited.with(await readGitignore(dir, relDir)) : inherited;
  let entries;
  try {
    entries = await readdir(await onDisk(dir), { withFileTypes: true });
  } catch (error) {
    result.skipped.push({ path: dir, rel: relDir, reason: 'unreadable', isDirectory: true, detail: String(error) });
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const files: string[] = [];
  const subdirs: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    const rel = relDir === '' ? entry.name : `${relDir}/${entry.name}`;
    let isDirectory = entry.isDirectory();
    if (entry.isSymbolicLink()) {
      let target: Stats;
      try {
        target = await stat(await onDisk(path));
      } catch (error) {
        result.skipped.push({ path, rel, reason: 'unreadable', isDirectory: false, detail: `broken symlink (${String(error)})` });
        continue;
      }
      isDirectory = target.isDirectory();
      if (!isDirectory && !target.isFile()) {
        result.skipped.push({ path, rel, reason: 'special-file', isDirectory: false, detail: `link to a ${fileTypeOf(target)}` });
        continue;
      }
    } else if (!isDirectory && !entry.isFile()) {
      result.skipped.push({ path, rel, reason: 'special-file', isDirectory: false, detail: specialTypeOf(entry) });
      continue;
    }
    if (isDirectory && VCS_FOLDERS.has(entry.name)) continue;
    const reason = pathRuleVerdict(rel, isDirectory, ignores, rules);
    if (reason) {
      result.skipped.push({ path, rel, reason, isDirectory });
      continue;
    }
    (isDirectory ? subdirs : files).push(path);
  }
  for (let i = 0; i < files.length; i += FILE_CONCURRENCY) {
    signal?.throwIfAborted();
    const checked = await Promise.all(files.slice(i, i + FILE_CONCURRENCY).map((path) => inspectFile(root, path, rules)));
    for (const item of checked) {
      if ('reason' in item) result.skipped.push(item);
      else result.files.push(item);
    }
  }
  for (const path of subdirs) {
    const rel = toRel(root, path);
    let real: string;
    try {
      real = await realpath(await onDisk(path));
    } catch (error) {
      result.skipped.push({ path, rel, reason: 'unreadable', isDirectory: true, detail: String(error) });
      continue;
    }
    if (ancestors.includes(real)) {
      result.skipped.push({ path, rel, reason: 'symlink-loop', isDirectory: true, detail: `links back to ${real}` });
      continue;
    }
    if (visitedDirs.has(real)) {
      result.skipped.push({ path, rel, reason: 'duplicate-symlink', isDirectory: true, detail: `already indexed as ${real}` });
      continue;
    }
    visitedDirs.add(real);
    await walkDirectory(root, path, ignores, [...ancestors, real], visitedDirs, rules, result, signal);
  }
}

/** Verdict of the rules that need only the path: excludes, .gitignore, names. */
function pathRuleVerdict(rel: string, isDirectory: boolean, ignores: IgnoreStack, rules: Rules): SkipReason | undefined {
  if (rules.exclude.matches(rel)) return 'excluded';
  if (ignores.ignores(rel, isDirectory)) return 'gitignore';
  if (isDirectory) return undefined;
  const byName = skipByName(rel);
  if (byName === 'secret' && rules.includeSecrets) return undefined;
  return byName;
}

/** Size and content checks of one file that passed the path rules. */
async function inspectFile(root: string, path: string, rules: Rules): Promise<WalkedFile | SkippedPath> {
  const rel = toRel(root, path);
  try {
    const { head, stats } = await readRegularHead(path, HEAD_BYTES, rules.maxFileBytes);
    const byContent = skipByContent(head);
    if (byContent) return { path, rel, reason: byContent, isDirectory: false };
    return { root, path, rel, size: stats.size, mtimeMs: stats.mtimeMs, language: languageOf(path) };
  } catch (error) {
    return unreadable(path, rel, error);
  }
}

/**
 * Applies the walk's rules to one file (after a save or a file event) without walking: reads the
 * .gitignore files on the way from its root. Returns undefined when it lies under no root.
 */
export async function checkFile(path: string, options: WalkOptions): Promise<WalkedFile | SkippedPath | undefined> {
  const rules = rulesOf(options);
  const root = [...options.roots]
    .filter((r) => { const rel = relative(r, path); return rel !== '' && !rel.startsWith('..') && !rel.startsWith(sep); })
    .sort((a, b) => b.length - a.length)[0];
  if (root === undefined) return undefined;
  const rel = toRel(root, path);
  const parts = rel.split('/');
  let ignores = new IgnoreStack();
  let dir = root;
  for (let i = 0; i < parts.length - 1; i++) {
    if (rules.useGitignore) ignores = ignores.with(await readGitignore(dir, parts.slice(0, i).join('/')));
    const folderRel = parts.slice(0, i + 1).join('/');
    const folder = join(dir, parts[i] as string);
    if (VCS_FOLDERS.has(parts[i] as string)) return { path: folder, rel: folderRel, reason: 'excluded', isDirectory: true, detail: 'version control folder' };
    const reason = pathRuleVerdict(folderRel, true, ignores, rules);
    if (reason) return { path: folder, rel: folderRel, reason, isDirectory: true };
    dir = folder;
  }
  if (rules.useGitignore) ignores = ignores.with(await readGitignore(dirname(path), parts.slice(0, -1).join('/')));
  try {
    if ((await stat(await onDisk(path))).isDirectory()) return undefined;
  } catch (error) {
    return { path, rel, reason: 'unreadable', isDirectory: false, detail: String(error) };
  }
  const reason = pathRuleVerdict(rel, false, ignores, rules);
  if (reason) return { path, rel, reason, isDirectory: false };
  return inspectFile(root, path, rules);
}

export function isSkipped(item: WalkedFile | SkippedPath): item is SkippedPath {
  return 'reason' in item;
}
