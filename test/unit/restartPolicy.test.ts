import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE_DELAY_MS, MAX_ATTEMPTS, MAX_DELAY_MS, RestartPolicy, WINDOW_MS } from '../../src/shared/restart/restartPolicy';

test('a crashed worker restarts with exponential backoff', () => {
  let now = 0;
  const policy = new RestartPolicy(() => now);
  const delays: Array<number | undefined> = [];
  for (let i = 0; i < MAX_ATTEMPTS; i++) {
    delays.push(policy.nextDelayMs());
    now += 1_000;
  }
  assert.equal(delays[0], BASE_DELAY_MS);
  for (let i = 1; i < delays.length; i++) {
    assert.ok((delays[i] ?? 0) > (delays[i - 1] ?? 0) || delays[i] === MAX_DELAY_MS, `delay ${i} grows`);
  }
});

test('restarts stop after the cap within the window, so a crash loop ends in an error', () => {
  let now = 0;
  const policy = new RestartPolicy(() => now);
  for (let i = 0; i < MAX_ATTEMPTS; i++) assert.notEqual(policy.nextDelayMs(), undefined);
  now += 10;
  assert.equal(policy.nextDelayMs(), undefined);
});

test('a worker that stayed up for the whole window earns a fresh budget', () => {
  let now = 0;
  const policy = new RestartPolicy(() => now);
  for (let i = 0; i < MAX_ATTEMPTS; i++) policy.nextDelayMs();
  now += WINDOW_MS + 1;
  assert.equal(policy.nextDelayMs(), BASE_DELAY_MS);
  assert.equal(policy.attempts, 1);
});

test('a user-requested restart resets the budget', () => {
  const policy = new RestartPolicy(() => 0);
  for (let i = 0; i <= MAX_ATTEMPTS; i++) policy.nextDelayMs();
  policy.reset();
  assert.equal(policy.nextDelayMs(), BASE_DELAY_MS);
});
