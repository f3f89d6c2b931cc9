/**
 * Glob patterns as VS Code's files.exclude and kestrel.index.exclude write them, compiled to
 * regular expressions over '/'-separated paths relative to a workspace folder.
 * Supported: `**` (any number of folders), `*` and `?` (within one name), `[abc]` / `[!abc]`
 * classes and `{a,b}` alternatives. Like VS Code, a pattern is anchored at the folder: `*.log`
 * matches only top-level logs, `**` + `/*.log` matches them at any depth. A trailing `/**` also
 * matches the folder itself, so a walker can prune it without descending.
 */

/** Compiles one glob to a RegExp that tests a whole relative path (no leading './' or '/'). */
export function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${globBody(normalize(glob))}$`);
}

function normalize(glob: string): string {
  let g = glob.trim().replace(/\\/g, '/');
  if (g.startsWith('./')) g = g.slice(2);
  if (g.startsWith('/')) g = g.slice(1);
  return g;
}

/** The regex source for a glob, without anchors; `{a,b}` recurses into each alternative. */
function globBody(glob: string): string {
  let out = '';
  let i = 0;
  while (i < glob.length) {
    const c = glob[i] as string;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const atStart = i === 0 || glob[i - 1] === '/';
        const atEnd = i + 2 === glob.length || glob[i + 2] === '/';
        if (atStart && atEnd) {
          if (i + 2 === glob.length) {
            // trailing `**` (as in `a/**`): everything below; `a/**` also matches `a` itself
            if (out.endsWith('/')) out = out.slice(0, -1) + '(?:/.*)?';
            else out += '.*';
            i += 2;
          } else {
            // `**/`: zero or more whole folders
            out += '(?:[^/]*/)*';
            i += 3;
          }
          continue;
        }
        out += '[^/]*';
        i += 2;
        continue;
      }
      out += '[^/]*';
      i++;
    } else if (c === '?') {
      out += '[^/]';
      i++;
    } else if (c === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close === -1) {
        out += '\\[';
        i++;
        continue;
      }
      let cls = glob.slice(i + 1, close);
      if (cls.startsWith('!') || cls.startsWith('^')) cls = '^' + cls.slice(1);
      out += `[${cls.replace(/\\/g, '\\\\')}]`;
      i = close + 1;
    } else if (c === '{') {
      const close = matchingBrace(glob, i);
      if (close === -1) {
        out += '\\{';
        i++;
        continue;
      }
      const alternatives = splitTopLevel(glob.slice(i + 1, close));
      out += `(?:${alternatives.map(globBody).join('|')})`;
      i = close + 1;
    } else {
      out += c.replace(/[.+^$()|\\]/g, '\\$&');
      i++;
    }
  }
  return out;
}

function matchingBrace(glob: string, open: number): number {
  let depth = 0;
  for (let i = open; i < glob.length; i++) {
    if (glob[i] === '{') depth++;
    else if (glob[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

function splitTopLevel(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '{') depth++;
    else if (body[i] === '}') depth--;
    else if (body[i] === ',' && depth === 0) {
      parts.push(body.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(body.slice(start));
  return parts;
}

/** A set of globs; `matches` is true when any of them matches the path. */
export class GlobSet {
  private readonly patterns: RegExp[];

  constructor(globs: readonly string[]) {
    this.patterns = globs.filter((g) => g.trim() !== '').map(globToRegExp);
  }

  get size(): number {
    return this.patterns.length;
  }

  matches(relPath: string): boolean {
    for (const pattern of this.patterns) if (pattern.test(relPath)) return true;
    return false;
  }
}
