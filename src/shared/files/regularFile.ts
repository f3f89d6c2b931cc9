/**
 * The one way Kestrel reads a file that a workspace (or a model folder) can name: only a regular
 * file, after following links, and never more than a size limit.
 *
 * A path can lead anywhere: `zero.py -> /dev/zero` reads forever, and opening a FIFO blocks until a
 * writer comes, holding one of libuv's four file-system threads for good (enough of them and every
 * later file operation of the process waits). So a file is checked with stat() before it is opened,
 * opened with O_NONBLOCK (a FIFO that appears between the two checks then opens at once instead of
 * blocking), checked again on the open handle, and read up to the limit whatever its size claimed.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { sep } from 'node:path';

/** Why a path is not read: not a regular file, or larger than the limit. */
export class NotReadableFileError extends Error {
  constructor(
    readonly path: string,
    readonly reason: 'special-file' | 'too-large',
    /** What the path is ("FIFO (named pipe)", "character device"...) or its size, for the user. */
    readonly detail: string,
  ) {
    super(reason === 'too-large' ? `${path} is too large (${detail})` : `${path} is not a regular file: it is a ${detail}`);
    this.name = 'NotReadableFileError';
  }
}

/** O_NONBLOCK and O_NOCTTY do not exist on Windows, where FIFOs and ttys are not files anyway. */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

/**
 * The path to hand to the file system for a path string. Node turns strings into UTF-8 bytes, so a
 * name that is not valid UTF-8 (readdir gives it with U+FFFD in place of the bad bytes) cannot be
 * reached through its string. Such components are looked up among their folder's raw names, and
 * the path comes back as bytes; every other path comes back as it is.
 */
export async function onDisk(path: string): Promise<string | Buffer> {
  if (!path.includes('\uFFFD')) return path;
  const parts = path.split(sep);
  let resolved: Buffer = Buffer.from(parts[0] as string);
  for (const part of parts.slice(1)) {
    let name: Buffer = Buffer.from(part);
    if (part.includes('\uFFFD')) {
      const folder = resolved.length > 0 ? resolved : Buffer.from(sep);
      const raw = await readdir(folder, { encoding: 'buffer' }).catch(() => [] as Buffer[]);
      name = raw.find((candidate) => candidate.toString('utf8') === part) ?? name;
    }
    resolved = Buffer.concat([resolved, Buffer.from(sep), name]);
  }
  return resolved;
}

/** What a non-regular file is, in words a user knows. */
export function fileTypeOf(stats: Stats): string {
  if (stats.isFile()) return 'regular file';
  if (stats.isDirectory()) return 'folder';
  if (stats.isFIFO()) return 'FIFO (named pipe)';
  if (stats.isCharacterDevice()) return 'character device';
  if (stats.isBlockDevice()) return 'block device';
  if (stats.isSocket()) return 'socket';
  return 'special file';
}

function check(path: string, stats: Stats, maxBytes: number): void {
  if (!stats.isFile()) throw new NotReadableFileError(path, 'special-file', fileTypeOf(stats));
  if (stats.size > maxBytes) throw new NotReadableFileError(path, 'too-large', `${Math.round(stats.size / 1024)} KB`);
}

/**
 * Opens a regular file for reading (links followed); throws NotReadableFileError for anything else
 * or for a file over `maxBytes`, and the system's error for a missing or unreadable one.
 */
export async function openRegularFile(path: string, maxBytes: number): Promise<{ handle: FileHandle; stats: Stats }> {
  const at = await onDisk(path);
  check(path, await stat(at), maxBytes);
  const handle = await open(at, OPEN_FLAGS);
  try {
    const stats = await handle.stat();
    check(path, stats, maxBytes);
    return { handle, stats };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** At most `bytes` bytes from the start of an open file (fewer when it is shorter). */
async function readUpTo(handle: FileHandle, bytes: number): Promise<Buffer> {
  const buffer = Buffer.alloc(bytes);
  let filled = 0;
  while (filled < bytes) {
    const { bytesRead } = await handle.read(buffer, filled, bytes - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

/**
 * The whole content of a regular file of at most `maxBytes` bytes. A file that grew past the limit
 * since it was checked is refused too: at most `maxBytes + 1` bytes are ever read.
 */
export async function readRegularFile(path: string, maxBytes: number): Promise<Buffer> {
  const { handle, stats } = await openRegularFile(path, maxBytes);
  try {
    const content = await readUpTo(handle, Math.min(stats.size, maxBytes) + 1);
    if (content.length > maxBytes) throw new NotReadableFileError(path, 'too-large', `more than ${Math.round(maxBytes / 1024)} KB`);
    return content;
  } finally {
    await handle.close();
  }
}

/** The first `headBytes` bytes of a regular file of at most `maxBytes`, with its stats. */
export async function readRegularHead(path: string, headBytes: number, maxBytes: number): Promise<{ head: Buffer; stats: Stats }> {
  const { handle, stats } = await openRegularFile(path, maxBytes);
  try {
    return { head: await readUpTo(handle, Math.min(headBytes, stats.size)), stats };
  } finally {
    await handle.close();
  }
}

/** readRegularFile for synchronous callers (model manifests, tokenizers, imported modules). */
export function readRegularFileSync(path: string, maxBytes: number): Buffer {
  check(path, statSync(path), maxBytes);
  const fd = openSync(path, OPEN_FLAGS);
  try {
    const stats = fstatSync(fd);
    check(path, stats, maxBytes);
    const wanted = Math.min(stats.size, maxBytes) + 1;
    const buffer = Buffer.alloc(wanted);
    let filled = 0;
    while (filled < wanted) {
      const read = readSync(fd, buffer, filled, wanted - filled, filled);
      if (read === 0) break;
      filled += read;
    }
    if (filled > maxBytes) throw new NotReadableFileError(path, 'too-large', `more than ${Math.round(maxBytes / 1024)} KB`);
    return buffer.subarray(0, filled);
  } finally {
    closeSync(fd);
  }
}
