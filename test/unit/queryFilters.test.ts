// Filters typed into a query (`lang:python path:src/** ...`), as both the Search view and the
// Search Workspace quick pick read them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describeFilters, effectiveFilters, parseQuery, searchRequest } from '../../src/shared/search/queryFilters';

test('lang: and path: tokens become filters and leave the rest of the query as the search text', () => {
  assert.deepEqual(parseQuery('lang:python path:src/** parse the config'), { text: 'parse the config', languages: ['python'], pathGlob: 'src/**' });
  assert.deepEqual(parseQuery('parse   lang:python the path:src/** config'), { text: 'parse the config', languages: ['python'], pathGlob: 'src/**' });
});

test('a query without tokens is left alone, apart from spaces', () => {
  assert.deepEqual(parseQuery('  reorder point  '), { text: 'reorder point', languages: [], pathGlob: undefined });
  assert.deepEqual(parseQuery(''), { text: '', languages: [], pathGlob: undefined });
});

test('several languages: comma lists and repeated tokens, lower-cased, aliases resolved, no duplicates', () => {
  assert.deepEqual(parseQuery('lang:Python,go x').languages, ['python', 'go']);
  assert.deepEqual(parseQuery('lang:py language:TS lang:python x').languages, ['python', 'typescript']);
  assert.deepEqual(parseQuery('LANG:md x').languages, ['markdown']);
});

test('a quoted glob keeps its spaces; an unfinished quote runs to the end while typing', () => {
  assert.deepEqual(parseQuery('path:"my docs/**" setup'), { text: 'setup', languages: [], pathGlob: 'my docs/**' });
  assert.equal(parseQuery('setup path:"my do').pathGlob, 'my do');
  assert.equal(parseQuery('setup path:"my do').text, 'setup');
});

test('the last path: wins; braces carry alternatives', () => {
  assert.equal(parseQuery('path:src/** path:lib/** x').pathGlob, 'lib/**');
  assert.equal(parseQuery('path:{src,lib}/** x').pathGlob, '{src,lib}/**');
});

test('a key still being typed filters nothing and is not searched for', () => {
  assert.deepEqual(parseQuery('reorder lang:'), { text: 'reorder', languages: [], pathGlob: undefined });
  assert.deepEqual(parseQuery('reorder path:'), { text: 'reorder', languages: [], pathGlob: undefined });
});

test('other colons stay in the query: only whole lang:/path: tokens are filters', () => {
  assert.equal(parseQuery('std::vector').text, 'std::vector');
  assert.equal(parseQuery('http://example.test/path:x').text, 'http://example.test/path:x');
  assert.deepEqual(parseQuery('mylang:python').languages, []);
  assert.equal(parseQuery('mylang:python').text, 'mylang:python');
  assert.equal(parseQuery('file:main.py').text, 'file:main.py');
});

test('filters typed in the query win over the view\'s controls; the other control still applies', () => {
  const controls = { language: 'go', pathGlob: 'cmd/**' };
  assert.deepEqual(effectiveFilters(parseQuery('lang:python server'), controls), { languages: ['python'], pathGlob: 'cmd/**' });
  assert.deepEqual(effectiveFilters(parseQuery('path:api/** server'), controls), { languages: ['go'], pathGlob: 'api/**' });
  assert.deepEqual(effectiveFilters(parseQuery('server'), controls), { languages: ['go'], pathGlob: 'cmd/**' });
  assert.deepEqual(effectiveFilters(parseQuery('server'), { language: '', pathGlob: '  ' }), {});
  assert.deepEqual(effectiveFilters(parseQuery('server')), {});
});

test('the request carries the text and the filters; filters alone ask nothing', () => {
  assert.deepEqual(searchRequest('lang:py reorder point', { language: '', pathGlob: 'inventory/**' }), { query: 'reorder point', filters: { languages: ['python'], pathGlob: 'inventory/**' } });
  assert.deepEqual(searchRequest('reorder'), { query: 'reorder', filters: {} });
  assert.equal(searchRequest('lang:python path:src/**'), undefined);
  assert.equal(searchRequest('   '), undefined);
});

test('the summary names the filters in force', () => {
  assert.equal(describeFilters({ languages: ['python', 'go'], pathGlob: 'src/**' }), 'python, go · src/**');
  assert.equal(describeFilters({ pathGlob: '*.md' }), '*.md');
  assert.equal(describeFilters({}), '');
});

test('the parser is plain: the webview bundles it, so it imports neither vscode nor Node', () => {
  const source = readFileSync('src/shared/search/queryFilters.ts', 'utf8');
  assert.doesNotMatch(source, /^import\s/mu);
  assert.doesNotMatch(source, /require\(/u);
});
