import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CompletionCache } from '../../src/engine/cache/completionCache';

test('a cached completion is served for the same surroundings', () => {
  const cache = new CompletionCache();
  cache.set('x = fo', '\n', 'o(1)');
  assert.equal(cache.get('x = fo', '\n'), 'o(1)');
  assert.equal(cache.get('x = fo', '\ny = 2\n'), undefined);
});

test('a completion whose start the user has typed since is served for the rest', () => {
  const cache = new CompletionCache();
  cache.set('x = fo', '\n', 'o(bar)');
  assert.equal(cache.get('x = foo', '\n'), '(bar)');
  assert.equal(cache.get('x = foo(b', '\n'), 'ar)');
  assert.equal(cache.get('x = foo(bar)', '\n'), undefined, 'fully typed: nothing left to suggest');
  assert.equal(cache.get('x = fox', '\n'), undefined, 'typed something else');
});

test('least recently used entries leave first', () => {
  const cache = new CompletionCache(2);
  cache.set('a', '', '1');
  cache.set('b', '', '2');
  cache.get('a', '');
  cache.set('c', '', '3');
  assert.equal(cache.get('a', ''), '1');
  assert.equal(cache.get('b', ''), undefined);
  assert.equal(cache.size, 2);
});

test('typed-ahead lookups still find entries after others for the same spot were evicted or replaced', () => {
  const cache = new CompletionCache(3);
  const suffix = '\n    return total\n';
  cache.set('def f(x):\n    total = ', suffix, 'x + 1');
  cache.set('def f(x):\n    total = ', suffix, 'sum(x)'); // replaced: one entry for this prefix
  cache.set('def f(x):\n    tot', suffix, 'al = 0');
  assert.equal(cache.get('def f(x):\n    total = s', suffix), 'um(x)');
  cache.set('a', '', '1');
  cache.set('b', '', '2'); // evicts the least recently used: 'tot' ('total = ' was just read)
  assert.equal(cache.size, 3);
  assert.equal(cache.get('def f(x):\n    tota', suffix), undefined, "the evicted entry ('tot' + 'al = 0') is gone from the typed-ahead lookup too");
  assert.equal(cache.get('def f(x):\n    total = su', suffix), 'm(x)');
  cache.clear();
  assert.equal(cache.get('def f(x):\n    total = su', suffix), undefined);
});
