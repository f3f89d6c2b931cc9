/**
 * Local completion statistics: how many suggestions were shown, accepted, partly accepted and
 * dismissed, and how long they took. Kept in VS Code's global storage on this machine and never sent
 * anywhere. No `vscode` import: the storage is an interface, unit-tested with a plain object.
 */
export type CompletionOutcome = 'shown' | 'accepted' | 'partiallyAccepted' | 'dismissed';

export interface DayCounts {
  /** Local calendar day, YYYY-MM-DD. */
  day: string;
  shown: number;
  accepted: number;
  partiallyAccepted: number;
  dismissed: number;
}

export interface StatsData {
  version: 1;
  days: DayCounts[];
  /** Latency (ms) of recent shown suggestions, oldest first. */
  latenciesMs: number[];
}

export interface StatsStorage {
  load(): StatsData | undefined;
  save(data: StatsData): void;
}

const MAX_LATENCIES = 2_000;
const MAX_DAYS = 90;

export class CompletionStats {
  private data: StatsData;

  constructor(private readonly storage: StatsStorage, private readonly now: () => Date = () => new Date()) {
    const loaded = storage.load();
    this.data = loaded?.version === 1 ? loaded : { version: 1, days: [], latenciesMs: [] };
  }

  record(outcome: CompletionOutcome, latencyMs?: number): void {
    const today = dayOf(this.now());
    let bucket = this.data.days.at(-1);
    if (bucket?.day !== today) {
      bucket = { day: today, shown: 0, accepted: 0, partiallyAccepted: 0, dismissed: 0 };
      this.data.days.push(bucket);
      if (this.data.days.length > MAX_DAYS) this.data.days.shift();
    }
    bucket[outcome] += 1;
    if (outcome === 'shown' && latencyMs !== undefined && Number.isFinite(latencyMs)) {
      this.data.latenciesMs.push(Math.round(latencyMs));
      if (this.data.latenciesMs.length > MAX_LATENCIES) this.data.latenciesMs.shift();
    }
    this.storage.save(this.data);
  }

  totals(): Omit<DayCounts, 'day'> {
    const sum = { shown: 0, accepted: 0, partiallyAccepted: 0, dismissed: 0 };
    for (const day of this.data.days) {
      sum.shown += day.shown;
      sum.accepted += day.accepted;
      sum.partiallyAccepted += day.partiallyAccepted;
      sum.dismissed += day.dismissed;
    }
    return sum;
  }

  /** Median latency of the last `recent` shown suggestions, or undefined before there are any. */
  medianLatencyMs(recent = 20): number | undefined {
    const window = this.data.latenciesMs.slice(-recent).sort((a, b) => a - b);
    return window.length === 0 ? undefined : window[Math.floor(window.length / 2)];
  }

  /** Counts of latencies in bins `edgesMs[i-1] <= x < edgesMs[i]`, the last bin open-ended. */
  histogram(edgesMs: readonly number[]): number[] {
    const counts = new Array<number>(edgesMs.length + 1).fill(0);
    for (const latency of this.data.latenciesMs) {
      let bin = edgesMs.findIndex((edge) => latency < edge);
      if (bin === -1) bin = edgesMs.length;
      counts[bin] = (counts[bin] ?? 0) + 1;
    }
    return counts;
  }

  days(): readonly DayCounts[] {
    return this.data.days;
  }

  reset(): void {
    this.data = { version: 1, days: [], latenciesMs: [] };
    this.storage.save(this.data);
  }
}

function dayOf(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}
