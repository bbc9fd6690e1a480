import { join } from "node:path";
import { decideScan, type EntryLogEvent } from "@sesame/gate-core";
import { createNodeSigner, signTrustList } from "@sesame/ticket";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GateStore, JournalError, LATEST_VERSION } from "../src/index.js";
import { type DemoDir, DOORS, DURING, demoVenueDir, holders, scanAt, VERIFIERS } from "./helpers.js";

const DAY = 24 * 3_600_000;

describe("GateStore: import, facts, lifecycle, outbox", () => {
  let v: DemoDir;
  let h: ReturnType<typeof holders>;
  let n = 0;
  /** A fresh cache of the demo venue for gate A1 (entrance 1). */
  const fresh = (gateId = "A1") => {
    const store = GateStore.open(join(v.temp, `cache-${++n}.db`), { rootPublicKey: v.rootPublicKey, gateId });
    store.importBundle(v.dir);
    return store;
  };
  const mobile = (extra: (r: (typeof v.demo.rows)[number]) => boolean = () => true) =>
    h.row(
      (r) =>
        r.state === "valid" &&
        r.kind === "mobile" &&
        !r.late &&
        r.session === 1 &&
        r.entrance === 1 &&
        r.categories.length === 0 &&
        extra(r),
    );

  beforeAll(() => {
    v = demoVenueDir(600, "store-test");
    h = holders(v);
  });
  afterAll(() => v.remove());

  it("opens with WAL and synchronous=FULL, at the latest schema", () => {
    const store = fresh();
    expect(store.schemaVersion).toBe(LATEST_VERSION);
    const db = (store as unknown as { db: { pragma(s: string, o: object): unknown } }).db;
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(db.pragma("synchronous", { simple: true })).toBe(2);
    store.close();
  });

  it("imports the bundle: the facts match what the venue sold", () => {
    const store = fresh();
    const facts = store.facts();
    const b = v.demo.bundle;
    expect(facts.feedSequence).toBe(b.feedSequence);
    expect(facts.timezone).toBe("Europe/Paris");
    expect(facts.sessions().map((s) => s.id)).toEqual([1, 2]);
    expect(facts.session(2)?.reentry).toBe("exit-scan");
    expect(facts.entrances()).toEqual(v.demo.venue.entrances);
    expect(facts.zone(1)).toEqual(v.demo.venue.zones[0]);
    expect(facts.issuerKeys.get(1)?.revoked).toBe(false);
    for (const t of b.tickets.slice(0, 50)) {
      const { issueSequence: _, ...expected } = t;
      expect(facts.ticket(t.id)).toEqual(expected);
    }
    const resold = b.revocations.find((r) => r.reason === "resold");
    const cancelled = b.revocations.find((r) => r.reason === "cancelled");
    expect(resold && facts.revocationReason(resold.ticketId, resold.generation)).toBe("resold");
    expect(cancelled && facts.revocationReason(cancelled.ticketId, cancelled.generation)).toBe("cancelled");
    expect(facts.ticket(1)).toBeUndefined();
    expect(store.venue.gates.map((g) => g.id)).toContain("A1");
    store.close();
  });

  it("admits once: authorized → passage pending → entered → refused as already entered", () => {
    const store = fresh();
    const t = mobile();
    const ctx = scanAt(v, "A1", DURING);
    const d1 = decideScan(h.code(t.id, DURING), ctx, store.facts(), VERIFIERS);
    expect(d1).toMatchObject({ outcome: "ADMIT", reason: "ADMITTED", ticketId: t.id, session: 1 });
    const { authorization, event } = store.authorize(d1, { lane: 1, direction: "entry", at: DURING });
    expect(event).toMatchObject({
      kind: "authorized",
      gateSeq: 1,
      ticketId: t.id,
      session: 1,
      manual: false,
    });
    expect(store.facts().pendingAuthorization(t.id, 1)).toMatchObject({ gateId: "A1", lane: 1 });
    const d2 = decideScan(
      h.code(t.id, DURING + 1000),
      { ...ctx, nowMs: DURING + 1000 },
      store.facts(),
      VERIFIERS,
    );
    expect(d2.reason).toBe("PASSAGE_PENDING");
    // The same ticket cannot be authorized twice, whatever the caller does.
    expect(() => store.authorize(d1, { lane: 2, direction: "entry", at: DURING })).toThrow(JournalError);

    const passed = store.confirmPassage(authorization.authorizationId, DURING + 2000);
    expect(passed.event).toMatchObject({
      kind: "entered",
      gateSeq: 2,
      authorizationId: authorization.authorizationId,
    });
    expect(store.confirmPassage(authorization.authorizationId, DURING + 2500).event).toBeUndefined();
    expect(store.facts().presence(t.id, 1)).toEqual({
      state: "inside",
      firstEntryAt: DURING + 2000,
      firstEntryGate: "A1",
      lastAt: DURING + 2000,
      lastGate: "A1",
    });
    const d3 = decideScan(
      h.code(t.id, DURING + 5000),
      { ...ctx, nowMs: DURING + 5000 },
      store.facts(),
      VERIFIERS,
    );
    expect(d3.reason).toBe("ALREADY_ENTERED");
    store.recordRefusal(d3, { lane: 1, direction: "entry", at: DURING + 5000 });
    expect(store.events().map((e) => [e.gateSeq, e.kind])).toEqual([
      [1, "authorized"],
      [2, "entered"],
      [3, "refused"],
    ]);
    // A recorded passage is never annulled.
    expect(store.annul(authorization.authorizationId, DURING + 9000)).toBeUndefined();
    expect(store.recover(DURING + 9000)).toEqual([]);
    expect(store.authorization(authorization.authorizationId)?.state).toBe("entered");
    store.close();
  });

  it("an annulled authorization does not consume the ticket", () => {
    const store = fresh();
    const t = mobile();
    const ctx = scanAt(v, "A1", DURING);
    const d = decideScan(h.code(t.id, DURING), ctx, store.facts(), VERIFIERS);
    const { authorization } = store.authorize(d, { lane: 1, direction: "entry", at: DURING });
    const annulled = store.annul(authorization.authorizationId, DURING + 8000);
    expect(annulled?.event).toMatchObject({ kind: "annulled", detail: "window-expired", ticketId: t.id });
    expect(() => store.confirmPassage(authorization.authorizationId, DURING + 9000)).toThrow(/annulled/);
    expect(store.facts().presence(t.id, 1)).toBeUndefined();
    const again = decideScan(
      h.code(t.id, DURING + 10_000),
      { ...ctx, nowMs: DURING + 10_000 },
      store.facts(),
      VERIFIERS,
    );
    expect(again.reason).toBe("ADMITTED");
    store.close();
  });

  /** A scan of ticket `id` at lane `lane` of A1, decided and authorized. */
  const authorizeScan = (store: GateStore, id: number, at: number, lane = 1) =>
    store.authorize(decideScan(h.code(id, at), { ...scanAt(v, "A1", at), lane }, store.facts(), VERIFIERS), {
      lane,
      direction: "entry",
      at,
    }).authorization;

  it("a passage the controller kept while the gate could not hear it turns annulled into entered", () => {
    const store = fresh();
    const t = mobile();
    const id = authorizeScan(store, t.id, DURING).authorizationId;
    expect(() => store.confirmLatePassage(id, DURING + 1000)).toThrow(/still open/);
    store.annul(id, DURING + 7000, "window-expired");
    const late = store.confirmLatePassage(id, DURING + 12_000);
    expect(late.event).toMatchObject({
      kind: "entered",
      authorizationId: id,
      ticketId: t.id,
      detail: "late-passage",
      at: DURING + 12_000,
    });
    expect(late.authorization).toMatchObject({ state: "entered", closedSeq: late.event?.gateSeq });
    // The same report again records nothing more.
    expect(store.confirmLatePassage(id, DURING + 12_500).event).toBeUndefined();
    expect(store.events().map((e) => `${e.kind}:${e.detail ?? ""}`)).toEqual([
      "authorized:",
      "annulled:window-expired",
      "entered:late-passage",
    ]);
    // The ticket is consumed: the seen table has the entry, the outbox the event.
    expect(store.facts().presence(t.id, 1)).toMatchObject({ state: "inside", firstEntryAt: DURING + 12_000 });
    expect(store.outboxPending().map((e) => e.kind)).toEqual(["authorized", "annulled", "entered"]);
    const again = decideScan(
      h.code(t.id, DURING + 20_000),
      scanAt(v, "A1", DURING + 20_000),
      store.facts(),
      VERIFIERS,
    );
    expect(again.reason).toBe("ALREADY_ENTERED");
    store.close();
  });

  it("a late passage never claims an authorization a fire alarm annulled", () => {
    const store = fresh();
    const t = mobile();
    const authorization = authorizeScan(store, t.id, DURING);
    store.annul(authorization.authorizationId, DURING + 500, "fire-alarm");
    expect(() => store.confirmLatePassage(authorization.authorizationId, DURING + 2000)).toThrow(
      /annulled by fire-alarm/,
    );
    expect(store.authorization(authorization.authorizationId)?.state).toBe("annulled");
    expect(store.facts().presence(t.id, 1)).toBeUndefined();
    expect(() => store.confirmLatePassage("no-such-authorization", DURING)).toThrow(/unknown authorization/);
    store.close();
  });

  it("a late passage of a ticket that entered again meanwhile is recorded: two entries, for the server to alert", () => {
    const store = fresh();
    const t = mobile();
    const first = authorizeScan(store, t.id, DURING);
    store.annul(first.authorizationId, DURING + 7000);
    // The holder went to the next lane and got in there.
    const second = authorizeScan(store, t.id, DURING + 8000, 2);
    store.confirmPassage(second.authorizationId, DURING + 9000);
    // Lane 1's controller, heard again, reports that someone walked through on the first one.
    const late = store.confirmLatePassage(first.authorizationId, DURING + 15_000);
    expect(late.event).toMatchObject({ kind: "entered", lane: 1, detail: "late-passage" });
    expect(store.events().filter((e) => e.kind === "entered")).toHaveLength(2);
    expect(store.facts().presence(t.id, 1)).toMatchObject({ state: "inside", firstEntryAt: DURING + 9000 });
    store.close();
  });

  it("recover() annuls every open authorization, once, and keeps the recorded passages", () => {
    const path = join(v.temp, "recover.db");
    let store = GateStore.open(path, { rootPublicKey: v.rootPublicKey, gateId: "A1" });
    store.importBundle(v.dir);
    const [a, b] = h.rows(
      (r) =>
        r.state === "valid" &&
        r.kind === "mobile" &&
        !r.late &&
        r.session === 1 &&
        r.entrance === 1 &&
        r.categories.length === 0,
    );
    if (!a || !b) throw new Error("demo too small");
    const ctx = scanAt(v, "A1", DURING);
    const authA = store.authorize(decideScan(h.code(a.id, DURING), ctx, store.facts(), VERIFIERS), {
      lane: 1,
      direction: "entry",
      at: DURING,
    });
    const authB = store.authorize(decideScan(h.code(b.id, DURING), ctx, store.facts(), VERIFIERS), {
      lane: 2,
      direction: "entry",
      at: DURING,
    });
    store.confirmPassage(authA.authorization.authorizationId, DURING + 1000);
    store.close(); // as if the process died here

    store = GateStore.open(path, { rootPublicKey: v.rootPublicKey, gateId: "A1" });
    expect(store.openAuthorizations().map((x) => x.authorizationId)).toEqual([
      authB.authorization.authorizationId,
    ]);
    const recovered = store.recover(DURING + 60_000);
    expect(recovered.map((r) => [r.event.kind, r.event.authorizationId, r.event.detail])).toEqual([
      ["annulled", authB.authorization.authorizationId, "recovery"],
    ]);
    expect(store.recover(DURING + 61_000)).toEqual([]);
    expect(store.authorization(authA.authorization.authorizationId)?.state).toBe("entered");
    expect(store.facts().presence(a.id, 1)?.state).toBe("inside");
    expect(store.facts().presence(b.id, 1)).toBeUndefined();
    expect(store.events().map((e) => e.gateSeq)).toEqual([1, 2, 3, 4]);
    // B's holder had walked through the arm before the crash; the controller reports it now.
    const late = store.confirmLatePassage(authB.authorization.authorizationId, DURING + 62_000);
    expect(late.event).toMatchObject({ gateSeq: 5, kind: "entered", detail: "late-passage", lane: 2 });
    expect(store.facts().presence(b.id, 1)?.state).toBe("inside");
    store.close();
  });

  it("refuses resold, transferred and cancelled codes with their reasons", () => {
    const store = fresh();
    const ctx = scanAt(v, "A1", DURING);
    const cases: Array<["resold-old" | "transferred-old" | "cancelled", string]> = [
      ["resold-old", "REVOKED_RESOLD"],
      ["transferred-old", "SUPERSEDED_TRANSFERRED"],
      ["cancelled", "CANCELLED"],
    ];
    for (const [state, reason] of cases) {
      const t = h.row((r) => r.state === state && r.session === 1);
      const d = decideScan(h.code(t.id, DURING, t.generation), ctx, store.facts(), VERIFIERS);
      expect(d.reason, state).toBe(reason);
    }
    store.close();
  });

  it("applies the feed: a late sale, then a resale, a cancellation and a key revocation", () => {
    const store = fresh();
    const ctx = scanAt(v, "A1", DURING);
    const late = v.demo.changes[0];
    if (late?.type !== "issue") throw new Error("the demo has no late sale");
    const seq0 = store.feedSequence;
    // Before the change arrives, a validly signed ticket newer than the cache is a last-minute sale.
    const before = decideScan(
      h.code(late.ticket.id, DURING),
      { ...ctx, entrance: late.ticket.entrance },
      store.facts(),
      VERIFIERS,
    );
    expect(before.reason).toMatch(/ADMITTED_NEW_SALE|ACCESSIBILITY|ID_CHECK|PRINTED/);
    expect(store.applyChanges(v.demo.changes)).toEqual({
      applied: v.demo.changes.length,
      repeated: 0,
      refused: [],
      feedSequence: seq0 + v.demo.changes.length,
    });
    expect(store.facts().ticket(late.ticket.id)?.holder).toBe(late.ticket.holder);
    expect(store.facts().feedSequence).toBe(seq0 + v.demo.changes.length);
    // Repeats are no-ops.
    expect(store.applyChanges(v.demo.changes)).toMatchObject({ applied: 0, repeated: v.demo.changes.length });

    const t = mobile();
    let seq = store.feedSequence;
    store.applyChanges([
      {
        sequence: ++seq,
        type: "resale",
        ticketId: t.id,
        generation: t.generation + 1,
        holder: "Zoé Nouvelle",
      },
    ]);
    expect(store.facts().ticket(t.id)).toMatchObject({
      generation: t.generation + 1,
      holder: "Zoé Nouvelle",
    });
    expect(decideScan(h.code(t.id, DURING, t.generation), ctx, store.facts(), VERIFIERS).reason).toBe(
      "REVOKED_RESOLD",
    );
    expect(store.lookup("nouvelle", { at: DURING }).hits.map((x) => x.ticketId)).toEqual([t.id]);

    const c = mobile((r) => r.id !== t.id);
    store.applyChanges([{ sequence: ++seq, type: "cancel", ticketId: c.id }]);
    expect(decideScan(h.code(c.id, DURING), ctx, store.facts(), VERIFIERS).reason).toBe("CANCELLED");

    const other = mobile((r) => r.id !== t.id && r.id !== c.id);
    // The feed has no key changes: a "revoke-key" is refused, and the feed position stays.
    expect(() => store.applyChanges([{ sequence: seq + 1, type: "revoke-key", keyId: 1 } as never])).toThrow(
      /type must be one of issue, resale, transfer, cancel, got "revoke-key"/,
    );
    expect(store.feedSequence).toBe(seq);
    expect(store.facts().issuerKeys.get(1)?.revoked).toBe(false);
    // An issuer key is revoked by a newer trust list, signed by the venue root.
    const key = v.demo.trustList.keys[0];
    store.applyTrustList(
      signTrustList(
        {
          venue: "SDF",
          version: 2,
          issuedAt: Math.floor(DOORS / 1000),
          keys: [
            {
              keyId: 1,
              publicKey: Uint8Array.from(Buffer.from(key?.publicKey ?? "", "hex")),
              validFrom: Math.floor(Date.parse(key?.validFrom ?? "") / 1000),
              validUntil: Math.floor(Date.parse(key?.validUntil ?? "") / 1000),
              revoked: true,
            },
          ],
        },
        Uint8Array.from(Buffer.from(v.demo.secrets.rootSeed, "hex")),
        createNodeSigner(),
      ),
    );
    expect(store.facts().issuerKeys.get(1)?.revoked).toBe(true);
    expect(decideScan(h.code(other.id, DURING), ctx, store.facts(), VERIFIERS).reason).toBe("KEY_REVOKED");
    store.close();
    // Everything applied survives a restart.
    const reopened = GateStore.open(store.path, { rootPublicKey: v.rootPublicKey, gateId: "A1" });
    expect(reopened.feedSequence).toBe(seq);
    expect(reopened.facts().issuerKeys.get(1)?.revoked).toBe(true);
    expect(reopened.facts().ticket(c.id)?.status).toBe("cancelled");
    reopened.close();
  });

  it("keeps the log gapless and serves the outbox until the server acknowledges", () => {
    const store = fresh();
    const ctx = scanAt(v, "A1", DURING);
    for (const t of h
      .rows(
        (r) =>
          r.state === "valid" &&
          r.kind === "mobile" &&
          !r.late &&
          r.session === 1 &&
          r.entrance === 1 &&
          r.categories.length === 0,
      )
      .slice(0, 5)) {
      const d = decideScan(h.code(t.id, DURING), ctx, store.facts(), VERIFIERS);
      const { authorization } = store.authorize(d, { lane: 1, direction: "entry", at: DURING });
      store.confirmPassage(authorization.authorizationId, DURING + 1);
    }
    expect(store.outboxDepth()).toBe(10);
    const first = store.outboxPending(4);
    expect(first.map((e) => e.gateSeq)).toEqual([1, 2, 3, 4]);
    expect(store.acknowledgeOutbox(4)).toBe(6);
    expect(store.outboxPending(100).map((e) => e.gateSeq)).toEqual([5, 6, 7, 8, 9, 10]);
    expect(store.acknowledgeOutbox(2)).toBe(6); // a stale acknowledgement changes nothing
    expect(() => store.acknowledgeOutbox(11)).toThrow(/ends at 10/);
    expect(store.acknowledgeOutbox(10)).toBe(0);
    expect(store.outboxPending(10)).toEqual([]);
    expect(new Set(store.events().map((e) => e.eventId)).size).toBe(10);
    expect(store.lastGateSeq()).toBe(10);
    store.close();
  });

  it("an entry at another gate (via the server) refuses the code here; idempotent by eventId", () => {
    const store = fresh("A1");
    const t = mobile();
    const remote: EntryLogEvent = {
      eventId: "evt-b1-42",
      gateId: "B1",
      gateSeq: 42,
      lane: 3,
      kind: "entered",
      direction: "entry",
      reason: "ADMITTED",
      authorizationId: "auth-b1",
      ticketId: t.id,
      generation: t.generation,
      session: 1,
      manual: false,
      at: DURING - 60_000,
    };
    expect(store.recordRemoteEntry(remote)).toBe("recorded");
    expect(store.recordRemoteEntry(remote)).toBe("duplicate");
    const d = decideScan(h.code(t.id, DURING), scanAt(v, "A1", DURING), store.facts(), VERIFIERS);
    expect(d).toMatchObject({ reason: "ALREADY_ENTERED" });
    expect(store.facts().presence(t.id, 1)).toMatchObject({ firstEntryGate: "B1", state: "inside" });
    // An older movement arriving late does not undo a newer one.
    store.recordRemoteEntry({
      ...remote,
      eventId: "evt-b1-41",
      kind: "exited",
      direction: "exit",
      at: DURING - 120_000,
    });
    expect(store.facts().presence(t.id, 1)?.state).toBe("inside");
    // Our own events echoed back are recognized.
    const other = mobile((r) => r.id !== t.id);
    const own = store.authorize(
      decideScan(h.code(other.id, DURING), scanAt(v, "A1", DURING), store.facts(), VERIFIERS),
      {
        lane: 1,
        direction: "entry",
        at: DURING,
      },
    );
    expect(store.recordRemoteEntry(own.event)).toBe("own");
    expect(store.outboxDepth()).toBe(1); // remote events are not ours to send
    store.close();
  });

  it("movements from other gates merge by their place in the venue's order, whatever their clocks and arrival (property)", () => {
    const store = fresh("A1");
    const t = mobile();
    type Move = { at: number; entry: boolean; gate: string };
    let n = 0;
    fc.assert(
      fc.property(
        fc
          .array(
            fc.record({
              // Clocks that say anything: they must not matter.
              at: fc.integer({ min: -60_000, max: 60_000 }),
              entry: fc.boolean(),
              gate: fc.constantFrom("B1", "C2", "D3"),
            }),
            { minLength: 1, maxLength: 8 },
          )
          .chain((moves: Move[]) =>
            fc.tuple(
              fc.constant(moves),
              fc.shuffledSubarray(
                moves.map((_, i) => i),
                { minLength: moves.length, maxLength: moves.length },
              ),
            ),
          ),
        ([moves, arrival]) => {
          // A session number of its own per run: a fresh row in the seen table (the cache does not check it).
          const session = 1_000 + ++n;
          const ticketId = t.id;
          for (const i of arrival) {
            const m = moves[i] as Move;
            store.recordRemoteEntry(
              {
                eventId: `evt-prop-${n}-${i}`,
                gateId: m.gate,
                gateSeq: i + 1,
                lane: 1,
                kind: m.entry ? "entered" : "exited",
                direction: m.entry ? "entry" : "exit",
                reason: "ADMITTED",
                ticketId,
                session,
                manual: false,
                at: DURING + m.at,
              },
              i + 1,
            );
          }
          // The last in the venue's order sets state and last gate; the first to arrive made the row.
          const last = moves[moves.length - 1] as Move;
          const first = moves[arrival[0] as number] as Move;
          expect(store.facts().presence(ticketId, session)).toEqual({
            state: last.entry ? "inside" : "outside",
            firstEntryAt: DURING + first.at,
            firstEntryGate: first.gate,
            lastAt: DURING + last.at,
            lastGate: last.gate,
          });
        },
      ),
      { numRuns: 200 },
    );
    store.close();
  });

  /** Gate C1's entry of a ticket, as the fan-out brings it. */
  const remote = (ticketId: number, gateSeq: number): EntryLogEvent => ({
    eventId: `evt-c1-${gateSeq}`,
    gateId: "C1",
    gateSeq,
    lane: 1,
    kind: "entered",
    direction: "entry",
    reason: "ADMITTED",
    authorizationId: `auth-c1-${gateSeq}`,
    ticketId,
    generation: 1,
    session: 1,
    manual: false,
    at: DURING - 30_000,
  });

  it("a fan-out message is applied all or nothing: one malformed entry refuses the whole message", () => {
    const store = fresh("A1");
    const [t1, t2] = [mobile(), mobile((r) => r.id !== mobile().id)];
    if (!t1 || !t2) throw new Error("two mobile tickets expected");
    const broken = { ...remote(t2.id, 8), at: Number.NaN };
    expect(() => store.recordRemoteEntries([remote(t1.id, 7), broken])).toThrow(/evt-c1-8 has no valid time/);
    expect(store.facts().presence(t1.id, 1)).toBeUndefined();
    expect(store.recordRemoteEntries([remote(t1.id, 7), remote(t2.id, 8), remote(t1.id, 7)])).toEqual([
      "recorded",
      "recorded",
      "duplicate",
    ]);
    expect(store.facts().presence(t1.id, 1)).toMatchObject({ firstEntryGate: "C1", state: "inside" });
    expect(store.facts().presence(t2.id, 1)).toMatchObject({ firstEntryGate: "C1", state: "inside" });
    store.close();
  });

  describe("the admission fan-out, held and written in one transaction (queueRemoteEntries)", () => {
    const open = (path: string, remoteQueueLimit = 256) =>
      GateStore.open(path, { rootPublicKey: v.rootPublicKey, gateId: "A1", remoteQueueLimit });
    const three = () => {
      const a = mobile();
      const b = a && mobile((r) => r.id !== a.id);
      const c = a && b && mobile((r) => r.id !== a.id && r.id !== b.id);
      if (!a || !b || !c) throw new Error("three mobile tickets expected");
      return [a, b, c] as const;
    };

    it("a scan of a ticket another gate admitted is refused at once: its entry is written first", () => {
      const store = fresh();
      const [t1, t2] = three();
      store.queueRemoteEntries([remote(t1.id, 1)]);
      store.queueRemoteEntries([remote(t2.id, 2)]);
      expect(store.queuedRemoteEntries).toBe(2);
      const decision = decideScan(h.code(t1.id, DURING), scanAt(v, "A1", DURING), store.facts(), VERIFIERS);
      expect(decision).toMatchObject({ outcome: "REFUSE", reason: "ALREADY_ENTERED" });
      // Both messages went in the one transaction that the read of t1 asked for.
      expect(store.queuedRemoteEntries).toBe(0);
      expect(store.facts().presence(t2.id, 1)).toMatchObject({ state: "inside", firstEntryGate: "C1" });
      store.close();
    });

    it("entries wait until the limit while the gate decides on other tickets", () => {
      const store = open(join(v.temp, `cache-${++n}.db`), 3);
      store.importBundle(v.dir);
      const [t1, t2, t3] = three();
      store.queueRemoteEntries([remote(t1.id, 1), remote(t2.id, 2)]);
      expect(store.facts().presence(t3.id, 1)).toBeUndefined();
      expect(store.queuedRemoteEntries).toBe(2);
      store.queueRemoteEntries([remote(t3.id, 3)]);
      expect(store.queuedRemoteEntries).toBe(0);
      store.close();
    });

    it("a malformed message queues nothing; a lookup and closing the cache write the queue", () => {
      const path = join(v.temp, `cache-${++n}.db`);
      const store = open(path);
      store.importBundle(v.dir);
      const [t1, t2] = three();
      expect(() =>
        store.queueRemoteEntries([remote(t1.id, 1), { ...remote(t2.id, 2), eventId: "" }]),
      ).toThrow(/without eventId/);
      expect(store.queuedRemoteEntries).toBe(0);
      store.queueRemoteEntries([remote(t1.id, 1)]);
      store.lookup("nobody at all", { at: DURING });
      expect(store.queuedRemoteEntries).toBe(0);
      store.queueRemoteEntries([remote(t2.id, 2)]);
      store.close();
      const again = open(path);
      expect(again.facts().presence(t2.id, 1)).toMatchObject({ state: "inside", firstEntryGate: "C1" });
      again.close();
    });
  });

  it("a ticket's entrance is read again once the feed changes the tickets (a late sale)", () => {
    const store = fresh();
    const late = v.demo.rows.find((r) => r.late && r.state === "valid");
    if (!late) throw new Error("a late sale expected in the demo");
    expect(store.ticketEntrance(late.id)).toBeUndefined();
    store.applyChanges(v.demo.changes);
    expect(store.ticketEntrance(late.id)).toBe(late.entrance);
    store.close();
  });

  it("exit and re-entry on a session with exit scans", () => {
    const store = fresh();
    const t = h.row(
      (r) =>
        r.state === "valid" &&
        r.kind === "mobile" &&
        !r.late &&
        r.session === 2 &&
        r.entrance === 1 &&
        r.categories.length === 0,
    );
    const at = DURING + DAY;
    const entry = scanAt(v, "A1", at);
    const admit = (nowMs: number, direction: "entry" | "exit") => {
      const d = decideScan(h.code(t.id, nowMs), { ...entry, nowMs, direction }, store.facts(), VERIFIERS);
      if (d.outcome !== "ADMIT") return d.reason;
      const { authorization } = store.authorize(d, { lane: 1, direction, at: nowMs });
      store.confirmPassage(authorization.authorizationId, nowMs + 1000);
      return d.reason;
    };
    expect(admit(at, "exit")).toBe("NOT_INSIDE");
    expect(admit(at, "entry")).toBe("ADMITTED");
    expect(admit(at + 60_000, "exit")).toBe("EXIT_RECORDED");
    expect(store.facts().presence(t.id, 2)).toMatchObject({ state: "outside", firstEntryAt: at + 1000 });
    expect(admit(at + 120_000, "entry")).toBe("ADMITTED");
    expect(store.events().map((e) => e.kind)).toEqual([
      "authorized",
      "entered",
      "authorized",
      "exited",
      "authorized",
      "entered",
    ]);
    store.close();
  });

  it("assisted admissions carry the steward; refusals by a steward too", () => {
    const store = fresh();
    const ctx = scanAt(v, "A1", DURING);
    const printed = h.rows(
      (r) => r.state === "valid" && r.kind === "printed" && !r.late && r.session === 1 && r.entrance === 1,
    );
    const [p1, p2] = printed;
    if (!p1 || !p2) throw new Error("demo lacks printed confirmations");
    const d = decideScan(h.code(p1.id, DURING), ctx, store.facts(), VERIFIERS);
    expect(d).toMatchObject({ outcome: "ASSISTED", reason: "PRINTED_CONFIRMATION", holder: p1.holder });
    expect(() => store.authorize(d, { lane: 1, direction: "entry", at: DURING })).toThrow(/steward/);
    const { event, authorization } = store.authorize(
      d,
      { lane: 1, direction: "entry", at: DURING },
      { steward: "ST-17" },
    );
    expect(event).toMatchObject({
      kind: "authorized",
      manual: true,
      steward: "ST-17",
      reason: "PRINTED_CONFIRMATION",
    });
    expect(store.confirmPassage(authorization.authorizationId, DURING + 1).event).toMatchObject({
      kind: "entered",
      manual: true,
      steward: "ST-17",
    });
    const d2 = decideScan(h.code(p2.id, DURING), ctx, store.facts(), VERIFIERS);
    expect(
      store.recordRefusal(d2, { lane: 1, direction: "entry", at: DURING }, { steward: "ST-17" }).event,
    ).toMatchObject({
      kind: "refused",
      manual: true,
      steward: "ST-17",
    });
    // Typed from the lookup, no code scanned.
    const found = store.lookup(p2.orderReference, { at: DURING }).hits.find((x) => x.ticketId === p2.id);
    expect(found?.entered).toBe(false);
    const manual = store.admitManually({
      ticketId: p2.id,
      session: 1,
      lane: 2,
      at: DURING,
      steward: "ST-17",
    });
    store.confirmPassage(manual.authorization.authorizationId, DURING + 5);
    expect(
      store.lookup(p2.orderReference, { at: DURING }).hits.find((x) => x.ticketId === p2.id)?.entered,
    ).toBe(true);
    expect(() =>
      store.admitManually({ ticketId: p2.id, session: 1, lane: 2, at: DURING, steward: "ST-17" }),
    ).toThrow(/already inside/);
    store.close();
  });

  it("manual admission rules: alone, a steward admits only this entrance's printed tickets", () => {
    const store = fresh();
    const pick = (kind: "mobile" | "printed", entrance: number) =>
      h.row(
        (r) =>
          r.state === "valid" && r.kind === kind && !r.late && r.session === 1 && r.entrance === entrance,
      );
    const base = { session: 1, lane: 2, at: DURING, steward: "ST-17" };
    const phone = pick("mobile", 1);
    const elsewhere = pick("printed", 2);
    expect(() => store.admitManually({ ...base, ticketId: phone.id })).toThrow(
      expect.objectContaining({
        name: "ManualAdmissionError",
        reason: "MOBILE_TICKET",
        needsSupervisor: true,
      }),
    );
    expect(() => store.admitManually({ ...base, ticketId: elsewhere.id })).toThrow(
      expect.objectContaining({ reason: "WRONG_ENTRANCE", needsSupervisor: true }),
    );
    expect(store.events()).toEqual([]);
    // On a supervisor's word: recorded with both identities, the note and the ticket's real state,
    // on the authorization and on its passage (what the fan-out carries).
    const override = { supervisor: "SUP-01", note: "lost phone, ID checked" };
    const admitted = store.admitManually({ ...base, ticketId: elsewhere.id, override });
    expect(admitted.event).toMatchObject({
      kind: "authorized",
      reason: "SUPERVISOR_OVERRIDE",
      manual: true,
      steward: "ST-17",
      override: { ...override, state: "WRONG_ENTRANCE" },
    });
    expect(store.confirmPassage(admitted.authorization.authorizationId, DURING + 5).event).toMatchObject({
      kind: "entered",
      reason: "SUPERVISOR_OVERRIDE",
      override: { supervisor: "SUP-01", state: "WRONG_ENTRANCE" },
    });
    // An override never lets a ticket in twice.
    expect(() => store.admitManually({ ...base, ticketId: elsewhere.id, override })).toThrow(
      expect.objectContaining({ reason: "ALREADY_ENTERED", needsSupervisor: false }),
    );
    // A printed ticket of this entrance stays PRINTED_CONFIRMATION, even with an override at hand.
    const own = pick("printed", 1);
    const printed = store.admitManually({ ...base, ticketId: own.id, override }).event;
    expect(printed.reason).toBe("PRINTED_CONFIRMATION");
    expect(printed.override).toBeUndefined();
    store.close();
  });

  it("keeps the venue's supervisors from the signed bundle, and records a refused override code", () => {
    const store = fresh();
    expect(store.venue.supervisors.map((s) => s.id)).toEqual(["SUP-01", "SUP-02"]);
    expect(store.venue.supervisors[0]?.overrideCode).toMatch(/^scrypt\$/);
    const t = h.row((r) => r.state === "valid" && r.kind === "mobile" && r.session === 1 && !r.late);
    const { event } = store.recordOverrideRefused({
      ticketId: t.id,
      session: 1,
      lane: 1,
      at: DURING,
      steward: "ST-17",
      detail: "wrong code for supervisor SUP-01",
    });
    expect(event).toMatchObject({ kind: "refused", reason: "OVERRIDE_REFUSED", steward: "ST-17" });
    store.close();
  });

  it("installs a newer trust list and refuses an older one", () => {
    const store = fresh();
    const signer = createNodeSigner();
    const rootSeed = Uint8Array.from(Buffer.from(v.demo.secrets.rootSeed, "hex"));
    const list = (version: number) =>
      signTrustList(
        {
          venue: "SDF",
          version,
          issuedAt: Math.floor(DOORS / 1000),
          keys: [
            {
              keyId: 1,
              publicKey: Uint8Array.from(Buffer.from(v.demo.trustList.keys[0]?.publicKey ?? "", "hex")),
              validFrom: Math.floor(DOORS / 1000) - 86_400,
              validUntil: Math.floor(DOORS / 1000) + 10 * 86_400,
              revoked: false,
            },
          ],
        },
        rootSeed,
        signer,
      );
    expect(store.applyTrustList(list(3))).toEqual({ version: 3 });
    expect(store.venue.trustListVersion).toBe(3);
    expect(() => store.applyTrustList(list(2))).toThrow(/older than the one held \(3\)/);
    expect(() => store.importBundle(v.dir)).toThrow(/trust list version 1 is older/);
    const forged = { ...list(4), version: 5 };
    expect(() => store.applyTrustList(forged)).toThrow(/BAD_SIGNATURE/);
    expect(store.venue.trustListVersion).toBe(3);
    store.close();
  });
});
