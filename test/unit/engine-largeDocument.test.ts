// A completion in a 10 MB document costs what one in a small file does, and keeps nothing of the
// document alive once the caller lets it go (shipped model: models/kestrel-py-tiny, or KESTREL_TEST_MODEL_DIR).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { CompletionEngine } from '../../src/engine/engine';
import { cursorWindow } from '../../src/engine/prompt/cursorWindow';
import { inspectModelDir } from '../../src/shared/models/registry';
import { loadCompletionModel } from '../../src/engine/session/model';

const MODEL_DIR = resolve(process.env.KESTREL_TEST_MODEL_DIR ?? 'models/kestrel-py-tiny');

/** About `bytes` of ordinary Python, numbered so no two functions are the same. */
function python(bytes: number, tag: string): string {
  const parts: string[] = [];
  let length = 0;
  for (let i = 0; length < bytes; i++) {
    const part = `def load_${tag}_${i}(path):\n    with open(path) as handle:\n        return handle.read().split(",")[${i % 7}]\n\n`;
    parts.push(part);
    length += part.length;
  }
  return parts.join('');
}

test('the prompt for the end of a 10 MB document encodes a window, not the stretch since the last request', async () => {
  assert.ok(existsSync(join(MODEL_DIR, 'kestrel.json')), `the completion model is missing: ${MODEL_DIR}`);
  const m = await loadCompletionModel(inspectModelDir(MODEL_DIR), 'cpu');
  try {
    const text = python(10 * 1024 * 1024, 'x');
    const budget = { maxTokens: 1000, suffixShare: 0.25 };
    const early = text.indexOf('\n', 60_000);
    m.prompts.build('huge', text.slice(0, early), text.slice(early), budget);
    const before = m.tokenizer.stats.encodedChars;
    const end = m.prompts.build('huge', text, '', budget);
    const encoded = m.tokenizer.stats.encodedChars - before;
    assert.ok(encoded < 64 * 1024, `encoded ${encoded} characters for the second prompt`);
    assert.ok(end.prefixTokens > 500, 'the prompt is still full');

    // The same through the window the pipeline cuts: the start is kept as a document offset, so
    // typing on moves neither the window nor the prompt's start (its tokens stay in the KV cache).
    const typed = text + 'de';
    const window = cursorWindow(typed, '', 64 * 1024, 16 * 1024);
    assert.ok(window.prefix.length <= 80 * 1024 && window.prefixOffset > 0);
    const first = m.prompts.build('window', window.prefix, window.suffix, budget, '', window.prefixOffset);
    const next = cursorWindow(typed + 'f ', '', 64 * 1024, 16 * 1024);
    assert.equal(next.prefixOffset, window.prefixOffset);
    const second = m.prompts.build('window', next.prefix, next.suffix, budget, '', next.prefixOffset);
    assert.equal(second.prefixStart, first.prefixStart);
  } finally {
    await m.decoder.release();
  }
});

test('after completions in a 10 MB document, nothing of its text stays in memory once it is let go', async () => {
  assert.ok(existsSync(join(MODEL_DIR, 'kestrel.json')), `the completion model is missing: ${MODEL_DIR}`);
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const engine = new CompletionEngine(() => [dirname(MODEL_DIR)]);
  try {
    await engine.load({ model: '', device: 'cpu' });
    const complete = async (tag: string): Promise<void> => {
      // Each call builds a new 10 MB text, as an editor does on every change of a document.
      const text = python(10 * 1024 * 1024, tag) + 'def main():\n    return ';
      const at = text.length;
      // after a "return " a line's way down, then at the end: neither is skipped by the prefilter
      const early = text.indexOf('        return ', 100_000) + '        return '.length;
      for (const cut of [early, at]) {
        await engine.complete({ docKey: 'file:///huge.py', prefix: text.slice(0, cut), suffix: text.slice(cut), languageId: 'python', maxTokens: 4 });
      }
    };
    await complete('warm'); // first-use allocations (tree-sitter, caches) are not the document's
    gc();
    gc();
    const baseline = process.memoryUsage().heapUsed;
    for (const tag of ['a', 'b', 'c']) await complete(tag);
    gc();
    gc();
    const kept = process.memoryUsage().heapUsed - baseline;
    console.log(`heap kept after three 10 MB documents: ${(kept / 2 ** 20).toFixed(1)} MB`);
    assert.ok(kept < 5 * 2 ** 20, `${(kept / 2 ** 20).toFixed(1)} MB of heap kept: caches hold on to document text`);
  } finally {
    await engine.dispose();
  }
});
