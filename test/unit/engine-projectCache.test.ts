// The project cache (a nested cache n-gram model of the user's code) on the shipped model's
// tokenizer and ONNX session (models/kestrel-py-tiny, or KESTREL_TEST_MODEL_DIR): incremental counts
// equal counts from scratch, lambda = 1 is exactly the model, an unusual project idiom is completed
// only with the cache, and a workspace over the memory budget drops files and keeps answering.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CompletionEngine } from '../../src/engine/engine';
import { Generator } from '../../src/engine/generate/generator';
import { CacheMixer, expNonPositive } from '../../src/engine/projectCache/mixing';
import { ProjectCache } from '../../src/engine/projectCache/projectCache';
import { TrackedText } from '../../src/engine/projectCache/trackedText';
import { inspectModelDir } from '../../src/shared/models/registry';
import { loadCompletionModel, type LoadedCompletionModel } from '../../src/engine/session/model';
import { pythonFiles } from '../../src/engine/cli/evalCompletion';

const MODEL_DIR = resolve(process.env.KESTREL_TEST_MODEL_DIR ?? 'models/kestrel-py-tiny');
const WAREHOUSE = readFileSync('test/fixtures/workspace/inventory/warehouse.py', 'utf8');
const PRICING = readFileSync('test/fixtures/workspace/inventory/pricing.py', 'utf8');

let loaded: Promise<LoadedCompletionModel> | undefined;
function model(): Promise<LoadedCompletionModel> {
  assert.ok(existsSync(join(MODEL_DIR, 'kestrel.json')), `the completion model is missing: ${MODEL_DIR}/kestrel.json does not exist`);
  loaded ??= loadCompletionModel(inspectModelDir(MODEL_DIR), 'cpu', 'fp32');
  return loaded;
}

/** Edits as an editor makes them: typing a line, deleting a block, pasting, undoing. */
function editSequence(start: string): string[] {
  const texts: string[] = [];
  let text = start;
  const at = text.indexOf('\n', Math.floor(text.length / 2)) + 1;
  const typed = '    total = sum(item.quantity for item in self.items)\n';
  for (let k = 1; k <= typed.length; k++) texts.push((text = start.slice(0, at) + typed.slice(0, k) + start.slice(at)));
  const lineEnd = text.indexOf('\n', 200);
  texts.push((text = text.slice(0, 150) + text.slice(lineEnd))); // a block deleted across lines
  texts.push((text = text.replace('def ', 'async def ')));
  texts.push((text = text + '\n\nclass Extra:\n    pass\n')); // pasted at the end
  texts.push((text = 'import sys\n' + text)); // at the start
  texts.push((text = text.slice(0, 40) + '  \n\n  \t' + text.slice(40))); // whitespace that changes tokens around it
  texts.push(start); // undo everything
  texts.push(start.replace(/self/g, 'this'));
  return texts;
}

test('counts after a sequence of edits equal counts built from scratch, in every scope', async () => {
  const m = await model();
  const incremental = new ProjectCache(m.tokenizer, m.vocabSize);
  incremental.setFile('/p/pricing.py', m.tokenizer.encodeRaw(PRICING));
  incremental.setFile('/p/warehouse.py', m.tokenizer.encodeRaw(WAREHOUSE)); // read from disk, then opened and edited
  incremental.updateDocument('/p/warehouse.py', WAREHOUSE);
  const tracked = new TrackedText(m.tokenizer);
  tracked.update(WAREHOUSE);
  let final = WAREHOUSE;
  for (const text of editSequence(WAREHOUSE)) {
    incremental.updateDocument('/p/warehouse.py', text);
    tracked.update(text);
    final = text;
  }
  assert.deepEqual(tracked.ids(), m.tokenizer.encodeRaw(final), 'the tracked tokens are the final text\'s tokens');
  const scratch = new ProjectCache(m.tokenizer, m.vocabSize);
  scratch.setFile('/p/pricing.py', m.tokenizer.encodeRaw(PRICING));
  scratch.updateDocument('/p/warehouse.py', final);
  for (const scope of ['workspace', 'open', '/p/warehouse.py']) {
    const a = incremental.countsForTest(scope);
    const b = scratch.countsForTest(scope);
    assert.ok(b.size > 1000, `${scope} holds n-grams`);
    assert.deepEqual(new Map([...a].sort()), new Map([...b].sort()), `${scope}: the same n-grams with the same counts`);
  }
  assert.deepEqual(incremental.stats().tokens, scratch.stats().tokens);
});

test('lambda = 1 gives exactly the tokens of the model alone, with and without draft tokens', async () => {
  const m = await model();
  const cache = new ProjectCache(m.tokenizer, m.vocabSize);
  cache.setFile('/p/pricing.py', m.tokenizer.encodeRaw(PRICING));
  cache.updateDocument('/p/warehouse.py', WAREHOUSE);
  const lineStarts = [...WAREHOUSE.matchAll(/\n/g)].map((match) => (match.index as number) + 1);
  let cacheChangedSomething = false;
  for (let k = 1; k <= 6; k++) {
    const start = lineStarts[Math.floor((k * lineStarts.length) / 7)] as number;
    const prompt = m.prompts.build('lambda', WAREHOUSE.slice(0, start + 6), '', { maxTokens: 300, suffixShare: 0 }).ids;
    for (const draftTokens of [0, 7]) {
      const plain = await new Generator(m.decoder, 512).generate(prompt, { maxTokens: 12, draftTokens });
      const one = new CacheMixer(cache, '/p/warehouse.py', prompt, 'mix', { maxWeight: 0, minOrder: 0 });
      const mixedAtOne = await new Generator(m.decoder, 512).generate(prompt, { maxTokens: 12, draftTokens, mixer: one });
      assert.deepEqual(mixedAtOne.tokens, plain.tokens);
      assert.ok(one.stats.steps > 0, 'the cache was consulted at every step');
      assert.equal(one.stats.mixedSteps, 0);
      const cacheAlone = new CacheMixer(cache, '/p/warehouse.py', prompt, 'cache', { maxWeight: 0, minOrder: 0 });
      const fromCache = await new Generator(m.decoder, 512).generate(prompt, { maxTokens: 12, draftTokens, mixer: cacheAlone });
      if (fromCache.tokens.join() !== plain.tokens.join()) cacheChangedSomething = true;
    }
  }
  assert.ok(cacheChangedSomething, 'with lambda = 0 the cache decides (a check that the comparison above means something)');
});

// An idiom of this project only: a made-up registry call with made-up names, in two other files.
const IDIOM = 'zorblat_registry.bind_quux("frobnicate", priority=QuuxLevel.ZORBLAT_HIGH)';
function projectFiles(): Array<[string, string]> {
  const user = (n: number): string =>
    `from quux import zorblat_registry, QuuxLevel\n\n\ndef setup_${n}(app):\n    app.start()\n    ${IDIOM}\n    return app\n`;
  return [['/proj/plugins/alpha.py', user(1)], ['/proj/plugins/beta.py', user(2)]];
}
const TYPED = 'from quux import zorblat_registry, QuuxLevel\n\n\ndef setup_3(app):\n    app.start()\n    zorblat_registry.bind_';

test('a file that repeats an unusual project idiom gets it completed with the cache on, and not with it off', async () => {
  const engine = new CompletionEngine(() => [dirname(MODEL_DIR)]);
  try {
    const m = await engine.load({ model: JSON.parse(readFileSync(join(MODEL_DIR, 'kestrel.json'), 'utf8')).id, device: 'cpu' });
    const cache = engine.projectCache as ProjectCache;
    for (const [path, text] of projectFiles()) cache.setFile(path, m.tokenizer.encodeRaw(text));
    cache.updateDocument('/proj/plugins/gamma.py', TYPED);
    const ask = (projectCache: boolean) => engine.complete({
      docKey: '/proj/plugins/gamma.py', prefix: TYPED, suffix: '\n', languageId: 'python', multiline: false, noCache: true, projectCache,
    });
    const on = await ask(true);
    assert.equal(on.text, 'quux("frobnicate", priority=QuuxLevel.ZORBLAT_HIGH)');
    assert.ok((on.stats?.projectCache?.mixedSteps ?? 0) > 0);
    const off = await ask(false);
    assert.notEqual(off.text, on.text);
    assert.equal(off.stats?.projectCache, undefined, 'with the cache off it is not consulted');
  } finally {
    await engine.dispose();
  }
});

test('a workspace over the memory budget drops the least recently used files, stays within it and keeps answering', async () => {
  const budget = 3 * 1024 * 1024;
  const engine = new CompletionEngine(() => [dirname(MODEL_DIR)], undefined, { projectCache: { memoryBudgetBytes: budget } });
  try {
    const m = await engine.load({ model: JSON.parse(readFileSync(join(MODEL_DIR, 'kestrel.json'), 'utf8')).id, device: 'cpu' });
    const cache = engine.projectCache as ProjectCache;
    for (const [path, text] of projectFiles()) cache.setFile(path, m.tokenizer.encodeRaw(text));
    cache.updateDocument('/proj/plugins/gamma.py', TYPED);
    // then a large library, read after the project's files: more than the budget holds
    let read = 0;
    for (const file of pythonFiles('/usr/lib/python3.11/email')) {
      cache.setFile(file, m.tokenizer.encodeRaw(readFileSync(file, 'utf8')));
      read++;
      assert.ok(cache.stats().bytes <= budget, `within ${budget} bytes after ${read} files: ${cache.stats().bytes}`);
    }
    const stats = cache.stats();
    assert.ok(stats.evictedFiles > 0, 'files were dropped');
    assert.ok(!cache.has('/proj/plugins/alpha.py') && !cache.has('/proj/plugins/beta.py'), 'the least recently used went first');
    assert.ok(cache.has('/proj/plugins/gamma.py'), 'the open document stays');
    assert.ok(stats.files > 5 && stats.tokens > 20_000, `the recent files are kept: ${JSON.stringify(stats)}`);
    const result = await engine.complete({ docKey: '/proj/plugins/gamma.py', prefix: TYPED, suffix: '\n', languageId: 'python', multiline: false, noCache: true });
    assert.ok((result.stats?.projectCache?.steps ?? 0) > 0, 'completions still consult the cache');
    assert.ok(result.stats?.finish, 'and answer');
  } finally {
    await engine.dispose();
  }
});

test("the mix's exponential matches Math.exp to 1e-6 relative over the range a softmax needs", () => {
  for (let d = 0; d >= -80; d -= 0.0137) {
    const exact = Math.exp(d);
    assert.ok(Math.abs(expNonPositive(d) - exact) <= 1e-6 * exact, `exp(${d})`);
  }
  assert.equal(expNonPositive(0), 1);
  assert.equal(expNonPositive(-1000), 0);
});

test("the mix's greedy choice is the top of the mixed distribution, step after step", async () => {
  const m = await model();
  const cache = new ProjectCache(m.tokenizer, m.vocabSize);
  cache.setFile('/p/pricing.py', m.tokenizer.encodeRaw(PRICING));
  cache.updateDocument('/p/warehouse.py', WAREHOUSE);
  const ids = m.tokenizer.encodeRaw(WAREHOUSE);
  let cacheDecided = 0;
  let steps = 0;
  for (const maxWeight of [0.3, 0.9]) {
    const chooser = new CacheMixer(cache, '/p/warehouse.py', ids.slice(0, 40), 'mix', { maxWeight, minOrder: 1 });
    const scorer = new CacheMixer(cache, '/p/warehouse.py', ids.slice(0, 40), 'mix', { maxWeight, minOrder: 1 });
    let decoderCache = m.decoder.emptyCache();
    for (let at = 32; at < 96; at += 8) {
      const step = await m.decoder.step(ids.slice(at, at + 8), decoderCache);
      decoderCache = step.cache;
      for (const [k, row] of step.rows.entries()) {
        if (at + k < 40) continue;
        const chosen = chooser.choose(row);
        const scores = scorer.scores(row);
        let top = 0;
        for (let i = 1; i < scores.length; i++) if ((scores[i] as number) > (scores[top] as number)) top = i;
        assert.equal(chosen, top, `step ${at + k}`);
        let modelTop = 0;
        for (let i = 1; i < row.length; i++) if ((row[i] as number) > (row[modelTop] as number)) modelTop = i;
        if (chosen !== modelTop) cacheDecided++;
        steps++;
        chooser.push(ids[at + k + 1] as number);
        scorer.push(ids[at + k + 1] as number);
      }
    }
  }
  assert.ok(steps > 80 && cacheDecided > 10, `the cache changed ${cacheDecided} of ${steps} choices`);
});

test("a completion's own position does not teach the cache what follows the cursor", async () => {
  const m = await model();
  const cache = new ProjectCache(m.tokenizer, m.vocabSize);
  // the only place "frobnicate_widget(" occurs is the line being typed, followed by the line's end
  const text = 'import os\n\n\ndef run(path):\n    frobnicate_widget(\n    return path\n';
  const cursor = text.indexOf('(\n') + 1;
  cache.updateDocument('/p/a.py', text);
  const context = m.tokenizer.encodeRaw(text.slice(0, cursor));
  const predicted = (): number => {
    const row = new Float32Array(m.vocabSize);
    const guess = cache.predict('/p/a.py', context, row);
    return guess.order;
  };
  const seenBefore = predicted();
  assert.ok(seenBefore >= 3, 'the whole document counted: the context is seen, followed by the line end');
  const reveal = cache.hideAcross('/p/a.py', cursor);
  const row = new Float32Array(m.vocabSize);
  const hidden = cache.predict('/p/a.py', context, row);
  assert.ok(hidden.order < seenBefore, `while hidden the longest context seen is shorter (${hidden.order} < ${seenBefore})`);
  reveal();
  assert.equal(predicted(), seenBefore, 'and the counts come back whole');
  const scratch = new ProjectCache(m.tokenizer, m.vocabSize);
  scratch.updateDocument('/p/a.py', text);
  assert.deepEqual(new Map([...cache.countsForTest('workspace')].sort()), new Map([...scratch.countsForTest('workspace')].sort()));
});
