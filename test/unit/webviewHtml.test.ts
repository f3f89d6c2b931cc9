import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeHtml, makeNonce, renderWebviewHtml } from '../../src/extension/webviewHtml';

// The smallest real surface renderWebviewHtml needs: a CSP source and URI mapping.
const webview = {
  cspSource: 'https://kestrel.vscode-resource.test',
  asWebviewUri: (uri: { path: string }) => ({ toString: () => `https://kestrel.vscode-resource.test${uri.path}` }),
};
const page = (title: string) => renderWebviewHtml(webview as never, {
  title,
  body: '<main></main>',
  scripts: [{ path: '/dist/webview/search.js' } as never],
  styles: [{ path: '/media/search.css' } as never],
});

test('nonces are unpredictable and distinct per render', () => {
  const seen = new Set(Array.from({ length: 100 }, makeNonce));
  assert.equal(seen.size, 100);
  for (const nonce of seen) assert.match(nonce, /^[A-Za-z0-9_-]{24}$/);
});

test('the CSP allows nothing by default and scripts only with the render\'s nonce', () => {
  const html = page('Search');
  const csp = /content="([^"]+)"/.exec(html)?.[1] ?? '';
  assert.match(csp, /default-src 'none'/);
  const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
  assert.ok(nonce);
  const scripts = [...html.matchAll(/<script([^>]*)>/g)];
  assert.equal(scripts.length, 1);
  for (const [, attrs] of scripts) assert.ok(attrs?.includes(`nonce="${nonce}"`));
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:\/\/(?!kestrel\.vscode-resource)/);
});

test('text placed into markup is escaped', () => {
  assert.equal(escapeHtml(`<script>alert("x" & 'y')</script>`), '&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;');
  assert.ok(!page('</title><script>bad()</script>').includes('<script>bad()'));
});
