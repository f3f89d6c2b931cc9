/**
 * kestrel.json: what a model folder declares about itself (see DESIGN.md, "Model contract").
 * `parseManifest` never throws: it returns the manifest or every problem found, each phrased so a
 * user can fix the file.
 */
export type ModelKind = 'completion' | 'embedding';
export type FimMode = 'spm' | 'psm';
export const VARIANTS = ['fp32', 'int8', 'fp16'] as const;
export type VariantName = (typeof VARIANTS)[number];

export interface ModelVariant {
  name: VariantName;
  /** ONNX file, relative to the model folder. */
  file: string;
  /** Execution providers this variant suits (e.g. int8 for cpu, fp16 for cuda/webgpu). */
  providers: string[];
  /** Expected size in bytes, when the manifest records it (catches truncated downloads). */
  bytes?: number;
  /** Expected SHA-256 of the file, lower-case hex, when the manifest records it (catches corrupt or swapped files). */
  sha256?: string;
}

export interface SpecialTokens {
  fimPrefix: string;
  fimSuffix: string;
  fimMiddle: string;
  endOfText: string;
}

export interface ModelManifest {
  id: string;
  displayName: string;
  kind: ModelKind;
  languages: string[];
  contextLength: number;
  tokenizer: string;
  variants: ModelVariant[];
  fimMode: FimMode;
  specialTokens: SpecialTokens;
  /** Extra token ids that end generation ("stopTokens"), besides the end-of-text and FIM tokens. */
  stopTokenIds: number[];
  /** The rest of the file (training record, metrics), kept for `describe`. */
  raw: Record<string, unknown>;
}

export type ParseResult = { ok: true; manifest: ModelManifest } | { ok: false; problems: string[] };

const DEFAULT_SPECIALS: SpecialTokens = {
  fimPrefix: '<fim_prefix>',
  fimSuffix: '<fim_suffix>',
  fimMiddle: '<fim_middle>',
  endOfText: '<|endoftext|>',
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function pick(record: Record<string, unknown>, ...names: string[]): unknown {
  for (const name of names) if (record[name] !== undefined) return record[name];
  return undefined;
}

function stringList(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : undefined;
}

/** Default providers for a variant when the manifest does not list them. */
function defaultProviders(variant: VariantName): string[] {
  if (variant === 'int8') return ['cpu'];
  if (variant === 'fp16') return ['cuda', 'webgpu', 'dml', 'coreml'];
  return ['cpu', 'cuda', 'webgpu', 'dml', 'coreml'];
}

function parseVariants(value: unknown, problems: string[]): ModelVariant[] {
  if (!isRecord(value)) {
    problems.push('"files" is missing: it must map variants ("fp32", "int8", "fp16") to ONNX files');
    return [];
  }
  const variants: ModelVariant[] = [];
  for (const [name, entry] of Object.entries(value)) {
    if (!(VARIANTS as readonly string[]).includes(name)) {
      problems.push(`"files.${name}": unknown variant (expected one of ${VARIANTS.join(', ')})`);
      continue;
    }
    const variant = name as VariantName;
    if (typeof entry === 'string') {
      variants.push({ name: variant, file: entry, providers: defaultProviders(variant) });
      continue;
    }
    if (!isRecord(entry)) {
      problems.push(`"files.${name}" must be a file name or an object with "file"`);
      continue;
    }
    const file = pick(entry, 'file', 'path', 'onnx');
    if (typeof file !== 'string' || file === '') {
      problems.push(`"files.${name}.file" must name the ONNX file`);
      continue;
    }
    const providers = stringList(entry['providers']) ?? defaultProviders(variant);
    const bytes = pick(entry, 'bytes', 'size');
    const sha256 = entry['sha256'];
    if (sha256 !== undefined && (typeof sha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(sha256))) {
      problems.push(`"files.${name}.sha256" must be the file's SHA-256 as 64 hex digits`);
      continue;
    }
    variants.push({
      name: variant, file, providers,
      ...(typeof bytes === 'number' ? { bytes } : {}),
      ...(typeof sha256 === 'string' ? { sha256: sha256.toLowerCase() } : {}),
    });
  }
  if (variants.length === 0 && problems.length === 0) problems.push('"files" lists no ONNX file');
  return variants;
}

function parseSpecials(value: unknown, problems: string[]): SpecialTokens {
  if (value === undefined) return DEFAULT_SPECIALS;
  if (!isRecord(value)) {
    problems.push('"specialTokens" must be an object');
    return DEFAULT_SPECIALS;
  }
  const read = (key: keyof SpecialTokens, ...aliases: string[]): string => {
    let found = pick(value, key, ...aliases);
    if (found === undefined) return DEFAULT_SPECIALS[key];
    if (isRecord(found)) found = found['token']; // { "token": "<fim_prefix>", "id": 1 }
    if (typeof found !== 'string' || found === '') {
      problems.push(`"specialTokens.${key}" must be a token string or { "token": ... }`);
      return DEFAULT_SPECIALS[key];
    }
    return found;
  };
  return {
    fimPrefix: read('fimPrefix', 'fim_prefix', 'prefix'),
    fimSuffix: read('fimSuffix', 'fim_suffix', 'suffix'),
    fimMiddle: read('fimMiddle', 'fim_middle', 'middle'),
    endOfText: read('endOfText', 'eot', 'end_of_text', 'eos'),
  };
}

export function parseManifest(text: string): ParseResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, problems: [`kestrel.json is not valid JSON (${error instanceof Error ? error.message : String(error)})`] };
  }
  if (!isRecord(json)) return { ok: false, problems: ['kestrel.json must hold a JSON object'] };
  const problems: string[] = [];
  const id = json['id'];
  if (typeof id !== 'string' || !/^[A-Za-z0-9._-]+$/.test(id)) problems.push('"id" must be a non-empty name of letters, digits, ".", "_" or "-"');
  const kind = json['kind'];
  if (kind !== 'completion' && kind !== 'embedding') problems.push('"kind" must be "completion" or "embedding"');
  const contextLength = pick(json, 'contextLength', 'context_length');
  if (typeof contextLength !== 'number' || !Number.isInteger(contextLength) || contextLength < 16) {
    problems.push('"contextLength" must be an integer of at least 16 (the longest sequence the model was trained on)');
  }
  const variants = parseVariants(pick(json, 'files', 'variants'), problems);
  const specials = parseSpecials(pick(json, 'specialTokens', 'special_tokens'), problems);
  const fimRaw = pick(json, 'fimMode', 'fim_mode', 'fim');
  const fimMode = (isRecord(fimRaw) ? fimRaw['mode'] : fimRaw) ?? 'spm';
  if (kind !== 'embedding' && fimMode !== 'spm' && fimMode !== 'psm') problems.push('"fimMode" must be "spm" or "psm"');
  const tokenizer = json['tokenizer'] ?? 'tokenizer.json';
  if (typeof tokenizer !== 'string') problems.push('"tokenizer" must name the tokenizer file');
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    manifest: {
      id: id as string,
      displayName: typeof json['displayName'] === 'string' ? (json['displayName'] as string) : (id as string),
      kind: kind as ModelKind,
      languages: stringList(json['languages']) ?? [],
      contextLength: contextLength as number,
      tokenizer: tokenizer as string,
      variants,
      fimMode: fimMode as FimMode,
      specialTokens: specials,
      stopTokenIds: Array.isArray(json['stopTokens']) ? (json['stopTokens'] as unknown[]).filter((x): x is number => Number.isInteger(x)) : [],
      raw: json,
    },
  };
}
