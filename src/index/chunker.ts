/**
 * Splits a file into the pieces that are searched and embedded: one chunk per function, method,
 * class and type declaration for languages with a grammar (a class that fits the token budget is
 * one chunk; a larger one becomes a header chunk plus one chunk per member), top-level code between
 * definitions as blocks, and line windows for every other text file or when parsing fails. No chunk
 * exceeds the embedder's token budget: longer definitions are split at line boundaries.
 */
import type { Node, Parser } from 'web-tree-sitter';
import { BETWEEN_DOC_AND_DEFINITION, COMMENT_TYPES, rulesFor, type Definition, type LanguageRules } from './chunkRules';
import type { Embedder } from './embedder';
import type { GrammarLoader } from '../shared/grammars/grammars';
import { isSyntaxLanguage, type SyntaxLanguage } from '../shared/languages/languages';

/** Part of the index signature: bump when chunk boundaries or fields change (forces a re-chunk). */
export const CHUNKER_VERSION = 1;

export type ChunkKind = 'function' | 'method' | 'class' | 'type' | 'block' | 'window';

/** Zero-based, end exclusive in characters (LSP's shape, so the worker can pass it on as is). */
export interface TextRange {
  start: { line: number; character: number };
  end: { line: number; character: number };
}

export interface Chunk {
  kind: ChunkKind;
  /** Definition name ('' for blocks and windows). */
  name: string;
  /** Enclosing class, trait or impl for methods and class members. */
  container: string;
  range: TextRange;
  /** Doc comment or docstring, markers stripped ('' when none). */
  doc: string;
  text: string;
}

export interface ChunkerOptions {
  /** Tokens the embedder would see for a text (its tokenizer, or an estimate). */
  countTokens(text: string): number;
  /** Largest chunk in tokens (the embedder's code budget). */
  maxTokens: number;
  /** Lines per window for files without a grammar and for top-level code (default 40). */
  windowLines?: number;
}

interface Span {
  startLine: number;
  /** Exclusive. */
  endLine: number;
}

export class Chunker {
  private readonly parsers = new Map<SyntaxLanguage, Parser>();
  private readonly windowLines: number;

  constructor(
    private readonly grammars: GrammarLoader,
    private readonly options: ChunkerOptions,
  ) {
    this.windowLines = options.windowLines ?? 40;
  }

  /** Chunks of one file; never throws for bad input (a grammar that fails gives line windows). */
  async chunk(text: string, language: string): Promise<Chunk[]> {
    const lines = text.split('\n');
    if (isSyntaxLanguage(language)) {
      const parser = await this.parserFor(language).catch(() => undefined);
      const tree = parser?.parse(text);
      if (tree) {
        try {
          return this.chunkTree(tree.rootNode, lines, rulesFor(language));
        } finally {
          tree.delete();
        }
      }
    }
    return this.windows(lines, { startLine: 0, endLine: lines.length }, 'window');
  }

  /** Frees the parsers (the grammars stay loaded in the GrammarLoader). */
  dispose(): void {
    for (const parser of this.parsers.values()) parser.delete();
    this.parsers.clear();
  }

  private async parserFor(language: SyntaxLanguage): Promise<Parser> {
    let parser = this.parsers.get(language);
    if (!parser) {
      parser = await this.grammars.parser(language);
      this.parsers.set(language, parser);
    }
    return parser;
  }

  private chunkTree(root: Node, lines: string[], rules: LanguageRules): Chunk[] {
    const chunks: Chunk[] = [];
    const covered = new Uint8Array(lines.length);
    for (const definition of findDefinitions(root, rules)) {
      const span = this.emitDefinition(definition, '', lines, rules, chunks);
      covered.fill(1, span.startLine, span.endLine);
    }
    // Top-level code between definitions (imports, constants, scripts) is searchable too.
    let start = -1;
    for (let line = 0; line <= lines.length; line++) {
      const free = line < lines.length && covered[line] === 0;
      if (free && start === -1) start = line;
      if (!free && start !== -1) {
        chunks.push(...this.windows(lines, { startLine: start, endLine: line }, 'block'));
        start = -1;
      }
    }
    return chunks.sort((a, b) => a.range.start.line - b.range.start.line || a.range.end.line - b.range.end.line);
  }

  /** Appends the definition's chunks; returns the lines it covers, doc comment included. */
  private emitDefinition(definition: Definition, container: string, lines: string[], rules: LanguageRules, out: Chunk[]): Span {
    const doc = docOf(definition, rules);
    const span = spanWithDoc(definition, doc.startLine);
    const text = sliceLines(lines, span);
    const kind = definition.kind === 'function' && container !== '' ? 'method' : definition.kind;
    const owner = definition.container ?? container;
    const base = { kind, name: definition.name, container: owner, doc: doc.text };
    if (definition.kind !== 'class' || this.options.countTokens(text) <= this.options.maxTokens) {
      out.push(...this.fit(lines, span, base));
      return span;
    }
    // A large container: its header (signature, docstring, fields, member signatures), then members.
    const members = findDefinitions(definition.inner, rules);
    const memberSpans = members.map((m) => spanWithDoc(m, docOf(m, rules).startLine));
    const firstMember = memberSpans[0]?.startLine ?? span.endLine;
    const headerLines = lines.slice(span.startLine, firstMember);
    for (const member of members) headerLines.push(lines[member.inner.startPosition.row] ?? '');
    const header: Span = { startLine: span.startLine, endLine: Math.max(span.startLine + 1, firstMember) };
    const headerText = this.truncate(headerLines.join('\n'));
    out.push({ ...base, range: rangeOf(lines, header), text: headerText });
    const memberOwner = owner === '' ? definition.name : `${owner}.${definition.name}`;
    for (const member of members) this.emitDefinition(member, memberOwner, lines, rules, out);
    return span;
  }

  /** The span as one chunk, or cut at line boundaries into pieces that fit the budget. */
  private fit(lines: string[], span: Span, base: Omit<Chunk, 'range' | 'text'>): Chunk[] {
    const text = sliceLines(lines, span);
    if (this.options.countTokens(text) <= this.options.maxTokens) return [{ ...base, range: rangeOf(lines, span), text }];
    const pieces: Chunk[] = [];
    for (const piece of this.pieces(lines, span)) pieces.push({ ...base, range: rangeOf(lines, piece.span), text: piece.text });
    return pieces;
  }

  private windows(lines: string[], span: Span, kind: 'block' | 'window'): Chunk[] {
    const chunks: Chunk[] = [];
    for (let start = span.startLine; start < span.endLine; start += this.windowLines) {
      const window: Span = { startLine: start, endLine: Math.min(span.endLine, start + this.windowLines) };
      const trimmed = trimBlankLines(lines, window);
      // A closing brace or `end` left between definitions says nothing.
      if (!trimmed || !/[\p{L}\p{N}]/u.test(sliceLines(lines, trimmed))) continue;
      chunks.push(...this.fit(lines, trimmed, { kind, name: '', container: '', doc: '' }));
    }
    return chunks;
  }

  /** Greedy line packing under the budget; a single line over budget is cut by characters. */
  private pieces(lines: string[], span: Span): { span: Span; text: string }[] {
    const { countTokens, maxTokens } = this.options;
    const out: { span: Span; text: string }[] = [];
    let start = span.startLine;
    let used = 0;
    for (let line = span.startLine; line < span.endLine; line++) {
      const cost = countTokens((lines[line] ?? '') + '\n');
      if (line > start && used + cost > maxTokens) {
        out.push({ span: { startLine: start, endLine: line }, text: this.truncate(sliceLines(lines, { startLine: start, endLine: line })) });
        start = line;
        used = 0;
      }
      used += cost;
    }
    if (start < span.endLine) out.push({ span: { startLine: start, endLine: span.endLine }, text: this.truncate(sliceLines(lines, { startLine: start, endLine: span.endLine })) });
    return out.filter((p) => p.text.trim() !== '');
  }

  /** Cuts text to the budget (binary search on length): for the rare line or header over it. */
  private truncate(text: string): string {
    const { countTokens, maxTokens } = this.options;
    if (countTokens(text) <= maxTokens) return text;
    let low = 0;
    let high = text.length;
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      if (countTokens(text.slice(0, mid)) <= maxTokens) low = mid;
      else high = mid - 1;
    }
    return text.slice(0, low);
  }
}

/** Definitions below `node`, not descending into the ones found (nested functions stay inside). */
function findDefinitions(node: Node, rules: LanguageRules): Definition[] {
  const found: Definition[] = [];
  const visit = (current: Node): void => {
    for (const child of current.namedChildren) {
      if (!child) continue;
      const definition = rules.describe(child);
      if (definition && definition.name !== '') found.push(definition);
      else visit(child);
    }
  };
  visit(node);
  return found;
}

interface DocComment {
  text: string;
  /** First line of the comment block above the definition, or -1 when the doc is a docstring or absent. */
  startLine: number;
}

function docOf(definition: Definition, rules: LanguageRules): DocComment {
  const docstring = rules.docstring?.(definition.inner);
  if (docstring !== undefined) return { text: cleanDoc(docstring), startLine: -1 };
  const comments: Node[] = [];
  let expectedEnd = definition.node.startPosition.row;
  let sibling = definition.node.previousNamedSibling;
  while (sibling) {
    if (BETWEEN_DOC_AND_DEFINITION.has(sibling.type)) {
      expectedEnd = sibling.startPosition.row;
      sibling = sibling.previousNamedSibling;
      continue;
    }
    // Only a comment block that touches the definition (no blank line between) documents it.
    if (!COMMENT_TYPES.has(sibling.type) || sibling.endPosition.row < expectedEnd - 1) break;
    comments.unshift(sibling);
    expectedEnd = sibling.startPosition.row;
    sibling = sibling.previousNamedSibling;
  }
  if (comments.length === 0) return { text: '', startLine: -1 };
  return { text: cleanDoc(comments.map((c) => stripCommentMarkers(c.text)).join('\n')), startLine: (comments[0] as Node).startPosition.row };
}

function stripCommentMarkers(comment: string): string {
  return comment
    .replace(/^\/\*\*?!?/, '')
    .replace(/\*\/$/, '')
    .split('\n')
    .map((line) => line.replace(/^\s*(\/\/[/!]?|#|\*(?!\/))\s?/, ''))
    .join('\n');
}

function cleanDoc(doc: string): string {
  const lines = doc.split('\n');
  // Docstrings indent every line but the first: remove the common indentation.
  const indents = lines.slice(1).filter((l) => l.trim() !== '').map((l) => (/^\s*/.exec(l) as RegExpExecArray)[0].length);
  const common = indents.length > 0 ? Math.min(...indents) : 0;
  return [lines[0] ?? '', ...lines.slice(1).map((l) => l.slice(common))].join('\n').trim();
}

function spanWithDoc(definition: Definition, docStartLine: number): Span {
  const start = definition.node.startPosition.row;
  const end = definition.node.endPosition.row;
  // A node that ends at column 0 ends on the line before (its trailing newline).
  const endLine = definition.node.endPosition.column === 0 && end > start ? end : end + 1;
  return { startLine: docStartLine >= 0 ? Math.min(docStartLine, start) : start, endLine };
}

function sliceLines(lines: string[], span: Span): string {
  return lines.slice(span.startLine, span.endLine).join('\n');
}

function rangeOf(lines: string[], span: Span): TextRange {
  const last = Math.max(span.startLine, span.endLine - 1);
  return { start: { line: span.startLine, character: 0 }, end: { line: last, character: (lines[last] ?? '').length } };
}

function trimBlankLines(lines: string[], span: Span): Span | undefined {
  let { startLine, endLine } = span;
  while (startLine < endLine && (lines[startLine] ?? '').trim() === '') startLine++;
  while (endLine > startLine && (lines[endLine - 1] ?? '').trim() === '') endLine--;
  return startLine < endLine ? { startLine, endLine } : undefined;
}

/** Budget for chunks when no model counts tokens: about 4 characters a token. */
const ESTIMATED_MAX_TOKENS = 256;
const estimateTokens = (text: string): number => Math.ceil(text.length / 4);

/** The chunker whose chunks fit the embedder's token budget (an estimate of it without one). */
export function chunkerFor(embedder: Pick<Embedder, 'countTokens' | 'maxCodeTokens'> | null, grammars: GrammarLoader): Chunker {
  return new Chunker(grammars, {
    countTokens: embedder ? (text) => embedder.countTokens(text) : estimateTokens,
    maxTokens: embedder?.maxCodeTokens ?? ESTIMATED_MAX_TOKENS,
  });
}
