import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdaptiveDebounce, MAX_DEBOUNCE_MS, MIN_DEBOUNCE_MS } from '../../src/extension/completion/debounce';
import { DismissalMemory } from '../../src/extension/completion/dismissals';
import { CompletionStats, type StatsData } from '../../src/extension/completion/stats';

function typing(intervalMs: number, keys: number): AdaptiveDebounce {
  let now = 0;
  const debounce = new AdaptiveDebounce(() => now);
  for (let i = 0; i < keys; i++) {
    debounce.keystroke();
    now += intervalMs;
  }
  return debounce;
}

test('debounce: the base delay applies before there is any typing rhythm', () => {
  assert.equal(new AdaptiveDebounce(() => 0).delayMs(75), 75);
});

test('debounce: a fast typist waits longer than their gap between keys, within the clamp', () => {
  const fast = typing(90, 10);
  const delay = fast.delayMs(75);
  assert.ok(delay > 90 && delay <= MAX_DEBOUNCE_MS, `delay ${delay}`);
  assert.equal(typing(5, 10).delayMs(0), MIN_DEBOUNCE_MS);
  assert.equal(typing(1_000, 10).delayMs(1_000), MAX_DEBOUNCE_MS);
});

test('debounce: a slow typist and pauses get the base delay', () => {
  assert.equal(typing(600, 10).delayMs(75), 75);
  assert.equal(typing(5_000, 10).typingIntervalMs(), undefined, 'pauses are not typing');
});

const at = (prefix: string) => ({ uri: 'file:///a.py', prefix });

test('dismissals: moving on from a suggestion dismisses it at that place only', () => {
  const memory = new DismissalMemory();
  memory.didShow(at('def f(x):\n    '), 'return x');
  assert.equal(memory.settlePrevious(at('def f(x):\n    # note\n')), true);
  assert.equal(memory.wasDismissed(at('def f(x):\n    '), 'return x'), true);
  assert.equal(memory.wasDismissed(at('def g(x):\n    '), 'return x'), false);
  assert.equal(memory.wasDismissed(at('def f(x):\n    '), 'return x + 1'), false);
});

test('dismissals: typing along a suggestion or accepting it is not a dismissal', () => {
  const memory = new DismissalMemory();
  memory.didShow(at('x = '), 'compute(1)');
  assert.equal(memory.settlePrevious(at('x = com')), false);
  assert.equal(memory.wasDismissed(at('x = '), 'compute(1)'), false);
  memory.didShow(at('y = '), 'other()');
  memory.didAccept();
  assert.equal(memory.settlePrevious(at('y = other()\n')), false);
});

test('dismissals: Escape dismisses the suggestion on screen', () => {
  const memory = new DismissalMemory();
  assert.equal(memory.dismissCurrent(), false);
  memory.didShow(at('import '), 'os');
  assert.equal(memory.dismissCurrent(), true);
  assert.equal(memory.wasDismissed(at('import '), 'os'), true);
});

function memoryStorage(): { data: StatsData | undefined; load(): StatsData | undefined; save(d: StatsData): void } {
  return { data: undefined, load() { return this.data && structuredClone(this.data); }, save(d) { this.data = structuredClone(d); } };
}

test('stats: outcomes and latencies are counted, per day, and survive a reload', () => {
  const storage = memoryStorage();
  let now = new Date(2026, 10, 21, 12);
  const stats = new CompletionStats(storage, () => now);
  stats.record('shown', 40);
  stats.record('shown', 60);
  stats.record('accepted');
  now = new Date(2026, 10, 22, 9);
  stats.record('shown', 200);
  stats.record('dismissed');
  stats.record('partiallyAccepted');
  const reloaded = new CompletionStats(storage, () => now);
  assert.deepEqual(reloaded.totals(), { shown: 3, accepted: 1, partiallyAccepted: 1, dismissed: 1 });
  assert.deepEqual(reloaded.days().map((d) => d.day), ['2026-11-21', '2026-11-22']);
  assert.equal(reloaded.medianLatencyMs(), 60);
  assert.deepEqual(reloaded.histogram([50, 100]), [1, 1, 1]);
});

test('stats: unknown stored data starts fresh instead of failing', () => {
  const storage = memoryStorage();
  storage.data = { version: 7 } as unknown as StatsData;
  assert.deepEqual(new CompletionStats(storage).totals(), { shown: 0, accepted: 0, partiallyAccepted: 0, dismissed: 0 });
});
