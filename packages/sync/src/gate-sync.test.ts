import { ManualClock } from "@sesame/bridge/testing";
import { keyPairFromSeed } from "@sesame/ticket";
import { describe, expect, it } from "vitest";
import { GateSync, type SyncLogEntry } from "./gate-sync.js";
import { MemoryMqttClient } from "./memory-mqtt.js";
import { MemoryGateStore } from "./memory-store.js";
import { decodeEventBatch, encodeAck } from "./protocol.js";
import { PROVISIONING_FORMAT } from "./provisioning.js";
import { venueTopics } from "./topics.js";

/*
 * GateSync through its ports: a manual clock for its timers and an in-memory MQTT client, no
 * broker. With an outbox that is notified of every commit, the idle poll reads nothing; a
 * notification sends at once; a missing ack is still probed after the ack timeout.
 */

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const topics = venueTopics("SDF");

function gate(options: { outboxNotified: boolean }) {
  const clock = new ManualClock();
  const store = new MemoryGateStore("A1");
  let reads = 0;
  const pending = store.outboxPending.bind(store);
  store.outboxPending = (after, limit) => {
    reads++;
    return pending(after, limit);
  };
  const batches: string[] = [];
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
      });
      return client;
    },
    log: (entry) => logs.push(entry),
    outboxNotified: options.outboxNotified,
  });
  const ack = (upToGateSeq: number) =>
    client?.deliver(topics.gate("A1", "ack"), encodeAck({ upToGateSeq, at: clock.now() }));
  return { clock, store, sync, batches, logs, ack, reads: () => reads };
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
