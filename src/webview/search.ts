/**
 * Script of the "Search" view. Runs in the webview (browser); talks to the extension only through
 * postMessage with the typed messages of ./messages. All text reaches the page through textContent
 * (see ./searchRender), never innerHTML, so workspace text can never become markup.
 */
import type { FromWebview, PanelHit, ToWebview } from './messages';
import { describeFilters, effectiveFilters, parseQuery, type EffectiveFilters, type FilterControls } from '../shared/search/queryFilters';
import { renderHit, type ElementFactory } from './searchRender';

interface VsCodeApi {
  postMessage(message: FromWebview): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
/** The page's document, narrowed to what rendering may do: create elements and set their text. */
const factory: ElementFactory<HTMLElement> = { createElement: (tag) => document.createElement(tag) };
/** Typing pauses this long before a search is sent. */
const DEBOUNCE_MS = 150;

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`search view: missing #${id}`);
  return found as T;
}

const input = element<HTMLInputElement>('query');
const results = element<HTMLOListElement>('results');
const summary = element<HTMLParagraphElement>('summary');
const indexLine = element<HTMLParagraphElement>('index');
const progress = element<HTMLProgressElement>('progress');
const workerLine = element<HTMLParagraphElement>('worker');
const stopIndexing = element<HTMLButtonElement>('stop-index');
const languageSelect = element<HTMLSelectElement>('language');
const pathInput = element<HTMLInputElement>('path');
stopIndexing.addEventListener('click', () => vscode.postMessage({ type: 'cancelIndex' }));
element<HTMLButtonElement>('show-log').addEventListener('click', () => vscode.postMessage({ type: 'showLog' }));

let nextId = 1;
let shownId = 0;
let shown: { id: number; query: string; hits: PanelHit[]; filters: EffectiveFilters } = { id: 0, query: '', hits: [], filters: {} };
/** Languages the extension offered for the filter; a saved choice missing from them is offered too. */
let languageOptions: string[] = [];
let selected = -1;
let timer: ReturnType<typeof setTimeout> | undefined;
let wasIndexing = false;
let lastRefresh = 0;
/** While the index fills, an empty answer is asked again at most this often. */
const REFRESH_MS = 1_000;

/** What the view keeps while hidden (the webview is rebuilt when shown again). */
interface SavedState {
  query?: string;
  language?: string;
  pathGlob?: string;
}

function controls(): FilterControls {
  return { language: languageSelect.value, pathGlob: pathInput.value };
}

function saveState(): void {
  const state: SavedState = { query: input.value, language: languageSelect.value, pathGlob: pathInput.value };
  vscode.setState(state);
}

/** Dims a control that a `lang:` or `path:` token in the query overrides, and says so. */
function markOverridden(query: string): void {
  const parsed = parseQuery(query);
  const mark = (control: HTMLElement, overridden: boolean, token: string): void => {
    control.toggleAttribute('data-overridden', overridden);
    if (overridden) control.setAttribute('aria-description', `overridden by ${token} in the query`);
    else control.removeAttribute('aria-description');
  };
  mark(languageSelect, parsed.languages.length > 0, 'lang:');
  mark(pathInput, parsed.pathGlob !== undefined, 'path:');
}

function search(query: string): void {
  if (timer) clearTimeout(timer);
  timer = undefined;
  saveState();
  markOverridden(query);
  const id = nextId++;
  const filters = controls();
  const parsed = parseQuery(query);
  const effective = effectiveFilters(parsed, filters);
  if (parsed.text === '') {
    const described = describeFilters(effective);
    render({ id, query, hits: [], filters: effective }, query.trim() !== '' && described !== '' ? `Type what to look for in ${described}.` : '');
    return;
  }
  vscode.postMessage({ type: 'search', id, query, filters });
}

function render(next: typeof shown, text: string): void {
  shown = next;
  shownId = next.id;
  selected = next.hits.length > 0 ? 0 : -1;
  // Filter tokens are not words of the query: they are not highlighted.
  const words = parseQuery(next.query).text;
  const items = next.hits.map((hit, index) => {
    const item = renderHit(factory, hit, words);
    item.id = `hit-${index}`;
    item.setAttribute('role', 'option');
    item.addEventListener('click', () => open(index));
    return item;
  });
  results.replaceChildren(...items);
  summary.textContent = text;
  updateSelection();
  reportRendered();
}

/** Tells the extension what the view shows now (tests and accessibility checks read it). */
function reportRendered(): void {
  vscode.postMessage({
    type: 'rendered', query: shown.query, labels: shown.hits.map((h) => `${h.rel}:${h.line} ${h.name}`),
    filters: shown.filters, languageOptions: [...languageOptions],
  });
}

/** The language choices: "All languages", then each id; `keep` stays offered (a saved or set choice). */
function setLanguageOptions(languages: readonly string[], keep: string): void {
  const ids = [...new Set([...languages, ...(keep !== '' ? [keep] : [])])].sort();
  const all = document.createElement('option');
  all.value = '';
  all.textContent = 'All languages';
  const options = ids.map((id) => {
    const option = document.createElement('option');
    option.value = id;
    option.textContent = id;
    return option;
  });
  languageSelect.replaceChildren(all, ...options);
  languageSelect.value = keep;
}

function updateSelection(): void {
  Array.from(results.children).forEach((child, index) => child.setAttribute('aria-selected', String(index === selected)));
  if (selected >= 0) {
    input.setAttribute('aria-activedescendant', `hit-${selected}`);
    results.children[selected]?.scrollIntoView({ block: 'nearest' });
  } else {
    input.removeAttribute('aria-activedescendant');
  }
}

function open(index: number): void {
  if (index < 0 || index >= shown.hits.length) return;
  selected = index;
  updateSelection();
  vscode.postMessage({ type: 'open', id: shown.id, index });
}

input.addEventListener('input', () => {
  if (timer) clearTimeout(timer);
  timer = setTimeout(() => search(input.value), DEBOUNCE_MS);
});

languageSelect.addEventListener('change', () => search(input.value));
pathInput.addEventListener('input', () => {
  if (timer) clearTimeout(timer);
  timer = setTimeout(() => search(input.value), DEBOUNCE_MS);
});
pathInput.addEventListener('keydown', (event) => {
  if (event.key === 'Enter') {
    search(input.value);
  } else if (event.key === 'Escape' && pathInput.value !== '') {
    pathInput.value = '';
    search(input.value);
  } else {
    return;
  }
  event.preventDefault();
});

input.addEventListener('keydown', (event) => {
  const count = shown.hits.length;
  switch (event.key) {
    case 'ArrowDown':
      if (count > 0) selected = (selected + 1) % count;
      break;
    case 'ArrowUp':
      if (count > 0) selected = (selected - 1 + count) % count;
      break;
    case 'Enter':
      if (timer) search(input.value); // a query typed faster than the debounce: search first
      else open(Math.max(0, selected));
      break;
    case 'Escape':
      input.value = '';
      search('');
      break;
    default:
      return;
  }
  event.preventDefault();
  updateSelection();
});

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const message = event.data;
  switch (message.type) {
    case 'worker':
      workerLine.textContent = message.detail;
      workerLine.dataset['state'] = message.state;
      break;
    case 'results': {
      if (message.id < shownId) break; // an answer overtaken by a newer query
      const count = message.hits.length;
      const parsed = parseQuery(message.query);
      const described = describeFilters(message.filters);
      const text = count > 0
        ? `${count} result${count === 1 ? '' : 's'} in ${message.elapsedMs.toFixed(0)} ms${described === '' ? '' : ` · ${described}`}`
        : (message.notice ?? `No good match for “${parsed.text}”${described === '' ? '' : ` in ${described}`}.`);
      render({ id: message.id, query: message.query, hits: message.hits, filters: message.filters }, text);
      break;
    }
    case 'searchFailed':
      if (message.id >= shownId) summary.textContent = `Search failed: ${message.message}`;
      break;
    case 'index': {
      // Results asked for while the index was filling are asked again: at the end of the run, and
      // now and then during it while they are still empty.
      const query = input.value.trim();
      const finished = wasIndexing && !message.indexing;
      const stillEmpty = message.indexing && shown.hits.length === 0 && Date.now() - lastRefresh >= REFRESH_MS;
      wasIndexing = message.indexing;
      if (query !== '' && !timer && (finished || stillEmpty)) {
        lastRefresh = Date.now();
        search(input.value);
      }
      indexLine.textContent = message.text;
      progress.hidden = !message.indexing;
      stopIndexing.hidden = !message.indexing;
      if (message.fraction === null) progress.removeAttribute('value');
      else progress.value = message.fraction;
      break;
    }
    case 'setQuery':
      input.value = message.query;
      search(message.query);
      break;
    case 'languages':
      languageOptions = message.languages;
      setLanguageOptions(languageOptions, languageSelect.value);
      reportRendered();
      break;
    case 'setFilters':
      if (message.language !== undefined) setLanguageOptions(languageOptions, message.language);
      if (message.pathGlob !== undefined) pathInput.value = message.pathGlob;
      search(input.value);
      break;
  }
});

const saved = vscode.getState() as SavedState | undefined;
setLanguageOptions([], saved?.language ?? '');
pathInput.value = saved?.pathGlob ?? '';
if (saved?.query) {
  input.value = saved.query;
  search(saved.query);
}
vscode.postMessage({ type: 'ready' });
