import { afterEach, describe, expect, it } from "vitest";
import { BROKERS, World, waitFor } from "./harness.js";

describe.each(BROKERS)("smoke (%s)", (broker) => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it("delivers events, acks them and fans admissions out", async () => {
    world = await World.create(broker);
    const a = world.gate("A1");
    const b = world.gate("B1");
    await waitFor(() => a.sync.status().connected && b.sync.status().connected, 10_000, "gates connected");
    // Admissions as a gate's journal writes them: authorized, then entered, for tickets of A1's entrance.
    for (const ticketId of world.ticketsAt(1).slice(0, 10)) a.store.admit({ ticketId, session: 1 });
    a.sync.notifyOutbox();
    await waitFor(() => a.store.outboxDepth() === 0, 10_000, "outbox drained");
    expect(world.requireServer().store.eventCount("A1")).toBe(20);
    await waitFor(() => b.store.seen.size === 10, 10_000, "fan-out to B1");
  });
});
