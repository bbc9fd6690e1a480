import { join } from "node:path";
import { MemoryGateStore } from "@sesame/sync/testing";
import { makeTempDir } from "@sesame/testing";
import { createNodeSigner, seededRandom } from "@sesame/ticket";
import { generateDemoVenue, writeVenueDirectory } from "@sesame/venue";
import { afterAll, describe, expect, it } from "vitest";
import { openServerStore, provisionGateInStore } from "./server.js";
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
    const store = openServerStore(venueDir, join(dir.path, "data"), now);
    try {
      const gateId = demo.venue.gates[0]?.id ?? "A1";
      provisionGateInStore(store, gateId, now);
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
    const store = openServerStore(venueDir, join(dir.path, "data-override"), now);
    try {
      const gateId = demo.venue.gates[0]?.id ?? "A1";
      provisionGateInStore(store, gateId, now);
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
