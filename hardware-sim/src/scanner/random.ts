/** A seeded pseudo-random source (mulberry32), so every simulated run can be replayed exactly. */
export type Random = () => number;

export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniform number in [min, max). */
export function between(random: Random, min: number, max: number): number {
  return min + (max - min) * random();
}

export function randomInt(random: Random, min: number, maxInclusive: number): number {
  return Math.floor(between(random, min, maxInclusive + 1));
}
