/*
 * The gate's estimate of the server's clock (server minus gate, ms), from the time stamps of the
 * server's acks and heartbeats. One message says little: it may have waited in the server's
 * offline queue, in the broker, or behind a gate's busy start (a bundle import), and a message
 * that waited makes the gate look ahead by as long as it waited ("A1 17 s ahead" after restarts).
 * Waiting only ever lowers a sample, so the least-delayed samples are the highest: the estimate is
 * the median of the recent samples within `freshMs` of the highest, once there are `minSamples`
 * recent ones (the server heartbeats every 2 s). Pure: the caller gives the times.
 */

export interface ClockOffsetTuning {
  /** Samples older than this (gate time) no longer count. */
  readonly windowMs: number;
  /** At most this many of the newest samples are kept. */
  readonly maxSamples: number;
  /** No estimate before this many recent samples. */
  readonly minSamples: number;
  /** A sample this far below the highest recent one waited on the way: not fresh. */
  readonly freshMs: number;
}

export const DEFAULT_CLOCK_OFFSET_TUNING: ClockOffsetTuning = {
  windowMs: 60_000,
  maxSamples: 32,
  minSamples: 3,
  freshMs: 1000,
};

export class ClockOffsetEstimate {
  private readonly samples: Array<{ readonly offsetMs: number; readonly at: number }> = [];
  private cached: { readonly at: number; readonly value: number | undefined } | undefined;

  constructor(private readonly tuning: ClockOffsetTuning = DEFAULT_CLOCK_OFFSET_TUNING) {}

  /** A server time stamp `serverAt` read at gate time `now`. */
  add(serverAt: number, now: number): void {
    if (!Number.isFinite(serverAt) || !Number.isFinite(now)) return;
    this.samples.push({ offsetMs: serverAt - now, at: now });
    if (this.samples.length > this.tuning.maxSamples) this.samples.shift();
    this.cached = undefined;
  }

  /** The median of the fresh recent samples at gate time `now`; undefined until there are enough. */
  offsetAt(now: number): number | undefined {
    if (this.cached?.at === now) return this.cached.value;
    const recent = this.samples.filter((s) => now - s.at <= this.tuning.windowMs).map((s) => s.offsetMs);
    let value: number | undefined;
    if (recent.length >= this.tuning.minSamples) {
      let highest = Number.NEGATIVE_INFINITY;
      for (const o of recent) highest = Math.max(highest, o);
      const fresh = recent.filter((o) => highest - o <= this.tuning.freshMs).sort((a, b) => a - b);
      const mid = fresh.length >> 1;
      value =
        fresh.length % 2 === 1
          ? (fresh[mid] as number)
          : Math.round(((fresh[mid - 1] as number) + (fresh[mid] as number)) / 2);
    }
    this.cached = { at: now, value };
    return value;
  }
}
