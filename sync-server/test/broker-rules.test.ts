import { venueTopics } from "@sesame/sync";
import { type MqttClient, makeTempDir, publishBounded, rawClient } from "@sesame/testing";
import aedesPersistenceLevel from "aedes-persistence-level";
import { Level } from "level";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  type BrokerAudit,
  type EmbeddedBroker,
  NO_CLIENT,
  startEmbeddedBroker,
} from "../src/broker/aedes.js";
import { waitFor } from "./harness.js";

/*
 * The embedded broker's own rules (docs/design.md §9), on a real aedes over TCP with fixed
 * credentials: a will only on the client's own status topic (else CONNACK 5), retained messages
 * only on presence and the trust list, no publish without a connected client (a will a dead broker
 * left behind). Each refusal is audited with the client id, username, topic and why.
 */

const t = venueTopics("SDF");

/** The part of aedes-persistence-level this test writes a dead broker's will with. */
interface WillPersistence {
  setup(broker: { id: string }): Promise<void>;
  putWill(client: { id: string }, packet: Record<string, unknown>): Promise<void>;
  streamWill(brokers: Record<string, number>): AsyncIterable<unknown>;
}
const willPersistence = (level: Level<string, unknown>) =>
  aedesPersistenceLevel(level) as unknown as WillPersistence;
const credentials = {
  principal(username: string, password: string) {
    if (password !== "pw") return undefined;
    if (username === "sync-server") return { kind: "server" as const };
    if (username === "gate-A1") return { kind: "gate" as const, gateId: "A1", entranceId: 1 };
    return undefined;
  },
};

describe("embedded broker rules", () => {
  const dir = makeTempDir("sesame-broker-rules-");
  let broker: EmbeddedBroker | undefined;
  const clients: MqttClient[] = [];
  const audits: BrokerAudit[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.end(true);
    await broker?.close();
    broker = undefined;
    audits.length = 0;
  });
  afterAll(() => dir.remove());

  const start = async (persistenceDir?: string) => {
    broker = await startEmbeddedBroker({
      venueId: "SDF",
      host: "127.0.0.1",
      port: 0,
      credentials,
      onAudit: (a) => audits.push(a),
      heartbeatMs: 100,
      ...(persistenceDir ? { persistenceDir } : {}),
    });
    return `mqtt://127.0.0.1:${broker.port}`;
  };
  const connect = async (url: string, username: string, extra: Record<string, unknown> = {}) => {
    const conn = await rawClient(url, { clientId: username, username, password: "pw", ...extra });
    if (!conn.ok) return conn;
    clients.push(conn.client);
    return conn;
  };
  const client = async (url: string, username: string) => {
    const conn = await connect(url, username);
    if (!conn.ok) throw new Error(`${username}: ${conn.error}`);
    return conn.client;
  };

  it("refuses a CONNECT whose will targets anything but the client's own status topic", async () => {
    const url = await start();
    for (const topic of [t.feed, t.admissions, t.gate("A1", "events"), t.gate("B1", "status")]) {
      const conn = await connect(url, "gate-A1", { will: { topic, payload: "x", qos: 1, retain: false } });
      expect(conn.ok, topic).toBe(false);
      if (!conn.ok) expect(conn.error).toMatch(/not authori[sz]ed/i);
    }
    expect(audits.map((a) => [a.type, a.clientId, a.username, a.topic])).toEqual([
      ["will-denied", "gate-A1", "gate-A1", t.feed],
      ["will-denied", "gate-A1", "gate-A1", t.admissions],
      ["will-denied", "gate-A1", "gate-A1", t.gate("A1", "events")],
      ["will-denied", "gate-A1", "gate-A1", t.gate("B1", "status")],
    ]);
    expect(audits[0]?.detail).toBe(`a will may only target ${t.gate("A1", "status")}`);
    const own = await connect(url, "gate-A1", {
      will: { topic: t.gate("A1", "status"), payload: '{"v":1,"state":"offline"}', qos: 1, retain: true },
    });
    expect(own.ok).toBe(true);
    expect(audits).toHaveLength(4);
  });

  it("keeps retained messages to presence and the trust list; the server cannot speak for a gate", async () => {
    const url = await start();
    const retained = { retain: true };
    expect(
      await publishBounded(await client(url, "gate-A1"), t.gate("A1", "status"), "{}", 5000, retained),
    ).toBe("acked");
    const server = await client(url, "sync-server");
    expect(await publishBounded(server, t.trustList, "{}", 5000, retained)).toBe("acked");
    expect(await publishBounded(server, t.feed, "{}", 5000)).toBe("acked");
    expect(audits).toEqual([]);
    // aedes closes the connection on a refused publish (3.1.1 has no negative PUBACK).
    const refused = [
      ["gate-A1", t.gate("A1", "events"), true, "retained messages are not allowed on this topic"],
      ["sync-server", t.feed, true, "retained messages are not allowed on this topic"],
      ["sync-server", t.admissions, true, "retained messages are not allowed on this topic"],
      ["sync-server", t.gate("A1", "events"), false, "not a topic of this client"],
      ["sync-server", t.gate("A1", "status"), true, "not a topic of this client"],
    ] as const;
    for (const [username, topic, retain, why] of refused) {
      const outcome = await publishBounded(await client(url, username), topic, "{}", 5000, { retain });
      expect(["closed", "error", "timeout"], topic).toContain(outcome);
      expect(audits.at(-1), topic).toEqual({
        type: "publish-denied",
        clientId: username,
        username,
        topic,
        detail: why,
      });
    }
    // A newcomer finds only what the protocol retains.
    const reader = await client(url, "sync-server");
    const seen: string[] = [];
    reader.on("message", (topic) => seen.push(topic));
    await new Promise<void>((resolve) =>
      reader.subscribe(t.serverSubscriptions as string[], { qos: 1 }, () => resolve()),
    );
    await waitFor(() => seen.length >= 1, 5000, "the retained status");
    // A marker published after the subscription: everything retained came before it.
    await publishBounded(await client(url, "gate-A1"), t.gate("A1", "heartbeat"), "{}", 5000);
    await waitFor(() => seen.includes(t.gate("A1", "heartbeat")), 5000, "the marker");
    expect(seen).toEqual([t.gate("A1", "status"), t.gate("A1", "heartbeat")]);
  });

  it("refuses a will no connected client stands behind (a dead broker's), once, and forgets it", async () => {
    const persistenceDir = `${dir.path}/dead-broker`;
    // What a broker killed while gate A1 was connected leaves in its LevelDB: A1's will.
    const level = new Level<string, unknown>(persistenceDir);
    await level.open();
    const persistence = willPersistence(level);
    await persistence.setup({ id: "dead-broker" });
    const will = {
      cmd: "publish",
      topic: t.gate("A1", "status"),
      payload: Buffer.from("offline"),
      qos: 1,
      retain: true,
    };
    await persistence.putWill({ id: "gate-A1" }, will);
    await level.close();

    const url = await start(persistenceDir);
    const server = await client(url, "sync-server");
    const seen: string[] = [];
    server.on("message", (topic) => seen.push(topic));
    await new Promise<void>((resolve) =>
      server.subscribe(t.serverSubscriptions as string[], { qos: 1 }, () => resolve()),
    );
    await waitFor(() => audits.length >= 1, 10_000, "the stored will refused");
    expect(audits[0]).toEqual({
      type: "publish-denied",
      clientId: "gate-A1",
      username: NO_CLIENT,
      topic: t.gate("A1", "status"),
      detail: "no connected client to attribute it to (a stored will replayed after a restart)",
    });
    await broker?.close();
    broker = undefined;
    // Forgotten: the next broker on this directory finds no will to sweep.
    const after = new Level<string, unknown>(persistenceDir);
    await after.open();
    const check = willPersistence(after);
    await check.setup({ id: "next-broker" });
    const left: unknown[] = [];
    for await (const w of check.streamWill({})) left.push(w);
    await after.close();
    expect(left).toEqual([]);
    expect(seen).toEqual([]);
    expect(audits).toHaveLength(1);
  });
});
