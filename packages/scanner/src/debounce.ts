import type { ScanEvent } from "./scan.js";

export interface DebounceOptions {
  /** A code seen again on the same lane within this time of its last sighting is a repeat. */
  readonly windowMs: number;
  /** Codes remembered per lane; two or three phones can alternate under one scanner. */
  readonly maxCodesPerLane: number;
}

export const DEFAULT_DEBOUNCE: DebounceOptions = { windowMs: 1500, maxCodesPerLane: 16 };

export type DebounceVerdict =
  | { readonly accepted: true }
  | {
      readonly accepted: false;
      readonly reason: "repeat";
      /** Since the code was last accepted on this lane. */
      readonly sinceAcceptedMs: number;
      readonly repeats: number;
    };

interface Sighting {
  acceptedAt: number;
  lastSeenAt: number;
  repeats: number;
}

/**
 * Drops the same code read again on the same lane: a phone held under a scanner that reads it
 * 20 times a second, or a camera and a serial scanner both seeing it. The window slides with each
 * sighting, so a code held in view stays one scan however long it stays. Pure; the caller passes
 * the time. Memory is bounded: a few codes per lane, and lanes are few.
 */
export class ScanDebouncer {
  readonly #options: DebounceOptions;
  readonly #lanes = new Map<string, Map<string, Sighting>>();

  constructor(options: Partial<DebounceOptions> = {}) {
    this.#options = { ...DEFAULT_DEBOUNCE, ...options };
  }

  /** Decides on one code; `key` is normally the normalized text. */
  check(lane: string, key: string, at: number): DebounceVerdict {
    let codes = this.#lanes.get(lane);
    if (codes === undefined) {
      codes = new Map();
      this.#lanes.set(lane, codes);
    }
    for (const [code, sighting] of codes) {
      if (at - sighting.lastSeenAt >= this.#options.windowMs) codes.delete(code);
    }
    const seen = codes.get(key);
    // A clock stepped back (NTP) keeps a code a repeat rather than letting it through twice.
    if (seen !== undefined) {
      seen.lastSeenAt = Math.max(seen.lastSeenAt, at);
      seen.repeats++;
      return {
        accepted: false,
        reason: "repeat",
        sinceAcceptedMs: Math.max(0, at - seen.acceptedAt),
        repeats: seen.repeats,
      };
    }
    codes.set(key, { acceptedAt: at, lastSeenAt: at, repeats: 0 });
    // Map iteration order is insertion order: the first entry is the oldest sighting.
    while (codes.size > this.#options.maxCodesPerLane) {
      const oldest = codes.keys().next();
      if (oldest.done) break;
      codes.delete(oldest.value);
    }
    return { accepted: true };
  }

  /** Convenience for scan events: debounces by lane and normalized text. */
  accept(event: ScanEvent): DebounceVerdict {
    return this.check(event.lane, event.text, event.at);
  }

  /** Forgets a lane's codes, for example once the steward has dealt with a refusal. */
  reset(lane?: string): void {
    if (lane === undefined) this.#lanes.clear();
    else this.#lanes.delete(lane);
  }
}
