/**
 * Signatures of the names a Python file imports from other files of the project: the header lines
 * of the imported functions and classes (a class with its method headers), found with tree-sitter in
 * the open documents or on disk next to the importing file.
 */
import { statSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Node } from 'web-tree-sitter';
import { readRegularFileSync } from '../../shared/files/regularFile';
import type { PythonSyntax } from '../syntax/python';
import type { OpenDocument } from './snippets';

export interface ImportedName {
  module: string;
  /** The imported name, or null for `import module` (the module's own top-level names are not listed). */
  name: string | null;
  /** Leading dots of a relative import. */
  level: number;
}

/** `from a.b import c, d as e` / `from . import x` / `import a.b`, at the start of a line (no parsing needed). */
export function parseImports(text: string): ImportedName[] {
  const names: ImportedName[] = [];
  const joined = text.replace(/\(\s*([^)]*?)\s*\)/gs, (_m, inner: string) => inner.replace(/\s*\n\s*/g, ' '));
  for (const line of joined.split('\n')) {
    const from = /^from\s+(\.*)([\w.]*)\s+import\s+(.+)$/.exec(line.trim());
    if (from) {
      const [, dots, module, list] = from as unknown as [string, string, string, string];
      for (const part of list.split(',')) {
        const name = part.trim().split(/\s+as\s+/)[0]?.trim();
        if (name && name !== '*' && /^\w+$/.test(name)) names.push({ module, name, level: dots.length });
      }
      continue;
    }
    const plain = /^import\s+([\w.]+)/.exec(line.trim());
    if (plain) names.push({ module: plain[1] as string, name: null, level: 0 });
  }
  return names;
}

/** Candidate paths of a module, relative to the importing file's folder and its ancestors. */
export function modulePaths(importer: string, imported: ImportedName): string[] {
  const rel = imported.module.split('.').filter(Boolean);
  const candidates: string[] = [];
  const forms = (base: string, parts: string[]): string[] => {
    const path = join(base, ...parts);
    return parts.length === 0 ? [join(base, '__init__.py')] : [path + '.py', join(path, '__init__.py')];
  };
  let dir = dirname(importer);
  if (imported.level > 0) {
    for (let i = 1; i < imported.level; i++) dir = dirname(dir);
    candidates.push(...forms(dir, rel));
    if (imported.name) candidates.push(...forms(dir, [...rel, imported.name]));
    return candidates;
  }
  for (let depth = 0; depth < 6; depth++) {
    candidates.push(...forms(dir, rel));
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return candidates;
}

function uriToPath(uri: string): string | null {
  if (uri.startsWith('file:')) {
    try {
      return fileURLToPath(uri);
    } catch {
      return null;
    }
  }
  return uri.startsWith(sep) || /^[A-Za-z]:[\\/]/.test(uri) ? uri : null;
}

/** The header of a def or class: its text up to the ":" that opens the body. */
function header(node: Node): string {
  const body = node.childForFieldName('body');
  const end = body ? body.startIndex - node.startIndex : node.text.length;
  return node.text.slice(0, end).replace(/\s*$/, '').replace(/\s*\n\s*/g, ' ');
}

/** Top-level definition of `name` in `text`, as signature lines (a class with its methods). */
export function signatureOf(python: PythonSyntax, text: string, name: string): string | null {
  const tree = python.parse(text);
  try {
    for (const child of tree.rootNode.namedChildren) {
      if (!child) continue;
      const def = child.type === 'decorated_definition' ? child.childForFieldName('definition') : child;
      if (!def || (def.type !== 'function_definition' && def.type !== 'class_definition')) continue;
      if (def.childForFieldName('name')?.text !== name) continue;
      if (def.type === 'function_definition') return `${header(def)} ...`;
      const lines = [header(def)];
      const body = def.childForFieldName('body');
      for (const member of body?.namedChildren ?? []) {
        if (!member) continue;
        const inner = member.type === 'decorated_definition' ? member.childForFieldName('definition') : member;
        if (inner?.type === 'function_definition') lines.push(`    ${header(inner)} ...`);
        else if (member.type === 'expression_statement' && /^\w+\s*:/.test(member.text)) lines.push(`    ${member.text.split('\n')[0]}`);
      }
      return lines.join('\n');
    }
    return null;
  } finally {
    tree.delete();
  }
}

/** Modules read from disk, by path; the oldest go first past MAX_CACHED_MODULES so memory stays bounded. */
const fileCache = new Map<string, { mtimeMs: number; text: string }>();
const MAX_CACHED_MODULES = 64;
/** Imported modules larger than this are not read (nor parsed) for signatures. */
const MAX_MODULE_BYTES = 512 * 1024;

/** An imported module's source: from the editor when open, else from disk (a regular file within the limit). */
function readSource(path: string, open: ReadonlyMap<string, string>): string | null {
  const fromEditor = open.get(path);
  if (fromEditor !== undefined) return fromEditor.length <= MAX_MODULE_BYTES ? fromEditor : null;
  try {
    const { mtimeMs } = statSync(path);
    const cached = fileCache.get(path);
    if (cached && cached.mtimeMs === mtimeMs) return cached.text;
    const text = readRegularFileSync(path, MAX_MODULE_BYTES).toString('utf8');
    fileCache.delete(path);
    fileCache.set(path, { mtimeMs, text });
    if (fileCache.size > MAX_CACHED_MODULES) fileCache.delete(fileCache.keys().next().value as string);
    return text;
  } catch {
    return null; // missing, not a regular file, too large or unreadable: no signatures from it
  }
}

/** Signatures of the names `text` imports from project files (open in the editor or on disk). */
export function importedSignatures(
  python: PythonSyntax,
  uri: string,
  text: string,
  documents: readonly OpenDocument[],
  limit = 8,
): Array<{ path: string; name: string; signature: string }> {
  const importer = uriToPath(uri);
  if (!importer) return [];
  const open = new Map<string, string>();
  for (const doc of documents) {
    const path = uriToPath(doc.uri);
    if (path) open.set(path, doc.text);
  }
  const found: Array<{ path: string; name: string; signature: string }> = [];
  for (const imported of parseImports(text)) {
    if (!imported.name || found.length >= limit) continue;
    for (const path of modulePaths(importer, imported)) {
      const source = readSource(path, open);
      if (source === null) continue;
      const signature = signatureOf(python, source, imported.name);
      if (signature) found.push({ path, name: imported.name, signature });
      break;
    }
  }
  return found;
}
