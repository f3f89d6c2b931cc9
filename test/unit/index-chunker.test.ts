import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Chunker, type Chunk } from '../../src/index/chunker';
import { GrammarLoader } from '../../src/shared/grammars/grammars';
import { languageOf, SYNTAX_LANGUAGES } from '../../src/shared/languages/languages';

const FIXTURES = join(process.cwd(), 'test/fixtures/index/chunks');
const grammars = new GrammarLoader();
/** Roughly a code tokenizer's count: words and punctuation. */
const countTokens = (text: string): number => (text.match(/\w+|[^\w\s]/g) ?? []).length;

async function chunksOf(file: string, maxTokens = 512): Promise<Chunk[]> {
  const name = file.replace(/\.fixture$/, '');
  const chunker = new Chunker(grammars, { countTokens, maxTokens });
  try {
    return await chunker.chunk(readFileSync(join(FIXTURES, file), 'utf8'), languageOf(name));
  } finally {
    chunker.dispose();
  }
}

/** "kind name" of each definition chunk, in file order (blocks and windows left out). */
function definitions(chunks: Chunk[]): string[] {
  return chunks.filter((c) => c.kind !== 'block' && c.kind !== 'window').map((c) => `${c.kind} ${c.container ? c.container + '.' : ''}${c.name}`);
}

const EXPECTED: Record<string, string[]> = {
  'sample.py': ['function parse_sku', 'function load_catalog', 'class Warehouse'],
  'sample.js': ['function readConfig', 'function toSlug', 'class Cart'],
  'sample.ts.fixture': ['type Order', 'function sumTotals', 'class OrderQueue', 'type Status'],
  'sample.tsx': ['function PriceTag', 'function Badge'],
  'sample.go': ['type Item', 'method Item.Restock', 'function FormatItem'],
  'sample.java': ['class Basket'],
  'sample.rb': ['class Ledger', 'function total_due'],
  'sample.php': ['function shipping_cost', 'class Invoice'],
  'sample.rs': ['type PriceList', 'class PriceList', 'class Discount', 'function round_cents'],
};

test('every grammar loads and gives one chunk per function, class and type declaration', async () => {
  const covered = new Set<string>();
  for (const [file, expected] of Object.entries(EXPECTED)) {
    covered.add(languageOf(file.replace(/\.fixture$/, '')));
    assert.deepEqual(definitions(await chunksOf(file)), expected, file);
  }
  // javascriptreact shares the javascript grammar; every other syntax language has a fixture.
  for (const language of SYNTAX_LANGUAGES) if (language !== 'javascriptreact') assert.ok(covered.has(language), `no fixture for ${language}`);
});

test('doc comments and docstrings are attached to their definitions, markers stripped', async () => {
  const doc = async (file: string, name: string): Promise<string | undefined> => (await chunksOf(file)).find((c) => c.name === name)?.doc;
  assert.equal(await doc('sample.py', 'parse_sku'), 'Parse a stock-keeping unit.');
  assert.equal(await doc('sample.py', 'load_catalog'), '', 'a comment inside the body is not a doc comment');
  assert.equal(await doc('sample.js', 'readConfig'), 'Reads the config file.');
  assert.equal(await doc('sample.ts.fixture', 'sumTotals'), 'Sums order totals.');
  assert.equal(await doc('sample.go', 'Restock'), 'Restock adds count units.');
  assert.equal(await doc('sample.java', 'Basket'), 'A shopping basket.');
  assert.equal(await doc('sample.rb', 'Ledger'), 'Ledger of payments.');
  assert.equal(await doc('sample.php', 'shipping_cost'), 'Computes shipping.');
  assert.equal(await doc('sample.rs', 'PriceList'), 'A price list.', 'a doc comment above an attribute still counts');
});

test('a chunk range covers its doc comment and decorators; text is exactly those lines', async () => {
  const source = readFileSync(join(FIXTURES, 'sample.py'), 'utf8').split('\n');
  const chunks = await chunksOf('sample.py');
  const catalog = chunks.find((c) => c.name === 'load_catalog') as Chunk;
  assert.equal(source[catalog.range.start.line], '@cache');
  assert.equal(catalog.text, source.slice(catalog.range.start.line, catalog.range.end.line + 1).join('\n'));
  const readConfig = (await chunksOf('sample.js')).find((c) => c.name === 'readConfig') as Chunk;
  assert.match(readConfig.text, /^\/\*\*/, 'JSDoc is part of the chunk');
});

test('top-level code between definitions becomes blocks; files without a grammar become windows', async () => {
  const python = await chunksOf('sample.py');
  const block = python.find((c) => c.kind === 'block') as Chunk;
  assert.match(block.text, /import os/);
  assert.match(block.text, /MAX_ITEMS = 10/);
  const markdown = await chunksOf('notes.md');
  assert.deepEqual(markdown.map((c) => c.kind), ['window']);
  assert.match((markdown[0] as Chunk).text, /counted every night/);
});

test('a class over the token budget becomes its header plus one chunk per method', async () => {
  const small = definitions(await chunksOf('sample.py', 512));
  assert.ok(small.includes('class Warehouse') && !small.some((d) => d.startsWith('method')), 'small class: one chunk');
  const large = await chunksOf('sample.py', 40);
  assert.deepEqual(
    definitions(large).filter((d) => d.includes('Warehouse')),
    ['class Warehouse', 'method Warehouse.__init__', 'method Warehouse.add_item'],
  );
  const header = large.find((c) => c.kind === 'class') as Chunk;
  assert.match(header.text, /"""Holds stock."""/);
  assert.match(header.text, /def add_item\(self, sku, count\):$/, 'the header lists member signatures');
  assert.doesNotMatch(header.text, /self\.items\[sku\] = count/, 'but not their bodies');
  const rust = definitions(await chunksOf('sample.rs', 30));
  assert.ok(rust.includes('method PriceList.price_of'), rust.join(', '));
});

test('no chunk exceeds the token budget: long definitions are cut at line boundaries', async () => {
  for (const file of Object.keys(EXPECTED)) {
    for (const chunk of await chunksOf(file, 20)) {
      assert.ok(countTokens(chunk.text) <= 20, `${file} ${chunk.kind} ${chunk.name}: ${countTokens(chunk.text)} tokens`);
    }
  }
  const pieces = (await chunksOf('sample.py', 12)).filter((c) => c.name === 'parse_sku');
  assert.ok(pieces.length > 1, 'split into pieces that keep the name');
  assert.ok(pieces.every((p, i) => i === 0 || p.range.start.line > (pieces[i - 1] as Chunk).range.end.line), 'pieces do not overlap');
});

test('unparseable input and unknown languages still give chunks, never an exception', async () => {
  const chunker = new Chunker(grammars, { countTokens, maxTokens: 64 });
  const broken = await chunker.chunk('def (((:\n  return ]]\nclass\n', 'python');
  assert.ok(broken.length > 0);
  assert.deepEqual(await chunker.chunk('', 'python'), []);
  assert.deepEqual((await chunker.chunk('a\nb\n', 'cobol')).map((c) => c.kind), ['window']);
  chunker.dispose();
});
