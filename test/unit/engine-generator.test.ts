// The generator's bookkeeping against a stand-in decoder whose next token depends on the whole token
// history, so any mistake in which tokens the KV cache holds changes the output. (The same checks
// against the real model are in engine-generate.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAbortError } from '../../src/engine/errors';
import { Generator } from '../../src/engine/generate/generator';
import type { Decoder, KvCache } from '../../src/engine/session/decoder';
import { VocabIndex } from '../../src/engine/tokenize/tokenizer';

const VOCAB = 50;

/** A cache that records the tokens it holds; `fed` counts tokens run through the "model". */
class HistoryDecoder {
  fed = 0;
  constructor(private readonly prefer: (history: readonly number[]) => number[] = (h) => [h.reduce((a, t, i) => (a * 31 + t + i) % VOCAB, 7)]) {}
  emptyCache(): KvCache {
    return Object.assign({ length: 0, tensors: [] }, { history: [] as number[] });
  }
  truncate(cache: KvCache, n: number): KvCache {
    const history = (cache as KvCache & { history: number[] }).history.slice(0, n);
    return Object.assign({ length: n, tensors: [] }, { history });
  }
  async step(ids: readonly number[], cache: KvCache): Promise<{ logits: Float32Array; cache: KvCache }> {
    this.fed += ids.length;
    const history = [...(cache as KvCache & { history: number[] }).history, ...ids];
    const logits = new Float32Array(VOCAB);
    this.prefer(history).forEach((id, rank) => (logits[id] = 10 - rank));
    return { logits, cache: Object.assign({ length: history.length, tensors: [] }, { history }) };
  }
}

const generator = (decoder: HistoryDecoder): Generator => new Generator(decoder as unknown as Decoder, 4096);

test('cache reuse: every prompt in a typing sequence gives the tokens of a fresh run, feeding only the new tokens', async () => {
  const decoder = new HistoryDecoder();
  const reusing = generator(decoder);
  const base = Array.from({ length: 40 }, (_, i) => (i * 7) % VOCAB);
  const prompts = [base, [...base, 3], [...base, 3, 9], [...base, 4], base.slice(0, 30), [...base.slice(0, 30), 1, 2, 3]];
  for (const prompt of prompts) {
    const before = decoder.fed;
    const a = await reusing.generate(prompt, { maxTokens: 6 });
    const fedForPrompt = decoder.fed - before - (a.tokens.length - 1);
    const b = await generator(new HistoryDecoder()).generate(prompt, { maxTokens: 6 });
    assert.deepEqual(a.tokens, b.tokens);
    assert.equal(fedForPrompt, a.prefilledTokens);
    assert.equal(a.reusedTokens + a.prefilledTokens, prompt.length);
  }
  const again = await reusing.generate(prompts[5] as number[], { maxTokens: 6 });
  assert.equal(again.prefilledTokens, 1, 'the same prompt again feeds one token, for its logits');
});

test('accepting part of a completion reuses the generated tokens', async () => {
  const decoder = new HistoryDecoder();
  const gen = generator(decoder);
  const prompt = [1, 2, 3, 4, 5];
  const first = await gen.generate(prompt, { maxTokens: 5 });
  const next = await gen.generate([...prompt, ...first.tokens.slice(0, 3)], { maxTokens: 5 });
  assert.equal(next.reusedTokens, prompt.length + 2);
  assert.deepEqual(next.tokens, first.tokens.slice(3).concat(next.tokens.slice(2)));
});

test('long prompts are prefilled in chunks, and an abort between chunks or steps stops the run', async () => {
  const decoder = new HistoryDecoder();
  const gen = generator(decoder);
  const prompt = Array.from({ length: 100 }, (_, i) => i % VOCAB);
  const controller = new AbortController();
  const original = decoder.step.bind(decoder);
  let calls = 0;
  decoder.step = async (ids, cache) => {
    if (++calls === 2) controller.abort();
    return original(ids, cache);
  };
  await assert.rejects(gen.generate(prompt, { maxTokens: 5, prefillChunk: 30, signal: controller.signal }), (e: unknown) => isAbortError(e));
  assert.equal(calls, 2, 'stopped after the chunk that saw the abort');
  const resumed = await gen.generate(prompt, { maxTokens: 5, prefillChunk: 30 });
  assert.equal(resumed.reusedTokens, 60, 'the chunks prefilled before the abort are kept');
  const fresh = await generator(new HistoryDecoder()).generate(prompt, { maxTokens: 5 });
  assert.deepEqual(resumed.tokens, fresh.tokens);
});

test('stop tokens, stop rules, max tokens and the context length end generation', async () => {
  const always = (id: number) => new HistoryDecoder(() => [id]);
  assert.equal((await generator(always(0)).generate([1], { maxTokens: 5, stopIds: new Set([0]) })).finish, 'stop-token');
  const rule = await generator(always(2)).generate([1], { maxTokens: 9, shouldStop: (ids) => ids.length === 3 });
  assert.deepEqual([rule.finish, rule.tokens.length], ['stop-rule', 3]);
  const max = await generator(always(2)).generate([1], { maxTokens: 4 });
  assert.deepEqual([max.finish, max.tokens.length], ['max-tokens', 4]);
  const full = await new Generator(always(2) as unknown as Decoder, 6).generate([1, 1, 1], { maxTokens: 10 });
  assert.equal(full.finish, 'context-full');
});

test('token healing: the first tokens must re-type the removed text; the model picks how', async () => {
  // texts: 0 '' (special), 1 ' fo', 2 ' foo', 3 'o', 4 '(', 5 ' f', 6 ' bar', 7 'oo('
  const texts = ['', ' fo', ' foo', 'o', '(', ' f', ' bar', 'oo('];
  const vocab = new VocabIndex(texts);
  assert.deepEqual(vocab.consistentWith(' fo').sort(), [1, 2, 5]);
  assert.deepEqual(vocab.consistentWith('o').sort(), [3, 7]);
  // the model would rather say ' bar' at first, but ' foo' is the best consistent token; then '('
  const prefer = (history: readonly number[]) => (history.length === 3 ? [6, 2, 1] : [4]);
  const healed = await generator(new HistoryDecoder(prefer)).generate([9, 9, 9], { maxTokens: 2, heal: { text: ' fo', vocab } });
  assert.deepEqual(healed.tokens, [2, 4]);
  // a token that covers only part of the text leaves the rest required: ' f' then 'oo('
  const partial = (history: readonly number[]) => (history.length === 3 ? [5] : [6, 7]);
  const twoSteps = await generator(new HistoryDecoder(partial)).generate([9, 9, 9], { maxTokens: 2, heal: { text: ' fo', vocab } });
  assert.deepEqual(twoSteps.tokens, [5, 7]);
});
