import { describe, expect, it } from "vitest";
import { type Direction, LaneLedger } from "../src/index.js";

describe("lane ledger", () => {
  it("attributes passages to the oldest open grant and closes it when used up", () => {
    const ledger = new LaneLedger();
    const first = ledger.authorize("entry", 1, 5_000, 0);
    const second = ledger.authorize("entry", 2, 5_000, 100);
    expect(ledger.passage("entry", 1_000)).toEqual({
      kind: "authorized",
      grantId: first.id,
      grantComplete: true,
    });
    expect(ledger.passage("entry", 2_000)).toEqual({
      kind: "authorized",
      grantId: second.id,
      grantComplete: false,
    });
    expect(ledger.counters()).toMatchObject({
      authorizations: 2,
      authorizedPassages: 3,
      attributedPassages: 2,
      pendingPassages: 1,
    });
  });

  it("tells a tailgate (right behind an authorized passage) from a forced passage", () => {
    const ledger = new LaneLedger({ tailgateWindowMs: 3_000 });
    ledger.authorize("entry", 1, 5_000, 0);
    ledger.passage("entry", 1_000);
    expect(ledger.passage("entry", 1_400)).toEqual({ kind: "tailgate" });
    expect(ledger.passage("entry", 10_000)).toEqual({ kind: "forced" });
    expect(ledger.passage("exit", 1_500)).toEqual({ kind: "forced" });
  });

  it("annuls the unused passages of a grant once its window and the report grace are over", () => {
    const ledger = new LaneLedger({ reportGraceMs: 1_000 });
    const grant = ledger.authorize("exit", 2, 5_000, 0);
    ledger.passage("exit", 2_000);
    expect(ledger.expire(5_500)).toEqual([]);
    ledger.controllerIdle(5_100);
    expect(ledger.expire(6_000)).toEqual([{ grant, unused: 1, claimable: false }]);
    expect(ledger.counters()).toMatchObject({
      annulledPassages: 1,
      attributedPassages: 1,
      pendingPassages: 0,
    });
  });

  it("counts fire-alarm passages without attributing them, and annuls open grants", () => {
    const ledger = new LaneLedger();
    ledger.authorize("entry", 1, 5_000, 0);
    expect(ledger.setFireAlarm(true)).toHaveLength(1);
    expect(ledger.passage("entry", 100)).toEqual({ kind: "fire-alarm" });
    expect(ledger.passage("exit", 200)).toEqual({ kind: "fire-alarm" });
    ledger.setFireAlarm(false);
    expect(ledger.counters()).toMatchObject({
      fireAlarmPassages: 2,
      annulledPassages: 1,
      attributedPassages: 0,
    });
  });

  it("withdraws a grant whose unlock never reached the controller", () => {
    const ledger = new LaneLedger();
    const grant = ledger.authorize("entry", 1, 5_000, 0);
    ledger.withdraw(grant);
    expect(ledger.counters()).toMatchObject({ authorizations: 0, authorizedPassages: 0, failedUnlocks: 1 });
    expect(ledger.passage("entry", 10)).toEqual({ kind: "forced" });
  });

  describe("late attribution", () => {
    it("a grant whose window ended unheard is annulled, then claimed by the passage the controller kept", () => {
      const ledger = new LaneLedger({ reportGraceMs: 1_000 });
      ledger.controllerIdle(0);
      const grant = ledger.authorize("entry", 1, 3_000, 100, "auth-1");
      // The cable goes at 300 ms: no idle poll after that until it is back.
      expect(ledger.expire(4_100)).toEqual([{ grant, unused: 1, claimable: true }]);
      expect(ledger.counters()).toMatchObject({ annulledPassages: 1, pendingPassages: 0 });
      // Back at 6 s: the backlog's passage first, then the controller has nothing more.
      expect(ledger.passage("entry", 6_000)).toEqual({
        kind: "late",
        grantId: grant.id,
        reference: "auth-1",
      });
      expect(ledger.lateClaims()).toEqual([]);
      expect(ledger.counters()).toMatchObject({
        latePassages: 1,
        annulledPassages: 0,
        attributedPassages: 0,
      });
      // A second body in that backlog is a tailgater, not a forced passage.
      expect(ledger.passage("entry", 6_050)).toEqual({ kind: "tailgate" });
    });

    it("a no-show's grant, closed while the controller was heard, is never claimable", () => {
      const ledger = new LaneLedger({ reportGraceMs: 1_000 });
      const grant = ledger.authorize("entry", 1, 3_000, 0, "auth-1");
      ledger.controllerIdle(3_050); // polled after the window: nothing to report
      expect(ledger.expire(4_000)).toEqual([{ grant, unused: 1, claimable: false }]);
      expect(ledger.passage("entry", 60_000)).toEqual({ kind: "forced" });
      expect(ledger.counters()).toMatchObject({ annulledPassages: 1, latePassages: 0, forcedPassages: 1 });
    });

    it("a claim lapses once the controller, heard again, has nothing more to report", () => {
      const ledger = new LaneLedger({ reportGraceMs: 1_000 });
      const grant = ledger.authorize("entry", 1, 3_000, 0);
      expect(ledger.expire(4_000)[0]?.claimable).toBe(true);
      expect(ledger.controllerIdle(9_000)).toEqual([{ grant, lapsesAt: 3_000 + 120_000 }]);
      expect(ledger.passage("entry", 9_100)).toEqual({ kind: "forced" });
    });

    it("a claim lapses after lateClaimMs even if the controller is never heard again", () => {
      const ledger = new LaneLedger({ reportGraceMs: 1_000, lateClaimMs: 60_000 });
      ledger.authorize("entry", 1, 3_000, 0);
      ledger.expire(4_000);
      expect(ledger.lateClaims()).toHaveLength(1);
      expect(ledger.passage("entry", 63_000)).toEqual({ kind: "forced" });
      expect(ledger.lateClaims()).toEqual([]);
    });

    it("only in the grant's direction, after the open grants, oldest claim first", () => {
      const ledger = new LaneLedger({ reportGraceMs: 0 });
      const a = ledger.authorize("entry", 1, 1_000, 0, "a");
      const b = ledger.authorize("entry", 1, 1_000, 500, "b");
      ledger.expire(2_000);
      const open = ledger.authorize("entry", 1, 5_000, 2_000, "c");
      expect(ledger.passage("exit", 2_100)).toEqual({ kind: "forced" });
      expect(ledger.passage("entry", 2_200)).toMatchObject({ kind: "authorized", grantId: open.id });
      expect(ledger.passage("entry", 2_300)).toEqual({ kind: "late", grantId: a.id, reference: "a" });
      expect(ledger.passage("entry", 2_400)).toEqual({ kind: "late", grantId: b.id, reference: "b" });
    });

    it("never during a fire alarm or a free passage: those passages are counted, not attributed", () => {
      const ledger = new LaneLedger({ reportGraceMs: 0 });
      ledger.authorize("entry", 1, 1_000, 0);
      ledger.expire(1_000);
      ledger.setFireAlarm(true);
      expect(ledger.passage("entry", 1_100)).toEqual({ kind: "fire-alarm" });
      ledger.setFireAlarm(false);
      ledger.freePassage.entry = true;
      expect(ledger.passage("entry", 1_200)).toEqual({ kind: "free-passage" });
      ledger.freePassage.entry = false;
      expect(ledger.passage("entry", 1_300)).toMatchObject({ kind: "late" });
    });

    it("after a restart: a recovered authorization is claimable, even before its window ends", () => {
      const ledger = new LaneLedger({ reportGraceMs: 1_000, lateClaimMs: 120_000 });
      expect(ledger.addLateClaim("entry", "old", 200_000, 0)).toBeUndefined();
      const ended = ledger.addLateClaim("entry", "ended", 5_000, 0);
      const running = ledger.addLateClaim("entry", "running", -2_000, 0);
      expect(ledger.counters()).toMatchObject({ authorizations: 2, annulledPassages: 2 });
      // The first idle poll: the claim whose window is over lapses, the running one stays.
      expect(ledger.controllerIdle(100).map((c) => c.grant.reference)).toEqual(["ended"]);
      expect(ledger.passage("entry", 1_500)).toEqual({
        kind: "late",
        grantId: running?.id,
        reference: "running",
      });
      expect(ended?.expiresAt).toBe(-5_000);
      const c = ledger.counters();
      expect(c.authorizedPassages).toBe(
        c.attributedPassages + c.latePassages + c.annulledPassages + c.pendingPassages,
      );
    });
  });

  it("always reconciles: granted = attributed + late + annulled + pending, and every passage is counted once", () => {
    const ledger = new LaneLedger();
    let seed = 7;
    const random = () => {
      seed = (seed * 48271) % 2147483647;
      return seed / 2147483647;
    };
    let passages = 0;
    for (let t = 0; t < 200_000; t += 250) {
      const direction: Direction = random() < 0.8 ? "entry" : "exit";
      const roll = random();
      if (roll < 0.3) ledger.authorize(direction, 1 + Math.floor(random() * 3), 2_000 + random() * 6_000, t);
      else if (roll < 0.6) {
        ledger.passage(direction, t);
        passages++;
      } else if (roll < 0.61) ledger.setFireAlarm(!ledger.fireAlarm);
      else if (roll < 0.64) ledger.addLateClaim(direction, `r${t}`, random() * 200_000 - 5_000, t);
      // The controller is heard most of the time, unheard for stretches (a cable out).
      if (Math.floor(t / 20_000) % 3 !== 2) ledger.controllerIdle(t);
      ledger.expire(t);
      const c = ledger.counters();
      expect(c.authorizedPassages).toBe(
        c.attributedPassages + c.latePassages + c.annulledPassages + c.pendingPassages,
      );
      expect(
        c.attributedPassages + c.latePassages + c.tailgatePassages + c.forcedPassages + c.fireAlarmPassages,
      ).toBe(passages);
    }
    // The walk went through every kind of attribution, late ones included.
    const c = ledger.counters();
    expect([c.latePassages, c.attributedPassages, c.tailgatePassages, c.forcedPassages]).not.toContain(0);
  });
});
