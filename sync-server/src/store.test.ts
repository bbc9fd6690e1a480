import { join } from "node:path";
import type { ReasonCode } from "@sesame/gate-core";
import { MemoryGateStore, testGateKey } from "@sesame/sync/testing";
import { makeTempDir } from "@sesame/testing";
import { createNodeSigner, seededRandom } from "@sesame/ticket";
import { generateDemoVenue, writeVenueDirectory } from "@sesame/venue";
import { afterAll, describe, expect, it } from "vitest";
import { setUpServerStore } from "./root/set-up.js";
import { provisionGateInStore } from "./server.js";
import { MAX_EVENT_AGE_MS, MAX_EVENT_AHEAD_MS } from "./store.js";

/* The event store's ingest on its own (no broker): what it refuses and how it says so. */

describe("ServerStore ingest", () => {
  const dir = makeTempDir("sesame-store-");
  afterAll(() => dir.remove());

  it("refuses events whose time is no gate's clock (a day ahead, a year behind), keeps the rest", () => {
    const signer = createNodeSigner();
    const now = Date.now();
    const demo = generateDemoVenue({
      spectators: 20,
      doorsOpenMs: now - 3_600_000,
      entrances: 1,
      lanes: 1,
      random: seededRandom("store-test"),
      signer,
    });
    const venueDir = join(dir.path, "venue");
    writeVenueDirectory(venueDir, demo, signer);
    const store = setUpServerStore(venueDir, join(dir.path, "data"), { now });
    try {
      const gateId = demo.venue.gates[0]?.id ?? "A1";
      provisionGateInStore(store, gateId, testGateKey(demo.venue.id, gateId).request, now);
      const gate = new MemoryGateStore(gateId);
      const events = [
        gate.append({ kind: "refused", at: now + MAX_EVENT_AHEAD_MS + 60_000 }),
        gate.append({ kind: "refused", at: now - MAX_EVENT_AGE_MS - 60_000 }),
        gate.append({ kind: "refused", at: 0 }),
        // A gate ten minutes off (the clock-skew drill): its events are kept.
        gate.append({ kind: "refused", at: now + 10 * 60_000 }),
        gate.append({ kind: "refused", at: now - 3 * 24 * 3_600_000 }),
      ];
      const result = store.ingest(gateId, { after: 0, sig: "", events: "" }, events, now);
      if (result.kind !== "stored") throw new Error("the batch did not follow on");
      expect(result.acked).toBe(5);
      expect(result.rejected.map((r) => [r.gateSeq, r.reason])).toEqual([
        [1, "implausible-time"],
        [2, "implausible-time"],
        [3, "implausible-time"],
      ]);
      expect(result.rejected[0]?.detail).toMatch(/h ahead of the server's clock/);
      expect(result.rejected[2]?.detail).toMatch(/1970-01-01T00:00:00.000Z is \d+ h behind/);
      expect(store.eventsOfGate(gateId).map((e) => e.gateSeq)).toEqual([4, 5]);
      // Logged where the dashboard shows refusals.
      expect(store.rejections(10, gateId).filter((r) => r.reason === "implausible-time")).toHaveLength(3);
    } finally {
      store.close();
    }
  });

  it("scans under a revoked issuer key: one alert per key and gate whose count grows, no forgery alert", () => {
    const signer = createNodeSigner();
    const now = Date.now();
    const demo = generateDemoVenue({
      spectators: 20,
      doorsOpenMs: now - 3_600_000,
      entrances: 2,
      lanes: 2,
      random: seededRandom("store-revoked-key"),
      signer,
    });
    const venueDir = join(dir.path, "venue-revoked");
    writeVenueDirectory(venueDir, demo, signer);
    const store = setUpServerStore(venueDir, join(dir.path, "data-revoked"), { now });
    try {
      const [a, b] = demo.venue.gates.map((g) => g.id);
      if (!a || !b) throw new Error("two gates expected");
      for (const g of [a, b]) provisionGateInStore(store, g, testGateKey(demo.venue.id, g).request, now);
      const gates = { [a]: new MemoryGateStore(a), [b]: new MemoryGateStore(b) };
      const acked = { [a]: 0, [b]: 0 };
      const batch = (gateId: string, keys: number[], at: number, reason: ReasonCode = "KEY_REVOKED") => {
        const gate = gates[gateId] as MemoryGateStore;
        const events = keys.map((issuerKeyId, i) =>
          gate.append({ kind: "refused", reason, issuerKeyId, ticketId: 100 + i, at }),
        );
        const result = store.ingest(gateId, { after: acked[gateId] ?? 0, sig: "", events: "" }, events, at);
        if (result.kind !== "stored") throw new Error("the batch did not follow on");
        acked[gateId] = result.acked;
        return result;
      };
      // A rotation: key 3 revoked, its holders keep coming to gate a, batch after batch.
      const first = batch(a, [3, 3, 3], now);
      expect(first.alerts).toEqual([
        expect.objectContaining({
          type: "revoked-key-scans",
          gates: [a],
          issuerKeyId: 3,
          count: 3,
          lastAt: now,
          detail: `3 scans at gate ${a} of tickets under revoked issuer key 3 (revoked in the trust list)`,
        }),
      ]);
      const id = first.alerts[0]?.id ?? 0;
      const second = batch(a, [3, 3], now + 1_000);
      expect(second.alerts).toEqual([]);
      expect(second.updatedAlerts).toEqual([
        expect.objectContaining({ id, count: 5, at: now, lastAt: now + 1_000 }),
      ]);
      expect(second.updatedAlerts[0]?.detail).toMatch(/^5 scans at gate/);
      expect(second.updatedAlerts[0]?.eventIds).toHaveLength(5);
      // Another key at the same gate, the same key at another gate: an alert each.
      const mixed = batch(a, [3, 4], now + 2_000);
      expect(mixed.updatedAlerts.map((x) => [x.id, x.count])).toEqual([[id, 6]]);
      expect(mixed.alerts.map((x) => [x.issuerKeyId, x.count])).toEqual([[4, 1]]);
      expect(batch(b, [3], now + 3_000).alerts.map((x) => [x.gates, x.issuerKeyId])).toEqual([[[b], 3]]);
      // Issue 16: a key outside its validity window (a rotation) has its own alert, grouped the same way.
      const notValid = batch(b, [5, 5], now + 3_500, "KEY_NOT_VALID");
      expect(notValid.alerts.map((x) => [x.type, x.issuerKeyId, x.count])).toEqual([
        ["key-not-valid-scans", 5, 2],
      ]);
      expect(notValid.alerts[0]?.detail).toBe(
        `2 scans at gate ${b} of tickets under issuer key 5 (outside its validity window in the trust list)`,
      );
      expect(batch(b, [5], now + 3_600, "KEY_NOT_VALID").updatedAlerts.map((x) => x.count)).toEqual([3]);
      // Stored rows, not one per scan; never a forgery alert.
      const all = store.alerts();
      expect(all.map((x) => x.type).sort()).toEqual([
        "key-not-valid-scans",
        "revoked-key-scans",
        "revoked-key-scans",
        "revoked-key-scans",
      ]);
      expect(store.alert(id)).toMatchObject({ count: 6, lastAt: now + 2_000 });
      // Once acknowledged, the next scans open a new alert (a supervisor sees they go on).
      expect(store.acknowledgeAlert(id, "dupont", now + 4_000)).toBe(true);
      const after = batch(a, [3], now + 5_000);
      expect(after.alerts.map((x) => [x.issuerKeyId, x.count])).toEqual([[3, 1]]);
      expect(after.updatedAlerts).toEqual([]);
    } finally {
      store.close();
    }
  });

  it("stores a manual admission's supervisor override and fans it out with the entry", () => {
    const signer = createNodeSigner();
    const now = Date.now();
    const demo = generateDemoVenue({
      spectators: 20,
      doorsOpenMs: now - 3_600_000,
      entrances: 1,
      lanes: 1,
      random: seededRandom("store-override"),
      signer,
    });
    const venueDir = join(dir.path, "venue-override");
    writeVenueDirectory(venueDir, demo, signer);
    const store = setUpServerStore(venueDir, join(dir.path, "data-override"), { now });
    try {
      const gateId = demo.venue.gates[0]?.id ?? "A1";
      provisionGateInStore(store, gateId, testGateKey(demo.venue.id, gateId).request, now);
      const ticket = demo.bundle.tickets[0];
      if (!ticket) throw new Error("demo venue without tickets");
      const gate = new MemoryGateStore(gateId);
      const override = { supervisor: "SUP-01", note: "phone battery dead", state: "MOBILE_TICKET" } as const;
      const manual = {
        reason: "SUPERVISOR_OVERRIDE",
        ticketId: ticket.id,
        generation: ticket.generation,
        session: 1,
        manual: true,
        steward: "S-001",
        override,
        at: now,
      } as const;
      const authorized = gate.append({ kind: "authorized", authorizationId: "auth-1", ...manual });
      const entered = gate.append({ kind: "entered", authorizationId: "auth-1", ...manual });
      const result = store.ingest(gateId, { after: 0, sig: "", events: "" }, [authorized, entered], now);
      if (result.kind !== "stored") throw new Error("the batch did not follow on");
      expect(store.eventsOfGate(gateId).map((e) => e.override)).toEqual([override, override]);
      const fanned = store.admissionsFrom(1, 10).map((a) => a.event);
      expect(fanned).toEqual([expect.objectContaining({ kind: "entered", steward: "S-001", override })]);
    } finally {
      store.close();
    }
  });
});
