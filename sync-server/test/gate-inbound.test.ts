import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { EntryLogEvent } from "@sesame/gate-core";
import {
  type Command,
  encodeCommandMessage,
  encodeFeed,
  GateSync,
  PROTOCOL_VERSION,
  type SyncLogEntry,
  signCommandText,
  venueTopics,
} from "@sesame/sync";
import { MemoryGateStore, TestVenueKeys } from "@sesame/sync/testing";
import { freePort, Mosquitto, makeTempDir, publishBounded, rawClient } from "@sesame/testing";
import { createNodeSigner, keyPairFromSeed } from "@sesame/ticket";
import { issuerChangeSigner } from "@sesame/venue";
import { certifiedSupervisor } from "@sesame/venue/testing";
import type { MqttClient } from "mqtt";
import { afterEach, describe, expect, it } from "vitest";
import { type EmbeddedBroker, startEmbeddedBroker } from "../src/broker/aedes.js";
import { BROKERS, FAST_GATE, waitFor } from "./harness.js";

/*
 * The gate's side: garbage on every topic a gate listens to (malformed JSON, oversized, unknown
 * version, forged commands) is rejected with a reason in the gate's log, and valid messages after
 * it are still applied. A broker that takes any password lets the test publish as the server.
 */

const signer = createNodeSigner();
const venue = new TestVenueKeys("SDF", [
  { gateId: "A1", entranceId: 1 },
  { gateId: "B1", entranceId: 1 },
]);

describe.each(BROKERS)("gate inbound messages (%s)", (broker) => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.reverse()) await c();
    cleanups.length = 0;
  });

  async function openBroker(): Promise<string> {
    if (broker === "aedes") {
      const b: EmbeddedBroker = await startEmbeddedBroker({
        venueId: "SDF",
        host: "127.0.0.1",
        port: 0,
        // Any password: gate A1 with its rights, anyone else with the server's.
        credentials: {
          principal: (username) =>
            username === "gate-A1" ? { kind: "gate", gateId: "A1", entranceId: 1 } : { kind: "server" },
        },
      });
      cleanups.push(() => b.close());
      return `mqtt://127.0.0.1:${b.port}`;
    }
    const dir = makeTempDir("sesame-mosq-open-");
    const port = await freePort();
    const config = join(dir.path, "open.conf");
    writeFileSync(
      config,
      [
        ...(process.getuid?.() === 0 ? ["user root"] : []),
        "persistence false",
        "log_dest stderr",
        `listener ${port} 127.0.0.1`,
        "allow_anonymous true",
        "",
      ].join("\n"),
    );
    const m = new Mosquitto(config, port);
    await m.start();
    cleanups.push(async () => {
      await m.kill("SIGTERM");
      dir.remove();
    });
    return `mqtt://127.0.0.1:${port}`;
  }

  it("rejects garbage on every inbound topic with a reason and keeps applying valid messages", async () => {
    const url = await openBroker();
    const commandSeed = venue.operationsSeed;
    const issuerSeed = Buffer.alloc(32, 4);
    const issuer = issuerChangeSigner("SDF", { keyId: 1, seed: issuerSeed }, signer);
    const store = new MemoryGateStore("A1", {
      feedSequence: 5,
      trustList: {
        venue: "SDF",
        version: 1,
        issuedAt: 0,
        keys: [
          {
            keyId: 1,
            publicKey: keyPairFromSeed(issuerSeed).publicKey,
            validFrom: 0,
            validUntil: 2 ** 31,
            revoked: false,
          },
        ],
      },
    });
    const logs: SyncLogEntry[] = [];
    const executed: Command[] = [];
    const sync = new GateSync({
      provisioning: venue.provisioning("A1", { gateList: venue.gateList() }),
      signingSeed: venue.gate("A1").seed,
      store,
      brokerUrl: url,
      tuning: FAST_GATE,
      log: (e) => logs.push(e),
      onCommand: (c) => {
        executed.push(c);
        return { status: "done" };
      },
    });
    sync.start();
    cleanups.push(() => sync.stop());
    await waitFor(() => sync.status().connected, 10_000, "gate connected");
    const conn = await rawClient(url, { clientId: "test-server", username: "sync-server", password: "x" });
    if (!conn.ok) throw new Error(conn.error);
    const client: MqttClient = conn.client;
    cleanups.push(() => void client.end(true));
    const acks: string[] = [];
    const t = venueTopics("SDF");
    await client.subscribeAsync(t.gate("A1", "command-acks"), { qos: 1 });
    client.on("message", (_topic, payload) => acks.push(payload.toString()));

    const inbound = [
      t.gate("A1", "ack"),
      t.gate("A1", "changes"),
      t.gate("A1", "commands"),
      t.entranceCommands(1),
      t.feed,
      t.admissions,
      t.trustList,
      t.gateList,
      t.serverHeartbeat,
      t.serverStatus,
    ];
    const garbage = [
      { payload: "{not json", reason: "malformed-json" },
      { payload: JSON.stringify({ v: PROTOCOL_VERSION, pad: "x".repeat(600 * 1024) }), reason: "oversized" },
      { payload: JSON.stringify({ v: 42, stream: "feed", changes: [] }), reason: "unknown-version" },
    ];
    const rejected = () => logs.filter((l) => l.code === "rejected");
    for (const topic of inbound)
      for (const g of garbage) {
        const before = rejected().length;
        expect(await publishBounded(client, topic, g.payload, 5000)).toBe("acked");
        await waitFor(() => rejected().length > before, 5000, `rejection of ${g.reason} on ${topic}`);
        expect(rejected().at(-1)).toMatchObject({ topic, reason: g.reason });
      }
    // A command signed by someone else: refused, never executed.
    const forged: Command = {
      id: "cmd-forged",
      type: "free-passage",
      target: { gate: "A1" },
      by: "mallory",
      issuedAt: Date.now(),
      expiresAt: Date.now() + 60_000,
    };
    const forgedJson = JSON.stringify(forged);
    await publishBounded(
      client,
      t.gate("A1", "commands"),
      encodeCommandMessage({
        command: forgedJson,
        sig: signCommandText(forgedJson, Buffer.alloc(32, 9), signer),
      }),
    );
    await waitFor(() => rejected().some((l) => l.reason === "bad-signature"), 5000, "forged command refused");
    // A feed change signed by a stranger's key under the issuer's key id: refused, not applied.
    const stranger = issuerChangeSigner("SDF", { keyId: 1, seed: Buffer.alloc(32, 8) }, signer);
    const refusedBefore = sync.status().refusedMessages;
    await publishBounded(
      client,
      t.feed,
      encodeFeed({ changes: [stranger.sign({ sequence: 6, type: "cancel", ticketId: 100_003 })] }),
    );
    await waitFor(
      () => sync.status().refusedMessages === refusedBefore + 1,
      5000,
      "forged feed change refused",
    );
    expect(rejected().at(-1)).toMatchObject({ topic: t.feed, reason: "bad-signature" });
    expect(store.feedSequence()).toBe(5);

    // Valid messages after all that: applied.
    const remote: EntryLogEvent = {
      eventId: "B1-1",
      gateId: "B1",
      gateSeq: 1,
      lane: 1,
      kind: "entered",
      direction: "entry",
      reason: "ADMITTED",
      ticketId: 100_001,
      session: 1,
      manual: false,
      at: Date.now(),
    };
    await publishBounded(client, t.admissions, venue.admissions([remote], 1));
    await publishBounded(
      client,
      t.feed,
      encodeFeed({ changes: [issuer.sign({ sequence: 6, type: "cancel", ticketId: 100_002 })] }),
    );
    // A free passage the operations key alone signed (a compromised venue server): refused, never
    // executed, acknowledged as refused.
    const opsOnly: Command = { ...forged, id: "cmd-ops-only", by: "supervisor" };
    const opsOnlyJson = JSON.stringify(opsOnly);
    await publishBounded(
      client,
      t.gate("A1", "commands"),
      encodeCommandMessage({ command: opsOnlyJson, sig: signCommandText(opsOnlyJson, commandSeed, signer) }),
    );
    await waitFor(
      () => acks.some((a) => a.includes("cmd-ops-only") && a.includes('"refused"')),
      5000,
      "free passage without a supervisor's signature refused",
    );
    expect(rejected().at(-1)).toMatchObject({ topic: t.gate("A1", "commands"), reason: "bad-signature" });
    // The same command, signed by the supervisor with a root-certified key: executed (a refusal for
    // want of the supervisor's signature is not remembered against the id).
    const supervisor = certifiedSupervisor({
      rootSeed: venue.rootSeed,
      venueId: "SDF",
      supervisor: "supervisor",
    });
    const good: Command = opsOnly;
    const goodJson = JSON.stringify(good);
    await publishBounded(
      client,
      t.gate("A1", "commands"),
      encodeCommandMessage({
        command: goodJson,
        sig: signCommandText(goodJson, commandSeed, signer),
        supervisor: supervisor.sign(goodJson),
      }),
    );
    await waitFor(() => store.seen.get(100_001) === "B1", 20_000, "admission applied");
    await waitFor(() => store.feedSequence() === 6, 5000, "feed change applied");
    await waitFor(
      () => executed.length === 1 && acks.some((a) => a.includes("cmd-ops-only") && a.includes('"done"')),
      5000,
      "command executed and acked",
    );
    expect(executed[0]?.id).toBe("cmd-ops-only");
    expect(sync.status().connected).toBe(true);
  });
});
