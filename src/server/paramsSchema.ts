/**
 * Checks of the params a client sends, before any handler sees them. The worker serves any LSP
 * client over stdio, so params are untrusted input: a `null` position or a string where a number
 * belongs must be answered with an error (requests) or dropped with a log line (notifications),
 * never reach code that assumes the declared type.
 *
 * A schema is typed by what it accepts, so `const s: Schema<SearchParams> = object({...})` fails to
 * compile when it drifts from the protocol's type. Sizes are bounded too: a 10 MB query string or a
 * million-entry array is refused rather than worked through.
 */

/** Why `value` does not fit, naming where (`params.position.line`), or undefined when it fits. */
export type Schema<T> = ((value: unknown, at: string) => string | undefined) & { readonly accepts?: T };

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length > 40 ? 'a long string' : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value === 'object' ? 'an object' : typeof value;
}

export function string(maxLength = 100_000): Schema<string> {
  return (value, at) => {
    if (typeof value !== 'string') return `${at} must be a string, not ${describe(value)}`;
    if (value.length > maxLength) return `${at} is longer than ${maxLength} characters`;
    return undefined;
  };
}

export function integer(min: number, max: number = Number.MAX_SAFE_INTEGER): Schema<number> {
  return (value, at) =>
    typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max
      ? undefined
      : `${at} must be an integer from ${min} to ${max}, not ${describe(value)}`;
}

export function finite(min: number, max: number): Schema<number> {
  return (value, at) =>
    typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max
      ? undefined
      : `${at} must be a number from ${min} to ${max}, not ${describe(value)}`;
}

export const boolean: Schema<boolean> = (value, at) => (typeof value === 'boolean' ? undefined : `${at} must be true or false, not ${describe(value)}`);

export function oneOf<const T extends readonly string[]>(values: T): Schema<T[number]> {
  return (value, at) =>
    typeof value === 'string' && values.includes(value) ? undefined : `${at} must be one of ${values.join(', ')}, not ${describe(value)}`;
}

export function array<T>(item: Schema<T>, maxItems: number): Schema<T[]> {
  return (value, at) => {
    if (!Array.isArray(value)) return `${at} must be an array, not ${describe(value)}`;
    if (value.length > maxItems) return `${at} has more than ${maxItems} items`;
    for (let i = 0; i < value.length; i++) {
      const problem = item(value[i], `${at}[${i}]`);
      if (problem) return problem;
    }
    return undefined;
  };
}

/** Absent (undefined) or fitting `schema`; null counts as absent too, as JSON writers often send it. */
export function optional<T>(schema: Schema<T>): Schema<T | undefined> {
  return (value, at) => (value === undefined || value === null ? undefined : schema(value, at));
}

/** An object with (at least) these fields; fields it does not know are ignored. */
export function object<T>(fields: { [K in keyof T]-?: Schema<T[K]> }): Schema<T> {
  return (value, at) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return `${at} must be an object, not ${describe(value)}`;
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(fields) as Array<keyof T & string>) {
      const problem = fields[key](record[key], `${at}.${key}`);
      if (problem) return problem;
    }
    return undefined;
  };
}

/** No params at all (requests such as kestrel/status): absent, null, or an empty object or array. */
export const noParams: Schema<void> = (value, at) => {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value) ? value.length === 0 : typeof value === 'object' && Object.keys(value).length === 0) return undefined;
  return `${at} must be absent: this method takes no params`;
};
