import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluateSearch, formatEvalSearch, readPairs, shuffled } from '../../src/index/evalSearch';
import { HashingEmbedder } from '../fixtures/index/hashingEmbedder';

// Each query shares its distinctive words with its own code only, so BM25 must rank every right code first.
const PAIRS = [
  { query: 'Parse an HTTP request line.', code: 'def parse_http_request(line):\n    method, path, version = line.split()\n    return method, path, version', name: 'parse_http_request' },
  { query: 'Charge the credit card of a customer.', code: 'def charge_credit_card(customer, amount):\n    return customer.card.charge(amount)', name: 'charge_credit_card' },
  { query: 'Resize an image thumbnail.', code: 'def resize_thumbnail(image, width):\n    return image.resize((width, width))' },
  { query: 'Compress bytes with zlib.', code: 'def compress_bytes(data):\n    import zlib\n    return zlib.compress(data)' },
  { query: 'Send an email notification to the admins.', code: 'def notify_admins_email(subject):\n    for admin in ADMINS:\n        send_mail(subject, admin)' },
];

function pairsFile(): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kestrel-eval-pairs-'));
  const file = join(dir, 'pairs.jsonl');
  writeFileSync(file, PAIRS.map((p) => JSON.stringify({ package: 'test', path: 'x.py', line: 1, ...p })).join('\n') + '\n');
  return { dir, file };
}

test('readPairs reads the JSON lines of embed_pairs.py and rejects a line without query or code', () => {
  const { dir, file } = pairsFile();
  try {
    const pairs = readPairs(file);
    assert.equal(pairs.length, 5);
    assert.equal(pairs[0]?.name, 'parse_http_request');
    assert.equal(pairs[2]?.name, undefined);
    writeFileSync(file, '{"query": "q"}\n');
    assert.throws(() => readPairs(file), /pairs.jsonl:1: a pair needs "query" and "code"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the shuffle is seeded: same seed, same order, every item kept', () => {
  const items = Array.from({ length: 50 }, (_, i) => i);
  assert.deepEqual(shuffled(items, 3), shuffled(items, 3));
  assert.notDeepEqual(shuffled(items, 3), items);
  assert.deepEqual([...shuffled(items, 3)].sort((a, b) => a - b), items);
});

test('BM25, vectors and hybrid each rank every right code first on distinct pairs', async () => {
  const embedder = new HashingEmbedder(256);
  const result = await evaluateSearch(PAIRS, embedder);
  assert.equal(result.pairs, 5);
  assert.equal(result.groups, 1);
  assert.equal(result.groupSize, 5, 'fewer pairs than a group: one smaller group');
  for (const ranker of ['bm25', 'vector', 'hybrid'] as const) {
    assert.deepEqual(result.rankers[ranker], { mrr: 1, 'recall@1': 1, 'recall@5': 1, 'recall@10': 1, notFound: 0, n: 5 }, ranker);
  }
  assert.equal(embedder.calls.filter((c) => c.kind === 'code').reduce((n, c) => n + c.texts.length, 0), 5);
  assert.match(formatEvalSearch(result), /hybrid\s+1\.000\s+1\.000/);
});

test('a query sharing no word with its code is not found by BM25 (reciprocal rank 0); groups and --limit cut the pairs', async () => {
  const pairs = [...PAIRS, { query: 'zzz qqq', code: 'def unrelated():\n    return None' }];
  const bm25Only = await evaluateSearch(pairs, null, { groupSize: 6 });
  assert.equal(bm25Only.rankers.vector, undefined);
  assert.deepEqual(bm25Only.rankers.bm25, { mrr: 0.8333, 'recall@1': 0.8333, 'recall@5': 0.8333, 'recall@10': 0.8333, notFound: 1, n: 6 });
  const grouped = await evaluateSearch(pairs, null, { groupSize: 2, limit: 5 });
  assert.equal(grouped.pairs, 5);
  assert.equal(grouped.groups, 2, 'the trailing partial group is left out');
  assert.equal(grouped.rankers.bm25?.n, 4);
});
