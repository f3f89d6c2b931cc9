/**
 * `kestrel complete FILE:LINE:COL`: one completion at a position (1-based line and column), printed
 * to stdout; how it went (model, provider, prompt and timing) to stderr.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEVICE_SETTINGS, type DeviceSetting } from '../../shared/devices/deviceSetting';
import { CompletionEngine, type EngineOptions } from '../engine';
import type { VariantName } from '../../shared/models/manifest';
import { intOption, parseArgs, type ParsedArgs } from '../../shared/cli/args';

export const COMPLETE_USAGE = `kestrel complete FILE:LINE:COL [options]
  --model ID          model id (default: the default model)
  --models DIR        extra folder to search for models (repeatable)
  --device D          ${DEVICE_SETTINGS.join(' | ')} (default auto)
  --variant V         fp32 | int8 | fp16 (default: best for the device)
  --max-tokens N      most tokens to generate
  --multiline | --single-line   force the mode instead of deciding from the code`;

const VALUED = ['model', 'models', 'device', 'variant', 'max-tokens'];

export function engineFromArgs(args: ParsedArgs, shippedModels: string, options: EngineOptions = {}): CompletionEngine {
  const roots = [shippedModels, ...(args.options.get('models') ?? []).map((d) => resolve(d))];
  return new CompletionEngine(() => roots, { info: (m) => console.error(m), warn: (m) => console.error(`warning: ${m}`) }, options);
}

export function deviceFromArgs(args: ParsedArgs): DeviceSetting {
  const device = (args.options.get('device')?.at(-1) ?? 'auto') as DeviceSetting;
  if (!DEVICE_SETTINGS.includes(device)) throw new Error(`--device must be one of ${DEVICE_SETTINGS.join(', ')}`);
  return device;
}

/** "path/to/file.py:12:5" -> the file and the 0-based offset of line 12, column 5. */
export function parseLocation(location: string, readText: (path: string) => string = (p) => readFileSync(p, 'utf8')): { file: string; text: string; offset: number } {
  const match = /^(.*):(\d+):(\d+)$/.exec(location);
  if (!match) throw new Error(`expected FILE:LINE:COL, got '${location}'`);
  const [, file, lineText, colText] = match as unknown as [string, string, string, string];
  const text = readText(file);
  const lines = text.split('\n');
  const line = Number(lineText);
  const col = Number(colText);
  if (line < 1 || line > lines.length) throw new Error(`${file} has ${lines.length} lines; line ${line} does not exist`);
  const lineLength = (lines[line - 1] as string).length;
  if (col < 1 || col > lineLength + 1) throw new Error(`line ${line} of ${file} has ${lineLength} characters; column ${col} does not exist`);
  let offset = 0;
  for (let i = 0; i < line - 1; i++) offset += (lines[i] as string).length + 1;
  return { file, text, offset: offset + col - 1 };
}

export async function completeCommand(argv: readonly string[], shippedModels: string): Promise<number> {
  const args = parseArgs(argv, VALUED, ['multiline', 'single-line']);
  const [location] = args.positional;
  if (!location) {
    console.error(COMPLETE_USAGE);
    return 2;
  }
  const { file, text, offset } = parseLocation(location);
  const engine = engineFromArgs(args, shippedModels);
  try {
    const variant = args.options.get('variant')?.at(-1) as VariantName | undefined;
    const model = await engine.load({ model: args.options.get('model')?.at(-1) ?? '', device: deviceFromArgs(args), ...(variant ? { variant } : {}) });
    const multiline = args.flags.has('multiline') ? true : args.flags.has('single-line') ? false : undefined;
    const maxTokens = args.options.has('max-tokens') ? intOption(args, 'max-tokens', 48) : undefined;
    // the file itself is the project cache's current document, as the open file is in the editor
    engine.projectCache?.updateDocument(resolve(file), text);
    const result = await engine.complete({
      docKey: resolve(file),
      prefix: text.slice(0, offset),
      suffix: text.slice(offset),
      languageId: file.endsWith('.py') ? 'python' : 'plaintext',
      documents: [], // imported signatures are still read from disk
      ...(multiline !== undefined ? { multiline } : {}),
      ...(maxTokens !== undefined ? { maxTokens } : {}),
    });
    if (result.text !== null) process.stdout.write(result.text + '\n');
    const s = result.stats;
    const parts = [
      result.text === null ? `no completion (${result.skipped ?? 'empty'})` : `${result.multiline ? 'multi-line' : 'single line'}`,
      s ? `prompt ${s.promptTokens} tokens, ${s.generatedTokens} generated (${s.finish})` : undefined,
      s ? `first token ${s.timeToFirstTokenMs.toFixed(1)} ms, ${s.decodeMsPerToken.toFixed(2)} ms/token` : undefined,
      `total ${result.totalMs.toFixed(1)} ms`,
      `${model.entry.id} (${model.variant.name}) on ${model.provider}`,
    ];
    console.error(parts.filter(Boolean).join('; '));
    if (result.raw !== undefined && result.raw !== result.text) console.error(`raw model output: ${JSON.stringify(result.raw)}`);
    return 0;
  } finally {
    await engine.dispose();
  }
}
