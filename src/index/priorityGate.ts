/**
 * Lets foreground work (a completion request) go before background indexing: the completion
 * handler brackets its work with `enter()`, and indexing waits while any foreground work runs.
 * Indexing runs in the index thread (indexThread.ts), which cannot see this object, so the count of
 * running foreground work lives in a SharedArrayBuffer (`shared`) that the thread watches with a
 * `ForegroundWatch`, without any message round trip.
 */

/** Slot of the shared Int32Array that holds the count of running foreground work. */
const ACTIVE = 0;

export class PriorityGate {
  /** The foreground count, for a ForegroundWatch in another thread. */
  readonly shared = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
  private readonly counter = new Int32Array(this.shared);

  /** Marks foreground work as running; call the returned function (once) when it ends. */
  enter(): () => void {
    Atomics.add(this.counter, ACTIVE, 1);
    let left = false;
    return () => {
      if (left) return;
      left = true;
      Atomics.sub(this.counter, ACTIVE, 1);
      Atomics.notify(this.counter, ACTIVE);
    };
  }
}

type WaitAsync = (array: Int32Array, index: number, value: number, timeoutMs: number) =>
  { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };

/**
 * The index thread's side of a PriorityGate: `whenClear()` resolves once no foreground work runs.
 * It waits with Atomics.waitAsync rather than Atomics.wait so that the thread's event loop stays
 * free meanwhile: a search, a status request or a cancellation is still answered while indexing is
 * paused. A count that never drops (foreground work that leaked its `leave`) must not stall indexing
 * for good, so one wait gives up after `maxWaitMs` and indexing goes on.
 */
export class ForegroundWatch {
  private readonly counter: Int32Array;
  private readonly waitAsync: WaitAsync | undefined;

  constructor(shared: SharedArrayBuffer, private readonly maxWaitMs = 5_000) {
    this.counter = new Int32Array(shared);
    const atomics = Atomics as unknown as { waitAsync?: WaitAsync };
    this.waitAsync = typeof atomics.waitAsync === 'function' ? atomics.waitAsync.bind(Atomics) : undefined;
  }

  get busy(): boolean {
    return Atomics.load(this.counter, ACTIVE) > 0;
  }

  /** Resolves at once when no foreground work runs (no event-loop turn), else when it has ended. */
  async whenClear(): Promise<void> {
    const deadline = performance.now() + this.maxWaitMs;
    for (;;) {
      const active = Atomics.load(this.counter, ACTIVE);
      const left = deadline - performance.now();
      if (active <= 0 || left <= 0) return;
      if (this.waitAsync) {
        const waited = this.waitAsync(this.counter, ACTIVE, active, left);
        if (!waited.async) continue;
        // A pending waitAsync keeps neither Node's event loop alive nor its own timeout reliably
        // on time: a timer of ours does both.
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise((wake) => { timer = setTimeout(wake, left); });
        try {
          await Promise.race([waited.value, timedOut]);
        } finally {
          clearTimeout(timer);
        }
      } else {
        // Runtimes without Atomics.waitAsync: poll, still without blocking the event loop.
        await new Promise((wake) => setTimeout(wake, Math.min(10, left)));
      }
    }
  }
}
