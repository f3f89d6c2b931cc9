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
