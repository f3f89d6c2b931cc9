/**
 * Finds model folders (a folder holding kestrel.json) in the given roots — the extension's own
 * models/ and the user's kestrel.modelPaths — and checks each one without loading ONNX Runtime, so
 * a broken model is explained before anything tries to run it. Checks, each with its own message:
 * kestrel.json itself; each file's size; the tokenizer's vocabulary against kestrel.json's
 * (architecture.vocabSize, special token ids, embedding prefix ids); and, before a file is loaded,
 * its SHA-256 (verifyVariantFile; the graph's own vocabulary is compared by checkVocabularies once
 * the graph is open). Hashes and tokenizer summaries are remembered by file identity (device,
 * inode, size, modification time), so rescans and restarts of a model do not read files again.
 */
import { createHash } from 'node:crypto';
import { existsSync, openSync, readSync, closeSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readRegularFileSync } from '../files/regularFile';
import { parseManifest, type ModelManifest, type ModelVariant, type VariantName } from './manifest';

export const MANIFEST_FILE = 'kestrel.json';
/** kestrel.json files larger than this are not read (real ones are a few KB, with the training record). */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface VariantStatus extends ModelVariant {
  path: string;
  sizeBytes: number;
  /** Why this variant cannot be used, or undefined when its file looks right. */
  problem?: string;
}

export interface ModelEntry {
  /** The manifest's id, or the folder name when kestrel.json could not be read. */
  id: string;
  dir: string;
  manifest?: ModelManifest;
  variants: VariantStatus[];
  /** Problems that make the whole model unusable; empty when at least one variant can load. */
  problems: string[];
}

export function isUsable(entry: ModelEntry): entry is ModelEntry & { manifest: ModelManifest } {
  return entry.manifest !== undefined && entry.problems.length === 0;
}

/** An ONNX file is a protobuf ModelProto; its first field is ir_version (field 1, varint: tag 0x08). */
function looksLikeOnnx(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(1);
    return readSync(fd, head, 0, 1, 0) === 1 && head[0] === 0x08;
  } finally {
    closeSync(fd);
  }
}

function checkVariant(dir: string, variant: ModelVariant): VariantStatus {
  const path = resolve(dir, variant.file);
  const status: VariantStatus = { ...variant, path, sizeBytes: 0 };
  if (!existsSync(path)) {
    status.problem = `the ${variant.name} file ${variant.file} is missing from ${dir}`;
    return status;
  }
  status.sizeBytes = statSync(path).size;
  if (status.sizeBytes === 0) status.problem = `the ${variant.name} file ${variant.file} is empty`;
  else if (variant.bytes !== undefined && status.sizeBytes !== variant.bytes) {
    status.problem = `the ${variant.name} file ${variant.file} has ${status.sizeBytes} bytes but kestrel.json expects ${variant.bytes}: ` +
      'it is truncated or from another model; copy the model folder again';
  } else if (!looksLikeOnnx(path)) status.problem = `the ${variant.name} file ${variant.file} is not an ONNX model`;
  return status;
}

/** A file's identity: what changes when its content may have. */
function identityOf(path: string): string {
  const stat = statSync(path, { bigint: true });
  return `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}`;
}

const remembered = new Map<string, { identity: string; value: unknown }>();

/** `compute(path)`, remembered until the file's identity changes. */
function byIdentity<T>(kind: string, path: string, compute: () => T): T {
  const key = `${kind}\u0000${resolve(path)}`;
  const identity = identityOf(path);
  const known = remembered.get(key);
  if (known && known.identity === identity) return known.value as T;
  const value = compute();
  remembered.set(key, { identity, value });
  return value;
}

/** SHA-256 of a file, lower-case hex (read in 1 MB blocks). */
export function fileSha256(path: string): string {
  return byIdentity('sha256', path, () => {
    const hash = createHash('sha256');
    const fd = openSync(path, 'r');
    try {
      const block = Buffer.alloc(1 << 20);
      for (let read = readSync(fd, block); read > 0; read = readSync(fd, block)) hash.update(block.subarray(0, read));
    } finally {
      closeSync(fd);
    }
    return hash.digest('hex');
  });
}

/**
 * Why a variant's file must not be loaded, or undefined: its SHA-256 differs from kestrel.json's.
 * Run before a session opens it (hashing every variant of every model at each scan would slow
 * start-up; the loaded one is hashed once per file identity).
 */
export function verifyVariantFile(variant: VariantStatus): string | undefined {
  if (variant.problem !== undefined) return variant.problem;
  if (variant.sha256 === undefined) return undefined;
  const actual = fileSha256(variant.path);
  if (actual === variant.sha256) return undefined;
  return `the ${variant.name} file ${variant.file} fails its checksum: its SHA-256 is ${actual.slice(0, 12)}…, kestrel.json says ${variant.sha256.slice(0, 12)}…; ` +
    'it is corrupt or from another model: copy the model folder again';
}

/** What kestrel.json's checks need of tokenizer.json: its vocabulary size and token ids. */
interface TokenizerSummary {
  /** Highest id + 1 over the vocabulary and the added tokens. */
  size: number;
  ids: Map<string, number>;
}

/** Tokenizers larger than this are not read (real ones are a few MB). */
const MAX_TOKENIZER_BYTES = 64 * 1024 * 1024;

function summarizeTokenizer(path: string): TokenizerSummary | string {
  return byIdentity('tokenizer', path, () => {
    let json: { model?: { vocab?: unknown }; added_tokens?: unknown };
    try {
      json = JSON.parse(readRegularFileSync(path, MAX_TOKENIZER_BYTES).toString('utf8')) as typeof json;
    } catch (error) {
      return `the tokenizer ${path} cannot be read (${error instanceof Error ? error.message : String(error)})`;
    }
    const ids = new Map<string, number>();
    const vocab = json.model?.vocab;
    // BPE and WordPiece: { token: id }; Unigram: [[token, score], ...] (the index is the id)
    if (Array.isArray(vocab)) vocab.forEach((entry, id) => { if (Array.isArray(entry) && typeof entry[0] === 'string') ids.set(entry[0], id); });
    else if (typeof vocab === 'object' && vocab !== null) for (const [token, id] of Object.entries(vocab)) if (typeof id === 'number') ids.set(token, id);
    if (Array.isArray(json.added_tokens)) {
      for (const added of json.added_tokens as Array<{ content?: unknown; id?: unknown }>) {
        if (typeof added.content === 'string' && typeof added.id === 'number') ids.set(added.content, added.id);
      }
    }
    if (ids.size === 0) return `the tokenizer ${path} has no vocabulary`;
    let size = 0;
    for (const id of ids.values()) size = Math.max(size, id + 1);
    return { size, ids };
  });
}

/** The vocabulary size kestrel.json records (architecture.vocabSize), if any. */
export function manifestVocabSize(manifest: ModelManifest): number | undefined {
  const arch = manifest.raw['architecture'] as { vocabSize?: unknown } | undefined;
  return typeof arch?.vocabSize === 'number' && Number.isInteger(arch.vocabSize) && arch.vocabSize > 0 ? arch.vocabSize : undefined;
}

/** Token ids kestrel.json states: specialTokens given as { token, id }, and an embedding model's prefixIds. */
function statedTokenIds(manifest: ModelManifest): Array<{ where: string; token: string; id: number }> {
  const stated: Array<{ where: string; token: string; id: number }> = [];
  const specials = manifest.raw['specialTokens'] ?? manifest.raw['special_tokens'];
  if (typeof specials === 'object' && specials !== null) {
    for (const [key, value] of Object.entries(specials as Record<string, unknown>)) {
      const { token, id } = (typeof value === 'object' && value !== null ? value : {}) as { token?: unknown; id?: unknown };
      if (typeof token === 'string' && typeof id === 'number') stated.push({ where: `specialTokens.${key}`, token, id });
    }
  }
  const embedding = manifest.raw['embedding'] as { prefixIds?: Record<string, unknown>; queryPrefix?: unknown; codePrefix?: unknown } | undefined;
  for (const [kind, prefix] of [['query', embedding?.queryPrefix], ['code', embedding?.codePrefix]] as const) {
    const id = embedding?.prefixIds?.[kind];
    if (typeof prefix === 'string' && typeof id === 'number') stated.push({ where: `embedding.prefixIds.${kind}`, token: prefix, id });
  }
  return stated;
}

/** Problems between kestrel.json and tokenizer.json: vocabulary size and the ids kestrel.json states. */
function tokenizerProblems(manifest: ModelManifest, tokenizerPath: string): string[] {
  const summary = summarizeTokenizer(tokenizerPath);
  if (typeof summary === 'string') return [summary];
  const problems: string[] = [];
  const stated = manifestVocabSize(manifest);
  if (stated !== undefined && summary.size > stated) {
    problems.push(`vocabulary sizes disagree: tokenizer ${manifest.tokenizer} has ${summary.size} tokens but kestrel.json's architecture.vocabSize is ${stated}: the tokenizer is from another model`);
  }
  for (const { where, token, id } of statedTokenIds(manifest)) {
    const actual = summary.ids.get(token);
    if (actual === undefined) problems.push(`special token ids disagree: kestrel.json's ${where} is ${JSON.stringify(token)}, which tokenizer ${manifest.tokenizer} does not have`);
    else if (actual !== id) problems.push(`special token ids disagree: kestrel.json's ${where} says ${JSON.stringify(token)} is id ${id}, tokenizer ${manifest.tokenizer} has it as ${actual}`);
  }
  return problems;
}

/**
 * Once a graph is open: its vocabulary (the width of its logits) against kestrel.json's and the
 * tokenizer's. A graph may have more rows than the tokenizer has tokens (padding), never fewer; and
 * it must have exactly the vocabulary kestrel.json states. Undefined when they agree.
 */
export function checkVocabularies(sizes: { graph: number | undefined; manifest: number | undefined; tokenizer: number; file: string }): string | undefined {
  const { graph, manifest, tokenizer, file } = sizes;
  if (graph === undefined) return undefined;
  if (manifest !== undefined && graph !== manifest) {
    return `vocabulary sizes disagree: the graph ${file} scores ${graph} tokens but kestrel.json's architecture.vocabSize is ${manifest}`;
  }
  if (graph < tokenizer) return `vocabulary sizes disagree: the graph ${file} scores ${graph} tokens but the tokenizer has ${tokenizer}: they are from different models`;
  return undefined;
}

/** Checks one folder that holds kestrel.json. */
export function inspectModelDir(dir: string): ModelEntry {
  const folderName = dir.split(/[\\/]/).filter(Boolean).pop() ?? dir;
  const manifestPath = join(dir, MANIFEST_FILE);
  if (!existsSync(manifestPath)) {
    return { id: folderName, dir, variants: [], problems: [`${dir} has no ${MANIFEST_FILE}: it is not a Kestrel model folder`] };
  }
  let text: string;
  try {
    text = readRegularFileSync(manifestPath, MAX_MANIFEST_BYTES).toString('utf8');
  } catch (error) {
    return { id: folderName, dir, variants: [], problems: [`${manifestPath} cannot be read (${error instanceof Error ? error.message : String(error)})`] };
  }
  const parsed = parseManifest(text);
  if (!parsed.ok) {
    return { id: folderName, dir, variants: [], problems: parsed.problems.map((p) => `${manifestPath}: ${p}`) };
  }
  const manifest = parsed.manifest;
  const problems: string[] = [];
  const tokenizerPath = resolve(dir, manifest.tokenizer);
  if (!existsSync(tokenizerPath)) problems.push(`the tokenizer ${manifest.tokenizer} is missing from ${dir}`);
  else problems.push(...tokenizerProblems(manifest, tokenizerPath));
  const variants = manifest.variants.map((v) => checkVariant(dir, v));
  if (variants.length > 0 && variants.every((v) => v.problem !== undefined)) {
    problems.push(...variants.map((v) => v.problem as string));
  }
  return { id: manifest.id, dir, manifest, variants, problems };
}

/**
 * Each root is either a model folder itself or a folder of model folders. Roots that do not exist
 * are skipped (the user may list a drive that is not mounted); `missingRoots` says which.
 */
export function scanModels(roots: readonly string[]): { models: ModelEntry[]; missingRoots: string[] } {
  const models: ModelEntry[] = [];
  const missingRoots: string[] = [];
  const seen = new Set<string>();
  const add = (dir: string): void => {
    const key = resolve(dir);
    if (seen.has(key)) return;
    seen.add(key);
    models.push(inspectModelDir(key));
  };
  for (const root of roots) {
    if (!existsSync(root) || !statSync(root).isDirectory()) {
      missingRoots.push(root);
      continue;
    }
    if (existsSync(join(root, MANIFEST_FILE))) {
      add(root);
      continue;
    }
    for (const name of readdirSync(root).sort()) {
      const dir = join(root, name);
      if (statSync(dir).isDirectory() && existsSync(join(dir, MANIFEST_FILE))) add(dir);
    }
  }
  return { models, missingRoots };
}

/** Variant preference when the user names none: int8 is fastest on CPUs, fp16 on GPUs. */
export function variantOrder(provider: string): VariantName[] {
  return provider === 'cpu' ? ['int8', 'fp32', 'fp16'] : ['fp16', 'fp32', 'int8'];
}

export function chooseVariant(entry: ModelEntry, provider: string, requested?: VariantName): VariantStatus | undefined {
  const usable = entry.variants.filter((v) => v.problem === undefined);
  if (requested !== undefined) return usable.find((v) => v.name === requested);
  for (const name of variantOrder(provider)) {
    const found = usable.find((v) => v.name === name && v.providers.includes(provider));
    if (found) return found;
  }
  return undefined;
}
