import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Embedder } from '../../src/index/embedder';
import { evaluateSearch, type SearchPair } from '../../src/index/evalSearch';
import { fuse, fusionProblems, tuneFusion } from '../../src/index/fusion';
import { storeOptionsFor } from '../../src/index/indexer';
import { IndexSearch } from '../../src/index/search';
import { IndexStore } from '../../src/index/store';
import { quantize } from '../../src/index/vectors';
import { ConceptEmbedder, UnrelatedEmbedder } from '../fixtures/index/fusionEmbedders';

/**
 * 48 functions, verb x noun. Each code passes another noun along; half the queries name their
 * function's verb and noun, the other half the verb and the noun passed along, which another
 * function is named after: BM25 ranks that one first, so it is good but not perfect.
 */
const VERBS = ['read', 'write', 'parse', 'load', 'save', 'delete'];
const NOUNS = ['config', 'user', 'image', 'report', 'cache', 'invoice', 'session', 'token'];
const KEYWORD_PAIRS: SearchPair[] = VERBS.flatMap((verb, v) => NOUNS.map((noun, n) => {
  const other = NOUNS[(n + v + 1) % NOUNS.length] as string;
  return {
    query: (n + v) % 2 ? `${verb} the ${noun} record from the store` : `${verb} the record with its ${other}`,
    code: `def ${verb}_${noun}(store, key${', flag'.repeat(n)}):\n    record = store.get_record(key)\n    record.${verb}(${other}_value)\n    return record`,
  };
}));

/** Queries in other words than their code: BM25 finds none of them, a model of meaning finds each. */
const CONCEPTS: Record<string, string> = {
  duplicates: 'dedupe', uniq: 'dedupe', distinct: 'dedupe',
  temperature: 'heat', celsius: 'heat', fahrenheit: 'heat', kelvin: 'heat',
  wait: 'pause', sleep: 'pause', delay: 'pause',
  folder: 'directory', dir: 'directory', mkdir: 'directory',
  email: 'mail', smtp: 'mail', inbox: 'mail',
  picture: 'image', png: 'image', jpeg: 'image',
};
const MEANING_PAIRS: SearchPair[] = [
  { query: 'Drop repeated duplicates.', code: 'def uniq(xs):\n    kept = dict.fromkeys(xs)\n    return list(kept)' },
  { query: 'Convert a temperature.', code: 'def c_to_f(celsius):\n    fahrenheit = celsius * 9 / 5 + 32\n    return fahrenheit' },
  { query: 'Wait a moment before retrying.', code: 'def backoff(n):\n    import time\n    time.sleep(2 ** n)\n    return n + 1' },
  { query: 'Create the folder if missing.', code: 'def ensure_dir(p):\n    import os\n    os.makedirs(p, exist_ok=True)\n    return p  # mkdir -p' },
  { query: 'Send an email.', code: 'def notify(to, body):\n    s = smtp_connect()\n    s.sendmail(to, body)\n    s.quit()' },
  { query: 'Shrink a picture.', code: 'def thumb(png, w):\n    out = png.resize((w, w))\n    out.save()\n    return out' },
];

async function indexOf(pairs: readonly SearchPair[], embedder: Embedder): Promise<{ store: IndexStore; ids: number[]; folder: string }> {
  const folder = mkdtempSync(join(tmpdir(), 'kestrel-fusion-'));
  const store = await IndexStore.open(folder, storeOptionsFor(embedder));
  const vectors = await embedder.embed(pairs.map((p) => p.code), 'code');
  store.writeFiles(pairs.map((pair, i) => {
    const lines = pair.code.split('\n');
    const rel = `f${i}.py`;
    return {
      file: { path: join(folder, rel), root: folder, rel, language: 'python', mtimeMs: 0, size: pair.code.length, hash: String(i) },
      chunks: [{
        kind: 'function' as const, name: /def (\w+)/.exec(pair.code)?.[1] ?? '', container: '', doc: '', text: pair.code,
        range: { start: { line: 0, character: 0 }, end: { line: lines.length - 1, character: (lines.at(-1) ?? '').length } },
        vector: quantize(vectors[i] as Float32Array),
      }],
    };
  }));
  return { store, folder, ids: pairs.map((_, i) => store.chunkIdsOf(join(folder, `f${i}.py`))[0] as number) };
}

test('with vectors that carry nothing, the tuned fusion keeps BM25\'s order for every query', async () => {
  const result = await evaluateSearch(KEYWORD_PAIRS, new UnrelatedEmbedder(), { tuneFusion: true });
  const tuned = result.tunedFusion;
  assert.ok(tuned);
  assert.ok((result.rankers.vector?.mrr ?? 1) < 0.3, 'the vectors are useless here');
  assert.ok((result.rankers.bm25?.mrr ?? 0) < 1, 'BM25 is not perfect either: there is room to make it worse');
  assert.ok(tuned.mrr >= tuned.bm25Mrr, "tuned hybrid at least BM25");
  // The same weights, recorded with the model, drive the product's search: BM25's order, whole lists.
  const embedder = new UnrelatedEmbedder(tuned.weights);
  const { store, folder } = await indexOf(KEYWORD_PAIRS, embedder);
  try {
    const search = new IndexSearch(store, embedder);
    for (const pair of KEYWORD_PAIRS) {
      const bm25 = store.bm25(pair.query, 100).map((h) => h.id);
      const hybrid = (await search.search(pair.query, { limit: bm25.length })).map((h) => h.chunkId);
      assert.deepEqual(hybrid, bm25, pair.query);
    }
    // Plain RRF (what a model without tuned weights gets) does let such vectors reorder BM25's results.
    const untuned = new IndexSearch(store, new UnrelatedEmbedder());
    let reordered = 0;
    for (const pair of KEYWORD_PAIRS) {
      const bm25 = store.bm25(pair.query, 100).map((h) => h.id);
      if ((await untuned.search(pair.query, { limit: bm25.length })).map((h) => h.chunkId).join() !== bm25.join()) reordered++;
    }
    assert.ok(reordered > KEYWORD_PAIRS.length / 2, `untuned RRF reordered ${reordered} of ${KEYWORD_PAIRS.length}`);
  } finally {
    store.close();
    rmSync(folder, { recursive: true, force: true });
  }
});

test('where the query shares no word with its code, the tuned fusion finds the code through the vectors', async () => {
  const result = await evaluateSearch(MEANING_PAIRS, new ConceptEmbedder(CONCEPTS), { tuneFusion: true });
  const tuned = result.tunedFusion;
  assert.ok(tuned);
  assert.equal(result.rankers.bm25?.notFound, MEANING_PAIRS.length, 'BM25 finds none');
  assert.equal(tuned.mrr, 1);
  const embedder = new ConceptEmbedder(CONCEPTS, tuned.weights);
  const { store, folder, ids } = await indexOf(MEANING_PAIRS, embedder);
  try {
    const search = new IndexSearch(store, embedder);
    for (const [i, pair] of MEANING_PAIRS.entries()) {
      const [first] = await search.search(pair.query);
      assert.deepEqual(store.bm25(pair.query, 10), [], `BM25 finds nothing for "${pair.query}"`);
      assert.equal(first?.chunkId, ids[i], pair.query);
      assert.deepEqual(first?.ranks, { vector: 1 });
    }
  } finally {
    store.close();
    rmSync(folder, { recursive: true, force: true });
  }
});

test('fuse weighs each list by its rank; tuning prefers BM25 when the vectors add nothing', () => {
  const fused = fuse({ bm25: [1, 2, 3], vector: [3, 4] }, { bm25: 1, vector: 2, k: 1 });
  assert.deepEqual(fused.map((h) => h.id), [3, 4, 1, 2]); // 3: 1/4 + 2/2; 4: 2/3; 1: 1/2; 2: 1/3
  assert.deepEqual(fused[0]?.ranks, { bm25: 3, vector: 1 });
  assert.deepEqual(fuse({ bm25: [5, 6], vector: [6, 7] }, { bm25: 1, vector: 0, k: 60 }).map((h) => h.id), [5, 6, 7]);
  const tied = tuneFusion([{ bm25: [1, 2], vector: [1, 2], right: 1 }]);
  assert.deepEqual(tied.weights, { bm25: 1, vector: 0, k: 60 });
  assert.deepEqual(fusionProblems({ bm25: 1, vector: 0.2, k: 10 }), []);
  assert.match(fusionProblems({ bm25: 1, vector: -1, k: 10 }).join(), /embedding\.fusion\.vector/);
});
