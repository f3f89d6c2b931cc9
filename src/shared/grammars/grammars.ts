/**
 * The one tree-sitter loader of Kestrel (the index's chunker and the engine's syntax check): initialises web-tree-sitter once and loads each
 * language's grammar once. Grammars come from tree-sitter-wasms (web-tree-sitter 0.25.10 is the
 * last release that loads them; see platform-facts.md).
 *
 * Where the files are at run time: the worker and CLI run as dist/server.js and dist/cli.js, where
 * esbuild.mjs copies the grammars into dist/grammars/ and tree-sitter.wasm into dist/; tests and benchmarks run
 * from out/ with packages external and find them in node_modules. `import.meta.url` works in both
 * (esbuild.mjs shims it to the bundle's own file in the CJS bundles).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Language, Parser } from 'web-tree-sitter';
import { grammarName, type SyntaxLanguage } from '../languages/languages';

export class GrammarError extends Error {
  override readonly name = 'GrammarError';
}

/** Folders that may hold tree-sitter-<name>.wasm and tree-sitter.wasm, most specific first. */
export function grammarFolders(extra: readonly string[] = []): string[] {
  const folders = [...extra];
  const here = dirname(fileURLToPath(import.meta.url));
  folders.push(join(here, 'grammars'), here);
  const require = createRequire(import.meta.url);
  try {
    folders.push(join(dirname(require.resolve('tree-sitter-wasms/package.json')), 'out'));
  } catch {
    // not installed beside us: the bundle's copy must do
  }
  try {
    folders.push(dirname(require.resolve('web-tree-sitter/tree-sitter.wasm')));
  } catch {
    // same
  }
  return folders;
}

function findFile(folders: readonly string[], file: string): string | undefined {
  for (const folder of folders) {
    const path = join(folder, file);
    if (existsSync(path)) return path;
  }
  return undefined;
}

/** Loads grammars on first use and keeps them; one per process is enough. */
let runtime: Promise<void> | undefined;

export class GrammarLoader {
  private readonly languages = new Map<string, Promise<Language>>();
  private readonly folders: string[];

  constructor(extraFolders: readonly string[] = []) {
    this.folders = grammarFolders(extraFolders);
  }

  private init(): Promise<void> {
    // The runtime is process-wide: a second Parser.init would make a second WebAssembly instance,
    // and grammars loaded through one break in the other. Every loader shares the first.
    runtime ??= Parser.init({
      locateFile: (file: string, prefix: string) => findFile(this.folders, file) ?? join(prefix, file),
    }).catch((error: unknown) => {
      runtime = undefined;
      throw new GrammarError(`tree-sitter runtime failed to load: ${String(error)}`);
    });
    return runtime;
  }

  /** The grammar for a language; rejects with a GrammarError naming the folders searched. */
  language(language: SyntaxLanguage): Promise<Language> {
    const name = grammarName(language);
    let loaded = this.languages.get(name);
    if (!loaded) {
      loaded = this.init().then(async () => {
        const file = `tree-sitter-${name}.wasm`;
        const path = findFile(this.folders, file);
        if (!path) throw new GrammarError(`${file} not found (looked in ${this.folders.join(', ')})`);
        try {
          return await Language.load(path);
        } catch (error) {
          throw new GrammarError(`${file} did not load: ${String(error) || 'empty error (grammar built for another web-tree-sitter?)'}`);
        }
      });
      loaded.catch(() => this.languages.delete(name));
      this.languages.set(name, loaded);
    }
    return loaded;
  }

  /** A parser set to the language; the caller deletes it when done. */
  async parser(language: SyntaxLanguage): Promise<Parser> {
    const grammar = await this.language(language);
    const parser = new Parser();
    parser.setLanguage(grammar);
    return parser;
  }
}
