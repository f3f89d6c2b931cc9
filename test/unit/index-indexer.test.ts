import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { Chunker } from '../../src/index/chunker';
import { GrammarLoader } from '../../src/shared/grammars/grammars';
import { Indexer, storeOptionsFor, type IndexProgress } from '../../src/index/indexer';
import { ForegroundWatch, PriorityGate } from '../../src/index/priorityGate';
import { IndexStore } from '../../src/index/store';
import { copyCorpus } from '../fixtures/index/copyCorpus';
import { HashingEmbedder } from '../fixtures/index/hashingEmbedder';

const grammars = new GrammarLoader();

interface Setup {
  root: string;
  folder: string;
  embedder: HashingEmbedder;
  store: IndexStore;
  indexer: (extra?: Partial<ConstructorParameters<typeof Indexer>[0]>) => Indexer;
  cleanup: () => void;
}

async function setup(): Promise<Setup> {
  const root = copyCorpus();
  const folder = mkdtempSync(join(tmpdir(), 'kestrel-idx-'));
  const embedder = new HashingEmbedder(32);
  const store = await IndexStore.open(folder, storeOptionsFor(embedder));
  const chunker = new Chunker(grammars, { countTokens: (t) => embedder.countTokens(t), maxTokens: embedder.maxCodeTokens });
  return {
    root,
    folder,
    embedder,
    store,
    indexer: (extra = {}) => new Indexer({ store, chunker, embedder, walk: { roots: [root] }, ...extra }),
    cleanup: () => {
      store.close();
      chunker.dispose();
      rmSync(root, { recursive: true, force: true });
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

test('a second run re-embeds nothing; a touched but identical file is not re-embedded', async () => {
  const s = await setup();
  try {
    const first = await s.indexer().run();
    assert.equal(first.filesIndexed, 5);
    assert.equal(first.cancelled, false);
    const chunks = s.store.stats().chunks;
    assert.ok(chunks >= 8, `${chunks} chunks`);
    assert.equal(s.embedder.textsEmbedded, chunks, 'every chunk embedded once');
    assert.equal(s.store.vectors.size, chunks);

    const second = await s.indexer().run();
    assert.deepEqual([second.filesIndexed, second.filesUnchanged], [0, 5]);
    assert.equal(s.embedder.textsEmbedded, chunks, 'nothing embedded again');

    const cart = join(s.root, 'shop/cart.py');
    const later = new Date(Date.now() + 60_000);
    utimesSync(cart, later, later);
    const touched = await s.indexer().run();
    assert.equal(touched.filesIndexed, 0, 'same content hash: not re-chunked');
    assert.equal(s.embedder.textsEmbedded, chunks);
    assert.equal(s.store.file(cart)?.mtimeMs, statSync(cart).mtimeMs, 'the new mtime is recorded, so the file is not read again');
  } finally {
    s.cleanup();
  }
});

test('a changed file is re-chunked and re-embedded alone; a deleted one leaves the index', async () => {
  const s = await setup();
  try {
    await s.indexer().run();
    const before = s.embedder.textsEmbedded;
    appendFileSync(join(s.root, 'shop/payment.py'), '\n\ndef void_payment(payment_id):\n    """Cancel a payment before it settles."""\n    return None\n');
    const changed = await s.indexer().run();
    assert.equal(changed.filesIndexed, 1);
    const paymentChunks = s.store.chunkIdsOf(join(s.root, 'shop/payment.py')).length;
    const embedded = s.embedder.calls.flatMap((c) => c.texts).slice(before);
    assert.ok(embedded.length >= 1 && embedded.length < paymentChunks, `only the edited chunks of that file were embedded (${embedded.length} of ${paymentChunks})`);
    assert.ok(embedded.some((t) => t.includes('def void_payment')), 'the new function was');
    assert.ok(!embedded.some((t) => t.includes('def charge_credit_card')), 'an unchanged function kept its vector');
    assert.equal(s.store.vectors.size, s.store.stats().chunks, 'every chunk still has a vector');
    assert.ok(s.store.bm25('void payment', 5).length > 0);

    rmSync(join(s.root, 'web/session.ts'));
    const removed = await s.indexer().run();
    assert.equal(removed.filesRemoved, 1);
    assert.equal(s.store.file(join(s.root, 'web/session.ts')), undefined);
    assert.equal(s.store.bm25('session cookie', 5).length, 0);
  } finally {
    s.cleanup();
  }
});

test('updateFile re-indexes one saved file, skips what the rules skip, and forgets deleted files', async () => {
  const s = await setup();
  try {
    const indexer = s.indexer();
    await indexer.run();
    const cart = join(s.root, 'shop/cart.py');
    assert.equal(await indexer.updateFile(cart), 'unchanged');
    appendFileSync(cart, '\n\ndef empty_cart(cart):\n    cart.items.clear()\n');
    assert.equal(await indexer.updateFile(cart), 'indexed');
    assert.ok(s.store.bm25('empty cart', 5).length > 0);
    writeFileSync(join(s.root, '.env'), 'TOKEN=1\n');
    assert.equal(await indexer.updateFile(join(s.root, '.env')), 'skipped');
    assert.equal(s.store.skipped().find((p) => p.rel === '.env')?.reason, 'secret');
    rmSync(cart);
    assert.equal(await indexer.updateFile(cart), 'removed');
    assert.equal(s.store.file(cart), undefined);
    assert.equal(await indexer.updateFile(join(tmpdir(), 'not-in-workspace.py')), 'outside');
  } finally {
    s.cleanup();
  }
});

test('a deleted folder takes its indexed files with it (the watcher reports only the folder)', async () => {
  const s = await setup();
  try {
    const indexer = s.indexer();
    await indexer.run();
    const shop = join(s.root, 'shop');
    const inShop = s.store.files().filter((f) => f.path.startsWith(shop + sep));
    assert.ok(inShop.length > 0, 'the corpus has indexed files under shop/');
    const elsewhere = s.store.files().length - inShop.length;
    rmSync(shop, { recursive: true });
    assert.equal(await indexer.updateFile(shop), 'removed');
    assert.equal(s.store.files().filter((f) => f.path.startsWith(shop + sep)).length, 0);
    assert.equal(s.store.files().length, elsewhere, 'files outside the folder stay');
    assert.equal(s.store.bm25('cart', 5).filter((hit) => s.store.fileById(hit.fileId)?.path.startsWith(shop + sep)).length, 0);
  } finally {
    s.cleanup();
  }
});

test('a cancelled run keeps the files it finished; the next run (even after a restart) does the rest', async () => {
  const s = await setup();
  try {
    const controller = new AbortController();
    const progress: IndexProgress[] = [];
    const cancelled = await s
      .indexer({
        batchFiles: 1,
        onProgress: (p) => {
          progress.push(p);
          if (p.filesDone === 2) controller.abort();
        },
      })
      .run(controller.signal);
    assert.equal(cancelled.cancelled, true);
    assert.equal(s.store.stats().files, 2, 'two whole files committed');
    assert.deepEqual(progress[0]?.phase, 'walking');
    assert.equal(progress.find((p) => p.phase === 'indexing')?.filesTotal, 5);

    // A restart: reopen the store from disk.
    s.store.close();
    const store = await IndexStore.open(s.folder, storeOptionsFor(s.embedder));
    const chunker = new Chunker(grammars, { countTokens: (t) => s.embedder.countTokens(t), maxTokens: s.embedder.maxCodeTokens });
    const resumed = await new Indexer({ store, chunker, embedder: s.embedder, walk: { roots: [s.root] } }).run();
    assert.deepEqual([resumed.filesIndexed, resumed.filesUnchanged, resumed.cancelled], [3, 2, false]);
    assert.equal(store.stats().files, 5);
    assert.equal(s.embedder.textsEmbedded, store.stats().chunks, 'no chunk was embedded twice');
    store.close();
    chunker.dispose();
  } finally {
    s.cleanup();
  }
});

test('indexing waits for foreground work between batches (priority gate)', async () => {
  const gate = new PriorityGate();
  const leave = gate.enter();
  let idle = false;
  const waiting = new ForegroundWatch(gate.shared, 60_000).whenClear().then(() => { idle = true; });
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(idle, false, 'held while a completion runs');
  leave();
  leave(); // a second call is harmless
  await waiting;
  assert.equal(idle, true);

  const s = await setup();
  try {
    let yields = 0;
    await s.indexer({ batchFiles: 2, embedBatch: 2, yieldToOthers: async () => { yields++; } }).run();
    assert.ok(yields >= 3, `yielded ${yields} times`);
  } finally {
    s.cleanup();
  }
});

test('without an embedder the index still builds for BM25 search', async () => {
  const root = copyCorpus();
  const folder = mkdtempSync(join(tmpdir(), 'kestrel-idx-'));
  const store = await IndexStore.open(folder, storeOptionsFor(null));
  const chunker = new Chunker(grammars, { countTokens: (t) => Math.ceil(t.length / 4), maxTokens: 256 });
  try {
    const summary = await new Indexer({ store, chunker, embedder: null, walk: { roots: [root] } }).run();
    assert.equal(summary.filesIndexed, 5);
    assert.equal(store.vectors.size, 0);
    assert.ok(store.bm25('shopping cart', 5).length > 0);
  } finally {
    store.close();
    chunker.dispose();
    rmSync(root, { recursive: true, force: true });
    rmSync(folder, { recursive: true, force: true });
  }
});
