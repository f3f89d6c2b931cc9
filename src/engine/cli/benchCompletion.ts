/**
 * `kestrel bench-completion --files DIR`: time to first token against prompt length, decode
 * ms/token, and end-to-end single-line latency while typing lines of real Python files.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { measurePrefill, replayTyping, sampleTypedLines } from '../bench/completionBench';
import type { VariantName } from '../../shared/models/manifest';
import { intOption, parseArgs } from '../../shared/cli/args';
import { deviceFromArgs, engineFromArgs } from './complete';
import { pythonFiles } from './evalCompletion';

export const BENCH_USAGE = `kestrel bench-completion --files DIR [options]
  --lines N           lines typed character by character (default 20)
  --lengths A,B,...   prompt lengths for time to first token (default 256,512,1024,2048)
  --seed S            line sampling seed (default 0)
  --model, --models, --device, --variant as for complete`;

export async function benchCompletionCommand(argv: readonly string[], shippedModels: string): Promise<number> {
  const args = parseArgs(argv, ['files', 'lines', 'lengths', 'seed', 'model', 'models', 'device', 'variant'], []);
  const dir = args.options.get('files')?.at(-1);
  if (!dir) {
    console.error(BENCH_USAGE);
    return 2;
  }
  const files = pythonFiles(resolve(dir)).map((file) => ({ file, text: readFileSync(file, 'utf8') }));
  if (files.length === 0) throw new Error(`no .py files under ${dir}`);
  const lengths = (args.options.get('lengths')?.at(-1) ?? '256,512,1024,2048').split(',').map(Number);
  const engine = engineFromArgs(args, shippedModels);
  try {
    const variant = args.options.get('variant')?.at(-1) as VariantName | undefined;
    const model = await engine.load({ model: args.options.get('model')?.at(-1) ?? '', device: deviceFromArgs(args), ...(variant ? { variant } : {}) });
    console.log(`${model.entry.id} (${model.variant.name}) on ${model.provider}; load ${model.loadMs.toFixed(0)} ms, warm-up ${model.warmupMs.toFixed(0)} ms`);
    const code = files.map((f) => f.text).join('\n');
    for (const point of await measurePrefill(model, code, lengths)) {
      console.log(`prompt ${String(point.promptTokens).padStart(5)} tokens: first token ${point.timeToFirstTokenMs.toFixed(1)} ms, decode ${point.decodeMsPerToken.toFixed(2)} ms/token (best ${point.bestTimeToFirstTokenMs.toFixed(1)} ms, ${point.bestDecodeMsPerToken.toFixed(2)} ms/token)`);
    }
    const lines = sampleTypedLines(files, intOption(args, 'lines', 20), intOption(args, 'seed', 0));
    const replay = await replayTyping(engine, lines);
    console.log(
      `typing ${lines.length} lines, ${replay.requests} requests: p50 ${replay.p50Ms.toFixed(1)} ms, p95 ${replay.p95Ms.toFixed(1)} ms, ` +
        `mean ${replay.meanMs.toFixed(1)} ms; ${replay.fromCache} from the completion cache, ` +
        `${(100 * replay.meanReusedShare).toFixed(0)}% of each prompt reused from the KV cache, ${replay.shown} suggestions shown; ` +
        `outside ONNX Runtime p50 ${replay.overheadP50Ms.toFixed(1)} ms`,
    );
    return 0;
  } finally {
    await engine.dispose();
  }
}
