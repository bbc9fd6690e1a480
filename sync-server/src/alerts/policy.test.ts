import type { EntryLogEvent } from "@sesame/gate-core";
import { describe, expect, it } from "vitest";
import {
  batchAlerts,
  clockSkewDetail,
  doubleEntryAlert,
  groupedEventIds,
  keyScans,
  keyScansDetail,
  mayAcknowledge,
  silentGateDetail,
} from "./policy.js";

/* The alert policy on its own: no SQLite, no broker. */

let seq = 0;
function event(over: Partial<EntryLogEvent>): EntryLogEvent {
  seq += 1;
  return {
    eventId: `e${seq}`,
    gateId: "A1",
    gateSeq: seq,
    lane: 1,
    kind: "entered",
    direction: "entry",
    reason: "OK",
    manual: false,
    at: 1_000,
    ...over,
  } as EntryLogEvent;
}

describe("double entry", () => {
  const entry = event({ ticketId: 7, session: 1, gateId: "B2" });

  it("a first entry raises nothing", () => {
    expect(doubleEntryAlert(entry, undefined, "none", 5)).toBeUndefined();
  });

  it("an entry while inside is a double entry, at the same gate or another", () => {
    const alert = doubleEntryAlert(
      entry,
      { state: "inside", lastGate: "A1", lastEvent: "e0" },
      "exit-scan",
      5,
    );
    expect(alert).toEqual({
      type: "double-entry",
      at: 5,
      ticketId: 7,
      session: 1,
      gates: ["A1", "B2"],
      eventIds: ["e0", entry.eventId],
      detail: "ticket 7 entered at gates A1 and B2 for session 1",
    });
    expect(
      doubleEntryAlert(entry, { state: "inside", lastGate: "B2", lastEvent: "e0" }, "exit-scan", 5)?.detail,
    ).toBe("ticket 7 entered twice at gate B2 for session 1");
  });

  it("after an exit: allowed with exit-scan re-entry, a double entry without re-entry", () => {
    const outside = { state: "outside", lastGate: "A1", lastEvent: "e0" } as const;
    expect(doubleEntryAlert(entry, outside, "exit-scan", 5)).toBeUndefined();
    expect(doubleEntryAlert(entry, outside, "none", 5)?.type).toBe("double-entry");
  });

  it("only entries of a ticket for a session count", () => {
    const inside = { state: "inside", lastGate: "A1", lastEvent: "e0" } as const;
    expect(
      doubleEntryAlert(event({ kind: "exited", ticketId: 7, session: 1 }), inside, "none", 5),
    ).toBeUndefined();
    expect(doubleEntryAlert(event({ session: 1 }), inside, "none", 5)).toBeUndefined();
  });
});

describe("batch alerts", () => {
  it("nothing for a batch of plain entries", () => {
    expect(batchAlerts("A1", [event({ ticketId: 1 }), event({ ticketId: 2 })], 9, () => false)).toEqual([]);
  });

  it("one forgery alert per batch listing its reasons; a lone forgery names its ticket", () => {
    const forged = [
      event({ kind: "refused", reason: "FORGED" }),
      event({ kind: "refused", reason: "FORGED" }),
      event({ kind: "refused", reason: "UNKNOWN_KEY" }),
      event({ kind: "refused", reason: "EXPIRED_CODE" }),
    ];
    const [alert, ...rest] = batchAlerts("A1", forged, 9, () => false);
    expect(rest).toEqual([]);
    expect(alert).toMatchObject({
      type: "forgery",
      gates: ["A1"],
      detail: "3 forged or foreign codes refused at gate A1 (FORGED ×2, UNKNOWN_KEY)",
    });
    expect(alert?.eventIds).toHaveLength(3);
    expect(alert).not.toHaveProperty("ticketId");
    const lone = batchAlerts(
      "A1",
      [event({ kind: "refused", reason: "UNKNOWN_KEY", ticketId: 4, session: 2, lane: 3 })],
      9,
      () => false,
    );
    expect(lone).toEqual([
      expect.objectContaining({
        ticketId: 4,
        session: 2,
        detail: "forged or foreign code refused at gate A1 lane 3 (UNKNOWN_KEY)",
      }),
    ]);
  });

  it("a revoked key's tickets are no forgery: grouped per issuer key, counted", () => {
    const scans = [
      event({ kind: "refused", reason: "KEY_REVOKED", issuerKeyId: 3 }),
      event({ kind: "refused", reason: "KEY_REVOKED", issuerKeyId: 3 }),
      event({ kind: "refused", reason: "KEY_REVOKED", issuerKeyId: 5 }),
      // From a gate that does not say which key: grouped on their own.
      event({ kind: "refused", reason: "KEY_REVOKED" }),
      event({ kind: "refused", reason: "FORGED", issuerKeyId: 3 }),
    ];
    expect(batchAlerts("A1", scans, 9, () => false).map((a) => [a.type, a.eventIds?.length])).toEqual([
      ["forgery", 1],
    ]);
    const type = "revoked-key-scans";
    expect(keyScans(scans)).toEqual([
      { type, issuerKeyId: 3, count: 2, eventIds: [scans[0]?.eventId, scans[1]?.eventId] },
      { type, issuerKeyId: 5, count: 1, eventIds: [scans[2]?.eventId] },
      { type, issuerKeyId: null, count: 1, eventIds: [scans[3]?.eventId] },
    ]);
    expect(keyScansDetail(type, "A1", 3, 1)).toBe(
      "1 scan at gate A1 of tickets under revoked issuer key 3 (revoked in the trust list)",
    );
    expect(keyScansDetail(type, "B1", null, 12)).toMatch(
      /^12 scans at gate B1 of tickets under a revoked issuer key/,
    );
    // A long rotation lists its first 50 events, like any alert; the count goes on.
    const many = Array.from({ length: 80 }, (_, i) => `e-${i}`);
    expect(groupedEventIds(many.slice(0, 40), many.slice(40))).toEqual(many.slice(0, 50));
  });

  it("issue 16, also: a key outside its validity window is no forgery nor a revoked key: its own grouped alert", () => {
    const scans = [
      event({ kind: "refused", reason: "KEY_NOT_VALID", issuerKeyId: 3 }),
      event({ kind: "refused", reason: "KEY_REVOKED", issuerKeyId: 3 }),
      event({ kind: "refused", reason: "KEY_NOT_VALID", issuerKeyId: 3 }),
    ];
    expect(batchAlerts("A1", scans, 9, () => false)).toEqual([]);
    expect(keyScans(scans)).toEqual([
      { type: "revoked-key-scans", issuerKeyId: 3, count: 1, eventIds: [scans[1]?.eventId] },
      {
        type: "key-not-valid-scans",
        issuerKeyId: 3,
        count: 2,
        eventIds: [scans[0]?.eventId, scans[2]?.eventId],
      },
    ]);
    expect(keyScansDetail("key-not-valid-scans", "A1", 3, 2)).toBe(
      "2 scans at gate A1 of tickets under issuer key 3 (outside its validity window in the trust list)",
    );
  });

  it("a wrong supervisor code at a kiosk: one override-refused alert per batch, naming the steward", () => {
    const refused = (steward: string) =>
      event({
        kind: "refused",
        reason: "OVERRIDE_REFUSED",
        manual: true,
        steward,
        ticketId: 12,
        session: 1,
        lane: 2,
        detail: "wrong override code for supervisor SUP-01",
      });
    expect(batchAlerts("A1", [refused("S-001")], 9, () => false)).toEqual([
      expect.objectContaining({
        type: "override-refused",
        ticketId: 12,
        gates: ["A1"],
        detail:
          "supervisor override refused at gate A1 lane 2, typed for steward S-001 (wrong override code for supervisor SUP-01)",
      }),
    ]);
    const [many, ...rest] = batchAlerts("A1", [refused("S-001"), refused("S-002")], 9, () => false);
    expect(rest).toEqual([]);
    expect(many).toMatchObject({
      type: "override-refused",
      detail: "2 supervisor overrides refused at gate A1, typed for steward(s) S-001, S-002",
    });
    expect(many?.eventIds).toHaveLength(2);
  });

  it("forced passages and tailgates: one alert each per batch, with their lanes", () => {
    const alerts = batchAlerts(
      "C1",
      [
        event({ kind: "alarm", reason: "FORCED_PASSAGE", lane: 2 }),
        event({ kind: "alarm", reason: "FORCED_PASSAGE", lane: 1 }),
        event({ kind: "alarm", reason: "TAILGATE", lane: 4 }),
      ],
      9,
      () => false,
    );
    expect(alerts.map((a) => [a.type, a.detail])).toEqual([
      ["forced-passage", "2 forced passages at gate C1 (lanes 1, 2)"],
      ["tailgate", "tailgate at gate C1 lane 4"],
    ]);
  });

  it("at most 50 event ids in an alert", () => {
    const burst = Array.from({ length: 80 }, () => event({ kind: "refused", reason: "FORGED" }));
    expect(batchAlerts("A1", burst, 9, () => false)[0]?.eventIds).toHaveLength(50);
  });

  it("clock-skew refusals raise one alert unless one is open for the gate (asked only then)", () => {
    const skewed = [
      event({ kind: "refused", reason: "CLOCK_SKEW" }),
      event({ kind: "refused", reason: "CLOCK_SKEW" }),
    ];
    expect(batchAlerts("A1", skewed, 9, () => false)).toEqual([
      expect.objectContaining({
        type: "clock-skew",
        detail: "gate A1 refused 2 code(s) because its own clock looks wrong",
      }),
    ]);
    expect(batchAlerts("A1", skewed, 9, () => true)).toEqual([]);
    let asked = 0;
    batchAlerts("A1", [event({})], 9, () => {
      asked += 1;
      return false;
    });
    expect(asked).toBe(0);
  });
});

describe("gate watchdogs", () => {
  it("clock skew beyond the limit, either way", () => {
    expect(clockSkewDetail("A1", 10_000, 10_000)).toBeUndefined();
    expect(clockSkewDetail("A1", 12_400, 10_000)).toBe("gate A1's clock is 12 s behind the server's");
    expect(clockSkewDetail("A1", -30_000, 10_000)).toBe("gate A1's clock is 30 s ahead of the server's");
  });

  it("a gate online but silent longer than the limit", () => {
    const gate = { gateId: "A1", status: "online", statusAt: 1_000, heartbeatAt: 5_000 };
    expect(silentGateDetail(gate, 25_000, 20_000)).toBeUndefined();
    expect(silentGateDetail(gate, 26_000, 20_000)).toBe("gate A1 has sent no heartbeat for 21 s");
    expect(silentGateDetail({ ...gate, status: "offline" }, 99_000, 20_000)).toBeUndefined();
  });
});

describe("acknowledgement", () => {
  it("a supervisor acknowledges any alert, a tech only the technical ones", () => {
    expect(mayAcknowledge("supervisor", "forgery")).toBe(true);
    expect(mayAcknowledge("tech", "gate-offline")).toBe(true);
    expect(mayAcknowledge("tech", "clock-skew")).toBe(true);
    expect(mayAcknowledge("tech", "double-entry")).toBe(false);
    expect(mayAcknowledge("admin", "gate-offline")).toBe(false);
  });
});
