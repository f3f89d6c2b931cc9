/**
 * Lets foreground work (a completion request) go before background indexing: the completion
 * handler brackets its work with `enter()`, and the indexer awaits `idle()` between batches, so an
 * indexing batch never starts while a completion is being computed.
 */
import { setImmediate as nextMacrotask } from 'node:timers/promises';

export class PriorityGate {
  private active = 0;
  private waiters: (() => void)[] = [];

  /** Marks foreground work as running; call the returned function (once) when it ends. */
  enter(): () => void {
    this.active++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      if (--this.active === 0) {
        const waiters = this.waiters;
        this.waiters = [];
        for (const wake of waiters) wake();
      }
    };
  }

  get busy(): boolean {
    return this.active > 0;
  }

  /**
   * Resolves once no foreground work runs. Always yields one macrotask first, so requests that
   * arrived during the last batch get read and can call `enter()`.
   */
  async idle(): Promise<void> {
    await nextMacrotask();
    while (this.active > 0) {
      await new Promise<void>((wake) => this.waiters.push(wake));
      await nextMacrotask();
    }
  }
}
