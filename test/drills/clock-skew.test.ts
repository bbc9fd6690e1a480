import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { audit, DrillVenue, eventually, type Holder } from "./harness.js";

/*
 * Drill 6 (issue 8): a gate whose clock is 10 minutes off. Gate A1 runs 10 minutes ahead (every
 * code looks stale: EXPIRED_CODE), gate B1 10 minutes behind (every code looks early:
 * CODE_FROM_FUTURE); after a few such codes in a row the gate suspects its own clock and says so
 * (CLOCK_SKEW, an alert, the diagnostics flag), and the sync-server sees the offset in the gate's
 * heartbeats and raises a clock-skew alert. Nobody is admitted on the wrong clock, and the
 * refused holders, whose tickets were not consumed, walk in at the next gate (A2, B2). People
 * are presented one by one. (~13 s.)
 */

const TEN_MINUTES = 10 * 60_000;
const PEOPLE = 6;

describe("drill: a gate's clock 10 minutes off", () => {
  let venue: DrillVenue;

  beforeAll(async () => {
    venue = await DrillVenue.start({
      name: "clock-skew",
      spectators: 200,
      lanes: 4,
      lanesPerGate: 1,
      reservedPerEntrance: PEOPLE,
      gateClock: (gateId) =>
        gateId === "A1"
          ? () => Date.now() + TEN_MINUTES
          : gateId === "B1"
            ? () => Date.now() - TEN_MINUTES
            : undefined,
    });
  }, 120_000);

  afterAll(async () => {
    await venue?.stop();
  });

  const reasonsAt = (gateId: string, people: readonly Holder[]) => {
    const log = venue.gate(gateId).node?.store.events(1, 100_000) ?? [];
    return people.map((h) =>
      log.filter((e) => e.ticketId === h.ticketId).map((e) => `${e.kind}:${e.reason}`),
    );
  };

  const CASES = [
    { skewed: "A1", good: "A2", first: "EXPIRED_CODE", offset: -TEN_MINUTES },
    { skewed: "B1", good: "B2", first: "CODE_FROM_FUTURE", offset: TEN_MINUTES },
  ] as const;

  const drill = async (c: (typeof CASES)[number]) => {
    const gate = venue.gate(c.skewed);
    const people = Array.from({ length: PEOPLE }, () => venue.holder(gate.entrance));
    for (const h of people) {
      const shown = await venue.present(
        venue.lane(c.skewed, 1),
        { ...h, expect: "refuse", profile: "skewed-gate" },
        { unlockWaitMs: 1_000 },
      );
      expect(shown.opened).toBe(false);
    }
    // The first codes are the holder's fault as far as the gate can tell; then it suspects itself.
    // (Each person gave up after 1 s: on a loaded machine the last refusals may still be coming.)
    await eventually(
      () => reasonsAt(c.skewed, people).every((r) => r.length > 0),
      `every code at ${c.skewed} decided`,
    );
    const reasons = reasonsAt(c.skewed, people);
    expect(reasons.slice(0, 5)).toEqual(Array(5).fill([`refused:${c.first}`]));
    expect(reasons.slice(5)).toEqual(Array(PEOPLE - 5).fill(["refused:CLOCK_SKEW"]));
    expect(gate.lines.some((l) => l.includes("ALERT") && l.includes('"clock-skew"'))).toBe(true);
    expect((await venue.gateState(gate))?.diagnostics.clockSuspect).toBe(true);
    // The gate's sync measured the offset against the server's clock, and the server alerted.
    await eventually(
      () => Math.abs((gate.node?.sync?.status().clockOffsetMs ?? 0) - c.offset) < 30_000,
      `${c.skewed} measured its offset`,
    );
    await eventually(
      () =>
        venue
          .withServerStore((s) => s.alerts(100))
          .some((a) => a.type === "clock-skew" && a.gates.includes(c.skewed)),
      `a clock-skew alert for ${c.skewed} on the server`,
    );
    const heartbeat = venue.withServerStore((s) => s.gate(c.skewed)?.heartbeat);
    expect(Math.abs((heartbeat?.clockOffsetMs ?? 0) - c.offset)).toBeLessThan(30_000);

    // Not consumed: the same holders walk in at the next gate, whose clock is right.
    for (const h of people) expect((await venue.present(venue.lane(c.good, 1), h)).result).toBe("passed");
    expect(
      venue
        .withServerStore((s) => s.alerts(100))
        .some((a) => a.type === "clock-skew" && a.gates.includes(c.good)),
    ).toBe(false);
  };

  it("A1 ahead (EXPIRED_CODE), B1 behind (CODE_FROM_FUTURE): refused with the right reasons, alerted, nothing admitted wrongly", async () => {
    onTestFailed(() => console.log(venue.logTail()));
    // The two gates are independent: drilled side by side.
    await Promise.all(CASES.map(drill));
  }, 90_000);

  it("the venue's record agrees with the ground truth", async () => {
    onTestFailed(() => console.log(venue.logTail()));
    await venue.settle();
    const report = audit(venue);
    venue.log(`[drill] ${JSON.stringify(report)}`);
    expect(report.entered).toBe(2 * PEOPLE);
    expect(report.refused).toEqual({ EXPIRED_CODE: 5, CODE_FROM_FUTURE: 5, CLOCK_SKEW: 2 * (PEOPLE - 5) });
    expect(report.falseRefusals).toBe(0);
  }, 60_000);
});
