/**
 * `kestrel eval-completion --files DIR`: CodeXGLUE line-level completion through the whole engine
 * (prompt, KV cache, stop rules, postprocess) on Python files the model never saw: exact match and
 * edit similarity, comparable with models/training/eval_completion.py (left context only), or with
 * the rest of the file as the FIM suffix (--with-suffix).
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { editSimilarity, exactMatch, sampleLineCases } from '../eval/metrics';
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
  --out FILE          write the report (metrics and examples) as JSON
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
  const args = parseArgs(argv, ['files', 'n', 'seed', 'out', 'model', 'models', 'device', 'variant']);
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
  try {
    const variant = args.options.get('variant')?.at(-1) as VariantName | undefined;
    const model = await engine.load({ model: args.options.get('model')?.at(-1) ?? '', device: deviceFromArgs(args), ...(variant ? { variant } : {}) });
    let em = 0;
    let es = 0;
    const latencies: number[] = [];
    const examples: Array<{ file: string; contextTail: string; target: string; prediction: string }> = [];
    const started = performance.now();
    for (const [k, c] of cases.entries()) {
      const result = await engine.complete({
        docKey: c.file,
        prefix: c.prefix,
        suffix: withSuffix ? c.after : '',
        multiline: false,
        noCache: true,
        maxTokens: 48,
        languageId: 'python',
      });
      latencies.push(result.totalMs);
      const prediction = result.text ?? '';
      if (exactMatch(prediction, c.target)) em++;
      es += editSimilarity(prediction.trim(), c.target.trim());
      if (examples.length < 12 && k % Math.max(1, Math.floor(cases.length / 12)) === 0) {
        examples.push({ file: c.file, contextTail: c.prefix.slice(-80), target: c.target, prediction });
      }
      if ((k + 1) % 50 === 0) {
        console.error(`${k + 1}/${cases.length}: EM ${((100 * em) / (k + 1)).toFixed(1)} ES ${(es / (k + 1)).toFixed(1)} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
      }
    }
    latencies.sort((a, b) => a - b);
    const report = {
      model: model.entry.id,
      variant: model.variant.name,
      provider: model.provider,
      files: files.length,
      lines: cases.length,
      seed,
      context: withSuffix ? 'prefix and suffix (FIM)' : 'left context only',
      healing: !args.flags.has('no-healing'),
      drafts: !args.flags.has('no-drafts'),
      exactMatch: Number(((100 * em) / cases.length).toFixed(2)),
      editSimilarity: Number((es / cases.length).toFixed(2)),
      latencyMs: { p50: Number(percentile(latencies, 0.5).toFixed(1)), p95: Number(percentile(latencies, 0.95).toFixed(1)) },
      seconds: Math.round((performance.now() - started) / 1000),
    };
    console.log(JSON.stringify(report));
    const out = args.options.get('out')?.at(-1);
    if (out) writeFileSync(out, JSON.stringify({ ...report, examples }, null, 1));
    return 0;
  } finally {
    await engine.dispose();
  }
}
