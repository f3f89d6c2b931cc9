/**
 * `kestrel eval-completion --files DIR`: CodeXGLUE line-level completion through the whole engine
 * (prompt, KV cache, stop rules, postprocess) on Python files the model never saw: exact match and
 * edit similarity (left context only), or with
 * the rest of the file as the FIM suffix (--with-suffix).
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { editSimilarity, exactMatch, sampleLineCases, type LineCase } from '../eval/metrics';
import { mixParametersOf, type MixMode, type MixParameters } from '../projectCache/mixing';
import type { ProjectCache } from '../projectCache/projectCache';
import type { VariantName } from '../../shared/models/manifest';
import { intOption, parseArgs } from '../../shared/cli/args';
import { deviceFromArgs, engineFromArgs } from './complete';
import { CompletionEngine } from '../engine';

export const EVAL_USAGE = `kestrel eval-completion --files DIR [options]
  --n N               lines to sample (default 200)
  --seed S            sampling seed (default 0)
  --with-suffix       give the model the rest of the file after the line (FIM); default: left context only
  --no-healing        turn token healing off (to measure it)
  --no-drafts         decode one token per step, without speculative draft tokens (to compare)
  --in-project        fill the project cache with the other files of the sampled file's project (the
                      top-level folder under --files that holds it); default: the file's own left context only
  --no-cache          the model alone (the project cache left out of decoding)
  --cache-only        the project cache alone (lambda = 0: the model's logits are not used)
  --mix W,K[,F[,C]]   lambda's parameters: cache weight none below K tokens of context seen, rising to W
                      at F tokens (default the longest), times the cache's confidence to the power C (default 1)
  --mix-grid "W,K,F,C ..."  evaluate each parameter set on the same lines (tuning; latencies not comparable)
  --out FILE          write the report (metrics and examples) as JSON
  --examples N        examples in the report (default 12)
  --model, --models, --device, --variant as for complete`;

const SKIP_DIRS = new Set(['node_modules', '__pycache__', '.git', '.venv', 'venv', 'build', 'dist']);

export function pythonFiles(dir: string, limitBytes = 512 * 1024): string[] {
  const found: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      if (name.startsWith('.') || SKIP_DIRS.has(name)) continue;
      const path = join(d, name);
      const stat = statSync(path);
      if (stat.isDirectory()) walk(path);
      else if (name.endsWith('.py') && stat.size > 0 && stat.size <= limitBytes) found.push(path);
    }
  };
  walk(dir);
  return found;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}

export async function evalCompletionCommand(argv: readonly string[], shippedModels: string): Promise<number> {
  const args = parseArgs(argv, ['files', 'n', 'seed', 'out', 'model', 'models', 'device', 'variant', 'mix', 'mix-grid', 'examples'], ['with-suffix', 'no-healing', 'no-drafts', 'no-cache', 'cache-only', 'in-project']);
  const dir = args.options.get('files')?.at(-1);
  if (!dir) {
    console.error(EVAL_USAGE);
    return 2;
  }
  const n = intOption(args, 'n', 200);
  const seed = intOption(args, 'seed', 0);
  const withSuffix = args.flags.has('with-suffix');
  const files = pythonFiles(resolve(dir)).map((file) => ({ file, text: readFileSync(file, 'utf8') }));
  if (files.length === 0) throw new Error(`no .py files under ${dir}`);
  // Sorted by file and position: with left context only, each prompt then extends the previous
  // one in the same file and the KV cache is reused, as while typing.
  const cases = sampleLineCases(files, n, seed).sort((a, b) => (a.file === b.file ? a.prefix.length - b.prefix.length : a.file < b.file ? -1 : 1));
  const engine: CompletionEngine = engineFromArgs(args, shippedModels, { healing: !args.flags.has('no-healing'), drafts: !args.flags.has('no-drafts') });
  const mode: MixMode = args.flags.has('no-cache') ? 'model' : args.flags.has('cache-only') ? 'cache' : 'mix';
  const inProject = args.flags.has('in-project');
  const exampleCount = Math.max(1, intOption(args, 'examples', 12));
  const grid = args.options.get('mix-grid')?.at(-1)?.trim().split(/\s+/).map(mixOption);
  const fixed = args.options.get('mix')?.at(-1);
  try {
    const variant = args.options.get('variant')?.at(-1) as VariantName | undefined;
    const model = await engine.load({ model: args.options.get('model')?.at(-1) ?? '', device: deviceFromArgs(args), ...(variant ? { variant } : {}) });
    const variants: Array<{ label: string; parameters: MixParameters }> = grid
      ? grid.map((p) => ({ label: JSON.stringify(p), parameters: p }))
      : [{ label: mode, parameters: fixed ? mixOption(fixed) : engine.mixParameters as MixParameters }];
    engine.configureMixing(mode, variants[0]?.parameters);
    const tallies = variants.map(() => ({ em: 0, es: 0, latencies: [] as number[], mixedSteps: 0, steps: 0, fullScans: 0, mixMs: 0, stepMs: [] as number[] }));
    const examples: Array<{ file: string; contextTail: string; target: string; prediction: string }> = [];
    const cache = engine.projectCache as ProjectCache;
    const filler = new CacheFiller(cache, model.tokenizer, resolve(dir), files, inProject && mode !== 'model');
    const started = performance.now();
    for (const [k, c] of cases.entries()) {
      if (mode !== 'model') filler.before(c, withSuffix);
      for (const [v, variantOf] of variants.entries()) {
        if (grid) engine.configureMixing(mode, variantOf.parameters);
        const result = await engine.complete({
          docKey: c.file,
          prefix: c.prefix,
          suffix: withSuffix ? c.after : '',
          multiline: false,
          noCache: true,
          maxTokens: 48,
          languageId: 'python',
        });
        const tally = tallies[v] as (typeof tallies)[number];
        tally.latencies.push(result.totalMs);
        const prediction = result.text ?? '';
        if (exactMatch(prediction, c.target)) tally.em++;
        tally.es += editSimilarity(prediction.trim(), c.target.trim());
        const mixing = result.stats?.projectCache;
        if (mixing) {
          tally.steps += mixing.steps;
          tally.mixedSteps += mixing.mixedSteps;
          tally.mixMs += mixing.ms;
          tally.fullScans += mixing.fullScans;
          tally.stepMs.push(...mixing.stepMs);
        }
        if (v === 0 && examples.length < exampleCount && k % Math.max(1, Math.floor(cases.length / exampleCount)) === 0) {
          examples.push({ file: c.file, contextTail: c.prefix.slice(-80), target: c.target, prediction });
        }
      }
      if ((k + 1) % 50 === 0) {
        const t = tallies[0] as (typeof tallies)[number];
        console.error(`${k + 1}/${cases.length}: EM ${((100 * t.em) / (k + 1)).toFixed(1)} ES ${(t.es / (k + 1)).toFixed(1)} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
      }
    }
    const cacheStats = cache.stats();
    const reports = variants.map((variantOf, v) => {
      const t = tallies[v] as (typeof tallies)[number];
      t.latencies.sort((a, b) => a - b);
      return {
        model: model.entry.id,
        variant: model.variant.name,
        provider: model.provider,
        files: files.length,
        lines: cases.length,
        seed,
        context: withSuffix ? 'prefix and suffix (FIM)' : 'left context only',
        projectCache: mode === 'model' ? 'off (model alone)' : `${mode === 'cache' ? 'cache alone' : 'mixed'}, ${inProject ? 'in-project' : 'file left context'}`,
        ...(mode === 'mix' ? { lambda: variantOf.parameters } : {}),
        healing: !args.flags.has('no-healing'),
        drafts: !args.flags.has('no-drafts'),
        exactMatch: Number(((100 * t.em) / cases.length).toFixed(2)),
        editSimilarity: Number((t.es / cases.length).toFixed(2)),
        latencyMs: { p50: Number(percentile(t.latencies, 0.5).toFixed(1)), p95: Number(percentile(t.latencies, 0.95).toFixed(1)) },
        ...(mode !== 'model' ? {
          cacheSteps: {
            steps: t.steps, withWeight: t.mixedSteps, fullScans: t.fullScans,
            msPerStep: Number((t.mixMs / Math.max(1, t.steps)).toFixed(4)),
            p50Ms: Number(percentile(t.stepMs.sort((a, b) => a - b), 0.5).toFixed(4)),
          },
          cacheAtEnd: { files: cacheStats.files, tokens: cacheStats.tokens, megabytes: Number((cacheStats.bytes / 2 ** 20).toFixed(1)) },
        } : {}),
        seconds: Math.round((performance.now() - started) / 1000),
      };
    });
    for (const report of reports) console.log(JSON.stringify(report));
    const out = args.options.get('out')?.at(-1);
    if (out) writeFileSync(out, JSON.stringify(reports.length === 1 ? { ...reports[0], examples } : { reports, examples }, null, 1));
    return 0;
  } finally {
    await engine.dispose();
  }
}

function mixOption(text: string): MixParameters {
  const [w, k, f, c] = text.split(',').map(Number);
  const parameters = mixParametersOf({ projectCache: { lambda: { maxWeight: w, minOrder: k, fullOrder: f, confidence: c } } });
  if (!parameters) {
    throw new Error(`lambda's parameters are "W,K[,F[,C]]" (0 <= W <= 1; K <= F whole numbers of tokens; C >= 0), got '${text}'`);
  }
  return parameters;
}

/**
 * Fills the project cache for each sampled line as the protocol says: the file under test up to the
 * cursor (and the suffix the model sees, with --with-suffix) as the current document; in-project,
 * also every other file of its project (the top-level folder under --files), read as workspace files.
 * Cases come sorted by file, so a project's files are encoded once and a file's cases extend one
 * another (the cache applies each as an edit).
 */
class CacheFiller {
  private project: string | undefined;
  private file: string | undefined;
  private readonly ids = new Map<string, number[]>();

  constructor(
    private readonly cache: ProjectCache,
    private readonly tokenizer: { encodeRaw(text: string): number[] },
    private readonly root: string,
    private readonly files: ReadonlyArray<{ file: string; text: string }>,
    private readonly inProject: boolean,
  ) {}

  private projectOf(file: string): string {
    const rel = relative(this.root, file);
    return rel.includes(sep) ? (rel.split(sep)[0] as string) : '.';
  }

  before(c: LineCase, withSuffix: boolean): void {
    if (c.file !== this.file) {
      if (this.file !== undefined) {
        this.cache.removeFile(this.file);
        // the finished file is one of its project's other files for the rest
        if (this.inProject && this.projectOf(this.file) === this.project) this.cache.setFile(this.file, this.idsOf(this.file));
      }
      const project = this.projectOf(c.file);
      if (this.inProject && project !== this.project) {
        this.cache.clear();
        this.ids.clear();
        for (const f of this.files) if (this.projectOf(f.file) === project) this.cache.setFile(f.file, this.idsOf(f.file));
      }
      this.project = project;
      this.file = c.file;
      this.cache.removeFile(c.file);
    }
    this.cache.updateDocument(c.file, withSuffix ? c.prefix + c.after : c.prefix);
  }

  private idsOf(file: string): number[] {
    let ids = this.ids.get(file);
    if (!ids) {
      ids = this.tokenizer.encodeRaw(this.files.find((f) => f.file === file)?.text ?? '');
      this.ids.set(file, ids);
    }
    return ids;
  }
}
