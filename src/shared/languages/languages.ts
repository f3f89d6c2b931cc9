/**
 * File extension -> VS Code language id, and which languages Kestrel chunks by syntax. Every other
 * text file is indexed in line windows under the id found here, or 'plaintext'.
 */
import { basename, extname } from 'node:path';

/** Languages with a tree-sitter grammar in tree-sitter-wasms and chunk rules in chunkRules.ts. */
export const SYNTAX_LANGUAGES = [
  'python',
  'javascript',
  'javascriptreact',
  'typescript',
  'typescriptreact',
  'go',
  'java',
  'ruby',
  'php',
  'rust',
] as const;
export type SyntaxLanguage = (typeof SYNTAX_LANGUAGES)[number];

const BY_EXTENSION: Record<string, string> = {
  '.py': 'python', '.pyi': 'python', '.pyw': 'python',
  '.js': 'javascript', '.mjs': 'javascript', '.cjs': 'javascript',
  '.jsx': 'javascriptreact',
  '.ts': 'typescript', '.mts': 'typescript', '.cts': 'typescript',
  '.tsx': 'typescriptreact',
  '.go': 'go',
  '.java': 'java',
  '.rb': 'ruby', '.rake': 'ruby', '.gemspec': 'ruby',
  '.php': 'php',
  '.rs': 'rust',
  '.c': 'c', '.h': 'c',
  '.cc': 'cpp', '.cpp': 'cpp', '.cxx': 'cpp', '.hpp': 'cpp', '.hh': 'cpp',
  '.cs': 'csharp',
  '.kt': 'kotlin', '.kts': 'kotlin',
  '.swift': 'swift',
  '.scala': 'scala',
  '.lua': 'lua',
  '.sh': 'shellscript', '.bash': 'shellscript', '.zsh': 'shellscript',
  '.sql': 'sql',
  '.html': 'html', '.htm': 'html',
  '.css': 'css', '.scss': 'scss', '.less': 'less',
  '.vue': 'vue', '.svelte': 'svelte',
  '.json': 'json', '.jsonc': 'jsonc',
  '.yaml': 'yaml', '.yml': 'yaml',
  '.toml': 'toml',
  '.xml': 'xml',
  '.md': 'markdown', '.markdown': 'markdown',
  '.rst': 'restructuredtext',
  '.txt': 'plaintext',
  '.ini': 'ini', '.cfg': 'ini',
};

const BY_NAME: Record<string, string> = {
  Dockerfile: 'dockerfile',
  Makefile: 'makefile',
  Rakefile: 'ruby',
  Gemfile: 'ruby',
};

export function languageOf(path: string): string {
  return BY_NAME[basename(path)] ?? BY_EXTENSION[extname(path).toLowerCase()] ?? 'plaintext';
}

export function isSyntaxLanguage(language: string): language is SyntaxLanguage {
  return (SYNTAX_LANGUAGES as readonly string[]).includes(language);
}

/** tree-sitter-wasms grammar file stem (tree-sitter-<stem>.wasm) for a syntax language. */
export function grammarName(language: SyntaxLanguage): string {
  switch (language) {
    case 'javascript':
    case 'javascriptreact':
      return 'javascript';
    case 'typescript':
      return 'typescript';
    case 'typescriptreact':
      return 'tsx';
    default:
      return language;
  }
}
