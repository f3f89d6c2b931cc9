/** Messages between the Search view's script and the extension: a typed union on `type`, shared by both sides. */
export type ToWebview =
  | { type: 'worker'; state: 'starting' | 'ready' | 'restarting' | 'error' | 'stopped'; detail: string }
  | { type: 'unavailable'; feature: string };

export type FromWebview = { type: 'ready' } | { type: 'showLog' };

/** The completion statistics page: everything it draws, sent by the extension. */
export interface StatsPayload {
  totals: { shown: number; accepted: number; partiallyAccepted: number; dismissed: number };
  medianLatencyMs: number | null;
  histogram: { edgesMs: number[]; counts: number[] };
  days: Array<{ day: string; shown: number; accepted: number; partiallyAccepted: number; dismissed: number }>;
}

export type ToStatsWebview = { type: 'stats'; stats: StatsPayload };
export type FromStatsWebview = { type: 'ready' } | { type: 'reset' };
