import { ManualClock } from "@sesame/bridge/testing";
import type { EntryLogEvent } from "@sesame/gate-core";
import { createNodeSigner, createNodeVerifier, keyPairFromSeed, type TrustList } from "@sesame/ticket";
import { issuerChangeSigner } from "@sesame/venue";
import { describe, expect, it } from "vitest";
import { GateSync, type SyncLogEntry } from "./gate-sync.js";
import { MemoryMqttClient } from "./memory-mqtt.js";
import { MemoryGateStore } from "./memory-store.js";
import { decodeEventBatch, decodeRefusalReport, encodeAck, encodeFeed, encodeGateList } from "./protocol.js";
import type { GateSyncStore } from "./store.js";
import { TestVenueKeys } from "./test-venue.js";
import { venueTopics } from "./topics.js";

/*
 * GateSync through its ports: a manual clock for its timers and an in-memory MQTT client, no
 * broker. With an outbox that is notified of every commit, the idle poll reads nothing; a
 * notification sends at once; a missing ack is still probed after the ack timeout. The ticket feed
 * is applied only when every change verifies against the issuer keys of the trust list held.
 */

const topics = venueTopics("SDF");
const venue = new TestVenueKeys("SDF", [
  { gateId: "A1", entranceId: 1 },
  { gateId: "A2", entranceId: 1 },
  { gateId: "B1", entranceId: 2 },
]);
const listV1 = venue.gateList({ version: 1 });
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

function gate(options: {
  outboxNotified: boolean;
  withoutGateList?: boolean;
  verifier?: ReturnType<typeof createNodeVerifier>;
}) {
  const clock = new ManualClock();
  const store = new MemoryGateStore("A1", { trustList: TRUST });
  let reads = 0;
  const pending = store.outboxPending.bind(store);
  store.outboxPending = (after, limit) => {
    reads++;
    return pending(after, limit);
  };
  const batches: string[] = [];
  const refusals: string[] = [];
  const replays: string[] = [];
  let client: MemoryMqttClient | undefined;
  const logs: SyncLogEntry[] = [];
  const sync = new GateSync({
    provisioning: venue.provisioning("A1", options.withoutGateList ? {} : { gateList: listV1 }),
    signingSeed: venue.gate("A1").seed,
    store,
    brokerUrl: "memory://venue",
    clock,
    mqtt: () => {
      client = new MemoryMqttClient(clock, (topic, payload) => {
        if (topic === topics.gate("A1", "events")) batches.push(String(payload));
        if (topic === topics.gate("A1", "refusals")) refusals.push(String(payload));
        if (topic === topics.gate("A1", "replay")) replays.push(String(payload));
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
  return { clock, store, sync, batches, refusals, replays, logs, ack, deliver, reads: () => reads };
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

function entered(gateId: string, gateSeq: number, ticketId: number, extra: object = {}): EntryLogEvent {
  return {
    eventId: `${gateId}-${gateSeq}`,
    gateId,
    gateSeq,
    lane: 1,
    kind: "entered",
    direction: "entry",
    reason: "ADMITTED",
    ticketId,
    session: 1,
    manual: false,
    at: 1_000,
    ...extra,
  };
}

describe("GateSync: admissions are applied only when the admitting gate signed them", () => {
  async function started(options: { withoutGateList?: boolean } = {}) {
    const g = gate({ outboxNotified: true, ...options });
    // Tickets 1 and 2 are of entrance 1 (gates A1, A2), ticket 3 of entrance 2 (gate B1).
    g.store.applyChanges(
      [1, 2, 3].map((id) => ({
        sequence: id,
        type: "issue" as const,
        ticket: {
          id,
          generation: 0,
          kind: "printed" as const,
          status: "valid" as const,
          sessions: [1],
          entrance: id === 3 ? 2 : 1,
          zone: 1,
          seat: "",
          categories: [],
          holder: "x",
          orderReference: "o",
          issueSequence: id,
        },
      })),
    );
    g.sync.start();
    await g.clock.advance(1);
    return g;
  }

  it("applies a batch signed by a gate of the gate list", async () => {
    const g = await started();
    g.deliver(topics.admissions, venue.admissions([entered("A2", 1, 1), entered("A2", 2, 2)], 1));
    expect(g.store.seen.get(1)).toBe("A2");
    expect(g.store.seen.get(2)).toBe("A2");
    expect(g.sync.status().admissionSeq).toBe(2);
    expect(g.refusals).toHaveLength(0);
    await g.sync.stop();
  });

  it("gives a store that takes them every admission with its place in the venue's order, its own included", async () => {
    const g = await started();
    const placed: Array<{ seq: number; eventId: string }> = [];
    const store: GateSyncStore = g.store;
    store.recordAdmissions = (entries) => {
      for (const e of entries) placed.push({ seq: e.seq, eventId: e.event.eventId });
    };
    g.deliver(topics.admissions, venue.admissions([entered("A2", 1, 1)], 1));
    g.deliver(topics.admissions, venue.admissions([entered("A1", 1, 2)], 2));
    expect(placed).toEqual([
      { seq: 1, eventId: "A2-1" },
      { seq: 2, eventId: "A1-1" },
    ]);
    expect(g.sync.status().admissionSeq).toBe(2);
    await g.sync.stop();
  });

  it("refuses whole a batch signed with another key, or by a gate not in the list: nothing applied, position kept, reported", async () => {
    const g = await started();
    const stolen = Buffer.alloc(32, 99);
    const forgeries = [
      // Claims A2, signed by a key that is not A2's (e.g. another gate's credentials on the broker).
      venue.admissions([entered("A2", 1, 1)], 1, stolen),
      // Signed with A1's own key but claiming A2: still not A2's signature.
      venue.admissions([entered("A2", 1, 2)], 1, venue.gate("A1").seed),
      // A gate the venue does not have.
      venue.admissions([entered("Z9", 1, 2)], 1, stolen),
    ];
    for (const forged of forgeries) g.deliver(topics.admissions, forged);
    expect(g.store.remoteEntries.size).toBe(0);
    expect(g.sync.status().admissionSeq).toBe(0);
    expect(g.store.admissionCursor()).toBe(0);
    const reports = g.refusals.map((r) => decodeRefusalReport(r));
    expect(reports.map((r) => r.ok && r.value.reason)).toEqual([
      "bad-signature",
      "bad-signature",
      "unknown-gate",
    ]);
    expect(reports.map((r) => r.ok && r.value.sender)).toEqual(["A2", "A2", "Z9"]);
    const lines = g.logs.filter((l) => l.code === "rejected");
    expect(lines).toHaveLength(3);
    expect(lines.every((l) => l.topic === topics.admissions && l.detail.includes("(from "))).toBe(true);
    // The real admission with the same sequence still applies afterwards.
    g.deliver(topics.admissions, venue.admissions([entered("A2", 1, 1)], 1));
    expect(g.store.seen.get(1)).toBe("A2");
    await g.sync.stop();
  });

  it("a genuine batch replayed under new admission numbers is refused: the operations key sealed another order", async () => {
    const g = await started();
    const first = venue.admissions([entered("A2", 1, 1)], 1);
    g.deliver(topics.admissions, first);
    expect(g.sync.status().admissionSeq).toBe(1);
    // The broker replays A2's genuine, gate-signed batch as admission 2, which would make the gate
    // skip the real admission 2: its seal is over admission 1.
    const renumbered = JSON.parse(first);
    renumbered.entries[0].seq = 2;
    g.deliver(topics.admissions, JSON.stringify(renumbered));
    // Or sealed by a key that is not the operations key (the broker's own).
    const resealed = JSON.parse(first);
    resealed.entries[0].seq = 2;
    resealed.sig = "ab".repeat(64);
    g.deliver(topics.admissions, JSON.stringify(resealed));
    // A message without a seal is malformed.
    const { sig: _sig, ...unsealed } = JSON.parse(venue.admissions([entered("A2", 2, 2)], 2));
    g.deliver(topics.admissions, JSON.stringify(unsealed));
    expect(g.sync.status().admissionSeq).toBe(1);
    expect(g.store.seen.get(2)).toBe(undefined);
    const reports = g.refusals.map((r) => decodeRefusalReport(r));
    expect(reports.map((r) => r.ok && r.value.reason)).toEqual(["bad-signature", "bad-signature", "invalid"]);
    expect(g.logs.filter((l) => l.code === "rejected" && l.topic === topics.admissions)).toHaveLength(3);
    // The real admission 2 applies afterwards.
    g.deliver(topics.admissions, venue.admissions([entered("A2", 2, 2)], 2));
    expect(g.store.seen.get(2)).toBe("A2");
    expect(g.sync.status().admissionSeq).toBe(2);
    await g.sync.stop();
  });

  it("a tampered event in a signed batch, or an entry naming an event the batch lacks, is refused", async () => {
    const g = await started();
    const genuine = JSON.parse(venue.admissions([entered("A2", 1, 1)], 1));
    const tampered = structuredClone(genuine);
    tampered.batches[0].events = tampered.batches[0].events.replace('"ticketId":1', '"ticketId":2');
    g.deliver(topics.admissions, JSON.stringify(tampered));
    const missing = structuredClone(genuine);
    missing.entries[0].gateSeq = 7;
    g.deliver(topics.admissions, JSON.stringify(missing));
    expect(g.store.remoteEntries.size).toBe(0);
    expect(g.sync.status().admissionSeq).toBe(0);
    expect(g.logs.filter((l) => l.reason === "bad-signature" || l.reason === "invalid")).toHaveLength(2);
    await g.sync.stop();
  });

  it("after a gate is revoked in a newer gate list, its admissions are refused", async () => {
    const g = await started();
    g.deliver(topics.gateList, encodeGateList(venue.gateList({ version: 2, revoked: ["A2"] })));
    expect(g.store.savedGateList?.version).toBe(2);
    g.deliver(topics.admissions, venue.admissions([entered("A2", 1, 1)], 1));
    expect(g.store.remoteEntries.size).toBe(0);
    expect(g.logs.some((l) => l.reason === "revoked-gate")).toBe(true);
    // An older list (replayed) does not bring A2 back; a list not signed by the operations key neither.
    g.deliver(topics.gateList, encodeGateList(listV1));
    const forgedList = { ...venue.gateList({ version: 3 }), sig: "00".repeat(64) };
    g.deliver(topics.gateList, encodeGateList(forgedList));
    expect(g.store.savedGateList?.version).toBe(2);
    expect(g.logs.filter((l) => l.code === "rejected" && l.topic === topics.gateList)).toHaveLength(2);
    await g.sync.stop();
  });

  it("an entrance-2 ticket admitted at an entrance-1 gate is refused unless it carries an override", async () => {
    const g = await started();
    g.deliver(
      topics.admissions,
      venue.admissions(
        [
          entered("A2", 1, 3),
          entered("A2", 2, 1),
          entered("A2", 3, 3, {
            manual: true,
            override: { supervisor: "SUP-01", note: "wrong gate, ID checked", state: "WRONG_ENTRANCE" },
          }),
        ],
        1,
      ),
    );
    // Authentic message: the plausible entries apply and the position moves; the implausible one does not apply.
    expect(g.sync.status().admissionSeq).toBe(3);
    expect([...g.store.remoteEntries.keys()].sort()).toEqual(["A2-2", "A2-3"]);
    const reports = g.refusals.map((r) => decodeRefusalReport(r));
    expect(reports.map((r) => r.ok && r.value.reason)).toEqual(["implausible-admission"]);
    await g.sync.stop();
  });

  it("a gate without the current gate list asks for it instead of alerting, then takes the admissions again", async () => {
    const g = await started({ withoutGateList: true });
    g.deliver(topics.admissions, venue.admissions([entered("A2", 1, 1)], 1));
    expect(g.store.remoteEntries.size).toBe(0);
    expect(g.refusals).toHaveLength(0);
    expect(g.replays.some((r) => r.includes('"gate-list"'))).toBe(true);
    g.deliver(topics.gateList, encodeGateList(listV1));
    expect(g.store.savedGateList?.version).toBe(1);
    expect(g.replays.some((r) => r.includes('"admissions"'))).toBe(true);
    g.deliver(topics.admissions, venue.admissions([entered("A2", 1, 1)], 1));
    expect(g.store.seen.get(1)).toBe("A2");
    await g.sync.stop();
  });

  it("a replay holding admissions already applied checks and reports only the new ones", async () => {
    const g = await started();
    g.deliver(topics.admissions, venue.admissions([entered("A2", 1, 3)], 1));
    expect(g.refusals).toHaveLength(1);
    g.deliver(topics.admissions, venue.admissions([entered("A2", 1, 3), entered("A2", 2, 1)], 1));
    expect(g.refusals).toHaveLength(1);
    expect(g.store.seen.get(1)).toBe("A2");
    expect(g.sync.status().admissionSeq).toBe(2);
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
    const logged = g.logs.filter((l) => l.code === "rejected");
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ topic: topics.feed, reason: "invalid" });
    expect(logged[0]?.detail).toMatch(/changes\[0\]\.type: must be one of issue, resale, transfer, cancel/);
    // The server hears of it at once (it raises the alert).
    const report = decodeRefusalReport(g.refusals.at(-1) ?? "");
    expect(report.ok && report.value).toMatchObject({ topic: topics.feed, reason: "invalid" });
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
        code: "rejected",
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
    // Each refusal reported, the key the change claims named in it.
    expect(g.refusals).toHaveLength(cases.length + 1);
    const last = decodeRefusalReport(g.refusals.at(-1) ?? "");
    expect(last.ok && last.value.detail).toMatch(/signed by issuer key 2, which the trust list revokes/);
    await g.sync.stop();
  });

  it("a resale of a cancelled ticket, refused by the store, is logged on one line and reported; the feed goes on", async () => {
    const g = gate({ outboxNotified: true });
    g.sync.start();
    await g.clock.advance(1);
    // The cache refuses what no honest issuer signs (a resale of a ticket it holds cancelled).
    const apply = g.store.applyChanges.bind(g.store);
    g.store.applyChanges = (changes) => {
      apply(changes);
      return {
        refused: changes
          .filter((c) => c.type === "resale")
          .map((c) => ({
            sequence: c.sequence,
            detail: `ticket feed: change ${c.sequence} (resale) refused: the ticket is cancelled`,
          })),
      };
    };
    const resale = {
      sequence: 2,
      type: "resale" as const,
      ticketId: 100_001,
      generation: 2,
      holder: "Zoé Nouvelle",
    };
    g.deliver(topics.feed, encodeFeed({ changes: [issuer.sign(cancel(1)), issuer.sign(resale)] }));
    await g.clock.advance(1);
    expect(g.store.feedSequence()).toBe(2);
    expect(g.sync.status()).toMatchObject({ feedSequence: 2, refusedMessages: 1 });
    const logged = g.logs.filter((l) => l.code === "rejected");
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ topic: topics.feed, reason: "implausible" });
    expect(logged[0]?.detail).toMatch(/change 2 \(resale\) refused: the ticket is cancelled/);
    expect(logged[0]?.detail).not.toContain("\n");
    const report = decodeRefusalReport(g.refusals.at(-1) ?? "");
    expect(report.ok && report.value).toMatchObject({ topic: topics.feed, reason: "implausible" });
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
    checks = 0; // (the start checked the operations certificate and the gate list)
    g.deliver(topics.feed, encodeFeed({ changes: [1, 2, 3].map((s) => issuer.sign(cancel(s))) }));
    await g.clock.advance(1);
    expect(g.store.feedSequence()).toBe(3);
    expect(checks).toBe(3);
    await g.sync.stop();
  });
});
