import { test } from 'node:test';
import assert from 'node:assert/strict';
import { editSimilarity, exactMatch, sampleLineCases } from '../../src/engine/eval/metrics';

test('edit similarity equals difflib.SequenceMatcher ratio x 100', () => {
  // expected values printed by Python 3's difflib
  const cases: Array<[string, string, number]> = [
    ['abcd', 'bcde', 75],
    ['return x + 1', 'return x+1', 90.9090909090909],
    ['', '', 100],
    ['foo(bar)', 'foo(baz)', 87.5],
    ['self.items.append(item)', 'self.items[item] = 1', 65.11627906976745],
    ['aaaa', 'a', 40],
  ];
  for (const [a, b, expected] of cases) assert.ok(Math.abs(editSimilarity(a, b) - expected) < 1e-9, `${a} / ${b}: ${editSimilarity(a, b)}`);
  assert.equal(exactMatch(' x = 1 ', 'x = 1'), true);
});

test('line cases: cursor inside the line body, the target is the rest of the line, same seed same cases', () => {
  const files = [{ file: 'a.py', text: 'import os\n\ndef f(x):\n    return os.path.join(x, "y")\n' }];
  const cases = sampleLineCases(files, 20, 3);
  assert.equal(cases.length, 20);
  for (const c of cases) {
    const lineStart = c.prefix.lastIndexOf('\n') + 1;
    const line = c.prefix.slice(lineStart) + c.target;
    assert.ok(files[0]?.text.split('\n').includes(line));
    assert.ok(c.target.trim().length >= 2);
    assert.equal(c.prefix + c.target + c.after, files[0]?.text);
  }
  assert.deepEqual(sampleLineCases(files, 20, 3), cases);
});
