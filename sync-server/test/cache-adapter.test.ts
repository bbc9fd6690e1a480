import { join } from "node:path";
import { GateStore } from "@sesame/cache";
import { type Decision, stewardMessages } from "@sesame/gate-core";
import { CacheSyncStore, GateSync } from "@sesame/sync";
import { afterEach, describe, expect, it } from "vitest";
import { BROKERS, FAST_GATE, World, waitFor } from "./harness.js";

/*
 * The gate's sync over the real gate cache (@sesame/cache): the outbox leaves on the server's ack,
 * another gate's admission lands in the seen table, and feed changes go through the cache's
 * idempotent path — against both brokers.
 */

function admit(ticketId: number, generation: number): Decision {
  return {
    outcome: "ADMIT",
    reason: "ADMITTED",
    messages: stewardMessages("ADMITTED"),
    ticketId,
    generation,
    session: 1,
  };
}

describe.each(BROKERS)("sync over the real gate cache (%s)", (broker) => {
  let world: World | undefined;
  const closers: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of closers.reverse()) await c();
    closers.length = 0;
    await world?.close();
    world = undefined;
  });

  it("outbox, fan-out and feed through @sesame/cache's GateStore", async () => {
    world = await World.create(broker);
    const w = world;
    const server = w.requireServer();
    const rootPublicKey = Buffer.from(server.venue.rootPublicKey, "hex");
    const cache = GateStore.open(join(w.dir.path, "A1.db"), { rootPublicKey, gateId: "A1" });
    closers.push(() => cache.close());
    cache.importBundle(w.venueDir);
    const sync = new GateSync({
      provisioning: w.provisioning("A1"),
      signingSeed: w.gateSeed("A1"),
      store: new CacheSyncStore(cache),
      brokerUrl: w.brokerUrl,
      httpBaseUrl: `http://127.0.0.1:${server.httpPort}`,
      tuning: FAST_GATE,
    });
    sync.start();
    closers.push(() => sync.stop());
    const b = w.gate("B1");
    await waitFor(() => sync.status().connected && b.sync.status().connected, 15_000, "gates connected");
    // The bundle's late sales arrive through the feed, applied by the cache.
    await waitFor(
      () => cache.feedSequence === server.store.feedSequence(),
      10_000,
      "cache caught up with the feed",
    );

    // An admission at A1, recorded by the cache, reaches the server and B1.
    // A ticket of A1's entrance and one of B1's (the server refuses an admission of any other).
    const ticket = server.store.ticket(w.ticketsAt(1)[0] ?? 0);
    if (!ticket) throw new Error("demo ticket missing");
    const { authorization } = cache.authorize(admit(ticket.id, ticket.generation), {
      lane: 1,
      direction: "entry",
      at: Date.now(),
    });
    cache.confirmPassage(authorization.authorizationId, Date.now());
    sync.notifyOutbox();
    await waitFor(() => cache.outboxDepth() === 0, 10_000, "A1's outbox acknowledged");
    expect(server.store.eventsOfGate("A1").map((e) => e.kind)).toEqual(["authorized", "entered"]);
    await waitFor(() => b.store.seen.get(ticket.id) === "A1", 10_000, "B1 knows the entry");

    // An admission at B1 lands in A1's seen table: A1 would now refuse that code.
    const atB = w.ticketsAt(2)[0] ?? 0;
    b.store.admit({ ticketId: atB, session: 1 });
    b.sync.notifyOutbox();
    await waitFor(() => cache.facts().presence(atB, 1)?.firstEntryGate === "B1", 10_000, "seen at A1");

    // A resale at the issuer revokes the old code in A1's cache.
    const before = cache.feedSequence;
    const resale = w.requireIssuer().reassign(100_003, "resale", "Nouveau");
    await waitFor(() => cache.feedSequence === before + 1, 10_000, "resale applied by the cache");
    expect(cache.facts().ticket(100_003)?.generation).toBe(resale.generation);
  });
});
