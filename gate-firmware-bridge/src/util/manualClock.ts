import type { Clock } from "./clock.js";

interface Timer {
  readonly id: number;
  readonly at: number;
  readonly callback: () => void;
}

/**
 * A clock that moves only when told to: for deterministic tests of timeouts and offline detection,
 * and for simulations that run faster than real time. advance() fires timers in order and lets
 * promise callbacks and in-memory transports run between them.
 */
export class ManualClock implements Clock {
  private time = 0;
  private nextId = 1;
  private timers: Timer[] = [];

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const timer = { id: this.nextId++, at: this.time + Math.max(0, ms), callback };
    this.timers.push(timer);
    this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    await settle();
    for (;;) {
      const next = this.timers[0];
      if (next === undefined || next.at > end) break;
      this.timers.shift();
      this.time = Math.max(this.time, next.at);
      next.callback();
      await settle();
    }
    this.time = end;
    await settle();
  }

  /** Advances in steps until `condition` holds; returns the time it took, or throws after `limitMs`. */
  async until(condition: () => boolean, limitMs = 10_000, stepMs = 1): Promise<number> {
    const start = this.time;
    while (!condition()) {
      if (this.time - start > limitMs)
        throw new Error(`condition not met within ${limitMs} ms of clock time`);
      await this.advance(stepMs);
    }
    return this.time - start;
  }
}

async function settle(): Promise<void> {
  // Let queued microtasks (promise callbacks, in-memory transport deliveries) run.
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
