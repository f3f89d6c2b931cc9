// The shipped code tokenizer: @huggingface/tokenizers must load models/kestrel-py-tiny/tokenizer.json,
// produce exactly the ids the Python training recipe produced (models/training/tokenizer.py, stored
// in models/training/common/tests/fixtures/tokenizer_roundtrip.json) and decode any UTF-8 text back
// byte for byte: tabs, CRLF, control characters, non-ASCII, emoji, special tokens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';

const ROOT = process.cwd();
const MODEL_DIR = path.join(ROOT, 'models/kestrel-py-tiny');
const tokenizerText = fs.readFileSync(path.join(MODEL_DIR, 'tokenizer.json'), 'utf8');
const tokenizer = new Tokenizer(JSON.parse(tokenizerText), {});
const fixture = JSON.parse(
  fs.readFileSync(path.join(ROOT, 'models/training/common/tests/fixtures/tokenizer_roundtrip.json'), 'utf8'),
) as { tokenizer_sha256: string; cases: { text: string; ids: number[] }[] };
const meta = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'kestrel.json'), 'utf8')) as {
  specialTokens: Record<string, { token: string; id: number }>;
};

const encode = (s: string): number[] => tokenizer.encode(s, { add_special_tokens: false }).ids;
const decode = (ids: number[]): string =>
  tokenizer.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false });

test('the fixture was made from the shipped tokenizer.json', () => {
  const sha = crypto.createHash('sha256').update(fs.readFileSync(path.join(MODEL_DIR, 'tokenizer.json'))).digest('hex');
  assert.equal(sha, fixture.tokenizer_sha256);
});

test('ids equal the Python recipe ids, and decode restores the text exactly', () => {
  assert.ok(fixture.cases.length >= 10);
  for (const { text, ids } of fixture.cases) {
    assert.deepEqual(encode(text), ids, JSON.stringify(text.slice(0, 60)));
    assert.equal(decode(ids), text);
  }
});

test('special tokens in kestrel.json are single tokens with the stated ids', () => {
  for (const [role, { token, id }] of Object.entries(meta.specialTokens)) {
    assert.deepEqual(encode(token), [id], role);
    assert.equal(decode([id]), token);
  }
});

test('indentation is cheap: runs of spaces and newline+indent are single tokens', () => {
  for (const ws of ['    ', '        ', '\n    ', '\n        ', '\n            ']) {
    // the last space of a run attaches to the following word (GPT-2 pre-tokenizer), hence "x"
    const ids = encode(ws + 'x');
    assert.ok(ids.length <= 2, `${JSON.stringify(ws)}x -> ${ids.length} tokens`);
  }
});

test('random UTF-8 strings round-trip exactly', () => {
  let seed = 42;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);
  const ranges: [number, number][] = [[0x00, 0x7f], [0x80, 0x7ff], [0x800, 0xd7ff], [0xe000, 0xfffd], [0x10000, 0x10ffff]];
  for (let k = 0; k < 200; k++) {
    let s = '';
    const len = 1 + rand(80);
    for (let i = 0; i < len; i++) {
      const [lo, hi] = ranges[rand(ranges.length)];
      s += String.fromCodePoint(lo + rand(hi - lo + 1));
    }
    assert.equal(decode(encode(s)), s, JSON.stringify(s));
  }
});
