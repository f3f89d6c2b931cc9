import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Chunker } from '../../src/index/chunker';
import { GrammarLoader } from '../../src/shared/grammars/grammars';
import { Indexer, storeOptionsFor } from '../../src/index/indexer';
import { IndexSearch } from '../../src/index/search';
import { IndexStore } from '../../src/index/store';
import { copyCorpus } from '../fixtures/index/copyCorpus';
import { HashingEmbedder } from '../fixtures/index/hashingEmbedder';

let root: string;
let folder: string;
let store: IndexStore;
let chunker: Chunker;
const embedder = new HashingEmbedder(64);
let search: IndexSearch;

before(async () => {
  root = copyCorpus();
  folder = mkdtempSync(join(tmpdir(), 'kestrel-search-'));
  store = await IndexStore.open(folder, storeOptionsFor(embedder));
  chunker = new Chunker(new GrammarLoader(), { countTokens: (t) => embedder.countTokens(t), maxTokens: embedder.maxCodeTokens });
  await new Indexer({ store, chunker, embedder, walk: { roots: [root] } }).run();
  search = new IndexSearch(store, embedder);
});

after(() => {
  store.close();
  chunker.dispose();
  rmSync(root, { recursive: true, force: true });
  rmSync(folder, { recursive: true, force: true });
});

test('identifier-split BM25 finds camelCase and snake_case names from plain words', async () => {
  assert.equal((await search.search('http request'))[0]?.name, 'parseHttpRequest');
  assert.equal((await search.search('charge credit card'))[0]?.name, 'charge_credit_card');
  assert.equal((await search.search('sendJsonResponse'))[0]?.name, 'sendJsonResponse', 'an exact identifier wins');
});

test('results carry path, range, snippet and score, and the range points at the chunk in the file', async () => {
  const [hit] = await search.search('total price of the cart items');
  assert.ok(hit);
  assert.equal(hit.rel, 'shop/cart.py');
  assert.equal(hit.path, join(root, 'shop/cart.py'));
  assert.equal(hit.language, 'python');
  assert.ok(hit.score > 0);
  const lines = readFileSync(hit.path, 'utf8').split('\n');
  assert.match(lines[hit.range.start.line] ?? '', /class ShoppingCart|def total_price/);
  assert.ok(hit.snippet.split('\n').length <= 6);
  assert.equal(lines[hit.snippetLine], hit.snippet.split('\n')[0], 'snippetLine is the snippet\'s first line in the file');
});

test('vector hits come in even without a shared word, and rank fusion favours chunks both lists found', () => {
  const target = store.chunks(store.chunkIdsOf(join(root, 'web/session.ts')))[0];
  assert.ok(target);
  const onlyVector = search.rank('qqqq', embedder.vector(target.text), { limit: 3 });
  assert.equal(onlyVector[0]?.chunkId, target.id);
  assert.deepEqual(onlyVector[0]?.ranks, { vector: 1 });

  const both = search.rank('refund payment', embedder.vector('def refund_payment(payment_id): connect_gateway().refund(payment_id)'), { limit: 5 });
  assert.equal(both[0]?.name, 'refund_payment');
  assert.ok(both[0]?.ranks.bm25 !== undefined && both[0]?.ranks.vector !== undefined, 'found by both lists');
  for (let i = 1; i < both.length; i++) assert.ok((both[i - 1]?.score as number) >= (both[i]?.score as number), 'sorted by fused score');
});

test('filters by language and by path globs apply to both lists', async () => {
  const typescript = await search.search('payment request session', { languages: ['typescript'] });
  assert.ok(typescript.length > 0 && typescript.every((h) => h.language === 'typescript'));
  const shop = await search.search('payment request session', { include: ['shop/**'] });
  assert.ok(shop.length > 0 && shop.every((h) => h.rel.startsWith('shop/')));
  const markdown = await search.search('refund', { include: ['*.md'] });
  assert.deepEqual([...new Set(markdown.map((h) => h.rel))], ['docs/payments.md']);
  const notWeb = await search.search('request', { exclude: ['web'] });
  assert.ok(notWeb.every((h) => !h.rel.startsWith('web/')));
});

test('similar() looks for code like a selection; BM25 alone works without vectors', async () => {
  const similar = await search.similar('def add_item(self, product, quantity=1):\n    self.items.append((product, quantity))');
  assert.equal(similar[0]?.rel, 'shop/cart.py');
  assert.equal(embedder.calls.at(-1)?.kind, 'code');
  const lexical = new IndexSearch(store, null);
  assert.equal((await lexical.search('connect gateway'))[0]?.name, 'connect_gateway');
  assert.deepEqual(await lexical.search('   '), []);
});

test('a word that matches nothing gets no results, not the nearest vectors (the relevance floor)', async () => {
  // every chunk has a nearest-neighbour score, so without a floor this listed the whole corpus
  assert.deepEqual(await search.search('xylophone'), []);
  assert.deepEqual(await search.search('qwzrtplk flamingo'), []);
  assert.ok((await search.search('charge credit card')).length > 0, 'a query that matches still finds');
  // evaluations still see every vector candidate
  const [vector] = await embedder.embed(['xylophone'], 'query');
  assert.ok(search.candidates('xylophone', vector ?? null).vector.length > 0);
});
