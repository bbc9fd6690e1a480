import type { Clock } from "@sesame/bridge";

/*
 * The rehearsal's virtual time: one clock for the whole simulated venue (lane controllers,
 * turnstiles, the bridge's control panels, the gate backends, the crowd and the modeled network).
 * Timers sit in a binary heap; `run` fires them in time order and lets every promise chain a
 * timer started settle before the next timer fires, so async code (the bridge, GateBackend.scan)
 * behaves as it does on the real clock, only without the waiting.
 */

interface Timer {
  at: number;
  seq: number;
  callback: (() => void) | undefined;
}

/** Lets every queued microtask (and the microtasks those queue) run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

export class VirtualClock implements Clock {
  private time: number;
  private seq = 0;
  private heap: Timer[] = [];
  /** Timers fired so far (a measure of the simulation's work). */
  fired = 0;

  constructor(startMs: number) {
    this.time = Math.floor(startMs);
  }

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    // Whole milliseconds, as Date.now(): the times the gates record are integers on the wire.
    const delay = Number.isFinite(ms) ? Math.max(0, Math.ceil(ms)) : 0;
    const timer: Timer = { at: this.time + delay, seq: this.seq++, callback };
    this.push(timer);
    return timer;
  }

  clearTimeout(handle: unknown): void {
    // Lazy deletion: a cleared timer stays in the heap with no callback and is skipped.
    if (handle !== null && typeof handle === "object" && "callback" in handle) {
      (handle as Timer).callback = undefined;
    }
  }

  /** Resolves after `ms` of virtual time. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
  }

  /** When the next live timer is due (undefined: nothing scheduled). */
  nextAt(): number | undefined {
    this.dropCancelled();
    return this.heap[0]?.at;
  }

  /**
   * Fires timers in order until virtual time `until` (or until `stop()` says so between two
   * timers), then sets the time to `until`. Each timer's callback and the promise chains it
   * started run to completion before the next one fires.
   */
  async run(until: number, stop?: () => boolean): Promise<void> {
    await settle();
    for (;;) {
      if (stop?.()) return;
      this.dropCancelled();
      const next = this.heap[0];
      if (next === undefined || next.at > until) break;
      if (next.at > this.time) this.time = next.at;
      this.pop();
      const callback = next.callback;
      next.callback = undefined;
      if (callback === undefined) continue;
      this.fired++;
      callback();
      await settle();
    }
    if (until > this.time && Number.isFinite(until)) this.time = Math.floor(until);
    await settle();
  }

  private dropCancelled(): void {
    while (this.heap.length > 0 && this.heap[0]?.callback === undefined) this.pop();
  }

  private push(timer: Timer): void {
    const heap = this.heap;
    heap.push(timer);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent];
      if (p === undefined || before(p, timer)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = timer;
  }

  private pop(): Timer | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    let i = 0;
    const n = heap.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const l = heap[left];
      const r = heap[right];
      if (l === undefined) break;
      const child = r !== undefined && before(r, l) ? right : left;
      const c = heap[child];
      if (c === undefined || before(last, c)) break;
      heap[i] = c;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}

function before(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
