/** Messages between the Search view's script and the extension: a typed union on `type`, shared by both sides. */
import type { EffectiveFilters, FilterControls } from '../shared/search/queryFilters';

/** One result as the Search view shows it (workspace text: it reaches the page as text only). */
export interface PanelHit {
  rel: string;
  name: string;
  container: string;
  kind: string;
  /** One-based line where the chunk starts. */
  line: number;
  snippet: string;
  /** One-based line of the snippet's first line. */
  snippetLine: number;
}

export type ToWebview =
  | { type: 'worker'; state: 'starting' | 'ready' | 'restarting' | 'error' | 'stopped'; detail: string }
  /** Results of the search numbered `id` (answers come in order; an older id is stale), with the filters it ran with. */
  | { type: 'results'; id: number; query: string; filters: EffectiveFilters; hits: PanelHit[]; notice?: string; elapsedMs: number }
  | { type: 'searchFailed'; id: number; message: string }
  /** The index's state line and its progress (fraction 0..1, or null when no run goes). */
  | { type: 'index'; text: string; indexing: boolean; fraction: number | null }
  /** Puts a query in the box and searches (the command palette and tests use it). */
  | { type: 'setQuery'; query: string }
  /** Languages to offer in the language filter, by id (those of the workspace's files). */
  | { type: 'languages'; languages: string[] }
  /** Sets filter controls as if the user had (tests use it); an absent field stays as it is. */
  | { type: 'setFilters'; language?: string; pathGlob?: string };

export type FromWebview =
  | { type: 'ready' }
  | { type: 'showLog' }
  /** Stop the index run in flight (it resumes on the next start or rebuild). */
  | { type: 'cancelIndex' }
  /** `query` as typed, `lang:`/`path:` tokens included; `filters` as the controls hold them. */
  | { type: 'search'; id: number; query: string; filters: FilterControls }
  /** Open the `index`-th hit of the results numbered `id`. */
  | { type: 'open'; id: number; index: number }
  /** What the view shows now, for tests and accessibility checks. */
  | { type: 'rendered'; query: string; labels: string[]; filters: EffectiveFilters; languageOptions: string[] };

/** The completion statistics page: everything it draws, sent by the extension. */
export interface StatsPayload {
  totals: { shown: number; accepted: number; partiallyAccepted: number; dismissed: number };
  medianLatencyMs: number | null;
  histogram: { edgesMs: number[]; counts: number[] };
  days: Array<{ day: string; shown: number; accepted: number; partiallyAccepted: number; dismissed: number }>;
}

export type ToStatsWebview = { type: 'stats'; stats: StatsPayload };
export type FromStatsWebview = { type: 'ready' } | { type: 'reset' };
