/**
 * Glob patterns as VS Code's files.exclude and kestrel.index.exclude write them (and .gitignore
 * lines, see gitignore.ts), matched against '/'-separated paths relative to a workspace folder.
 * Supported: `**` (any number of folders), `*` and `?` (within one name), `[abc]` / `[!abc]`
 * classes and `{a,b}` alternatives. Like VS Code, a pattern is anchored at the folder: `*.log`
 * matches only top-level logs, `**` + `/*.log` matches them at any depth. A trailing `/**` also
 * matches the folder itself, so a walker can prune it without descending.
 *
 * Patterns come from the workspace (settings, .gitignore files) and the search box, so they are
 * hostile input. A glob compiled to a backtracking regular expression takes exponential time on
 * repeated `**` segments over a deep path (`**` + `/**` + `/**`... backtracks over every way of
 * splitting the folders). So a glob compiles to a small automaton whose states are simulated all
 * at once: matching costs at most (path length) x (pattern length) steps, whatever the pattern.
 */

type CharTest = (code: number) => boolean;

interface State {
  /** Transitions that consume one character. */
  on: Array<{ test: CharTest; to: number }>;
  /** Transitions that consume nothing. */
  free: number[];
}

const SLASH = 0x2f;
const notSlash: CharTest = (code) => code !== SLASH;
const isSlash: CharTest = (code) => code === SLASH;
const anyChar: CharTest = () => true;

/** One compiled glob. */
export class Glob {
  private readonly states: State[] = [];
  private readonly accept: number;
  /** For each state, every state reachable from it without consuming a character (itself included). */
  private readonly closures: number[][];

  constructor(readonly source: string) {
    const start = this.state();
    const end = this.sequence(normalize(source), start);
    this.accept = end;
    this.closures = this.states.map((_, i) => this.closureOf(i));
  }

  /** True when the whole path (no leading './' or '/') matches. */
  matches(relPath: string): boolean {
    let current = new Set<number>(this.closures[0]);
    for (let i = 0; i < relPath.length && current.size > 0; i++) {
      const code = relPath.charCodeAt(i);
      const next = new Set<number>();
      for (const at of current) {
        for (const { test, to } of (this.states[at] as State).on) {
          if (test(code)) for (const reached of this.closures[to] as number[]) next.add(reached);
        }
      }
      current = next;
    }
    return current.has(this.accept);
  }

  private state(): number {
    this.states.push({ on: [], free: [] });
    return this.states.length - 1;
  }

  private edge(from: number, test: CharTest, to: number): void {
    (this.states[from] as State).on.push({ test, to });
  }

  private free(from: number, to: number): void {
    (this.states[from] as State).free.push(to);
  }

  /** States reachable from `from` by free transitions. */
  private closureOf(from: number): number[] {
    const seen = new Set<number>([from]);
    const stack = [from];
    while (stack.length > 0) {
      for (const to of (this.states[stack.pop() as number] as State).free) {
        if (!seen.has(to)) {
          seen.add(to);
          stack.push(to);
        }
      }
    }
    return [...seen];
  }

  /** Adds the automaton of `glob` starting at state `from`; returns the state where it ends. */
  private sequence(glob: string, from: number): number {
    let cur = from;
    /** The state before the last step when that step was a literal '/' (for a trailing `/**`). */
    let beforeSlash: number | undefined;
    let i = 0;
    while (i < glob.length) {
      const c = glob[i] as string;
      const previous = cur;
      if (c === '*') {
        const doubled = glob[i + 1] === '*';
        const atStart = i === 0 || glob[i - 1] === '/';
        const atEnd = i + 2 === glob.length || glob[i + 2] === '/';
        if (doubled && atStart && atEnd && i + 2 === glob.length) {
          cur = beforeSlash !== undefined ? this.anythingBelow(beforeSlash, cur) : this.loop(cur, anyChar);
          i += 2;
        } else if (doubled && atStart && atEnd) {
          cur = this.wholeFolders(cur);
          i += 3;
        } else {
          cur = this.loop(cur, notSlash);
          i += doubled ? 2 : 1;
        }
      } else if (c === '?') {
        cur = this.step(cur, notSlash);
        i++;
      } else if (c === '[' && glob.indexOf(']', i + 2) !== -1) {
        const close = glob.indexOf(']', i + 2);
        cur = this.step(cur, characterClass(glob.slice(i + 1, close)));
        i = close + 1;
      } else if (c === '{' && matchingBrace(glob, i) !== -1) {
        const close = matchingBrace(glob, i);
        const join = this.state();
        for (const alternative of splitTopLevel(glob.slice(i + 1, close))) {
          const start = this.state();
          this.free(cur, start);
          this.free(this.sequence(alternative, start), join);
        }
        cur = join;
        i = close + 1;
      } else {
        const code = glob.charCodeAt(i);
        cur = this.step(cur, (x) => x === code);
        i++;
      }
      // only the literal branch compiles a '/'
      beforeSlash = c === '/' ? previous : undefined;
    }
    return cur;
  }

  /** One character passing `test`. */
  private step(from: number, test: CharTest): number {
    const to = this.state();
    this.edge(from, test, to);
    return to;
  }

  /** Zero or more characters passing `test` (`*` within a name; a lone `**` spans everything). */
  private loop(from: number, test: CharTest): number {
    const at = this.state();
    this.free(from, at);
    this.edge(at, test, at);
    return at;
  }

  /** `**` followed by `/`: zero or more whole folders, each a name and its '/'. */
  private wholeFolders(from: number): number {
    const boundary = this.state();
    const inName = this.state();
    this.free(from, boundary);
    this.edge(boundary, isSlash, boundary);
    this.edge(boundary, notSlash, inName);
    this.edge(inName, notSlash, inName);
    this.edge(inName, isSlash, boundary);
    return boundary;
  }

  /**
   * A trailing `/**`: everything below the folder, or the folder itself. The '/' before it was
   * already added as a literal step, from `beforeSlash` to `afterSlash`.
   */
  private anythingBelow(beforeSlash: number, afterSlash: number): number {
    const end = this.state();
    this.free(this.loop(afterSlash, anyChar), end);
    this.free(beforeSlash, end);
    return end;
  }
}

function normalize(glob: string): string {
  let g = glob.trim().replace(/\\/g, '/');
  if (g.startsWith('./')) g = g.slice(2);
  if (g.startsWith('/')) g = g.slice(1);
  return g;
}

/** `[abc]`, `[a-z]`, `[!abc]` / `[^abc]` (the text between the brackets). */
function characterClass(body: string): CharTest {
  const negated = body.startsWith('!') || body.startsWith('^');
  const members = negated ? body.slice(1) : body;
  const ranges: Array<[number, number]> = [];
  for (let i = 0; i < members.length; i++) {
    const low = members.charCodeAt(i);
    if (members[i + 1] === '-' && i + 2 < members.length) {
      ranges.push([low, members.charCodeAt(i + 2)]);
      i += 2;
    } else ranges.push([low, low]);
  }
  const inClass = (code: number): boolean => ranges.some(([low, high]) => code >= low && code <= high);
  return negated ? (code) => !inClass(code) : inClass;
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
  private readonly patterns: Glob[];

  constructor(globs: readonly string[]) {
    this.patterns = globs.filter((g) => g.trim() !== '').map((g) => new Glob(g));
  }

  get size(): number {
    return this.patterns.length;
  }

  matches(relPath: string): boolean {
    for (const pattern of this.patterns) if (pattern.matches(relPath)) return true;
    return false;
  }
}
