/**
 * Finds model folders (a folder holding kestrel.json) in the given roots — the extension's own
 * models/ and the user's kestrel.modelPaths — and checks each one without loading ONNX Runtime, so
 * a broken model is explained before anything tries to run it.
 */
import { existsSync, openSync, readFileSync, readSync, closeSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseManifest, type ModelManifest, type ModelVariant, type VariantName } from './manifest';

export const MANIFEST_FILE = 'kestrel.json';

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

/** Checks one folder that holds kestrel.json. */
export function inspectModelDir(dir: string): ModelEntry {
  const folderName = dir.split(/[\\/]/).filter(Boolean).pop() ?? dir;
  const manifestPath = join(dir, MANIFEST_FILE);
  if (!existsSync(manifestPath)) {
    return { id: folderName, dir, variants: [], problems: [`${dir} has no ${MANIFEST_FILE}: it is not a Kestrel model folder`] };
  }
  const parsed = parseManifest(readFileSync(manifestPath, 'utf8'));
  if (!parsed.ok) {
    return { id: folderName, dir, variants: [], problems: parsed.problems.map((p) => `${manifestPath}: ${p}`) };
  }
  const manifest = parsed.manifest;
  const problems: string[] = [];
  const tokenizerPath = resolve(dir, manifest.tokenizer);
  if (!existsSync(tokenizerPath)) problems.push(`the tokenizer ${manifest.tokenizer} is missing from ${dir}`);
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
