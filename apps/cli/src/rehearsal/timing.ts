import { between, type Random } from "@sesame/hardware-sim";

/*
 * The modeled human timings of an ingress (docs/design.md §8): when people arrive, how long they take
 * to show their code, to walk through, to be turned away, and how long a steward takes to check
 * an ID or a printed confirmation. Plain distributions with a seeded source: a run replays exactly.
 */

export const MINUTE = 60_000;

/** A run's text seed as the number hardware-sim's seededRandom takes (FNV-1a, never 0). */
export function seedNumber(seed: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 0x01000193) >>> 0;
  return h || 1;
}

/** Triangular distribution on [min, max] with its mode at `mode`: most values near the mode. */
export function triangular(random: Random, min: number, mode: number, max: number): number {
  const u = random();
  const cut = (mode - min) / (max - min);
  return u < cut
    ? min + Math.sqrt(u * (max - min) * (mode - min))
    : max - Math.sqrt((1 - u) * (max - min) * (max - mode));
}

/** Exponential with the given mean. */
export function exponential(random: Random, mean: number): number {
  return -Math.log(1 - random()) * mean;
}

/**
 * Arrival curve of a stadium ingress, as a share of the ingress window u ∈ [0, 1] (u = 1 is the
 * kick-off) with a tail of late-comers up to u = 1.1. The density grows toward the kick-off and
 * falls off in its last minutes: about 70 % of people arrive in the second half of the window
 * (the last 45 minutes of a 90-minute ingress), as at large venues.
 */
const LATE_TAIL = 0.1;
function beforeKickOff(u: number): number {
  return u ** 1.7 * (1.12 - u) ** 0.6 + 0.04;
}
function density(u: number): number {
  if (u < 0 || u > 1 + LATE_TAIL) return 0;
  // After kick-off the late-comers thin out from the rate at kick-off to none.
  if (u > 1) return beforeKickOff(1) * (1 - (u - 1) / LATE_TAIL) ** 2;
  return beforeKickOff(u);
}

export class ArrivalCurve {
  private readonly cdf: Float64Array;
  private readonly bins = 2_000;
  private readonly span = 1 + LATE_TAIL;

  constructor() {
    this.cdf = new Float64Array(this.bins + 1);
    let total = 0;
    for (let i = 0; i < this.bins; i++) {
      total += density(((i + 0.5) / this.bins) * this.span);
      this.cdf[i + 1] = total;
    }
    for (let i = 0; i <= this.bins; i++) this.cdf[i] = (this.cdf[i] ?? 0) / total;
  }

  /** A random arrival as a share of the window (0 = doors of the window open, 1 = kick-off). */
  sample(random: Random): number {
    const u = random();
    let lo = 0;
    let hi = this.bins;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if ((this.cdf[mid] ?? 0) <= u) lo = mid;
      else hi = mid;
    }
    const a = this.cdf[lo] ?? 0;
    const b = this.cdf[hi] ?? 1;
    const within = b > a ? (u - a) / (b - a) : 0;
    return ((lo + within) / this.bins) * this.span;
  }

  /** Share of arrivals between window shares `from` and `to`. */
  share(from: number, to: number): number {
    const at = (x: number) => {
      const pos = Math.max(0, Math.min(this.bins, (x / this.span) * this.bins));
      const i = Math.floor(pos);
      const a = this.cdf[i] ?? 1;
      const b = this.cdf[Math.min(this.bins, i + 1)] ?? 1;
      return a + (b - a) * (pos - i);
    };
    return at(to) - at(from);
  }
}

/** Modeled durations of what people and stewards do at a lane, in ms. */
export interface HumanTimings {
  /** Taking out the phone, opening the ticket, holding it to the reader. */
  present(random: Random, kind: "mobile" | "printed" | "other"): number;
  /** From the arm unlocking to the person starting through (the turnstile's own rotation follows). */
  approach(random: Random): number;
  /** A refused person listening to the steward and stepping aside. */
  turnedAway(random: Random): number;
  /** The steward's check of a printed confirmation, an ID, or helping a person with a disability. */
  steward(random: Random, reason: string): number;
  /** Walking from a wrong entrance to the right one. */
  walkToOtherEntrance(random: Random): number;
  /** A holder who turned back after the unlock returns after this long. */
  comeBack(random: Random): number;
}

/** Turnstile rotation (the arm releasing to the PASS pulse); with the approach, 1.2–2 s in all. */
export const ROTATION_MS = 1_100;

export const DEFAULT_TIMINGS: HumanTimings = {
  present: (random, kind) =>
    kind === "printed"
      ? triangular(random, 1_800, 2_500, 4_500)
      : kind === "mobile"
        ? triangular(random, 900, 1_500, 3_500)
        : triangular(random, 1_000, 1_500, 2_500),
  approach: (random) => between(random, 100, 900),
  turnedAway: (random) => triangular(random, 2_000, 3_000, 6_000),
  steward: (random, reason) =>
    reason === "ACCESSIBILITY_ASSISTANCE"
      ? triangular(random, 8_000, 12_000, 20_000)
      : triangular(random, 6_000, 9_000, 16_000),
  walkToOtherEntrance: (random) => triangular(random, 3 * MINUTE, 5 * MINUTE, 9 * MINUTE),
  comeBack: (random) => triangular(random, MINUTE, 2 * MINUTE, 5 * MINUTE),
};
