/**
 * Randomness as a value, so that generators are reproducible from a seed (venue demos, tests,
 * simulations) and production code can pass the operating system's source instead.
 */
export interface RandomSource {
  /** Uniform in [0, 1). */
  next(): number;
  bytes(n: number): Uint8Array;
}

/** sfc32 seeded through splitmix32: small, fast, good enough for simulations (not for keys in production). */
export function seededRandom(seed: number | string): RandomSource {
  let h = typeof seed === "number" ? seed >>> 0 : 0x811c9dc5;
  if (typeof seed === "string") {
    for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 0x01000193) >>> 0;
  }
  const split = () => {
    h = (h + 0x9e3779b9) >>> 0;
    let z = h;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split();
  let b = split();
  let c = split();
  let d = split();
  const u32 = () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  for (let i = 0; i < 12; i++) u32();
  return {
    next: () => u32() / 0x100000000,
    bytes(n) {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i += 4) {
        const v = u32();
        for (let k = 0; k < 4 && i + k < n; k++) out[i + k] = (v >>> (8 * k)) & 0xff;
      }
      return out;
    },
  };
}

export function randomInt(random: RandomSource, maxExclusive: number): number {
  return Math.floor(random.next() * maxExclusive);
}

export function pick<T>(random: RandomSource, items: readonly T[]): T {
  const item = items[randomInt(random, items.length)];
  if (item === undefined) throw new RangeError("pick from an empty list");
  return item;
}
