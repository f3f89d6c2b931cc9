// The generator's bookkeeping against a stand-in decoder whose next token depends on the whole token
// history, so any mistake in which tokens the KV cache holds changes the output. (The same checks
// against the real model are in engine-generate.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAbortError } from '../../src/shared/errors/errors';
import { Generator } from '../../src/engine/generate/generator';
import type { Decoder, KvCache } from '../../src/engine/session/decoder';
import { VocabIndex } from '../../src/engine/tokenize/tokenizer';

const VOCAB = 50;

type HistoryCache = KvCache & { history: number[] };

/**
 * A cache that records the tokens it holds; `fed` counts tokens run through the "model". Like the
 * real decoder, discarded positions become stale (hidden from the model) when the graph has position
 * ids, and are cut otherwise.
 */
class HistoryDecoder {
  fed = 0;
  /** Like Kestrel's export: a row of logits per input position for steps of up to `rowsUpTo` tokens, else the last. */
  rowsUpTo = 8;
  hasPositionIds = true;
  constructor(private readonly prefer: (history: readonly number[]) => number[] = (h) => [h.reduce((a, t, i) => (a * 31 + t + i) % VOCAB, 7)]) {}
  emptyCache(): KvCache {
    return Object.assign({ length: 0, tensors: [] }, { history: [] as number[] });
  }
  truncate(cache: KvCache, n: number): KvCache {
    const stale = new Set(cache.stale ?? []);
    const history = (cache as HistoryCache).history.filter((_, p) => !stale.has(p)).slice(0, n);
    return Object.assign({ length: history.length, tensors: [] }, { history });
  }
  discard(cache: KvCache, keep: number): KvCache {
    if (keep >= cache.length) return cache;
    if (!this.hasPositionIds) return this.truncate(cache, keep);
    const stale = (cache.stale ?? []).filter((p) => p < keep);
    for (let p = keep; p < cache.length; p++) stale.push(p);
    return { ...cache, stale };
  }
  async step(ids: readonly number[], cache: KvCache): Promise<{ logits: Float32Array; rows: Float32Array[]; cache: KvCache }> {
    this.fed += ids.length;
    const history = [...(cache as HistoryCache).history, ...ids];
    const stale = new Set(cache.stale ?? []);
    const seen = history.filter((_, p) => !stale.has(p)); // what the model sees: stale positions hidden
    const rowCount = ids.length <= this.rowsUpTo ? ids.length : 1;
    const rows = Array.from({ length: rowCount }, (_, r) => {
      const logits = new Float32Array(VOCAB);
      this.prefer(seen.slice(0, seen.length - rowCount + 1 + r)).forEach((id, rank) => (logits[id] = 10 - rank));
      return logits;
    });
    const grown = Object.assign({ length: history.length, tensors: [] }, { history }, cache.stale ? { stale: cache.stale } : {});
    return { logits: rows[rows.length - 1] as Float32Array, rows, cache: grown };
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
    const fedForPrompt = decoder.fed - before - a.steps - a.draftedTokens;
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

// A stand-in that continues a repeating pattern, as code often does: the prompt holds the pattern, so
// drafts looked up in it are right until the model leaves it.
const pattern = [11, 12, 13, 14, 15, 16, 17, 18, 19, 20];
const followsPattern = (history: readonly number[]): number[] => {
  const last = history[history.length - 1] as number;
  const at = pattern.indexOf(last);
  // after 40 generated positions the pattern breaks once: 21, then back to 11
  if (history.length === 44) return [21];
  return [at === -1 ? 11 : (pattern[(at + 1) % pattern.length] as number)];
};

test('speculative decoding gives exactly the tokens plain decoding gives, in fewer steps when drafts are right', async () => {
  const prompt = [1, 2, 3, ...pattern, ...pattern];
  const plain = await generator(new HistoryDecoder(followsPattern)).generate(prompt, { maxTokens: 30, draftTokens: 0 });
  const decoder = new HistoryDecoder(followsPattern);
  const fast = await generator(decoder).generate(prompt, { maxTokens: 30 });
  assert.deepEqual(fast.tokens, plain.tokens);
  assert.equal(plain.steps, 29, 'plain decoding runs the model once per token after the first');
  assert.equal(plain.draftedTokens, 0);
  assert.ok(fast.acceptedDraftTokens > 20, `drafts kept: ${fast.acceptedDraftTokens}`);
  assert.ok(fast.steps < 10, `speculative steps: ${fast.steps}`);
  assert.equal(fast.tokens.length, 30);
  // the cache holds exactly the fed tokens that were kept: the same prompt extended reuses all of them
  const next = await generator(decoder).generate([...prompt, ...fast.tokens.slice(0, 10)], { maxTokens: 5, draftTokens: 0 });
  const again = await generator(new HistoryDecoder(followsPattern)).generate([...prompt, ...fast.tokens.slice(0, 10)], { maxTokens: 5, draftTokens: 0 });
  assert.deepEqual(next.tokens, again.tokens);
});

test('speculative decoding: wrong drafts, stop rules inside a draft, and reuse across typing all match plain decoding', async () => {
  const hashed = new HistoryDecoder();
  const reusing = generator(hashed);
  const plainReusing = generator(new HistoryDecoder());
  const base = [...pattern, 5, 6, ...pattern, 7];
  for (const prompt of [base, [...base, 11], [...base, 11, 12], [...base, 4], base.slice(0, 15)]) {
    for (const maxTokens of [1, 3, 12]) {
      const a = await reusing.generate(prompt, { maxTokens });
      const b = await plainReusing.generate(prompt, { maxTokens, draftTokens: 0 });
      assert.deepEqual(a.tokens, b.tokens, `prompt of ${prompt.length}, ${maxTokens} tokens`);
    }
  }
  // a stop rule met by a kept draft token ends the run there
  const ruled = await generator(new HistoryDecoder(followsPattern)).generate([...pattern, ...pattern], { maxTokens: 30, shouldStop: (ids) => ids.includes(15) });
  assert.equal(ruled.finish, 'stop-rule');
  assert.equal(ruled.tokens[ruled.tokens.length - 1], 15);
  // stop tokens never go into a draft: 13 ends the run as a stop token, not as a kept draft
  const stopped = await generator(new HistoryDecoder(followsPattern)).generate([...pattern, ...pattern], { maxTokens: 30, stopIds: new Set([13]) });
  assert.deepEqual([stopped.finish, stopped.tokens], ['stop-token', [11, 12]]);
});

test('rejected drafts stay in the cache as stale positions, or are cut from a graph without position ids, with the same tokens', async () => {
  const base = [...pattern, 5, 6, ...pattern, 7];
  for (const hasPositionIds of [true, false]) {
    const decoder = new HistoryDecoder();
    decoder.hasPositionIds = hasPositionIds;
    const gen = generator(decoder);
    const plain = generator(new HistoryDecoder());
    for (const prompt of [base, [...base, 11], [...base, 11, 12, 13], base.slice(0, 12)]) {
      const a = await gen.generate(prompt, { maxTokens: 10 });
      const b = await plain.generate(prompt, { maxTokens: 10, draftTokens: 0 });
      assert.deepEqual(a.tokens, b.tokens, `position ids ${hasPositionIds}, prompt of ${prompt.length}`);
      assert.ok(a.draftedTokens > a.acceptedDraftTokens, 'some drafts were rejected');
    }
  }
});

test('a graph without logits for every position of a step falls back to plain decoding with the same tokens', async () => {
  const decoder = new HistoryDecoder(followsPattern);
  decoder.rowsUpTo = 1;
  const gen = generator(decoder);
  const prompt = [1, ...pattern, ...pattern];
  const first = await gen.generate(prompt, { maxTokens: 12 });
  const plain = await generator(new HistoryDecoder(followsPattern)).generate(prompt, { maxTokens: 12, draftTokens: 0 });
  assert.deepEqual(first.tokens, plain.tokens);
  const before = decoder.fed;
  const second = await gen.generate(prompt, { maxTokens: 12 });
  assert.equal(second.draftedTokens, 0, 'no more drafts once the graph has shown it cannot check them');
  assert.equal(decoder.fed - before, 1 + 11);
});
