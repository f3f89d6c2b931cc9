/** Messages between the Search view's script and the extension: a typed union on `type`, shared by both sides. */
export type ToWebview =
  | { type: 'worker'; state: 'starting' | 'ready' | 'restarting' | 'error' | 'stopped'; detail: string }
  | { type: 'unavailable'; feature: string };

export type FromWebview = { type: 'ready' } | { type: 'showLog' };
