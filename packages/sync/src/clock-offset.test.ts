import { describe, expect, it } from "vitest";
import { ClockOffsetEstimate } from "./clock-offset.js";

/*
 * The gate's view of the server's clock: a message that waited on the way (the server's offline
 * queue, a gate busy at start) must not make the gate look ahead ("A1 17 s ahead" after restarts).
 */

/** The server's clock runs `offset` ms ahead of the gate's; a message reaches the gate `delay` ms late. */
const stamp = (estimate: ClockOffsetEstimate, gateNow: number, offset: number, delay = 0) =>
  estimate.add(gateNow + offset - delay, gateNow);

describe("ClockOffsetEstimate", () => {
  it("gives no offset until three recent samples agree", () => {
    const e = new ClockOffsetEstimate();
    stamp(e, 1_000, 250);
    stamp(e, 3_000, 250);
    expect(e.offsetAt(3_000)).toBeUndefined();
    stamp(e, 5_000, 250);
    expect(e.offsetAt(5_000)).toBe(250);
  });

  it("ignores one message that waited 17 s, first or among fresh ones", () => {
    const first = new ClockOffsetEstimate();
    stamp(first, 1_000, 0, 17_000);
    for (let t = 3_000; t <= 7_000; t += 2_000) stamp(first, t, 0, 5);
    expect(first.offsetAt(7_000)).toBe(-5);

    const among = new ClockOffsetEstimate();
    for (let t = 0; t < 20_000; t += 2_000) stamp(among, t, 3_000, t === 10_000 ? 17_000 : 20);
    expect(among.offsetAt(20_000)).toBe(2_980);
  });

  it("ignores a burst of queued heartbeats delivered at once after a restart", () => {
    const e = new ClockOffsetEstimate();
    // Eight heartbeats the server sent every 2 s while the link was down, read in one go at 20 s.
    for (let k = 0; k < 8; k++) stamp(e, 20_000, 0, 16_000 - k * 2_000 + 2_000);
    stamp(e, 22_000, 0, 10);
    stamp(e, 24_000, 0, 30);
    expect(e.offsetAt(24_000)).toBe(-20);
  });

  it("forgets samples older than its window: a real clock step shows within a minute", () => {
    const e = new ClockOffsetEstimate();
    for (let t = 0; t <= 10_000; t += 2_000) stamp(e, t, 0);
    // The server's clock is set 30 s back: its samples look like waiting ones until the old go.
    for (let t = 12_000; t <= 80_000; t += 2_000) stamp(e, t, -30_000);
    expect(e.offsetAt(80_000)).toBe(-30_000);
  });

  it("is the median of the fresh samples, not their mean", () => {
    const e = new ClockOffsetEstimate();
    for (const [t, delay] of [
      [0, 0],
      [2_000, 900],
      [4_000, 100],
      [6_000, 200],
      [8_000, 300],
    ] as const)
      stamp(e, t, 12_000, delay);
    expect(e.offsetAt(8_000)).toBe(11_800);
  });

  it("ignores time stamps that are not finite numbers", () => {
    const e = new ClockOffsetEstimate();
    for (const t of [0, 1, 2]) e.add(Number.NaN, t);
    expect(e.offsetAt(2)).toBeUndefined();
  });
});
