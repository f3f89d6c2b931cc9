/**
 * Snippets from other open files that look like the code around the cursor (Continue's and
 * Copilot's "neighbouring tabs"): windows of lines scored by Jaccard similarity of their identifier
 * sets against the lines just above the cursor. The cursor line itself is left out of the query, so
 * the choice — and with it the prompt's start, which sits in the KV cache — holds still while the
 * user types along a line.
 */
export interface OpenDocument {
  uri: string;
  text: string;
  languageId?: string;
}

export interface Snippet {
  uri: string;
  /** 0-based first line of the window. */
  line: number;
  text: string;
  score: number;
}

export interface SnippetOptions {
  /** Lines above the cursor that form the query. */
  queryLines: number;
  /** Lines per candidate window, and the step between windows. */
  windowLines: number;
  stride: number;
  /** Most snippets returned, and the least score worth showing. */
  limit: number;
  minScore: number;
}

export const DEFAULT_SNIPPET_OPTIONS: SnippetOptions = { queryLines: 20, windowLines: 16, stride: 8, limit: 2, minScore: 0.2 };

const IDENTIFIER = /[A-Za-z_][A-Za-z0-9_]*/g;
/** Words too common in Python to say two pieces of code are alike. */
const STOP_WORDS = new Set([
  'self', 'def', 'return', 'if', 'else', 'elif', 'for', 'in', 'import', 'from', 'class', 'None', 'True', 'False',
  'and', 'or', 'not', 'is', 'with', 'as', 'try', 'except', 'pass', 'while', 'int', 'str', 'len', 'print',
]);

export function identifiers(text: string): Set<string> {
  const found = new Set<string>();
  for (const match of text.matchAll(IDENTIFIER)) if (!STOP_WORDS.has(match[0]) && match[0].length > 1) found.add(match[0]);
  return found;
}

export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 || b.size === 0) return 0;
  let shared = 0;
  for (const x of a) if (b.has(x)) shared++;
  return shared / (a.size + b.size - shared);
}

/** Most documents looked at, and the largest one, so a keystroke never scans a whole workspace. */
const MAX_DOCUMENTS = 20;
const MAX_DOCUMENT_CHARS = 256 * 1024;

interface Window {
  line: number;
  text: string;
  ids: Set<string>;
}

/** Windows of a document with their identifier sets, kept while the document's text is unchanged. */
export class WindowCache {
  private readonly byUri = new Map<string, { text: string; windows: Window[] }>();

  windows(doc: OpenDocument, options: SnippetOptions): Window[] {
    const cached = this.byUri.get(doc.uri);
    if (cached && cached.text === doc.text) return cached.windows;
    const lines = doc.text.split('\n');
    const windows: Window[] = [];
    for (let start = 0; start < lines.length; start += options.stride) {
      const text = lines.slice(start, start + options.windowLines).join('\n');
      windows.push({ line: start, text, ids: identifiers(text) });
      if (start + options.windowLines >= lines.length) break;
    }
    this.byUri.set(doc.uri, { text: doc.text, windows });
    if (this.byUri.size > MAX_DOCUMENTS * 2) this.byUri.delete(this.byUri.keys().next().value as string);
    return windows;
  }
}

export function similarSnippets(
  prefix: string,
  currentUri: string,
  documents: readonly OpenDocument[],
  options: SnippetOptions = DEFAULT_SNIPPET_OPTIONS,
  cache: WindowCache = new WindowCache(),
): Snippet[] {
  const above = prefix.slice(0, prefix.lastIndexOf('\n') + 1).split('\n');
  const query = identifiers(above.slice(-options.queryLines - 1).join('\n'));
  if (query.size === 0) return [];
  const scored: Snippet[] = [];
  const candidates = documents.filter((d) => d.uri !== currentUri && d.text.length <= MAX_DOCUMENT_CHARS).slice(0, MAX_DOCUMENTS);
  for (const doc of candidates) {
    let best: Snippet | null = null;
    for (const window of cache.windows(doc, options)) {
      const score = jaccard(query, window.ids);
      if (!best || score > best.score) best = { uri: doc.uri, line: window.line, text: window.text, score };
    }
    if (best && best.score >= options.minScore) scored.push(best);
  }
  return scored.sort((a, b) => b.score - a.score).slice(0, options.limit);
}
