import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Tokenizer } from '@huggingface/tokenizers';
import { CrossFileContext, renderContext } from '../../src/engine/context/crossFile';
import { importedSignatures, modulePaths, parseImports, signatureOf } from '../../src/engine/context/imports';
import { identifiers, jaccard, similarSnippets } from '../../src/engine/context/snippets';
import { PromptBuilder } from '../../src/engine/prompt/fim';
import { PythonSyntax } from '../../src/engine/syntax/python';
import { KestrelTokenizer } from '../../src/engine/tokenize/tokenizer';
import { byteLevelTokenizerJson } from './support/fixtures';

const WORKSPACE = resolve('test/fixtures/workspace');
const REPORT = resolve(WORKSPACE, 'inventory/report.py');
const syntax = PythonSyntax.load();

test('imports: from-imports with aliases, parenthesised lists and relative levels; plain imports', () => {
  const text = 'import os.path\nfrom inventory.models import Item, StockLevel as SL\nfrom . import pricing\nfrom ..core import (\n    a,\n    b,\n)\nfrom x import *\n';
  assert.deepEqual(parseImports(text), [
    { module: 'os.path', name: null, level: 0 },
    { module: 'inventory.models', name: 'Item', level: 0 },
    { module: 'inventory.models', name: 'StockLevel', level: 0 },
    { module: '', name: 'pricing', level: 1 },
    { module: 'core', name: 'a', level: 2 },
    { module: 'core', name: 'b', level: 2 },
  ]);
  const paths = modulePaths('/w/pkg/sub/m.py', { module: 'pkg.models', name: 'Item', level: 0 });
  assert.ok(paths.includes('/w/pkg/models.py') && paths.includes('/w/pkg/sub/pkg/models.py'));
  assert.deepEqual(modulePaths('/w/pkg/m.py', { module: 'models', name: 'Item', level: 1 }).slice(0, 2), ['/w/pkg/models.py', '/w/pkg/models/__init__.py']);
});

test('signatures: a function header, a class with its fields and method headers', async () => {
  const python = await syntax;
  const models = readFileSync(resolve(WORKSPACE, 'inventory/models.py'), 'utf8');
  const item = signatureOf(python, models, 'Item');
  assert.ok(item);
  assert.match(item, /^class Item:/);
  assert.match(item, /\n {4}sku: str/);
  assert.match(item, /\n {4}def price_for\(self, quantity: int\) -> int: \.\.\./);
  assert.equal(signatureOf(python, models, 'NoSuchName'), null);
  assert.equal(signatureOf(python, 'def f(a,\n      b):\n    return a\n', 'f'), 'def f(a, b): ...');
});

test('imported names of a project file are found on disk next to it', async () => {
  const python = await syntax;
  const text = readFileSync(REPORT, 'utf8');
  const found = importedSignatures(python, pathToFileURL(REPORT).href, text, []);
  assert.deepEqual(found.map((f) => f.name), ['price_list', 'Warehouse']);
  assert.match(found[0]?.signature ?? '', /^def price_list\(/);
  assert.match(found[1]?.signature ?? '', /^class Warehouse/);
});

test('similar snippets: the window of another open file that shares the most identifiers', () => {
  assert.equal(jaccard(identifiers('a_b cc dd'), identifiers('cc dd ee')), 0.5);
  const docs = [
    { uri: 'file:///w/other.py', text: 'import json\n\n\ndef load(path):\n    return json.load(open(path))\n' },
    { uri: 'file:///w/stock.py', text: 'x = 1\n'.repeat(40) + 'def restock(warehouse, sku, quantity):\n    level = warehouse.levels[sku]\n    level.on_hand += quantity\n' },
  ];
  const prefix = 'def sell(warehouse, sku, quantity):\n    level = warehouse.levels[sku]\n    level.on_hand -= ';
  const [best, ...rest] = similarSnippets(prefix, 'file:///w/current.py', docs);
  assert.equal(best?.uri, 'file:///w/stock.py');
  assert.match(best?.text ?? '', /def restock/);
  assert.equal(rest.length, 0, 'the unrelated file scores below the threshold');
});

test('the rendered context is comments, stays the same while typing along a line, and sits between <fim_middle> and the prefix', async () => {
  const python = await syntax;
  const text = readFileSync(REPORT, 'utf8');
  const cursor = text.indexOf('    prices = ');
  const uri = pathToFileURL(REPORT).href;
  const context = new CrossFileContext(python);
  const first = context.build({ uri, prefix: text.slice(0, cursor), suffix: text.slice(cursor), documents: [] });
  assert.match(first, /^# pricing\.py\n# def price_list\(/);
  assert.ok(first.split('\n').filter(Boolean).every((line) => line.startsWith('#')));
  const typed = context.build({ uri, prefix: text.slice(0, cursor + 8), suffix: text.slice(cursor + 8), documents: [] });
  assert.equal(typed, first);
  assert.equal(renderContext(uri, [], [{ uri: 'file:///x/a.py', text: 'a = 1' }], 5), '', 'a block that does not fit is left out');

  const tok = new KestrelTokenizer(new Tokenizer(byteLevelTokenizerJson(), {}), { fimPrefix: '<fim_prefix>', fimSuffix: '<fim_suffix>', fimMiddle: '<fim_middle>', endOfText: '<|endoftext|>' });
  const prompt = new PromptBuilder(tok, 'spm').build('r', text.slice(0, cursor), text.slice(cursor), { maxTokens: 2000, suffixShare: 0.25, contextShare: 0.3 }, first);
  const middle = prompt.ids.indexOf(tok.special.fimMiddle);
  assert.ok(prompt.contextTokens > 0);
  assert.equal(tok.decode(prompt.ids.slice(middle + 1)), first + text.slice(0, cursor));
});
