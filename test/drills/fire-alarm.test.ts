import { DEFAULT_MIX } from "@sesame/cli";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { audit, DrillVenue, eventually } from "./harness.js";

/*
 * Drill 7 (issue 8): the fire alarm at entrance A (the alarm line of every lane controller there).
 * Those lanes go to free passage at once; whoever walks through is counted as a free passage, not
 * attributed to a ticket; an authorization open at the alarm is annulled with cause fire-alarm.
 * Entrance B goes on with its ingress as if nothing happened. Gates A1, A2, B1, B2 of one lane;
 * a crowd at B, people one by one at A. (~16 s.)
 */

describe("drill: the fire alarm at one entrance", () => {
  let venue: DrillVenue;

  beforeAll(async () => {
    venue = await DrillVenue.start({ name: "fire-alarm", spectators: 200, lanes: 4, lanesPerGate: 1 });
  }, 120_000);

  afterAll(async () => {
    await venue?.stop();
  });

  it("A's lanes go free and count free passages, open authorizations are annulled, B is unaffected", async () => {
    onTestFailed(() => console.log(venue.logTail()));
    const A = venue.entranceOf("A1");
    const aLanes = venue.lanes.filter((l) => l.entrance === A);
    const bLanes = venue.lanes.filter((l) => l.entrance !== A);
    const crowd = venue.makeCrowd({
      rate: 2,
      maxArrivals: 12,
      lanes: bLanes,
      mix: { ...DEFAULT_MIX, usedTwice: 0 },
    });
    crowd.start();
    const node = (gateId: string) => {
      const n = venue.gate(gateId).node;
      if (!n) throw new Error(`${gateId} is not in this process`);
      return n;
    };

    // A holder at A1 has been let in by the gate but has not walked yet when the alarm goes.
    const waiting = venue.holder(A);
    expect((await venue.present(venue.lane("A1"), waiting, { walk: false, id: "waiting" })).opened).toBe(
      true,
    );
    for (const l of aLanes) l.sim.controller.setFireAlarm(true);
    await eventually(
      () =>
        aLanes.every((l) =>
          node(l.gateId)
            .backend.laneViews()
            .every((v) => v.fireAlarm && v.screen === "free-passage"),
        ),
      "entrance A's lanes shown in free passage",
      10_000,
    );
    const annulled = node("A1")
      .store.events(1, 1000)
      .filter((e) => e.kind === "annulled" && e.ticketId === waiting.ticketId);
    expect(annulled.map((e) => e.detail)).toEqual(["fire-alarm"]);
    for (const l of bLanes) {
      const views = node(l.gateId).backend.laneViews();
      expect(views.map((v) => [v.fireAlarm, v.mode])).toEqual([[false, "normal"]]);
      expect(l.sim.controller.turnstile.isFree("entry")).toBe(false);
    }

    // Everyone walks through A without scanning, good codes or not; a scan there decides nothing.
    const scanned = await venue.handScan("A2", 1, venue.holder(A).code(Date.now()));
    expect(scanned.decision.reason).toBe("FREE_PASSAGE");
    expect(scanned.authorizationId).toBeUndefined();
    const evacuees = [
      { who: waiting, lane: venue.lane("A1") },
      { who: venue.holder(A), lane: venue.lane("A1") },
      {
        who: {
          code: () => "https://example.com/not-a-ticket",
          profile: "foreign-qr",
          expect: "refuse" as const,
        },
        lane: venue.lane("A2"),
      },
      { who: venue.holder(A), lane: venue.lane("A2") },
    ];
    await Promise.all(
      [venue.lane("A1"), venue.lane("A2")].map(async (lane) => {
        for (const e of evacuees.filter((x) => x.lane === lane)) {
          const r = await venue.present(lane, e.who);
          expect(r).toEqual({ opened: true, result: "passed" });
        }
      }),
    );
    const free = (gateId: string) =>
      node(gateId)
        .store.events(1, 1000)
        .filter((e) => e.kind === "free-passage");
    await eventually(
      () => free("A1").length === 2 && free("A2").length === 2,
      "the free passages recorded",
      10_000,
    );
    expect(free("A1").every((e) => e.reason === "FREE_PASSAGE" && e.ticketId === undefined)).toBe(true);

    // The alarm ends: A is controlled again.
    for (const l of aLanes) l.sim.controller.setFireAlarm(false);
    await eventually(
      () =>
        aLanes.every((l) =>
          node(l.gateId)
            .backend.laneViews()
            .every((v) => !v.fireAlarm && v.screen === "ready"),
        ),
      "entrance A back to normal",
      10_000,
    );
    expect((await venue.present(venue.lane("A1"), venue.holder(A), { id: "after" })).result).toBe("passed");
    expect(
      (
        await venue.present(
          venue.lane("A2"),
          { code: () => "https://example.com/not-a-ticket", profile: "foreign-qr", expect: "refuse" },
          { unlockWaitMs: 1_000, id: "foreign after" },
        )
      ).opened,
    ).toBe(false);

    await eventually(() => crowd.done, "the crowd at entrance B", 60_000);
    await venue.settle();
    const report = audit(venue, { annulCauses: ["window-expired", "fire-alarm"] });
    venue.log(`[drill] ${JSON.stringify(report)}`);
    expect(report.freePassages).toBe(4);
    expect(report.annulled).toEqual({ "fire-alarm": 1 });
    expect(report.falseRefusals).toBe(0);
    // Entrance B: its ingress went on, nothing free there.
    const atB = venue.withServerStore(
      (s) => bLanes.flatMap((l) => s.eventsOfGate(l.gateId)).filter((e) => e.kind === "entered").length,
    );
    expect(atB).toBeGreaterThan(5);
  }, 120_000);
});
