import { join } from "node:path";
import type { EntryLogEvent } from "@sesame/gate-core";
import type { MemoryGateStore } from "@sesame/sync/testing";
import { afterEach, describe, expect, it } from "vitest";
import { ServerStore } from "../src/store.js";
import { BROKERS, sleep, World, waitFor } from "./harness.js";

/*
 * No loss, no duplicate, in order per gate: a long outage, the broker killed mid-stream, the
 * sync-server killed mid-stream (SIGKILL, real processes) — against embedded aedes and Mosquitto.
 */

/**
 * `n` events of a gate (n a multiple of 5): mostly admissions (authorized, then entered: fanned out),
 * each of the next ticket of `tickets`, and some refusals (stored, not fanned out).
 */
function appendEvents(store: MemoryGateStore, n: number, tickets: number[]): EntryLogEvent[] {
  const out: EntryLogEvent[] = [];
  for (let i = 0; i < n; i += 5) {
    for (let k = 0; k < 2; k++) {
      const ticketId = tickets.shift();
      if (ticketId === undefined) throw new Error("the venue has too few tickets for this test");
      const entered = store.admit({ ticketId, session: 1 });
      out.push(...store.outboxPending(entered.gateSeq - 2, 2));
    }
    out.push(store.append({ kind: "refused", reason: "EXPIRED_CODE" }));
  }
  return out;
}

/** Enough for 2,004 distinct entries at entrance A for session 1 (the server checks every entry's ticket). */
const SPECTATORS = 7000;

function expectStoredExactlyInOrder(
  store: ServerStore,
  gateId: string,
  sent: readonly EntryLogEvent[],
): void {
  const stored = store.eventsOfGate(gateId);
  expect(stored.length).toBe(sent.length);
  const ids = new Set(stored.map((e) => e.eventId));
  expect(ids.size).toBe(sent.length);
  stored.forEach((e, i) => {
    const expected = sent[i];
    expect(e.gateSeq).toBe(expected?.gateSeq);
    expect(e.eventId).toBe(expected?.eventId);
  });
}

describe.each(BROKERS)("delivery (%s)", (broker) => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it("a gate offline for a long stretch with 5,000 events: all stored exactly once, in order", async () => {
    world = await World.create(broker, { spectators: SPECTATORS });
    const server = world.requireServer();
    const tickets = world.ticketsAt(1);
    const a = world.gate("A1");
    const b = world.gate("B1");
    await waitFor(() => a.sync.status().connected && b.sync.status().connected, 15_000, "gates connected");
    const first = appendEvents(a.store, 10, tickets);
    a.sync.notifyOutbox();
    await waitFor(() => a.store.outboxDepth() === 0, 15_000, "first events acknowledged");
    await a.sync.stop();
    await waitFor(
      () => server.store.gate("A1")?.status === "offline",
      10_000,
      "A1 offline (retained status)",
    );
    // The long stretch: 5,000 events pile up in the outbox while the gate is cut off.
    const offline = appendEvents(a.store, 5000, tickets);
    expect(a.store.outboxDepth()).toBe(5000);
    a.sync.start();
    await waitFor(() => a.store.outboxDepth() === 0, 60_000, "backlog acknowledged");
    expectStoredExactlyInOrder(server.store, "A1", [...first, ...offline]);
    // Every entry reached the other gate, which now refuses those codes as already entered.
    const entries = [...first, ...offline].filter((e) => e.kind === "entered").length;
    await waitFor(() => b.store.seen.size === entries, 30_000, "admissions fanned out to B1");
    expect(server.store.gate("A1")?.ackedSeq).toBe(5010);
  });

  it("the broker killed and restarted mid-stream loses nothing", async () => {
    world = await World.create(broker, { spectators: SPECTATORS });
    const server = world.requireServer();
    const a = world.gate("A1", { tuning: { batchEvents: 20, windowEvents: 100 } });
    await waitFor(() => a.sync.status().connected, 15_000, "A1 connected");
    const sent = appendEvents(a.store, 3000, world.ticketsAt(1));
    a.sync.notifyOutbox();
    await waitFor(() => server.store.eventCount("A1") >= 300, 30_000, "stream under way");
    if (broker === "aedes") {
      const pid = server.brokerProcess?.pid;
      server.brokerProcess?.kill("SIGKILL");
      // The sync-server's supervisor starts a new broker process on the same port.
      await waitFor(
        () => server.brokerProcess?.pid !== undefined && server.brokerProcess.pid !== pid,
        30_000,
        "broker restarted",
      );
    } else {
      await world.mosquitto?.kill("SIGKILL");
      await sleep(300);
      await world.mosquitto?.start();
    }
    await waitFor(
      () => a.store.outboxDepth() === 0,
      60_000,
      "everything acknowledged after the broker came back",
    );
    expectStoredExactlyInOrder(server.store, "A1", sent);
    expect(a.sync.status().connects).toBeGreaterThanOrEqual(2);
  });

  it("the sync-server killed (SIGKILL) and restarted mid-stream loses nothing", async () => {
    world = await World.create(broker, { serverProcess: true, spectators: SPECTATORS });
    const w = world;
    const tickets = w.ticketsAt(1);
    const dbPath = join(w.dataDir, "sync.db");
    const a = w.gate("A1", { tuning: { batchEvents: 20, windowEvents: 100 } });
    const b = w.gate("B1");
    await waitFor(() => a.sync.status().connected && b.sync.status().connected, 15_000, "gates connected");
    const sent = appendEvents(a.store, 3000, tickets);
    a.sync.notifyOutbox();
    const reader = new ServerStore(dbPath, { readonly: true });
    try {
      await waitFor(() => reader.eventCount("A1") >= 300, 30_000, "stream under way");
      await w.killServerProcess();
      const atKill = reader.eventCount("A1");
      expect(atKill).toBeLessThan(3000);
      // Events keep being produced while the server is down; they wait in the outbox.
      const more = appendEvents(a.store, 200, tickets);
      await sleep(500);
      await w.startServerProcess();
      await waitFor(
        () => a.store.outboxDepth() === 0,
        60_000,
        "everything acknowledged by the restarted server",
      );
      expectStoredExactlyInOrder(reader, "A1", [...sent, ...more]);
      const entries = [...sent, ...more].filter((e) => e.kind === "entered").length;
      await waitFor(() => b.store.seen.size === entries, 30_000, "admissions fanned out to B1");
    } finally {
      reader.close();
    }
  });
});
