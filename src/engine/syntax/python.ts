/**
 * Python syntax through tree-sitter (web-tree-sitter 0.25 with tree-sitter-wasms' grammar): decides
 * single- versus multi-line completions from the parse tree and tells whether a suggestion adds
 * syntax errors. WebAssembly only, so it loads in plain Node and in VS Code's Electron alike.
 *
 * The .wasm files are found by src/shared/grammars/grammars.ts, the one tree-sitter loader of the project.
 */
import type { Edit, Node, Parser, Tree } from 'web-tree-sitter';
import { GrammarLoader } from '../../shared/grammars/grammars';
import { chooseMultiline } from '../context/mode';

/** Statements and clauses whose ":" opens an indented block. */
const BLOCK_OWNERS = new Set([
  'function_definition', 'class_definition', 'if_statement', 'elif_clause', 'else_clause', 'for_statement',
  'while_statement', 'try_statement', 'except_clause', 'except_group_clause', 'finally_clause', 'with_statement',
  'match_statement', 'case_clause',
]);

/** How far above and below the cursor line the syntax checks look. */
const BEFORE_CHARS = 3000;
const AFTER_CHARS = 1500;

export class PythonSyntax {
  /**
   * The last tree the error check parsed, with its text. Consecutive checks differ by a keystroke and
   * a suggestion, so the next check parses incrementally from it instead of from scratch.
   */
  private last: { text: string; tree: Tree } | null = null;

  private constructor(private readonly parser: Parser) {}

  /** Loads the Python grammar through the process's grammar loader (one tree-sitter runtime for all). */
  static async load(grammars: GrammarLoader = new GrammarLoader()): Promise<PythonSyntax> {
    return new PythonSyntax(await grammars.parser('python'));
  }

  parse(text: string, previous?: Tree): Tree {
    const tree = this.parser.parse(text, previous);
    if (!tree) throw new Error('tree-sitter returned no tree');
    return tree;
  }

  /**
   * Multi-line when the cursor ends a block header (its ":" belongs to a def, class, if, for, ...)
   * or sits on a blank line right after one — also for headers spread over several lines, which the
   * text rule cannot see — or on a blank line of an empty body (text rule).
   */
  decideMultiline(prefix: string, suffix: string): boolean {
    const lineSuffix = suffix.slice(0, (suffix.indexOf('\n') + 1 || suffix.length + 1) - 1);
    if (lineSuffix.trim() !== '') return false;
    const { text, offset } = windowAround(prefix, suffix);
    let last = offset - 1;
    while (last >= 0 && /\s/.test(text.charAt(last))) last--;
    const between = text.slice(last + 1, offset);
    if (last >= 0 && text.charAt(last) === ':' && (between.match(/\n/g) ?? []).length <= 1) {
      const tree = this.parse(text);
      try {
        const node = tree.rootNode.descendantForIndex(last, last + 1);
        if (node?.type === ':' && node.parent && BLOCK_OWNERS.has(node.parent.type)) return true;
        if (node?.type === ':') return false;
      } finally {
        tree.delete();
      }
    }
    return chooseMultiline(prefix, suffix);
  }

  /** True when inserting `completion` at the cursor leaves more syntax errors than the document has now. */
  addsErrors(prefix: string, completion: string, suffix: string): boolean {
    const { text, offset } = windowAround(prefix, suffix);
    const withCompletion = text.slice(0, offset) + completion + text.slice(offset);
    const after = this.parseAfterLast(withCompletion);
    let kept = false;
    try {
      const errorsAfter = countErrors(after);
      // with no errors the suggestion cannot have added any: the document's own parse is not needed
      if (errorsAfter === 0) {
        this.keep(withCompletion, after);
        kept = true;
        return false;
      }
      // The document without the suggestion is the same tree with the insertion taken back; an
      // incremental parse re-reads only around the edit (a third of a full parse while typing).
      const start = pointAt(text, offset);
      after.edit({
        startIndex: offset,
        oldEndIndex: offset + completion.length,
        newEndIndex: offset,
        startPosition: start,
        oldEndPosition: pointAfter(start, completion),
        newEndPosition: start,
      });
      const before = this.parse(text, after);
      this.keep(text, before);
      return errorsAfter > countErrors(before);
    } finally {
      if (!kept) after.delete();
    }
  }

  /** Parses `text` incrementally from the last kept tree (edited to the difference), or from scratch. */
  private parseAfterLast(text: string): Tree {
    const last = this.last;
    if (!last) return this.parse(text);
    this.last = null;
    try {
      last.tree.edit(editBetween(last.text, text));
      return this.parse(text, last.tree);
    } finally {
      last.tree.delete();
    }
  }

  private keep(text: string, tree: Tree): void {
    this.last?.tree.delete();
    this.last = { text, tree };
  }

  /** Error and missing nodes in `text`, parsed from scratch (the tests compare the incremental path with it). */
  countErrors(text: string): number {
    const tree = this.parse(text);
    try {
      return countErrors(tree);
    } finally {
      tree.delete();
    }
  }
}

function countErrors(tree: Tree): number {
  if (!tree.rootNode.hasError) return 0;
  let count = 0;
  const visit = (node: Node): void => {
    if (node.isError || node.isMissing) count++;
    if (!node.hasError) return;
    for (const child of node.children) if (child) visit(child);
  };
  visit(tree.rootNode);
  return count;
}

/** The one edit that turns `from` into `to`: what lies between their common beginning and common end. */
function editBetween(from: string, to: string): Edit {
  const most = Math.min(from.length, to.length);
  let start = 0;
  while (start < most && from.charCodeAt(start) === to.charCodeAt(start)) start++;
  let tail = 0;
  while (tail < most - start && from.charCodeAt(from.length - 1 - tail) === to.charCodeAt(to.length - 1 - tail)) tail++;
  // a surrogate pair cut in two would put the edit inside a character: widen it by one unit
  if (start > 0 && isHighSurrogate(to.charCodeAt(start - 1))) start--;
  if (tail > 0 && isLowSurrogate(to.charCodeAt(to.length - tail))) tail--;
  const startPosition = pointAt(to, start);
  return {
    startIndex: start,
    oldEndIndex: from.length - tail,
    newEndIndex: to.length - tail,
    startPosition,
    oldEndPosition: pointAfter(startPosition, from.slice(start, from.length - tail)),
    newEndPosition: pointAfter(startPosition, to.slice(start, to.length - tail)),
  };
}

const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number): boolean => code >= 0xdc00 && code <= 0xdfff;

/** Row and column (UTF-16 code units, as web-tree-sitter counts for string input) of `offset`. */
function pointAt(text: string, offset: number): { row: number; column: number } {
  let row = 0;
  for (let at = text.indexOf('\n'); at !== -1 && at < offset; at = text.indexOf('\n', at + 1)) row++;
  return { row, column: offset - (text.lastIndexOf('\n', offset - 1) + 1) };
}

/** The point reached from `start` after `inserted`. */
function pointAfter(start: { row: number; column: number }, inserted: string): { row: number; column: number } {
  const lastBreak = inserted.lastIndexOf('\n');
  if (lastBreak === -1) return { row: start.row, column: start.column + inserted.length };
  let breaks = 0;
  for (let at = inserted.indexOf('\n'); at !== -1; at = inserted.indexOf('\n', at + 1)) breaks++;
  return { row: start.row + breaks, column: inserted.length - lastBreak - 1 };
}

/**
 * The code around the cursor, cut at line starts so it parses as whole statements: from the least
 * indented line within BEFORE_CHARS above the cursor line down to the first line after the cursor
 * line that is no deeper (within AFTER_CHARS). Syntax questions are local, and parsing a few
 * kilobytes instead of the file keeps each check near a millisecond. Cuts inside a block leave the
 * same spurious errors before and after inserting a completion, so comparisons still hold.
 */
export function windowAround(prefix: string, suffix: string): { text: string; offset: number } {
  const cursorLineStart = prefix.lastIndexOf('\n') + 1;
  let start = 0;
  let indent = 0;
  if (prefix.length > BEFORE_CHARS) {
    const from = prefix.indexOf('\n', Math.max(0, cursorLineStart - BEFORE_CHARS));
    start = from === -1 || from >= cursorLineStart ? cursorLineStart : from + 1;
    indent = Infinity;
    for (let at = start; at < cursorLineStart; ) {
      const end = prefix.indexOf('\n', at);
      const line = prefix.slice(at, end === -1 ? cursorLineStart : end);
      const body = line.trimStart();
      const depth = line.length - body.length;
      if (body !== '' && !body.startsWith('#') && !/^[)\]}]/.test(body) && depth < indent) {
        indent = depth;
        start = at;
        if (depth === 0) break;
      }
      if (end === -1) break;
      at = end + 1;
    }
    if (indent === Infinity) indent = 0;
  }
  let end = suffix.length;
  if (suffix.length > AFTER_CHARS) {
    end = AFTER_CHARS;
    for (let at = suffix.indexOf('\n') + 1; at > 0 && at < AFTER_CHARS; ) {
      const next = suffix.indexOf('\n', at);
      const line = suffix.slice(at, next === -1 ? suffix.length : next);
      const body = line.trimStart();
      if (body !== '' && !body.startsWith('#') && line.length - body.length <= indent && at > 0) {
        end = at;
        break;
      }
      if (next === -1) break;
      end = next;
      at = next + 1;
    }
  }
  const head = prefix.slice(start);
  return { text: head + suffix.slice(0, end), offset: head.length };
}
