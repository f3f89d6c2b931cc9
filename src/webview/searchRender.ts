/**
 * How the Search view draws a result, without a browser: text is cut into segments (matched or
 * not), and elements are built through a minimal document interface that offers no way to parse
 * markup. Workspace text only ever becomes `textContent`, so `<script>` in a file stays text.
 */
import type { PanelHit } from './messages';

export interface Segment {
  text: string;
  match: boolean;
}

/** Lower-cased words of the query worth highlighting (two characters or more). */
export function queryWords(query: string): string[] {
  const words = query.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((w) => w.length >= 2);
  return [...new Set(words)].sort((a, b) => b.length - a.length);
}

/** Cuts `text` into segments, marking every case-insensitive occurrence of a query word. */
export function highlight(text: string, words: readonly string[]): Segment[] {
  if (words.length === 0 || text === '') return text === '' ? [] : [{ text, match: false }];
  const lower = text.toLowerCase();
  const marked = new Uint8Array(text.length);
  for (const word of words) {
    for (let at = lower.indexOf(word); at !== -1; at = lower.indexOf(word, at + word.length)) marked.fill(1, at, at + word.length);
  }
  const segments: Segment[] = [];
  let start = 0;
  for (let i = 1; i <= text.length; i++) {
    if (i === text.length || marked[i] !== marked[start]) {
      segments.push({ text: text.slice(start, i), match: marked[start] === 1 });
      start = i;
    }
  }
  return segments;
}

export interface HitView {
  title: Segment[];
  /** "inventory/warehouse.py:44 · Warehouse" */
  location: string;
  lines: Array<{ number: number; segments: Segment[] }>;
}

export function hitView(hit: PanelHit, query: string): HitView {
  const words = queryWords(query);
  const snippetLines = hit.snippet.replace(/\s+$/, '').split('\n');
  return {
    title: highlight(hit.name || hit.rel, words),
    location: `${hit.rel}:${hit.line}${hit.container ? ` · ${hit.container}` : ''}`,
    lines: snippetLines.map((text, i) => ({ number: hit.snippetLine + i, segments: highlight(text, words) })),
  };
}

/** The part of the DOM the view uses: elements get text and classes, never markup. */
export interface TextElement<Self> {
  textContent: string | null;
  className: string;
  append(...children: Self[]): void;
}
export interface ElementFactory<E extends TextElement<E>> {
  createElement(tag: 'li' | 'div' | 'span' | 'mark' | 'code'): E;
}

function segmentsInto<E extends TextElement<E>>(doc: ElementFactory<E>, parent: E, segments: readonly Segment[]): void {
  for (const segment of segments) {
    const element = doc.createElement(segment.match ? 'mark' : 'span');
    element.textContent = segment.text;
    parent.append(element);
  }
}

/** Builds one result's list item. */
export function renderHit<E extends TextElement<E>>(doc: ElementFactory<E>, hit: PanelHit, query: string): E {
  const view = hitView(hit, query);
  const item = doc.createElement('li');
  item.className = 'hit';
  const title = doc.createElement('div');
  title.className = 'title';
  segmentsInto(doc, title, view.title);
  const location = doc.createElement('div');
  location.className = 'location';
  location.textContent = view.location;
  const snippet = doc.createElement('div');
  snippet.className = 'snippet';
  for (const line of view.lines) {
    const row = doc.createElement('div');
    row.className = 'line';
    const number = doc.createElement('span');
    number.className = 'number';
    number.textContent = String(line.number);
    const code = doc.createElement('code');
    segmentsInto(doc, code, line.segments);
    row.append(number, code);
    snippet.append(row);
  }
  item.append(title, location, snippet);
  return item;
}
