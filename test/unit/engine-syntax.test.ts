import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dropSyntaxErrors } from '../../src/engine/postprocess/dropSyntaxErrors';
import { PythonSyntax, windowAround } from '../../src/engine/syntax/python';
import { splitAtCursor } from './support/cursor';

const syntax = PythonSyntax.load();

test('multi-line from the parse tree: block headers (also over several lines), not dict or slice colons', async () => {
  const python = await syntax;
  const mode = (document: string): boolean => {
    const { prefix, suffix } = splitAtCursor(document);
    return python.decideMultiline(prefix, suffix);
  };
  assert.equal(mode('def f(x):║\n'), true);
  assert.equal(mode('def f(\n    a,\n    b,\n):\n    ║\n'), true, 'a header spread over lines');
  assert.equal(mode('class A(Base):\n    ║'), true);
  assert.equal(mode('try:\n    run()\nexcept ValueError as e:║'), true);
  assert.equal(mode('d = {"key":║'), false);
  assert.equal(mode('x = items[1:║'), false);
  assert.equal(mode('f = lambda x:║'), false);
  assert.equal(mode('x = ║\n'), false);
  assert.equal(mode('if ok:║ run()\n'), false);
  assert.equal(mode('def f():\n    ║\nprint()'), true, 'an empty body');
});

test('a suggestion that adds syntax errors is dropped; one that completes the code is kept', async () => {
  const step = dropSyntaxErrors(await syntax);
  const run = (document: string, completion: string): string | null => {
    const { prefix, suffix } = splitAtCursor(document);
    return step(completion, { prefix, suffix, multiline: false });
  };
  assert.equal(run('x = foo(║\n', 'a, b)'), 'a, b)', 'fixes the open call');
  assert.equal(run('x = 1\n║\ny = 2\n', 'z = 1 +'), null, 'a dangling operator in code that parsed');
  assert.equal(run('x = 1\n║\ny = 2\n', 'z = 3'), 'z = 3');
  assert.equal(run('x = ║\ny = 2\n', '[1, 2'), null, 'opens a bracket it never closes');
  assert.equal(run('def f():\n    return ║\n', 'x if y else z'), 'x if y else z');
  assert.equal(run('print(║)\n', '"a", "b"'), '"a", "b"');
});

test('the error check (incremental parses, from the previous check and between the two texts) agrees with parsing both texts from scratch', async () => {
  const python = await syntax;
  const documents = [
    'import os\n\ndef f(x):\n    return x + 1\n\n\nclass A:\n    """Ünïcode — and emoji 🐍 in a docstring."""\n    name = "café"\n\n    def g(self, items):\n        for i in items:\n            print(i)\n',
    'x = {"a": [1, 2,\n      3]}\nif x:\n    y = (\n        1 +\n',
  ];
  const completions = ['', 'a', ' = 1', '(', ')', 'foo(bar, "é🐍")', 'x if y else', '\n    return 1', 'pass\nz = [', ']]]', '    ', ':\n', '"unterminated'];
  let checked = 0;
  for (const document of documents) {
    for (let cut = 0; cut <= document.length; cut += 3) {
      const prefix = document.slice(0, cut);
      const suffix = document.slice(cut);
      for (const completion of completions) {
        const { text, offset } = windowAround(prefix, suffix);
        const expected = python.countErrors(text.slice(0, offset) + completion + text.slice(offset)) > python.countErrors(text);
        assert.equal(python.addsErrors(prefix, completion, suffix), expected, JSON.stringify({ prefix: prefix.slice(-30), completion, suffix: suffix.slice(0, 30) }));
        checked++;
      }
    }
  }
  assert.ok(checked > 500);
});

test('long files are parsed in a window of whole statements around the cursor', () => {
  const block = (i: number): string => `def f${i}(x):\n    return x + ${i}\n\n`;
  const prefix = Array.from({ length: 400 }, (_, i) => block(i)).join('') + 'def g():\n    y = ';
  const suffix = '\n' + Array.from({ length: 400 }, (_, i) => block(i + 400)).join('');
  const { text, offset } = windowAround(prefix, suffix);
  assert.ok(text.length < 5_000, `window of ${text.length} chars`);
  assert.ok(text.startsWith('def f'), 'starts at a top-level statement');
  assert.equal(text.slice(offset - 13, offset), 'def g():\n    y = '.slice(-13));
  assert.ok(/\ndef f\d+\(x\):\n    return x \+ \d+\n\n$/.test(text.slice(0, text.lastIndexOf('def'))) || text.endsWith('\n\n'), 'ends before a top-level statement');
  // inside one huge class, the window starts at the least indented line it can see
  const methods = Array.from({ length: 300 }, (_, i) => `    def m${i}(self):\n        return ${i}\n\n`).join('');
  const inClass = windowAround('class Big:\n' + methods + '    def last(self):\n        x = ', '\n' + methods);
  assert.ok(inClass.text.startsWith('    def m'), inClass.text.slice(0, 20));
  assert.ok(inClass.text.length < 5_000);
  // short files are parsed whole
  assert.deepEqual(windowAround('a = 1\nb = ', '\nc = 3\n'), { text: 'a = 1\nb = \nc = 3\n', offset: 10 });
});
