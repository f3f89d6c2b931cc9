import { test } from 'node:test';
import assert from 'node:assert/strict';
import { balanceBrackets } from '../../src/engine/postprocess/balanceBrackets';
import type { PostprocessStep } from '../../src/engine/postprocess/context';
import { dropEmpty } from '../../src/engine/postprocess/dropEmpty';
import { dropRepetition, endsInTokenLoop } from '../../src/engine/postprocess/dropRepetition';
import { dropSuffixRepetition } from '../../src/engine/postprocess/dropSuffixRepetition';
import { postprocess } from '../../src/engine/postprocess';
import { limitToBlock } from '../../src/engine/postprocess/limitToBlock';
import { stopAtLineEnd } from '../../src/engine/postprocess/stopAtLineEnd';
import { trimTrailingWhitespace } from '../../src/engine/postprocess/trimTrailingWhitespace';
import { chooseMultiline } from '../../src/engine/context/mode';
import { shouldComplete } from '../../src/engine/prefilter/shouldComplete';
import { splitAtCursor } from './support/cursor';

/** [document with ║, multiline, model output, expected completion or null] */
type Case = [string, boolean, string, string | null];

function runTable(step: PostprocessStep, cases: Case[]): void {
  for (const [document, multiline, output, expected] of cases) {
    const { prefix, suffix } = splitAtCursor(document);
    assert.equal(step(output, { prefix, suffix, multiline }), expected, `${JSON.stringify(document)} + ${JSON.stringify(output)}`);
  }
}

test('stopAtLineEnd keeps the first line in single-line mode only', () => {
  runTable(stopAtLineEnd, [
    ['x = ║', false, 'foo(1)\ny = 2', 'foo(1)'],
    ['x = ║', false, 'foo(1)', 'foo(1)'],
    ['def f():║', true, '\n    return 1\n', '\n    return 1\n'],
  ]);
});

test('limitToBlock stops where indentation leaves the block', () => {
  runTable(limitToBlock, [
    ['def f(x):\n    ║', true, 'y = x + 1\n    return y\n\nprint(f(2))', 'y = x + 1\n    return y'],
    ['def f(x):║', true, '\n    return x\ndef g():\n    pass', '\n    return x'],
    ['class A:\n    def m(self):\n        ║', true, 'self.x = 1\n        return self\n    def n(self):', 'self.x = 1\n        return self'],
    ['if ok:\n    ║', true, 'run()\n\n    more()\nelse:\n    stop()', 'run()\n\n    more()'],
    ['x = ║', false, 'a\nb', 'a\nb'],
    ['def f():\n    ║', true, 'a = 1\n    \n    \n    \n    b = 2', 'a = 1'],
  ]);
});

test('dropRepetition keeps one copy of a looping tail', () => {
  runTable(dropRepetition, [
    ['x = ║', false, 'self.self.self.self.', 'self.'],
    ['x = ║', false, 'self.self.self.self.self', 'self'],
    ['x = ║', false, 'foo(a, a, a)', 'foo(a, a, a)'],
    ['def f():║', true, '\n    pass\n    pass\n    pass\n    pass', '\n    pass'],
    ['x = ║', false, '[1, 2, 3]', '[1, 2, 3]'],
    ['x = ║', false, 'a + b', 'a + b'],
    ['s = ║', false, '"====="', '"====="'],
    ['# ║', false, '==========', '=========='],
  ]);
  assert.equal(endsInTokenLoop([5, 1, 2, 1, 2, 1, 2, 1, 2]), true);
  assert.equal(endsInTokenLoop([1, 2, 3, 4, 5, 6, 7, 8]), false);
  assert.equal(endsInTokenLoop([7, 7, 7]), false, 'three is not yet a loop');
});

test('dropSuffixRepetition drops text already after the cursor', () => {
  runTable(dropSuffixRepetition, [
    ['print(║)', false, 'value)', 'value'],
    ['items = [║]\n', false, '1, 2, 3]', '1, 2, 3'],
    ['x = f(║', false, 'a, b)', 'a, b)'],
    ['def f():\n    ║\n    return y\n', true, 'y = 1\n    return y', 'y = 1'],
    ['a = ║\nb = 2\n', false, '1', '1'],
  ]);
});

test('balanceBrackets cuts at a closing bracket nothing opened', () => {
  runTable(balanceBrackets, [
    ['x = foo(║', false, 'a, b)', 'a, b)'],
    ['x = ║', false, 'a)', 'a'],
    ['x = [║', false, '1, 2)]', '1, 2'],
    ['x = ║', false, 'd["k"]', 'd["k"]'],
    ['x = ║', false, '"(" + s', '"(" + s'],
    ['x = ║', false, "')' )", "')' "],
    ['call(a, ║', false, 'b))', 'b)'],
  ]);
});

test('trimTrailingWhitespace removes spaces at line ends and trailing blank lines', () => {
  runTable(trimTrailingWhitespace, [
    ['x = ║', false, 'foo()   ', 'foo()'],
    ['def f():║', true, '\n    a = 1  \n    b = 2\n\n', '\n    a = 1\n    b = 2'],
  ]);
});

test('dropEmpty drops whitespace-only suggestions', () => {
  runTable(dropEmpty, [
    ['x = ║', false, '   ', null],
    ['x = ║', false, '', null],
    ['x = ║', false, ' 1', ' 1'],
  ]);
});

test('the whole chain: single line, multi-line block, empty result', () => {
  const run = (document: string, multiline: boolean, output: string): string | null => {
    const { prefix, suffix } = splitAtCursor(document);
    return postprocess(output, { prefix, suffix, multiline });
  };
  assert.equal(run('total = sum(║)\n', false, 'prices) \nprint(total)'), 'prices');
  assert.equal(run('def area(r):\n    ║\n\nprint(1)\n', true, 'import math\n    return math.pi * r ** 2\n\n\nprint(area(2))'), 'import math\n    return math.pi * r ** 2');
  assert.equal(run('x = 1║\n', false, '\n'), null);
});

test('multi-line after a block opener or on an empty body, single line elsewhere', () => {
  const mode = (document: string): boolean => {
    const { prefix, suffix } = splitAtCursor(document);
    return chooseMultiline(prefix, suffix);
  };
  assert.equal(mode('def f(x):║\n'), true);
  assert.equal(mode('def f(x):\n    ║\n'), true);
  assert.equal(mode('for x in xs:\n    ║'), true);
  assert.equal(mode('d = {"a":║'), false);
  assert.equal(mode('x = ║\n'), false);
  assert.equal(mode('def f():\n    a = 1\n    ║\n'), false);
  assert.equal(mode('def f():\n    a = 1\n    ║\nprint()'), false);
  assert.equal(mode('class A:\n    x = 1\n\n    def m(self):\n        ║\n\nprint()'), true);
  assert.equal(mode('if x:║ y\n'), false);
});

test('prefilter: no completion in the middle of a word or expression', () => {
  const ok = (document: string): boolean => {
    const { prefix, suffix } = splitAtCursor(document);
    return shouldComplete(prefix, suffix);
  };
  assert.equal(ok('x = foo║\n'), true);
  assert.equal(ok('print(║)\n'), true);
  assert.equal(ok('x = fo║o\n'), false);
  assert.equal(ok('x = ║ + 1\n'), false);
});
