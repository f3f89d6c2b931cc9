// Generation against the shipped completion model (models/kestrel-py-tiny, or KESTREL_TEST_MODEL_DIR):
// KV-cache reuse gives exactly the tokens a fresh run gives, cancellation between steps, the time
// budget, and the whole pipeline through CompletionEngine. Short prompts and few tokens keep it quick.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CompletionEngine } from '../../src/engine/engine';
import { EngineError, isAbortError } from '../../src/shared/errors/errors';
import { Generator } from '../../src/engine/generate/generator';
import { inspectModelDir } from '../../src/shared/models/registry';
import { loadCompletionModel, type LoadedCompletionModel } from '../../src/engine/session/model';

const MODEL_DIR = resolve(process.env.KESTREL_TEST_MODEL_DIR ?? 'models/kestrel-py-tiny');
const SOURCE = readFileSync('test/fixtures/workspace/inventory/warehouse.py', 'utf8');

let loaded: Promise<LoadedCompletionModel> | undefined;
function model(): Promise<LoadedCompletionModel> {
  assert.ok(
    existsSync(join(MODEL_DIR, 'kestrel.json')),
    `the completion model is missing: ${MODEL_DIR}/kestrel.json does not exist (set KESTREL_TEST_MODEL_DIR to a model folder)`,
  );
  // fp32: reuse is exact up to float rounding. The int8 graph quantizes activations per run
  // (DynamicQuantizeLinear over all the tokens fed at once), so a reused prefix can shift near-ties.
  loaded ??= loadCompletionModel(inspectModelDir(MODEL_DIR), 'cpu', 'fp32');
  return loaded;
}

/** Prompts as a user typing at the end of a line produces them: each one extends the previous text. */
function typingPrompts(m: LoadedCompletionModel, count: number): number[][] {
  const cut = SOURCE.indexOf('\n', Math.floor(SOURCE.length / 3));
  const line = SOURCE.slice(cut, SOURCE.indexOf('\n', cut + 1));
  const prompts: number[][] = [];
  for (let typed = Math.max(1, line.length - count); typed <= line.length; typed++) {
    const prefix = SOURCE.slice(0, cut + typed);
    const suffix = SOURCE.slice(cut + line.length);
    prompts.push(m.prompts.build('typing', prefix, suffix, { maxTokens: 400, suffixShare: 0.25 }).ids);
  }
  return prompts;
}

test("the model's tokenizer round-trips Python exactly, and encoding by pieces equals encoding the whole", async () => {
  const m = await model();
  const tricky = 'def f(x):\r\n\tif x:  \n        return "é ü — 日本"  # ünïcode\n\n\n    \nclass A:\n    pass\n';
  for (const text of [SOURCE, tricky]) {
    const whole = m.tokenizer.encodeRaw(text);
    assert.equal(m.tokenizer.decode(whole), text);
    assert.deepEqual(m.tokenizer.encode(text), whole);
  }
});

test('KV-cache reuse gives exactly the tokens a fresh run gives, while typing', async () => {
  const m = await model();
  const reusing = new Generator(m.decoder, m.entry.manifest.contextLength);
  const fresh = new Generator(m.decoder, m.entry.manifest.contextLength);
  let reusedSomething = false;
  for (const prompt of typingPrompts(m, 4)) {
    const a = await reusing.generate(prompt, { maxTokens: 8 });
    const b = await fresh.generate(prompt, { maxTokens: 8, reuseCache: false });
    assert.deepEqual(a.tokens, b.tokens);
    assert.equal(b.reusedTokens, 0);
    if (a.reusedTokens > prompt.length / 2) reusedSomething = true;
    assert.equal(a.reusedTokens + a.prefilledTokens, prompt.length);
  }
  assert.ok(reusedSomething, 'later prompts reuse most of the cache');
});

test('speculative decoding with drafts from the prompt gives exactly the tokens plain decoding gives, in fewer model runs', async () => {
  const m = await model();
  const fast = new Generator(m.decoder, m.entry.manifest.contextLength);
  const plain = new Generator(m.decoder, m.entry.manifest.contextLength);
  let plainSteps = 0;
  let fastSteps = 0;
  let kept = 0;
  // the ends of twelve lines spread over the file, each after the code before it
  const lineStarts = [...SOURCE.matchAll(/\n/g)].map((match) => (match.index as number) + 1);
  for (let k = 1; k <= 12; k++) {
    const start = lineStarts[Math.floor((k * lineStarts.length) / 13)] as number;
    const prefix = SOURCE.slice(0, start + 8);
    const prompt = m.prompts.build('speculative', prefix, SOURCE.slice(start + 8), { maxTokens: 400, suffixShare: 0.25 }).ids;
    const a = await fast.generate(prompt, { maxTokens: 16 });
    const b = await plain.generate(prompt, { maxTokens: 16, draftTokens: 0 });
    assert.deepEqual(a.tokens, b.tokens, `line ${k}`);
    // each kept draft token is a model run saved (less one when the run ended inside a draft)
    assert.ok(b.steps - a.steps === a.acceptedDraftTokens || b.steps - a.steps === a.acceptedDraftTokens - 1, `line ${k}: ${b.steps} against ${a.steps} runs, ${a.acceptedDraftTokens} kept`);
    plainSteps += b.steps;
    fastSteps += a.steps;
    kept += a.acceptedDraftTokens;
  }
  assert.ok(kept > 0 && fastSteps < plainSteps, `${kept} draft tokens kept; ${fastSteps} against ${plainSteps} model runs`);
});

test('a prompt that continues into the previous completion reuses the generated tokens too', async () => {
  const m = await model();
  const [prompt] = typingPrompts(m, 0);
  assert.ok(prompt);
  const gen = new Generator(m.decoder, m.entry.manifest.contextLength);
  const first = await gen.generate(prompt, { maxTokens: 6 });
  const accepted = [...prompt, ...first.tokens.slice(0, 3)];
  const next = await gen.generate(accepted, { maxTokens: 6 });
  assert.equal(next.reusedTokens, accepted.length - 1);
  const check = await new Generator(m.decoder, m.entry.manifest.contextLength).generate(accepted, { maxTokens: 6 });
  assert.deepEqual(next.tokens, check.tokens);
});

test('cancellation stops between steps, and the next run still matches a fresh one', async () => {
  const m = await model();
  const [prompt] = typingPrompts(m, 0);
  assert.ok(prompt);
  const gen = new Generator(m.decoder, m.entry.manifest.contextLength);
  const controller = new AbortController();
  let steps = 0;
  await assert.rejects(
    gen.generate(prompt, {
      maxTokens: 50,
      signal: controller.signal,
      shouldStop: () => {
        if (++steps === 2) controller.abort();
        return false;
      },
    }),
    (error: unknown) => isAbortError(error),
  );
  assert.equal(steps, 2, 'no step ran after the abort');
  await assert.rejects(gen.generate(prompt, { maxTokens: 5, signal: AbortSignal.abort() }), (error: unknown) => isAbortError(error));
  const after = await gen.generate(prompt, { maxTokens: 5 });
  const fresh = await new Generator(m.decoder, m.entry.manifest.contextLength).generate(prompt, { maxTokens: 5 });
  assert.deepEqual(after.tokens, fresh.tokens);
  assert.ok(after.reusedTokens > 0, 'the cancelled run left its prefill in the cache');
});

test('the time budget ends generation with what it has', async () => {
  const m = await model();
  const [prompt] = typingPrompts(m, 0);
  assert.ok(prompt);
  const gen = new Generator(m.decoder, m.entry.manifest.contextLength);
  const result = await gen.generate(prompt, { maxTokens: 500, timeBudgetMs: 1 });
  assert.equal(result.finish, 'time-budget');
  assert.ok(result.tokens.length >= 1);
});

test('the engine completes a line end to end, serves typed-ahead text from its cache, and explains an unavailable device', async () => {
  const engine = new CompletionEngine(() => [dirname(MODEL_DIR)]);
  try {
    const id = inspectModelDir(MODEL_DIR).id;
    const m = await engine.load({ model: id, device: 'auto' });
    assert.equal(m.provider, m.attempts.at(-1)?.provider);
    for (const failed of m.attempts.slice(0, -1)) assert.ok((failed.reason ?? '').length > 0, `${failed.provider} says why it did not run`);
    const at = SOURCE.indexOf('\n', Math.floor(SOURCE.length / 2));
    const request = { docKey: 'file:///w.py', prefix: SOURCE.slice(0, at), suffix: SOURCE.slice(at), languageId: 'python', multiline: false };
    const result = await engine.complete({ ...request, maxTokens: 12 });
    assert.equal(result.fromCache, false);
    assert.ok(result.stats && result.stats.promptTokens > 0);
    if (result.text !== null && result.text.length > 1) {
      const typed = result.text.slice(0, 1);
      const again = await engine.complete({ ...request, prefix: request.prefix + typed, maxTokens: 12 });
      assert.equal(again.fromCache, true);
      assert.equal(again.text, result.text.slice(1));
    }
    if (m.provider === 'cpu') {
      await assert.rejects(engine.load({ model: id, device: 'cuda' }), (error: unknown) => error instanceof EngineError && /"cuda" device is not available/.test(error.message));
      assert.equal(engine.loaded?.provider, 'cpu', 'a failed switch keeps the model that was running');
    }
  } finally {
    await engine.dispose();
  }
});
