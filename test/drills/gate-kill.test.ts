import type { EntryLogEvent } from "@sesame/gate-core";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import {
  audit,
  DrillVenue,
  eventually,
  type Holder,
  passageAlerts,
  readGateCache,
  sleep,
} from "./harness.js";

/*
 * Drill 3 (issue 8): a gate process (apps/kiosk/src/gate-main.ts, as `sesame up` runs it) killed
 * with SIGKILL mid-ingress and started again on its cache. At the moment of the kill, gate A1 has
 * entries the server may not have acknowledged yet, an authorization whose holder has not walked
 * yet (lane 2), and a holder walking through the arm it has just opened (lane 1). The crowd keeps
 * coming at the other gates. At the restart, recovery annuls both authorizations and hands them to
 * their lanes as late claims: the walker's passage, which the controller kept, is their entry
 * (annulled → entered, late); the no-show's ticket is not consumed. (~15 s: two gate-process
 * starts, eight OSDP lanes.)
 */

const GATE = "A1";

describe("drill: a gate process killed with SIGKILL mid-ingress", () => {
  let venue: DrillVenue;
  let atCrash: { events: EntryLogEvent[]; open: readonly { ticketId: number; authorizationId: string }[] };
  let noShow: Holder;
  let walker: Holder;
  let alertLines: string[] = [];

  beforeAll(async () => {
    venue = await DrillVenue.start({
      name: "gate-kill",
      spectators: 300,
      lanes: 8,
      lanesPerGate: 2,
      gateProcesses: [GATE],
    });
  }, 120_000);

  afterAll(async () => {
    await venue?.stop();
  });

  it("after the restart: open authorizations annulled, nothing recorded lost, the server has every event", async () => {
    onTestFailed(() => console.log(venue.logTail()));
    const gate = venue.gate(GATE);
    const proc = gate.process;
    if (!proc) throw new Error(`${GATE} must be a gate process`);
    const crowd = venue.makeCrowd({
      rate: 2.5,
      maxArrivals: 14,
      lanes: venue.lanes.filter((l) => l.gateId !== GATE),
    });
    crowd.start();
    const entrance = gate.entrance;
    for (const lane of [1, 2]) {
      expect((await venue.present(venue.lane(GATE, lane), venue.holder(entrance))).result).toBe("passed");
    }
    noShow = venue.holder(entrance);
    walker = venue.holder(entrance);
    // Lane 2: authorized and unlocked, the holder has not moved yet.
    expect((await venue.present(venue.lane(GATE, 2), noShow, { walk: false, id: "no-show" })).opened).toBe(
      true,
    );
    // Lane 1: the holder is in the arm when the gate dies; the controller's timed unlock lets them through.
    const walked = await venue.present(venue.lane(GATE, 1), walker, {
      id: "walker",
      whileWalking: async () => {
        await sleep(300);
        await proc.kill();
        venue.log(`[drill] ${GATE} killed`);
      },
    });
    expect(walked.result).toBe("passed");

    // What the gate had made durable when it died.
    atCrash = readGateCache(venue, GATE);
    expect(atCrash.open.map((a) => a.ticketId).sort()).toEqual([noShow.ticketId, walker.ticketId].sort());
    expect(atCrash.events.filter((e) => e.kind === "entered")).toHaveLength(2);

    const linesBefore = gate.lines.length;
    await proc.start();
    venue.log(`[drill] ${GATE} restarted at ${proc.url}`);
    await eventually(() => venue.gateReady(gate), `${GATE} reconnected, its lanes online`);
    // The holder who did not walk is not consumed: they scan again and get in — once the arm the
    // dead gate had opened (a timed pulse the controller runs by itself) has locked again; someone
    // walking through it before is a forced passage, as the drill above shows.
    const lane2 = venue.lane(GATE, 2).sim.controller;
    await eventually(
      () => lane2.outputState[lane2.wiring.entryUnlockOutput] !== true,
      "lane 2's arm locked",
      15_000,
    );
    expect((await venue.present(venue.lane(GATE, 2), noShow, { id: "no-show again" })).result).toBe("passed");
    // Its passage report follows the walk by a poll cycle: wait for it in the venue's record.
    await eventually(
      () =>
        venue.withServerStore((s) =>
          s.eventsOfGate(GATE).some((e) => e.kind === "entered" && e.ticketId === noShow?.ticketId),
        ),
      "the no-show's entry in the venue's record",
    );

    await eventually(() => crowd.done, "the crowd through the other gates", 90_000);
    await venue.settle();
    alertLines = gate.lines.slice(linesBefore).filter((l) => l.includes("ALERT"));
    // The restarted gate heard of the walker's passage (the controller kept the report) and
    // attributed it to the walker's authorization, late: no alarm.
    expect(passageAlerts(gate).get(1) ?? 0).toBe(0);
    await venue.stopGate(gate);

    const { events } = readGateCache(venue, GATE);
    // Nothing recorded before the crash is lost: the journal continues from it.
    expect(events.slice(0, atCrash.events.length)).toEqual(atCrash.events);
    // Both open authorizations were annulled by the restart's recovery; the walker's then claimed
    // by the passage the controller kept.
    const annulled = events.filter((e) => e.kind === "annulled");
    expect(annulled.map((e) => `${e.ticketId}:${e.detail}`).sort()).toEqual(
      [`${noShow.ticketId}:recovery`, `${walker.ticketId}:recovery`].sort(),
    );
    const late = events.filter((e) => e.kind === "entered" && e.detail === "late-passage");
    expect(late.map((e) => `${e.ticketId}:${e.lane}`)).toEqual([`${walker.ticketId}:1`]);
    const report = audit(venue, { annulCauses: ["window-expired", "recovery"] });
    venue.log(`[drill] ${JSON.stringify(report)} alerts after restart: ${alertLines.join(" | ")}`);
    expect(report.doubleEntries).toBe(0);
    expect(report.latePassages).toBe(1);
    expect(report.passagesOnlyAlerted).toBe(0);
    // Every rotation of lane 1 is an entry: no alarm.
    const alarms = venue.withServerStore((s) =>
      s.eventsOfGate(GATE).filter((e) => (e.kind as string) === "alarm" && e.lane === 1),
    );
    expect(alarms).toEqual([]);
  }, 180_000);

  it("a holder who walked through the arm the dying gate had opened is in the venue's record", () => {
    // The lane controller kept the passage and reported it to the restarted gate, which attributed
    // it to the walker's authorization (annulled by recovery): entered, once. The ticket is
    // consumed, so the same code cannot enter once more.
    const entered = venue.withServerStore((s) =>
      s.eventsOfGate(GATE).filter((e) => e.kind === "entered" && e.ticketId === walker.ticketId),
    );
    expect(entered.map((e) => `${e.lane}:${e.detail}`)).toEqual(["1:late-passage"]);
  });
});
