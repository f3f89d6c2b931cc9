/**
 * Cross-file context for the prompt: signatures of imported project names and the most similar
 * snippets from other open files, rendered as Python comments that go before the prefix window
 * (the way Continue and Tabby feed context to FIM models). It is computed from the imports and from
 * the lines above the cursor line, so it stays the same while the user types along a line and the
 * prompt keeps its KV-cache prefix.
 */
import { relative, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PythonSyntax } from '../syntax/python';
import { importedSignatures, parseImports } from './imports';
import { similarSnippets, WindowCache, type OpenDocument } from './snippets';

export interface ContextRequest {
  uri: string;
  prefix: string;
  suffix: string;
  documents: readonly OpenDocument[];
}

/** How much of the prompt the context may take, in characters (tokens are counted by the prompt builder). */
const MAX_CONTEXT_CHARS = 1600;

function displayPath(uri: string, from: string): string {
  try {
    const path = uri.startsWith('file:') ? fileURLToPath(uri) : uri;
    const base = from.startsWith('file:') ? dirname(fileURLToPath(from)) : dirname(from);
    return relative(base, path) || path;
  } catch {
    return uri;
  }
}

export function renderContext(
  uri: string,
  signatures: ReadonlyArray<{ path: string; name: string; signature: string }>,
  snippets: ReadonlyArray<{ uri: string; text: string }>,
  maxChars = MAX_CONTEXT_CHARS,
): string {
  const blocks: string[] = [];
  const byPath = new Map<string, string[]>();
  for (const s of signatures) byPath.set(s.path, [...(byPath.get(s.path) ?? []), s.signature]);
  for (const [path, sigs] of byPath) blocks.push([`# ${displayPath(path, uri)}`, ...sigs.flatMap((s) => s.split('\n'))].map(comment).join('\n'));
  for (const snippet of snippets) blocks.push([`# ${displayPath(snippet.uri, uri)}`, ...snippet.text.split('\n')].map(comment).join('\n'));
  let text = '';
  for (const block of blocks) {
    if (text.length + block.length + 1 > maxChars) break;
    text += block + '\n';
  }
  return text;
}

function comment(line: string): string {
  return line.startsWith('# ') ? line : `# ${line}`.trimEnd();
}

export class CrossFileContext {
  private last: { key: string; text: string } | null = null;
  private readonly windows = new WindowCache();

  constructor(private readonly python: PythonSyntax | undefined) {}

  build(request: ContextRequest): string {
    const lineStart = request.prefix.lastIndexOf('\n') + 1;
    const above = request.prefix.slice(Math.max(0, request.prefix.lastIndexOf('\n', lineStart - 2000)), lineStart);
    const imports = JSON.stringify(parseImports(request.prefix + request.suffix));
    const docs = request.documents.filter((d) => d.uri !== request.uri && (d.languageId ?? 'python') === 'python');
    const key = [request.uri, imports, above.slice(-1500), ...docs.map((d) => `${d.uri}:${d.text.length}`)].join('\u0000');
    if (this.last?.key === key) return this.last.text;
    const signatures = this.python ? importedSignatures(this.python, request.uri, request.prefix + request.suffix, docs) : [];
    const snippets = similarSnippets(request.prefix.slice(0, lineStart), request.uri, docs, undefined, this.windows);
    const text = renderContext(request.uri, signatures, snippets);
    this.last = { key, text };
    return text;
  }
}
