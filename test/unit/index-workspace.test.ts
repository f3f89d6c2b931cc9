import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkspaceIndex } from '../../src/index/workspaceIndex';
import { copyCorpus } from '../fixtures/index/copyCorpus';
import { HashingEmbedder } from '../fixtures/index/hashingEmbedder';

test('WorkspaceIndex: concurrent updates share one run, status reports progress and skips, rebuild starts over', async () => {
  const root = copyCorpus();
  const storageFolder = mkdtempSync(join(tmpdir(), 'kestrel-wsi-'));
  const phases: string[] = [];
  const index = await WorkspaceIndex.open({
    storageFolder,
    walk: { roots: [root], exclude: ['docs/**'] },
    embedder: new HashingEmbedder(32),
    onProgress: (p) => phases.push(p.phase),
  });
  try {
    const [a, b] = await Promise.all([index.update(), index.update()]);
    assert.equal(a, b, 'the second call joined the first run');
    assert.equal(a.filesIndexed, 4);
    const status = index.status();
    assert.equal(status.state, 'idle');
    assert.equal(status.stats.files, 4);
    assert.equal(status.stats.vectors, status.stats.chunks);
    assert.equal(status.stats.skipped.excluded, 1);
    assert.equal(status.embedder, 'hashing-32');
    assert.ok(status.lastCompleteRun);
    assert.deepEqual([phases[0], phases.at(-1)], ['walking', 'done']);
    assert.deepEqual(index.skipped().map((s) => [s.rel, s.reason]), [['docs', 'excluded']]);
    assert.equal((await index.search('credit card'))[0]?.name, 'charge_credit_card');
    const similar = await index.similar('def refund_payment(payment_id):\n    return connect_gateway().refund(payment_id)', {
      notIn: { path: join(root, 'shop/payment.py'), startLine: 9, endLine: 12 },
    });
    assert.ok(similar.every((h) => !(h.rel === 'shop/payment.py' && h.name === 'refund_payment')), 'the selection itself is left out');

    const rebuilt = await index.rebuild();
    assert.equal(rebuilt.filesIndexed, 4, 'everything indexed again');
  } finally {
    index.close();
    rmSync(root, { recursive: true, force: true });
    rmSync(storageFolder, { recursive: true, force: true });
  }
});
