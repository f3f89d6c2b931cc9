/**
 * Python syntax through tree-sitter (web-tree-sitter 0.25 with tree-sitter-wasms' grammar): decides
 * single- versus multi-line completions from the parse tree and tells whether a suggestion adds
 * syntax errors. WebAssembly only, so it loads in plain Node and in VS Code's Electron alike.
 *
 * Where the .wasm files are: the worker bundle ships them beside itself (dist/tree-sitter.wasm,
 * dist/grammars/*.wasm, copied by esbuild.mjs); tests and the CLI run from the repository find them
 * in node_modules.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Language, Parser, type Node, type Tree } from 'web-tree-sitter';
import { chooseMultiline } from '../context/mode';

/** Statements and clauses whose ":" opens an indented block. */
const BLOCK_OWNERS = new Set([
  'function_definition', 'class_definition', 'if_statement', 'elif_clause', 'else_clause', 'for_statement',
  'while_statement', 'try_statement', 'except_clause', 'except_group_clause', 'finally_clause', 'with_statement',
  'match_statement', 'case_clause',
]);

/** Longest stretch of text around the cursor that is parsed (whole top-level statements). */
const WINDOW_CHARS = 8000;

function here(): string {
  try {
    return dirname(fileURLToPath(import.meta.url));
  } catch {
    return process.cwd();
  }
}

function locate(bundled: string, packaged: string): string {
  const beside = join(here(), bundled);
  if (existsSync(beside)) return beside;
  return createRequire(join(here(), 'x.js')).resolve(packaged);
}

let parserReady: Promise<void> | null = null;

export class PythonSyntax {
  private constructor(private readonly parser: Parser) {}

  static async load(): Promise<PythonSyntax> {
    parserReady ??= Parser.init({
      locateFile: (name: string, scriptDir: string) => {
        const beside = join(here(), name);
        return existsSync(beside) ? beside : join(scriptDir, name);
      },
    });
    await parserReady;
    const language = await Language.load(locate(join('grammars', 'tree-sitter-python.wasm'), 'tree-sitter-wasms/out/tree-sitter-python.wasm'));
    const parser = new Parser();
    parser.setLanguage(language);
    return new PythonSyntax(parser);
  }

  parse(text: string): Tree {
    const tree = this.parser.parse(text);
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
    const before = this.countErrors(text);
    const after = this.countErrors(text.slice(0, offset) + completion + text.slice(offset));
    return after > before;
  }

  private countErrors(text: string): number {
    const tree = this.parse(text);
    try {
      if (!tree.rootNode.hasError) return 0;
      let count = 0;
      const visit = (node: Node): void => {
        if (node.isError || node.isMissing) count++;
        if (!node.hasError) return;
        for (const child of node.children) if (child) visit(child);
      };
      visit(tree.rootNode);
      return count;
    } finally {
      tree.delete();
    }
  }
}

/**
 * The text around the cursor cut at top-level statement starts (a line beginning with a non-space
 * character), at most WINDOW_CHARS each way, so parsing costs the same in a long file.
 */
export function windowAround(prefix: string, suffix: string): { text: string; offset: number } {
  let start = 0;
  if (prefix.length > WINDOW_CHARS) {
    const from = prefix.length - WINDOW_CHARS;
    const match = /\n(?=[^\s#@)\]}])/g;
    match.lastIndex = from;
    const found = match.exec(prefix);
    start = found && found.index < prefix.lastIndexOf('\n') ? found.index + 1 : from;
  }
  let end = suffix.length;
  if (suffix.length > WINDOW_CHARS) {
    const after = suffix.indexOf('\n');
    const match = /\n(?=[^\s#@)\]}])/g;
    match.lastIndex = Math.max(0, after + 1, WINDOW_CHARS / 2);
    const found = match.exec(suffix);
    end = found && found.index < WINDOW_CHARS * 2 ? found.index : WINDOW_CHARS;
  }
  const head = prefix.slice(start);
  return { text: head + suffix.slice(0, end), offset: head.length };
}
