import { test } from 'node:test';
import assert from 'node:assert/strict';
import { argmax, sample } from '../../src/engine/generate/sampler';
import { seededRandom } from '../../src/engine/eval/metrics';

const logits = Float32Array.from([1, 5, 3, 4.9, -2]);

test('greedy by default: the highest logit, skipping banned ids', () => {
  assert.equal(sample(logits), 1);
  assert.equal(sample(logits, { temperature: 0 }), 1);
  assert.equal(argmax(logits, new Set([1])), 3);
});

test('temperature sampling follows the softmax, top-p keeps only the nucleus', () => {
  const random = seededRandom(7);
  const counts = new Map<number, number>();
  for (let i = 0; i < 4000; i++) {
    const id = sample(logits, { temperature: 1, random });
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  // softmax(1, 5, 3, 4.9, -2): p(1) ~ 0.48, p(3) ~ 0.43, p(2) ~ 0.065
  assert.ok(Math.abs((counts.get(1) ?? 0) / 4000 - 0.48) < 0.04);
  assert.ok(Math.abs((counts.get(3) ?? 0) / 4000 - 0.43) < 0.04);
  const nucleus = new Set<number>();
  for (let i = 0; i < 2000; i++) nucleus.add(sample(logits, { temperature: 1, topP: 0.8, random }));
  assert.deepEqual([...nucleus].sort(), [1, 3], 'the two tokens holding 80% of the mass');
  const cold = new Set<number>();
  for (let i = 0; i < 200; i++) cold.add(sample(logits, { temperature: 0.01, random }));
  assert.deepEqual([...cold], [1], 'a tiny temperature is greedy');
});
