/**
 * Filters typed into a search query: `lang:python path:src/** parse the config` searches
 * "parse the config" in Python files under src/. Shared by the Search view (which runs in a browser)
 * and the Search Workspace quick pick, so it imports nothing: neither `vscode` nor Node.
 *
 * Syntax, each token separated from its neighbours by spaces:
 * - `lang:ID` (or `language:ID`): only that language; `lang:python,go` or several `lang:` tokens
 *   allow any of them. IDs are VS Code language ids; a few short names are accepted (see ALIASES).
 * - `path:GLOB`: only paths matching the glob, relative to the workspace folder (`*.py` and `tests`
 *   match at any depth). Quote a glob with spaces: `path:"my docs/**"`. One glob per query: a later
 *   `path:` replaces an earlier one; write alternatives as `path:{src,lib}/**`.
 * Keys are case-insensitive. A key with nothing after it (`lang:` while typing) filters nothing.
 * Any other `word:word` stays part of the query (`std::vector`, `http://`).
 */

export interface ParsedQuery {
  /** The query without its filter tokens, spaces collapsed. */
  text: string;
  /** Language ids from `lang:` tokens, lower-cased, aliases resolved, without duplicates. */
  languages: string[];
  /** The glob of the last `path:` token, if any. */
  pathGlob: string | undefined;
}

/** What the Search view's controls hold: '' means "any". */
export interface FilterControls {
  language: string;
  pathGlob: string;
}

/** The filters a search runs with, in the shape of the worker's SearchFilters. */
export interface EffectiveFilters {
  languages?: string[];
  pathGlob?: string;
}

/** Short names people type for the common language ids. */
const ALIASES: Readonly<Record<string, string>> = {
  py: 'python',
  js: 'javascript',
  jsx: 'javascriptreact',
  ts: 'typescript',
  tsx: 'typescriptreact',
  golang: 'go',
  rb: 'ruby',
  rs: 'rust',
  md: 'markdown',
  sh: 'shellscript',
  bash: 'shellscript',
  'c++': 'cpp',
  'c#': 'csharp',
  cs: 'csharp',
  yml: 'yaml',
};

// A token starts the query or follows whitespace; its value is a quoted string (the closing quote
// may still be missing while the user types) or everything up to the next whitespace.
const TOKEN = /(^|\s)(lang|language|path):("[^"]*"?|\S*)/giu;

export function normalizeLanguage(id: string): string {
  const lower = id.trim().toLowerCase();
  return ALIASES[lower] ?? lower;
}

export function parseQuery(raw: string): ParsedQuery {
  const languages: string[] = [];
  let pathGlob: string | undefined;
  const text = raw.replace(TOKEN, (_match, before: string, key: string, value: string) => {
    const unquoted = value.startsWith('"') ? value.slice(1).replace(/"$/u, '') : value;
    if (key.toLowerCase() === 'path') {
      if (unquoted.trim() !== '') pathGlob = unquoted.trim();
    } else {
      for (const id of unquoted.split(',')) {
        const language = normalizeLanguage(id);
        if (language !== '' && !languages.includes(language)) languages.push(language);
      }
    }
    return before;
  });
  return { text: text.replace(/\s+/gu, ' ').trim(), languages, pathGlob };
}

/**
 * The filters a search runs with: a filter typed in the query wins over the same control, since it
 * is the more specific thing the user just wrote; the other control still applies.
 */
export function effectiveFilters(parsed: ParsedQuery, controls: FilterControls = { language: '', pathGlob: '' }): EffectiveFilters {
  const language = normalizeLanguage(controls.language);
  const languages = parsed.languages.length > 0 ? parsed.languages : language !== '' ? [language] : [];
  const pathGlob = parsed.pathGlob ?? (controls.pathGlob.trim() !== '' ? controls.pathGlob.trim() : undefined);
  return { ...(languages.length > 0 ? { languages } : {}), ...(pathGlob !== undefined ? { pathGlob } : {}) };
}

/**
 * The search request for what was typed and the controls: the query text and its filters, or
 * undefined while there is no text to search for (filters alone match nothing to rank).
 */
export function searchRequest(typed: string, controls?: FilterControls): { query: string; filters: EffectiveFilters } | undefined {
  const parsed = parseQuery(typed);
  if (parsed.text === '') return undefined;
  return { query: parsed.text, filters: effectiveFilters(parsed, controls) };
}

/** "python, go · src/**" for a summary line; '' when nothing filters. */
export function describeFilters(filters: EffectiveFilters): string {
  const parts: string[] = [];
  if (filters.languages && filters.languages.length > 0) parts.push(filters.languages.join(', '));
  if (filters.pathGlob) parts.push(filters.pathGlob);
  return parts.join(' · ');
}
