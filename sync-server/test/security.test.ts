import { encodeEventBatch, PROTOCOL_VERSION, signEventBatch, venueTopics } from "@sesame/sync";
import { MemoryGateStore } from "@sesame/sync/testing";
import { publishBounded, rawClient } from "@sesame/testing";
import { createNodeSigner } from "@sesame/ticket";
import { afterEach, describe, expect, it } from "vitest";
import { BROKERS, sleep, World, waitFor } from "./harness.js";

/*
 * Identities and rights: an unauthenticated client, a gate publishing as another gate, forged or
 * mislabelled batches, and garbage on every topic the server consumes — each refused with a
 * reason and logged, never a hang, while the honest gates keep flowing.
 */

const signer = createNodeSigner();

describe.each(BROKERS)("security (%s)", (broker) => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it("refuses unauthenticated clients and wrong passwords, and logs them", async () => {
    world = await World.create(broker);
    const anonymous = await rawClient(world.brokerUrl, { clientId: "intruder" });
    expect(anonymous.ok).toBe(false);
    const wrong = await rawClient(world.brokerUrl, {
      clientId: "gate-A1",
      username: "gate-A1",
      password: "guess",
    });
    expect(wrong.ok).toBe(false);
    if (!wrong.ok) expect(wrong.error).toMatch(/not authori[sz]ed|bad user ?name or password|closed/i);
    if (broker === "aedes") {
      const server = world.requireServer();
      await waitFor(
        () => server.store.rejections(10).filter((r) => r.reason === "auth-failed").length >= 2,
        5000,
        "auth failures logged",
      );
    } else {
      await waitFor(
        () => /not authori[sz]ed/i.test(world?.mosquitto?.output ?? ""),
        5000,
        "mosquitto logged the refusal",
      );
    }
  });

  it("a gate publishing as another gate is refused and logged; the others keep flowing", async () => {
    world = await World.create(broker, { mosquittoLogTypes: ["all"] });
    const server = world.requireServer();
    const topics = venueTopics(server.venue.id);
    const a = world.provisioning("A1");
    const conn = await rawClient(world.brokerUrl, {
      clientId: a.mqtt.clientId,
      username: a.mqtt.username,
      password: a.mqtt.password,
    });
    expect(conn.ok).toBe(true);
    if (!conn.ok) return;
    // A1's credentials, B1's topic, a batch that even claims to be B1's (signed with A1's key).
    const forged = new MemoryGateStore("B1").append({ kind: "entered", ticketId: 100_001, session: 1 });
    const batch = signEventBatch("B1", 0, [forged], world.gateSeed("A1"), signer);
    const outcome = await publishBounded(conn.client, topics.gate("B1", "events"), encodeEventBatch(batch));
    // aedes closes the connection; Mosquitto (3.1.1) acks and drops silently. Neither hangs.
    expect(broker === "aedes" ? ["closed", "error", "timeout"] : ["acked"]).toContain(outcome);
    conn.client.end(true);
    const b = world.gate("B1");
    const own = world.ticketsAt(2)[0] ?? 0;
    b.store.admit({ ticketId: own, session: 1 });
    b.sync.notifyOutbox();
    await waitFor(() => b.store.outboxDepth() === 0, 15_000, "B1's own events acknowledged");
    const stored = server.store.eventsOfGate("B1");
    expect(stored.map((e) => [e.kind, e.ticketId])).toEqual([
      ["authorized", own],
      ["entered", own],
    ]);
    if (broker === "aedes") {
      expect(server.store.rejections(20).some((r) => r.reason === "denied" && r.source === "gate-A1")).toBe(
        true,
      );
    } else {
      // Mosquitto (3.1.1) acks and drops it; it logs the denial (at log_type debug in 2.0.11).
      await waitFor(
        () => /Denied PUBLISH from gate-A1 .*gates\/B1\/events/.test(world?.mosquitto?.output ?? ""),
        5000,
        "mosquitto logged the denied publish",
      );
    }
  });

  it("a retained message where the protocol keeps none: aedes refuses it; Mosquitto keeps it and the server refuses to apply it", async () => {
    world = await World.create(broker);
    const topics = venueTopics(world.requireServer().venue.id);
    const a = world.provisioning("A1");
    const conn = await rawClient(world.brokerUrl, {
      clientId: a.mqtt.clientId,
      username: a.mqtt.username,
      password: a.mqtt.password,
    });
    if (!conn.ok) throw new Error(conn.error);
    const heartbeat = topics.gate("A1", "heartbeat");
    const outcome = await publishBounded(conn.client, heartbeat, '{"v":1}', 5000, { retain: true });
    conn.client.end(true);
    const refusal = (detail: string) => (r: { reason: string; topic?: string | null; detail: string }) =>
      r.reason === "denied" && r.topic === heartbeat && r.detail.endsWith(detail);
    if (broker === "aedes") {
      expect(["closed", "error", "timeout"]).toContain(outcome);
      const server = world.requireServer();
      await waitFor(
        () =>
          server.store
            .rejections(20, "gate-A1")
            .some(refusal("retained messages are not allowed on this topic")),
        5000,
        "the retained publish refused",
      );
      return;
    }
    // Mosquitto's ACL has no retain rule: stored. It reaches the server, flagged retained, when the
    // server subscribes again (here: a restart); the server does not apply it and alerts.
    expect(outcome).toBe("acked");
    await world.requireServer().stop();
    const server = await world.startServer();
    await waitFor(
      () =>
        server.store
          .rejections(20, "gate-A1")
          .some(refusal("a retained message where the protocol retains none: not applied")),
      10_000,
      "the retained message refused by the server",
    );
    expect(server.store.alerts(20).some((x) => x.type === "broker-denied" && x.gates.includes("A1"))).toBe(
      true,
    );
  });

  it("refuses mislabelled, forged and foreign-gate batches with a reason; valid events still pass", async () => {
    world = await World.create(broker);
    const server = world.requireServer();
    const topics = venueTopics(server.venue.id);
    const a = world.provisioning("A1");
    const seed = world.gateSeed("A1");
    const conn = await rawClient(world.brokerUrl, {
      clientId: a.mqtt.clientId,
      username: a.mqtt.username,
      password: a.mqtt.password,
    });
    if (!conn.ok) throw new Error(conn.error);
    const own = new MemoryGateStore("A1");
    // Refusals: what is checked here is the batch and its labels, not what the events say.
    const e1 = own.append({ kind: "refused", reason: "EXPIRED_CODE", ticketId: 100_010, session: 1 });
    const events = topics.gate("A1", "events");
    // 1. payload says B1 on A1's topic.
    expect(
      await publishBounded(
        conn.client,
        events,
        encodeEventBatch(signEventBatch("B1", 0, [e1], seed, signer)),
      ),
    ).toBe("acked");
    // 2. signed with another key.
    const otherSeed = Buffer.alloc(32, 7);
    expect(
      await publishBounded(
        conn.client,
        events,
        encodeEventBatch(signEventBatch("A1", 0, [e1], otherSeed, signer)),
      ),
    ).toBe("acked");
    // 3. properly signed by A1 but one event inside claims to come from B1.
    const e2 = {
      ...own.append({ kind: "refused", reason: "EXPIRED_CODE", ticketId: 100_011, session: 1 }),
      gateId: "B1",
    };
    const e3 = own.append({ kind: "refused", reason: "EXPIRED_CODE", ticketId: 100_012, session: 1 });
    expect(
      await publishBounded(
        conn.client,
        events,
        encodeEventBatch(signEventBatch("A1", 0, [e1, e2, e3], seed, signer)),
      ),
    ).toBe("acked");
    await waitFor(() => server.store.gate("A1")?.ackedSeq === 3, 10_000, "third batch processed");
    const reasons = server.store.rejections(50, "A1").map((r) => r.reason);
    expect(reasons).toContain("gate-mismatch");
    expect(reasons).toContain("bad-signature");
    expect(server.store.eventsOfGate("A1").map((e) => e.gateSeq)).toEqual([1, 3]);
    expect(server.store.rejections(50, "A1").some((r) => r.detail.includes("gateSeq 2"))).toBe(true);
    conn.client.end(true);
  });

  it("rejects malformed JSON, oversized payloads and unknown versions on every server topic; the rest flows", async () => {
    world = await World.create(broker);
    const server = world.requireServer();
    const topics = venueTopics(server.venue.id);
    const a = world.provisioning("A1");
    const conn = await rawClient(world.brokerUrl, {
      clientId: a.mqtt.clientId,
      username: a.mqtt.username,
      password: a.mqtt.password,
    });
    if (!conn.ok) throw new Error(conn.error);
    const leaves = ["events", "replay", "status", "heartbeat", "command-acks"] as const;
    const garbage = [
      { payload: "{not json", reason: "malformed-json" },
      { payload: JSON.stringify({ v: PROTOCOL_VERSION, pad: "x".repeat(600 * 1024) }), reason: "oversized" },
      { payload: JSON.stringify({ v: 99, state: "online" }), reason: "unknown-version" },
    ];
    // One at a time: aedes may drop a QoS 1 message overtaken by a later one on its way to the same
    // subscriber (moscajs/aedes#994); gates recover from that by acks and replays, this test would not.
    let expected = 0;
    for (const leaf of leaves)
      for (const g of garbage) {
        expect(await publishBounded(conn.client, topics.gate("A1", leaf), g.payload, 5000)).toBe("acked");
        expected++;
        await waitFor(
          () => server.store.rejections(100, "A1").length >= expected,
          10_000,
          `rejection of ${g.reason} on ${leaf}`,
        );
      }
    const logged = server.store.rejections(100, "A1");
    for (const leaf of leaves)
      for (const g of garbage)
        expect(
          logged.some((r) => r.topic === topics.gate("A1", leaf) && r.reason === g.reason),
          `${leaf} ${g.reason}`,
        ).toBe(true);
    conn.client.end(true);
    await sleep(100);
    // The honest traffic of both gates goes on.
    const gateA = world.gate("A1");
    const gateB = world.gate("B1");
    const atA = world.ticketsAt(1)[0] ?? 0;
    const atB = world.ticketsAt(2)[0] ?? 0;
    gateA.store.admit({ ticketId: atA, session: 1 });
    gateB.store.admit({ ticketId: atB, session: 1 });
    gateA.sync.notifyOutbox();
    gateB.sync.notifyOutbox();
    await waitFor(
      () => gateA.store.outboxDepth() === 0 && gateB.store.outboxDepth() === 0,
      15_000,
      "both gates acknowledged",
    );
    await waitFor(
      () => gateB.store.seen.get(atA) === "A1" && gateA.store.seen.get(atB) === "B1",
      10_000,
      "fan-out",
    );
  });
});
