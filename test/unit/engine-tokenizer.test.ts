import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { isStableCut, splitStable } from '../../src/engine/tokenize/chunks';
import { KestrelTokenizer } from '../../src/engine/tokenize/tokenizer';
import { PromptBuilder } from '../../src/engine/prompt/fim';
import { byteLevelTokenizerJson } from './support/fixtures';

const SPECIALS = { fimPrefix: '<fim_prefix>', fimSuffix: '<fim_suffix>', fimMiddle: '<fim_middle>', endOfText: '<|endoftext|>' };
const tokenizer = (): KestrelTokenizer => new KestrelTokenizer(new Tokenizer(byteLevelTokenizerJson(), {}), SPECIALS);

const FIXTURES = 'test/fixtures/workspace/inventory';
const sources = readdirSync(FIXTURES).filter((f) => f.endsWith('.py')).map((f) => readFileSync(join(FIXTURES, f), 'utf8'));
const TRICKY = 'def f(self):  \n    x = 1\n\n\n        return x  \n\t"é ü"\r\n  \nclass A:\n    pass\n';

test('stable cuts fall between a non-space character and a line break', () => {
  assert.equal(isStableCut('a\nb', 1), true);
  assert.equal(isStableCut('a \nb', 2), false);
  assert.equal(isStableCut('a\n\nb', 2), false);
  assert.deepEqual(splitStable('x = 1\n\ny = 2\n  z\n'), ['x = 1', '\n\ny = 2', '\n  z', '\n']);
  assert.equal(splitStable(TRICKY).join(''), TRICKY);
});

test('encoding piece by piece gives exactly the ids of encoding the whole text, and decodes back exactly', () => {
  const tok = tokenizer();
  for (const text of [TRICKY, ...sources]) {
    const whole = tok.encodeRaw(text);
    assert.deepEqual(tok.encode(text), whole);
    assert.equal(tok.decode(whole), text);
    // every prefix cut at a stable boundary encodes as the head of the whole
    for (let at = 1; at < text.length; at++) {
      if (!isStableCut(text, at)) continue;
      const head = tok.encodeRaw(text.slice(0, at));
      assert.deepEqual(whole.slice(0, head.length), head);
    }
  }
});

test('a keystroke re-encodes only the line it touched', () => {
  const tok = tokenizer();
  const text = sources.join('\n');
  tok.encode(text);
  const before = tok.stats.encodedChars;
  tok.encode(text + 'x = co');
  const lastLine = text.slice(text.lastIndexOf('\n'));
  assert.ok(tok.stats.encodedChars - before <= lastLine.length + 'x = co'.length + 1, `encoded ${tok.stats.encodedChars - before} chars`);
});

test('SPM prompt: sentinels in training order, suffix before prefix, within budget', () => {
  const tok = tokenizer();
  const { fimPrefix, fimSuffix, fimMiddle } = tok.special;
  const prompts = new PromptBuilder(tok, 'spm');
  const prompt = prompts.build('doc', 'def f():\n    return ', '\n\nprint(f())\n', { maxTokens: 200, suffixShare: 0.25 });
  const ids = prompt.ids;
  assert.equal(ids[0], fimPrefix);
  assert.equal(ids[1], fimSuffix);
  const middle = ids.indexOf(fimMiddle);
  assert.equal(tok.decode(ids.slice(2, middle)), '\n\nprint(f())\n');
  assert.equal(tok.decode(ids.slice(middle + 1)), 'def f():\n    return ');
  assert.ok(ids.length <= 200);
});

test('PSM prompt: prefix, then suffix, then the middle sentinel last', () => {
  const tok = tokenizer();
  const { fimPrefix, fimSuffix, fimMiddle } = tok.special;
  const prompt = new PromptBuilder(tok, 'psm').build('doc', 'a = 1\nb = ', '\nc = 3\n', { maxTokens: 100, suffixShare: 0.25 });
  const s = prompt.ids.indexOf(fimSuffix);
  assert.equal(prompt.ids[0], fimPrefix);
  assert.equal(prompt.ids[prompt.ids.length - 1], fimMiddle);
  assert.equal(tok.decode(prompt.ids.slice(1, s)), 'a = 1\nb = ');
  assert.equal(tok.decode(prompt.ids.slice(s + 1, -1)), '\nc = 3\n');
});

test('long prefixes and suffixes are windowed by token budget; the prefix window start stays put while typing', () => {
  const tok = tokenizer();
  const prompts = new PromptBuilder(tok, 'spm');
  const prefix = sources.join('\n') + '\n';
  const suffix = '\n' + sources.join('\n');
  const budget = { maxTokens: 400, suffixShare: 0.25 };
  const first = prompts.build('doc', prefix, suffix, budget);
  assert.ok(first.ids.length <= 400, `prompt has ${first.ids.length} tokens`);
  assert.ok(first.suffixTokens <= 99 && first.suffixTokens > 50);
  assert.ok(first.prefixStart > 0 && isStableCut(prefix, first.prefixStart));
  // the prefix window is the end of the prefix
  const { fimMiddle } = tok.special;
  assert.ok(prefix.endsWith(tok.decode(first.ids.slice(first.ids.indexOf(fimMiddle) + 1))));
  // typing a few characters keeps the start, so all earlier tokens are shared with the previous prompt
  let previous = first;
  for (const typed of ['x', 'x =', 'x = fo', 'x = foo(']) {
    const next = prompts.build('doc', prefix + typed, suffix, budget);
    assert.equal(next.prefixStart, first.prefixStart);
    let shared = 0;
    while (next.ids[shared] === previous.ids[shared]) shared++;
    assert.ok(shared >= previous.ids.length - 2, `only ${shared} of ${previous.ids.length} tokens shared`);
    previous = next;
  }
});
