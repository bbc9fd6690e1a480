import { ManualClock } from "@sesame/bridge/testing";
import { createNodeSigner, createNodeVerifier, keyPairFromSeed, type TrustList } from "@sesame/ticket";
import { issuerChangeSigner } from "@sesame/venue";
import { describe, expect, it } from "vitest";
import { GateSync, type SyncLogEntry } from "./gate-sync.js";
import { MemoryMqttClient } from "./memory-mqtt.js";
import { MemoryGateStore } from "./memory-store.js";
import { decodeEventBatch, decodeGateHeartbeat, encodeAck, encodeFeed } from "./protocol.js";
import { PROVISIONING_FORMAT } from "./provisioning.js";
import { venueTopics } from "./topics.js";

/*
 * GateSync through its ports: a manual clock for its timers and an in-memory MQTT client, no
 * broker. With an outbox that is notified of every commit, the idle poll reads nothing; a
 * notification sends at once; a missing ack is still probed after the ack timeout. The ticket feed
 * is applied only when every change verifies against the issuer keys of the trust list held.
 */

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const topics = venueTopics("SDF");

const ISSUER_SEED = Buffer.alloc(32, 4);
/** The trust list the gate holds: issuer key 1, and key 2 revoked. */
const TRUST: TrustList = {
  venue: "SDF",
  version: 3,
  issuedAt: 0,
  keys: [1, 2].map((keyId) => ({
    keyId,
    publicKey: keyPairFromSeed(keyId === 1 ? ISSUER_SEED : Buffer.alloc(32, 5)).publicKey,
    validFrom: 0,
    validUntil: 2 ** 31,
    revoked: keyId === 2,
  })),
};
const signer = createNodeSigner();
const issuer = issuerChangeSigner("SDF", { keyId: 1, seed: ISSUER_SEED }, signer);

function gate(options: { outboxNotified: boolean; verifier?: ReturnType<typeof createNodeVerifier> }) {
  const clock = new ManualClock();
  const store = new MemoryGateStore("A1", { trustList: TRUST });
  let reads = 0;
  const pending = store.outboxPending.bind(store);
  store.outboxPending = (after, limit) => {
    reads++;
    return pending(after, limit);
  };
  const batches: string[] = [];
  const heartbeats: string[] = [];
  let client: MemoryMqttClient | undefined;
  const logs: SyncLogEntry[] = [];
  const sync = new GateSync({
    provisioning: {
      format: PROVISIONING_FORMAT,
      venueId: "SDF",
      gateId: "A1",
      entranceId: 1,
      rootPublicKey: hex(keyPairFromSeed(Buffer.alloc(32, 1)).publicKey),
      serverCommandKey: hex(keyPairFromSeed(Buffer.alloc(32, 2)).publicKey),
      gateSigningSeed: hex(Buffer.alloc(32, 3)),
      gatePublicKey: hex(keyPairFromSeed(Buffer.alloc(32, 3)).publicKey),
      mqtt: { username: "gate-A1", password: "x", clientId: "gate-A1" },
      http: { token: "t" },
    },
    store,
    brokerUrl: "memory://venue",
    clock,
    mqtt: () => {
      client = new MemoryMqttClient(clock, (topic, payload) => {
        if (topic === topics.gate("A1", "events")) batches.push(String(payload));
        if (topic === topics.gate("A1", "heartbeat")) heartbeats.push(String(payload));
      });
      return client;
    },
    log: (entry) => logs.push(entry),
    outboxNotified: options.outboxNotified,
    ...(options.verifier ? { verifier: options.verifier } : {}),
  });
  const ack = (upToGateSeq: number) =>
    client?.deliver(topics.gate("A1", "ack"), encodeAck({ upToGateSeq, at: clock.now() }));
  const deliver = (topic: string, payload: string) => client?.deliver(topic, payload);
  return { clock, store, sync, batches, heartbeats, logs, ack, deliver, reads: () => reads };
}

describe("GateSync on a manual clock over an in-memory MQTT client", () => {
  it("sends a notified event at once and reads nothing while the outbox stays empty", async () => {
    const g = gate({ outboxNotified: true });
    g.sync.start();
    await g.clock.advance(1);
    expect(g.sync.status().connected).toBe(true);
    g.store.append({ kind: "refused" });
    g.sync.notifyOutbox();
    await g.clock.advance(1);
    expect(g.batches).toHaveLength(1);
    const batch = decodeEventBatch(g.batches[0] ?? "");
    expect(batch.ok && batch.value.after).toBe(0);
    g.ack(1);
    expect(g.store.ackedGateSeq).toBe(1);
    await g.clock.advance(1_000);
    const reads = g.reads();
    // A minute idle: no outbox read, no batch.
    await g.clock.advance(60_000);
    expect(g.reads()).toBe(reads);
    expect(g.batches).toHaveLength(1);
    // The next event wakes it.
    g.store.append({ kind: "refused" });
    g.sync.notifyOutbox();
    await g.clock.advance(1);
    expect(g.batches).toHaveLength(2);
    await g.sync.stop();
  });

  it("still probes a batch nobody acknowledged, after the ack timeout", async () => {
    const g = gate({ outboxNotified: true });
    g.sync.start();
    await g.clock.advance(1);
    g.store.append({ kind: "refused" });
    g.sync.notifyOutbox();
    await g.clock.advance(1);
    expect(g.batches).toHaveLength(1);
    await g.clock.advance(6_000);
    expect(g.batches).toHaveLength(2);
    expect(g.logs.some((l) => l.code === "ack-timeout")).toBe(true);
    await g.sync.stop();
  });

  it("without notifications, polls the outbox on every tick", async () => {
    const g = gate({ outboxNotified: false });
    g.sync.start();
    await g.clock.advance(1);
    g.store.append({ kind: "refused" });
    await g.clock.advance(300);
    expect(g.batches).toHaveLength(1);
    await g.sync.stop();
  });
});

describe("GateSync: the ticket feed, signed by the issuer", () => {
  const cancel = (sequence: number) => ({ sequence, type: "cancel" as const, ticketId: 100_000 + sequence });

  it("refuses a forged revoke-key change: nothing applied, the feed position stays, logged and reported", async () => {
    const g = gate({ outboxNotified: true });
    g.sync.start();
    await g.clock.advance(1);
    // Issue 15: one such message, published on the broker by someone else than the server, made
    // every gate refuse every ticket of key 1 and moved its feed position past the server's.
    g.deliver(
      topics.feed,
      JSON.stringify({ v: 1, stream: "feed", changes: [{ sequence: 1, type: "revoke-key", keyId: 1 }] }),
    );
    await g.clock.advance(1);
    expect(g.store.feedSequence()).toBe(0);
    expect(g.store.changes).toEqual([]);
    expect(g.sync.status()).toMatchObject({ feedSequence: 0, refusedMessages: 1 });
    // Not even news from the server: the data age does not get younger.
    expect(g.sync.status().lastServerContactAt).toBeUndefined();
    expect(g.store.issuerKeys().get(1)?.revoked).toBe(false);
    const logged = g.logs.filter((l) => l.level === "error");
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ topic: topics.feed, reason: "invalid" });
    expect(logged[0]?.detail).toMatch(/changes\[0\]\.type: must be one of issue, resale, transfer, cancel/);
    // The server hears of it at once, in a heartbeat (it raises the alert).
    const report = decodeGateHeartbeat(g.heartbeats.at(-1) ?? "");
    expect(report.ok && report.value.refused).toMatchObject({
      count: 1,
      topic: topics.feed,
      reason: "invalid",
    });
    // The same, signed by a key the trust list does not hold under that id: refused too.
    const stranger = issuerChangeSigner("SDF", { keyId: 1, seed: Buffer.alloc(32, 9) }, signer);
    g.deliver(topics.feed, encodeFeed({ changes: [stranger.sign(cancel(1))] }));
    await g.clock.advance(1);
    expect(g.store.feedSequence()).toBe(0);
    // The issuer's own change is applied.
    g.deliver(topics.feed, encodeFeed({ changes: [issuer.sign(cancel(1))] }));
    await g.clock.advance(1);
    expect(g.store.feedSequence()).toBe(1);
    expect(g.sync.status()).toMatchObject({ feedSequence: 1, refusedMessages: 2 });
    await g.sync.stop();
  });

  it("refuses unknown and revoked keys, altered changes, another venue's; one bad change refuses the message", async () => {
    const g = gate({ outboxNotified: true });
    g.sync.start();
    await g.clock.advance(1);
    const revokedKey = issuerChangeSigner("SDF", { keyId: 2, seed: Buffer.alloc(32, 5) }, signer);
    const unknownKey = issuerChangeSigner("SDF", { keyId: 9, seed: Buffer.alloc(32, 6) }, signer);
    const otherVenue = issuerChangeSigner("CDG", { keyId: 1, seed: ISSUER_SEED }, signer);
    const altered = { ...issuer.sign(cancel(1)), ticketId: 4242 };
    const cases = [
      { changes: [revokedKey.sign(cancel(1))], reason: "revoked-key" },
      { changes: [unknownKey.sign(cancel(1))], reason: "unknown-key" },
      { changes: [otherVenue.sign(cancel(1))], reason: "bad-signature" },
      { changes: [altered], reason: "bad-signature" },
      {
        changes: [issuer.sign(cancel(1)), { ...issuer.sign(cancel(2)), sig: "00".repeat(64) }],
        reason: "bad-signature",
      },
      { changes: [issuer.sign(cancel(1)), { ...cancel(2), keyId: 1 }], reason: "invalid" },
    ];
    for (const [i, c] of cases.entries()) {
      g.deliver(topics.feed, JSON.stringify({ v: 1, stream: "feed", changes: c.changes }));
      await g.clock.advance(1);
      expect(g.logs.at(-1), `case ${i}`).toMatchObject({
        level: "error",
        topic: topics.feed,
        reason: c.reason,
      });
      expect(g.sync.status().refusedMessages).toBe(i + 1);
    }
    // Replay answers on the gate's own topic are checked the same way.
    g.deliver(topics.gate("A1", "changes"), encodeFeed({ changes: [revokedKey.sign(cancel(1))] }));
    await g.clock.advance(1);
    expect(g.sync.status().refusedMessages).toBe(cases.length + 1);
    expect(g.store.changes).toEqual([]);
    expect(g.store.feedSequence()).toBe(0);
    expect(g.sync.status().lastServerContactAt).toBeUndefined();
    // Many refusals in a row make one report a second, not one heartbeat each.
    expect(g.heartbeats.length).toBeLessThan(cases.length);
    await g.sync.stop();
  });

  it("checks one signature per change", async () => {
    const node = createNodeVerifier();
    let checks = 0;
    const g = gate({
      outboxNotified: true,
      verifier: {
        name: "counting",
        verify: (message, signature, key) => {
          checks++;
          return node.verify(message, signature, key);
        },
      },
    });
    g.sync.start();
    await g.clock.advance(1);
    g.deliver(topics.feed, encodeFeed({ changes: [1, 2, 3].map((s) => issuer.sign(cancel(s))) }));
    await g.clock.advance(1);
    expect(g.store.feedSequence()).toBe(3);
    expect(checks).toBe(3);
    await g.sync.stop();
  });
});
