/**
 * `kestrel index DIR` and `kestrel search "QUERY" --dir DIR`: the workspace index from a terminal,
 * with the same walker, chunker, store and search as the worker. The database goes to the user's
 * cache folder (never into DIR) unless --store says where.
 */
import { createHash } from 'node:crypto';
import { availableParallelism, homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { DEVICE_SETTINGS, type DeviceSetting } from '../shared/devices/deviceSetting';
import { intOption, parseArgs, type ParsedArgs } from '../shared/cli/args';
import { errorMessage } from '../shared/errors/errors';
import { scanModels } from '../shared/models/registry';
import type { Embedder } from './embedder';
import { evaluateSearch, formatEvalSearch, readPairs } from './evalSearch';
import type { IndexProgress } from './indexer';
import { OnnxEmbedder } from './onnxEmbedder';
import { WorkspaceIndex } from './workspaceIndex';

/** The defaults of the kestrel.index.exclude setting (package.json). */
const DEFAULT_EXCLUDE = ['**/node_modules/**', '**/.venv/**', '**/venv/**', '**/__pycache__/**', '**/dist/**', '**/build/**'];

const COMMON_OPTIONS = `  --store DIR         index database folder (default: ~/.cache/kestrel/index/<DIR's name and hash>)
  --model DIR         embedding model folder (default: the first embedding model in the shipped models)
  --models DIR        extra folder to search for models (repeatable)
  --no-model          BM25 only, no embedding model
  --device D          ${DEVICE_SETTINGS.join(' | ')} (default auto)`;

export const INDEX_USAGE = `kestrel index DIR [options]     build or update the search index of a folder
${COMMON_OPTIONS}
  --exclude GLOB      leave out paths matching GLOB (repeatable; default: node_modules, venvs, dist, build)
  --max-file-kb N     skip files larger than N KB (default 512)
  --rebuild           start from an empty index
  --skipped           list every path left out, with its reason`;

export const SEARCH_USAGE = `kestrel search "QUERY" --dir DIR [options]     search the index of a folder (built first if empty)
${COMMON_OPTIONS}
  --limit N           results (default 10)
  --lang ID           only this language id, e.g. python (repeatable)
  --include GLOB      only paths matching GLOB, e.g. 'src/**' or '*.py' (repeatable)
  --exclude GLOB      never paths matching GLOB (repeatable)
  --json              results as JSON`;

export const EVAL_SEARCH_USAGE = `kestrel eval-search --pairs FILE [options]     search quality on {query, code} pairs (CodeSearchNet protocol)
  --pairs FILE        JSON lines of {query, code} (models/training/embed_pairs.py writes them)
  --model DIR         embedding model folder (default: the first embedding model in the shipped models)
  --models DIR        extra folder to search for models (repeatable)
  --no-model          BM25 only, no embedding model
  --device D          ${DEVICE_SETTINGS.join(' | ')} (default auto)
  --limit N           use only the first N pairs
  --group N           candidates per query (default 1000: each query's code among 999 others)
  --seed N            shuffle seed (default 0)
  --tune-fusion       also find the fusion weights with the best hybrid MRR on these pairs
                      (models/training/embed/embed_card.py records them in the model's kestrel.json)
  --json              the result as JSON`;

/** Each command's options: those that take a value, then flags. */
const MODEL_OPTIONS = ['model', 'models', 'device'];
const INDEX_OPTIONS = [[...MODEL_OPTIONS, 'store', 'exclude', 'max-file-kb'], ['no-model', 'rebuild', 'skipped']] as const;
const SEARCH_OPTIONS = [[...MODEL_OPTIONS, 'store', 'exclude', 'max-file-kb', 'dir', 'limit', 'lang', 'include'], ['no-model', 'json']] as const;
const EVAL_SEARCH_OPTIONS = [[...MODEL_OPTIONS, 'pairs', 'limit', 'group', 'seed'], ['no-model', 'tune-fusion', 'json']] as const;

function defaultStore(dir: string): string {
  const cache = process.env['XDG_CACHE_HOME'] || join(homedir(), '.cache');
  const digest = createHash('sha256').update(dir).digest('hex').slice(0, 12);
  return join(cache, 'kestrel', 'index', `${basename(dir) || 'root'}-${digest}`);
}

async function embedderFromArgs(args: ParsedArgs, shippedModels: string): Promise<Embedder | null> {
  if (args.flags.has('no-model')) return null;
  const device = (args.options.get('device')?.at(-1) ?? 'auto') as DeviceSetting;
  if (!DEVICE_SETTINGS.includes(device)) throw new Error(`--device must be one of ${DEVICE_SETTINGS.join(', ')}`);
  const explicit = args.options.get('model')?.at(-1);
  const roots = explicit ? [] : [shippedModels, ...(args.options.get('models') ?? []).map((d) => resolve(d))];
  const candidates = explicit ? scanModels([resolve(explicit, '..')]).models.filter((m) => m.dir === resolve(explicit)) : scanModels(roots).models;
  const entry = candidates.find((m) => m.manifest?.kind === 'embedding');
  if (!entry) {
    if (explicit) throw new Error(`${explicit} is not an embedding model folder (no kestrel.json of kind "embedding")`);
    console.error('note: no embedding model found; searching by BM25 only (pass --model DIR to use one)');
    return null;
  }
  // In a terminal nothing competes with indexing: use the cores (the worker keeps one thread).
  const embedder = await OnnxEmbedder.load(entry, device, { threads: Math.min(4, availableParallelism()) });
  console.error(`embedder: ${embedder.id} on ${embedder.providerSummary}`);
  return embedder;
}

function storageFolderOf(args: ParsedArgs, dir: string): string {
  return resolve(args.options.get('store')?.at(-1) ?? defaultStore(dir));
}

async function openIndex(args: ParsedArgs, dir: string, embedder: Embedder | null, exclude: string[], onProgress?: (p: IndexProgress) => void): Promise<WorkspaceIndex> {
  const storageFolder = storageFolderOf(args, dir);
  return await WorkspaceIndex.open({
    storageFolder,
    walk: { roots: [dir], exclude, maxFileBytes: intOption(args, 'max-file-kb', 512) * 1024 },
    embedder,
    ...(onProgress ? { onProgress } : {}),
    onRebuild: (reason) => console.error(`warning: the index at ${storageFolder} was unreadable (${reason}); rebuilding it`),
  });
}

function progressPrinter(): (p: IndexProgress) => void {
  let last = 0;
  return (p) => {
    const now = performance.now();
    if (p.phase === 'indexing' && now - last < 1000 && p.filesDone < p.filesTotal) return;
    last = now;
    if (p.phase === 'walking') console.error('walking...');
    else if (p.phase === 'indexing') console.error(`indexed ${p.filesDone}/${p.filesTotal} changed files, ${p.chunksDone} chunks (${p.filesSeen} files found, ${p.skipped} left out)`);
  };
}

export async function indexCommand(argv: readonly string[], shippedModels: string): Promise<number> {
  const args = parseArgs(argv, ...INDEX_OPTIONS);
  const [target] = args.positional;
  if (!target) {
    console.error(INDEX_USAGE);
    return 2;
  }
  const dir = resolve(target);
  const embedder = await embedderFromArgs(args, shippedModels);
  const index = await openIndex(args, dir, embedder, args.options.get('exclude') ?? DEFAULT_EXCLUDE, progressPrinter());
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  try {
    const summary = args.flags.has('rebuild') ? await index.rebuild(controller.signal) : await index.update(controller.signal);
    const status = index.status();
    const seconds = summary.durationMs / 1000;
    console.log(
      `${summary.cancelled ? 'cancelled (run again to resume)' : 'done'} in ${seconds.toFixed(1)} s: ` +
        `${summary.filesSeen} files (${summary.filesIndexed} indexed, ${summary.filesUnchanged} unchanged, ${summary.filesRemoved} removed), ` +
        `${summary.chunksWritten} chunks written` +
        (summary.filesIndexed > 0 ? ` (${(summary.filesIndexed / seconds).toFixed(0)} files/s, ${(summary.chunksWritten / seconds).toFixed(0)} chunks/s)` : ''),
    );
    console.log(
      `index: ${status.stats.files} files, ${status.stats.chunks} chunks, ${status.stats.vectors} vectors, ` +
        `${(status.stats.databaseBytes / 1e6).toFixed(1)} MB on disk at ${storageFolderOf(args, dir)}`,
    );
    const reasons = Object.entries(status.stats.skipped).map(([reason, n]) => `${reason} ${n}`);
    if (reasons.length > 0) console.log(`left out: ${reasons.join(', ')}`);
    if (args.flags.has('skipped')) for (const s of index.skipped(100_000)) console.log(`  ${s.rel}${s.isDirectory ? '/' : ''}  ${s.reason}${s.detail ? ` (${s.detail})` : ''}`);
    return summary.cancelled ? 130 : 0;
  } finally {
    process.off('SIGINT', stop);
    index.close();
    if (embedder instanceof OnnxEmbedder) await embedder.dispose();
  }
}

export async function searchCommand(argv: readonly string[], shippedModels: string): Promise<number> {
  const args = parseArgs(argv, ...SEARCH_OPTIONS);
  const query = args.positional.join(' ').trim();
  const target = args.options.get('dir')?.at(-1);
  if (!query || !target) {
    console.error(SEARCH_USAGE);
    return 2;
  }
  const dir = resolve(target);
  const embedder = await embedderFromArgs(args, shippedModels);
  const index = await openIndex(args, dir, embedder, DEFAULT_EXCLUDE);
  try {
    if (index.status().stats.files === 0) {
      console.error(`no index of ${dir} yet: indexing it first`);
      await index.update();
    }
    const started = performance.now();
    const hits = await index.search(query, {
      limit: intOption(args, 'limit', 10),
      languages: args.options.get('lang') ?? [],
      include: args.options.get('include') ?? [],
      exclude: args.options.get('exclude') ?? [],
    });
    const ms = performance.now() - started;
    if (args.flags.has('json')) {
      console.log(JSON.stringify(hits, null, 1));
    } else {
      for (const hit of hits) {
        const label = [hit.kind, hit.container ? `${hit.container}.${hit.name}` : hit.name].filter(Boolean).join(' ');
        console.log(`${hit.rel}:${hit.range.start.line + 1}-${hit.range.end.line + 1}  ${label}  (score ${hit.score.toFixed(4)})`);
        console.log(hit.snippet.split('\n').map((l) => `    ${l}`).join('\n'));
      }
      if (hits.length === 0) console.log('no results');
    }
    console.error(`${hits.length} results in ${ms.toFixed(1)} ms`);
    return 0;
  } catch (error) {
    console.error(`kestrel search: ${errorMessage(error)}`);
    return 1;
  } finally {
    index.close();
    if (embedder instanceof OnnxEmbedder) await embedder.dispose();
  }
}

export async function evalSearchCommand(argv: readonly string[], shippedModels: string): Promise<number> {
  const args = parseArgs(argv, ...EVAL_SEARCH_OPTIONS);
  const file = args.options.get('pairs')?.at(-1);
  if (!file) {
    console.error(EVAL_SEARCH_USAGE);
    return 2;
  }
  const pairs = readPairs(resolve(file));
  const embedder = await embedderFromArgs(args, shippedModels);
  try {
    const limit = intOption(args, 'limit', 0);
    const result = await evaluateSearch(pairs, embedder, {
      groupSize: intOption(args, 'group', 1000),
      seed: intOption(args, 'seed', 0),
      ...(limit > 0 ? { limit } : {}),
      tuneFusion: args.flags.has('tune-fusion'),
      onProgress: (message) => console.error(message),
    });
    console.log(args.flags.has('json') ? JSON.stringify(result, null, 1) : formatEvalSearch(result));
    return 0;
  } catch (error) {
    console.error(`kestrel eval-search: ${errorMessage(error)}`);
    return 1;
  } finally {
    if (embedder instanceof OnnxEmbedder) await embedder.dispose();
  }
}
