import { join } from "node:path";
import type { Command } from "@sesame/sync";
import { MemoryGateStore } from "@sesame/sync/testing";
import { readRootKeyFile, VENUE_FILES } from "@sesame/venue";
import { certifiedSupervisor, signedCommandsBody } from "@sesame/venue/testing";
import { afterEach, describe, expect, it } from "vitest";
import { revokeIssuerKeyOffline, rotateIssuerKeyOffline } from "../src/root/testing.js";
import type { Alert, StoredEvent } from "../src/store.js";
import { BROKERS, TOKENS, World, waitFor } from "./harness.js";
import { SseClient } from "./sse-client.js";

/*
 * The venue network end to end: double entry across a partition, the ticket feed (live, replay,
 * snapshot), key rotation and revocation, supervisor commands, and the supervisor's SSE stream.
 */

const SUPERVISOR = TOKENS[1]?.token ?? "";

function validMobileTicket(world: World, skip = 0): number {
  const store = world.requireServer().store;
  let found = 0;
  for (let id = 100_001; id < 101_000; id++) {
    const t = store.ticket(id);
    if (t && t.status === "valid" && t.kind === "mobile" && found++ >= skip) return id;
  }
  throw new Error("no valid mobile ticket in the demo venue");
}

describe.each(BROKERS)("venue network (%s)", (broker) => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it("two gates cut off from each other admitting the same ticket: an alert, in the API and the SSE stream", async () => {
    // Two gates of one entrance: a ticket of entrance A is admitted at A1 and at A2.
    world = await World.create(broker, { lanesPerGate: 1 });
    const server = world.requireServer();
    const stream = await SseClient.open(`http://127.0.0.1:${server.httpPort}/api/stream`, SUPERVISOR);
    const ticketId = world.ticketsAt(1)[0] ?? 0;
    try {
      const a = world.gate("A1", { start: false });
      const b = world.gate("A2", { start: false });
      // Partitioned: neither knows of the other's admission.
      a.store.admit({ ticketId, session: 1 });
      b.store.admit({ ticketId, session: 1 });
      a.sync.start();
      b.sync.start();
      await waitFor(
        () => a.store.outboxDepth() === 0 && b.store.outboxDepth() === 0,
        15_000,
        "both acknowledged",
      );
      await waitFor(() => server.store.alerts().length === 1, 5000, "alert stored");
      const r = await world.api("GET", "/api/alerts", undefined, SUPERVISOR);
      const alerts = (r.json as { alerts: Alert[] }).alerts;
      expect(alerts).toHaveLength(1);
      expect(alerts[0]?.type).toBe("double-entry");
      expect(alerts[0]?.ticketId).toBe(ticketId);
      expect([...(alerts[0]?.gates ?? [])].sort()).toEqual(["A1", "A2"]);
      await waitFor(() => stream.messages.some((m) => m.event === "alert"), 5000, "alert on the SSE stream");
      // Once reconnected, each gate also knows of the other's entry.
      await waitFor(
        () => a.store.seen.get(ticketId) === "A2" && b.store.seen.get(ticketId) === "A1",
        10_000,
        "fan-out",
      );
    } finally {
      stream.close();
    }
  });

  it("ticket feed: resale, transfer and cancellation reach every gate, live or by replay; a new gate gets the snapshot", async () => {
    world = await World.create(broker);
    const server = world.requireServer();
    const a = world.gate("A1");
    const b = world.gate("B1");
    await waitFor(
      () => a.store.snapshots === 1 && b.store.snapshots === 1,
      15_000,
      "snapshot downloaded by new gates",
    );
    expect(a.store.feedSequence()).toBe(server.store.feedSequence());
    // The issuer signs each change; the server follows its stream and fans it out.
    const issuer = world.requireIssuer();
    const resold = validMobileTicket(world, 0);
    const r1 = issuer.reassign(resold, "resale", "Nouvelle Titulaire");
    expect(r1.revokedGeneration).toBeGreaterThanOrEqual(1);
    await waitFor(
      () => a.store.changes.some((c) => c.type === "resale" && c.ticketId === resold),
      10_000,
      "live change",
    );
    // B1 is away while two more changes happen: it catches up by replay.
    await b.sync.stop();
    const transferred = validMobileTicket(world, 1);
    const cancelled = validMobileTicket(world, 2);
    issuer.reassign(transferred, "transfer", "Ami");
    issuer.cancel(cancelled);
    // The venue server no longer takes the platform's operations: they moved to the issuer.
    const gone = await world.api("POST", `/api/tickets/${cancelled}/cancel`);
    expect(gone.status).toBe(410);
    expect((gone.json as { error: string }).error).toMatch(/moved to the issuer/);
    await waitFor(() => server.store.feedSequence() === issuer.lastSequence(), 10_000, "the server followed");
    b.sync.start();
    await waitFor(() => b.store.feedSequence() === server.store.feedSequence(), 15_000, "B1 caught up");
    expect(b.store.changes.map((c) => c.type)).toEqual(["resale", "transfer", "cancel"]);
    expect(b.store.snapshots).toBe(1);
  });

  it("key rotation and revocation: a new signed trust list at every gate, nothing in the feed", async () => {
    world = await World.create(broker);
    const a = world.gate("A1");
    await waitFor(() => a.store.trustListVersion() === 1, 15_000, "trust list from the snapshot");
    const server = world.requireServer();
    // The issuer makes a key; the root holder signs, offline, the list that adds it; an admin uploads it.
    const rotation = rotateIssuerKeyOffline(server.store, world.venueDir, { now: Date.now() });
    const rotated = await world.api("POST", "/api/keys/trust-list", rotation.trustList);
    expect(rotated.status).toBe(200);
    await waitFor(() => a.store.trustListVersion() === 2, 10_000, "rotated trust list at the gate");
    const revoked = await world.api(
      "POST",
      "/api/keys/trust-list",
      revokeIssuerKeyOffline(server.store, world.venueDir, 1, Date.now()),
    );
    expect(revoked.status).toBe(200);
    await waitFor(() => a.store.trustListVersion() === 3, 10_000, "revoking trust list at the gate");
    expect(a.store.issuerKeys().get(1)?.revoked).toBe(true);
    const feedBefore = server.store.feedSequence();
    expect(revoked.json).not.toHaveProperty("sequence");
    // New tickets, and their feed changes, are signed with the new key; the gate applies them.
    const issuer = world.requireIssuer();
    issuer.key = { keyId: rotation.keyId, seed: rotation.seed };
    issuer.issue({
      id: 900_001,
      generation: 1,
      kind: "mobile",
      status: "valid",
      sessions: [1],
      entrance: 1,
      zone: 1,
      seat: "",
      categories: [],
      holder: "Nouvelle Clé",
      orderReference: "NEW-1",
    });
    await waitFor(
      () => server.store.feedSequence() === feedBefore + 1,
      10_000,
      "the issuer's change followed",
    );
    await waitFor(() => a.store.feedSequence() === feedBefore + 1, 10_000, "the new key's change applied");
    expect(a.store.changes.at(-1)).toMatchObject({ type: "issue", keyId: 2 });
    expect(a.sync.status().refusedMessages).toBe(0);
    // A gate still at the venue directory's bundle would replay the late sales key 1 signed, which it
    // now refuses: the server sends it the snapshot instead.
    const behind = world.gate("B1", {
      store: new MemoryGateStore("B1", { feedSequence: server.store.feedBase() }),
    });
    await waitFor(
      () => behind.store.snapshots === 1 && behind.store.feedSequence() === server.store.feedSequence(),
      15_000,
      "B1 caught up by the snapshot",
    );
    expect(behind.store.changes).toEqual([]);
    expect(behind.sync.status().refusedMessages).toBe(0);

    // Holders of key 1's tickets keep coming: one alert for the key at A1, its count growing on the
    // dashboard's stream (an update of the same alert, not a new one per scan), no forgery alert.
    const stream = await SseClient.open(`http://127.0.0.1:${server.httpPort}/api/stream`, SUPERVISOR);
    try {
      const scans = (n: number) => {
        for (let i = 0; i < n; i++)
          a.store.append({ kind: "refused", reason: "KEY_REVOKED", issuerKeyId: 1, ticketId: 100_001 + i });
        a.sync.notifyOutbox();
      };
      scans(2);
      await waitFor(
        () => stream.messages.some((m) => m.event === "alert"),
        10_000,
        "the alert on the stream",
      );
      scans(3);
      await waitFor(
        () =>
          stream.messages.some(
            (m) => m.event === "alert-update" && (JSON.parse(m.data) as Alert).count === 5,
          ),
        10_000,
        "the alert's count of 5 on the stream",
      );
      const alerts = server.store.alerts();
      expect(alerts.map((x) => [x.type, x.gates, x.issuerKeyId, x.count])).toEqual([
        ["revoked-key-scans", ["A1"], 1, 5],
      ]);
      expect(stream.messages.filter((m) => m.event === "alert")).toHaveLength(1);
    } finally {
      stream.close();
    }
  });

  it("supervisor commands reach the gate or the entrance, signed, and come back acknowledged", async () => {
    world = await World.create(broker);
    const a = world.gate("A1");
    const b = world.gate("B1");
    await waitFor(() => a.sync.status().connected && b.sync.status().connected, 15_000, "gates connected");
    const received: Command[] = [];
    a.sync.on("command", (c) => received.push(c));
    b.sync.on("command", (c) => received.push(c));
    const denied = await world.api("POST", "/api/commands", { type: "lock-lane", gate: "A1", lane: 1 });
    expect(denied.status).toBe(403); // the ticketing platform's token cannot drive lanes
    const lock = await world.api(
      "POST",
      "/api/commands",
      { type: "lock-lane", gate: "A1", lane: 1 },
      SUPERVISOR,
    );
    expect(lock.status).toBe(202);
    const lockId = (lock.json as { command: Command }).command.id;
    const entranceB = b.provisioning.entranceId;
    // Opening lanes takes the supervisor's own signature (a key the root certified), not the token alone.
    const unsigned = await world.api(
      "POST",
      "/api/commands",
      { type: "free-passage", entrance: entranceB },
      SUPERVISOR,
    );
    expect(unsigned.status).toBe(400);
    const dupont = certifiedSupervisor({
      rootSeed: Buffer.from(readRootKeyFile(join(world.venueDir, VENUE_FILES.rootKey))).toString("hex"),
      venueId: world.requireServer().venue.id,
      supervisor: "supervisor Dupont",
    });
    const free = await world.api(
      "POST",
      "/api/commands",
      signedCommandsBody(dupont, { type: "free-passage", targets: [{ entrance: entranceB }] }),
      SUPERVISOR,
    );
    expect(free.status).toBe(202);
    const freeId = (free.json as { command: Command }).command.id;
    await waitFor(() => received.length === 2, 10_000, "commands executed");
    for (const id of [lockId, freeId]) {
      await waitFor(
        () => (world?.requireServer().store.command(id)?.acks.length ?? 0) === 1,
        10_000,
        `ack of ${id}`,
      );
      const r = await world.api("GET", `/api/commands/${id}`, undefined, SUPERVISOR);
      expect((r.json as { acks: Array<{ status: string }> }).acks[0]?.status).toBe("done");
    }
    expect(received.map((c) => c.type).sort()).toEqual(["free-passage", "lock-lane"]);
  });

  it("entries are visible on the SSE stream, which resumes from Last-Event-ID", async () => {
    world = await World.create(broker);
    const server = world.requireServer();
    const a = world.gate("A1");
    await waitFor(() => a.sync.status().connected, 15_000, "A1 connected");
    const url = `http://127.0.0.1:${server.httpPort}/api/stream`;
    const first = await SseClient.open(url, SUPERVISOR);
    const [t1, ...rest] = world.ticketsAt(1);
    const e1 = a.store.admit({ ticketId: t1 ?? 0, session: 1 });
    a.sync.notifyOutbox();
    await waitFor(
      () =>
        first.messages.some(
          (m) =>
            m.event === "entries" &&
            (JSON.parse(m.data) as StoredEvent[]).some((e) => e.eventId === e1.eventId),
        ),
      10_000,
      "entry on the stream",
    );
    const lastId = first.lastId();
    first.close();
    const missed = rest.slice(0, 3).map((ticketId) => a.store.admit({ ticketId, session: 1 }));
    a.sync.notifyOutbox();
    await waitFor(() => a.store.outboxDepth() === 0, 10_000, "acknowledged while no one watched");
    const resumed = await SseClient.open(url, SUPERVISOR, lastId);
    try {
      await waitFor(() => resumed.messages.some((m) => m.event === "snapshot"), 5000, "resumed stream");
      const replayed = resumed.messages
        .filter((m) => m.event === "entries")
        .flatMap((m) => JSON.parse(m.data) as StoredEvent[])
        .filter((e) => e.kind === "entered")
        .map((e) => e.eventId);
      expect(replayed).toEqual(missed.map((e) => e.eventId));
    } finally {
      resumed.close();
    }
    const unauthorized = await world.api("GET", "/api/stream", undefined, "nope");
    expect(unauthorized.status).toBe(401);
  });
});
