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
    expect(ledger.expire(6_000)).toEqual([{ grant, unused: 1 }]);
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

  it("always reconciles: granted = attributed + annulled + pending, and every passage is counted once", () => {
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
      ledger.expire(t);
      const c = ledger.counters();
      expect(c.authorizedPassages).toBe(c.attributedPassages + c.annulledPassages + c.pendingPassages);
      expect(c.attributedPassages + c.tailgatePassages + c.forcedPassages + c.fireAlarmPassages).toBe(
        passages,
      );
    }
  });
});
