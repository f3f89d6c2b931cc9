/**
 * Script of the completion statistics page: draws a latency histogram and acceptance per day as SVG,
 * coloured with the VS Code theme's chart colours. All text goes in through textContent.
 */
import type { FromStatsWebview, StatsPayload, ToStatsWebview } from './messages';

interface VsCodeApi {
  postMessage(message: FromStatsWebview): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const SVG = 'http://www.w3.org/2000/svg';

function byId(id: string): HTMLElement {
  const found = document.getElementById(id);
  if (!found) throw new Error(`stats view: missing #${id}`);
  return found;
}

function svgElement(name: string, attributes: Record<string, string | number>): SVGElement {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  return element;
}

function bars(container: HTMLElement, labels: string[], series: Array<{ values: number[]; className: string; name: string }>, caption: string): void {
  container.replaceChildren();
  const width = 560;
  const height = 180;
  const bottom = 28;
  const max = Math.max(1, ...labels.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0)));
  const svg = svgElement('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': caption });
  const slot = width / Math.max(1, labels.length);
  labels.forEach((label, i) => {
    let y = height - bottom;
    for (const s of series) {
      const value = s.values[i] ?? 0;
      const h = (value / max) * (height - bottom - 10);
      const rect = svgElement('rect', { x: i * slot + slot * 0.15, y: y - h, width: slot * 0.7, height: h, class: s.className });
      const title = svgElement('title', {});
      title.textContent = `${label}: ${value} ${s.name}`;
      rect.appendChild(title);
      svg.appendChild(rect);
      y -= h;
    }
    const text = svgElement('text', { x: i * slot + slot / 2, y: height - 10, 'text-anchor': 'middle', class: 'axis' });
    text.textContent = label;
    svg.appendChild(text);
  });
  container.appendChild(svg);
}

function render(stats: StatsPayload): void {
  const { totals } = stats;
  const rate = totals.shown ? ((totals.accepted + totals.partiallyAccepted) / totals.shown) * 100 : 0;
  byId('shown').textContent = String(totals.shown);
  byId('accepted').textContent = String(totals.accepted);
  byId('partial').textContent = String(totals.partiallyAccepted);
  byId('dismissed').textContent = String(totals.dismissed);
  byId('rate').textContent = `${rate.toFixed(0)}%`;
  byId('median').textContent = stats.medianLatencyMs === null ? '—' : `${stats.medianLatencyMs} ms`;
  const edges = stats.histogram.edgesMs;
  const labels = stats.histogram.counts.map((_, i) => (i < edges.length ? `<${edges[i]}` : `≥${edges[edges.length - 1]}`));
  bars(byId('latency'), labels, [{ values: stats.histogram.counts, className: 'bar-latency', name: 'suggestions' }], 'Latency histogram in milliseconds');
  const days = stats.days.slice(-14);
  bars(byId('acceptance'), days.map((d) => d.day.slice(5)), [
    { values: days.map((d) => d.accepted), className: 'bar-accepted', name: 'accepted' },
    { values: days.map((d) => d.partiallyAccepted), className: 'bar-partial', name: 'partly accepted' },
    { values: days.map((d) => Math.max(0, d.shown - d.accepted - d.partiallyAccepted)), className: 'bar-other', name: 'not accepted' },
  ], 'Suggestions per day by outcome');
  byId('empty').hidden = totals.shown > 0;
}

window.addEventListener('message', (event: MessageEvent<ToStatsWebview>) => {
  if (event.data.type === 'stats') render(event.data.stats);
});
byId('reset').addEventListener('click', () => vscode.postMessage({ type: 'reset' }));
vscode.postMessage({ type: 'ready' });
