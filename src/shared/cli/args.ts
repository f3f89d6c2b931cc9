/**
 * Tiny option parser for the CLI's commands: `--name value`, `--flag`, and positionals. A name the
 * command does not know is an error (UsageError: the CLI prints the command's usage), never
 * ignored: a typo such as `--in-projet` would otherwise measure something else without a word.
 */
export interface ParsedArgs {
  positional: string[];
  options: Map<string, string[]>;
  flags: Set<string>;
}

/** A command line the command cannot run: the CLI answers with the message and the command's usage. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** `valued`: options that take a value; `flags`: options that take none. Any other `--name` throws. */
export function parseArgs(argv: readonly string[], valued: readonly string[], flags: readonly string[]): ParsedArgs {
  const result: ParsedArgs = { positional: [], options: new Map(), flags: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) {
      result.positional.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    if (valued.includes(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      result.options.set(name, [...(result.options.get(name) ?? []), value]);
    } else if (flags.includes(name)) {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      result.flags.add(name);
    } else throw new UsageError(`unknown option --${name}`);
  }
  return result;
}

export function intOption(args: ParsedArgs, name: string, fallback: number): number {
  const raw = args.options.get(name)?.at(-1);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new UsageError(`--${name} must be a non-negative integer, got '${raw}'`);
  return value;
}
