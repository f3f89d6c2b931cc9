/**
 * .gitignore rules with git's semantics: a pattern without a '/' (other than a trailing one)
 * matches a name at any depth below its file's folder; one with a '/' is anchored there; a trailing
 * '/' matches folders only; '!' re-includes; the last matching line wins, and a deeper .gitignore
 * overrides a shallower one. A file inside an ignored folder cannot be re-included (git never looks
 * inside), which the walker gets for free by not descending.
 */
import { Glob } from './glob';

interface Rule {
  glob: Glob;
  negated: boolean;
  directoryOnly: boolean;
}

export class GitignoreFile {
  private constructor(
    /** Folder of the .gitignore, relative to the walk root ('' for the root itself). */
    readonly base: string,
    private readonly rules: Rule[],
  ) {}

  static parse(base: string, text: string): GitignoreFile {
    const rules: Rule[] = [];
    for (const raw of text.split(/\r?\n/)) {
      const rule = parseLine(raw);
      if (rule) rules.push(rule);
    }
    return new GitignoreFile(base, rules);
  }

  get ruleCount(): number {
    return this.rules.length;
  }

  /**
   * The verdict of this file for a path relative to the walk root: true (ignored), false
   * (re-included by a '!' line) or undefined (no line matches).
   */
  verdict(relPath: string, isDirectory: boolean): boolean | undefined {
    if (this.base !== '' && !relPath.startsWith(this.base + '/')) return undefined;
    const local = this.base === '' ? relPath : relPath.slice(this.base.length + 1);
    let result: boolean | undefined;
    for (const rule of this.rules) {
      if (rule.directoryOnly && !isDirectory) continue;
      if (rule.glob.matches(local)) result = !rule.negated;
    }
    return result;
  }
}

function parseLine(raw: string): Rule | undefined {
  // Trailing spaces are ignored unless escaped with a backslash.
  let line = raw.replace(/(?<!\\)\s+$/, '');
  if (line === '' || line.startsWith('#')) return undefined;
  let negated = false;
  if (line.startsWith('!')) {
    negated = true;
    line = line.slice(1);
  } else if (line.startsWith('\\!') || line.startsWith('\\#')) {
    line = line.slice(1);
  }
  line = line.replace(/\\ /g, ' ');
  let directoryOnly = false;
  if (line.endsWith('/')) {
    directoryOnly = true;
    line = line.slice(0, -1);
  }
  if (line === '') return undefined;
  const anchored = line.includes('/');
  if (line.startsWith('/')) line = line.slice(1);
  const glob = anchored || line.startsWith('**') ? line : `**/${line}`;
  return { glob: new Glob(glob), negated, directoryOnly };
}

/** The .gitignore files that apply at one point of a walk, shallowest first. */
export class IgnoreStack {
  constructor(private readonly files: readonly GitignoreFile[] = []) {}

  with(file: GitignoreFile | undefined): IgnoreStack {
    return file && file.ruleCount > 0 ? new IgnoreStack([...this.files, file]) : this;
  }

  ignores(relPath: string, isDirectory: boolean): boolean {
    // Deeper files come later and their verdicts override shallower ones.
    let ignored = false;
    for (const file of this.files) {
      const verdict = file.verdict(relPath, isDirectory);
      if (verdict !== undefined) ignored = verdict;
    }
    return ignored;
  }
}
