import { join } from "node:path";
import { LATE_PASSAGE } from "@sesame/cache";
import type { EntryLogEvent } from "@sesame/gate-core";
import { encodeEventBatch, signEventBatch } from "@sesame/sync";
import { MemoryGateStore, testGateKey } from "@sesame/sync/testing";
import { makeTempDir } from "@sesame/testing";
import { createNodeSigner, createNodeVerifier, seededRandom } from "@sesame/ticket";
import { type BundleTicket, generateDemoVenue, writeVenueDirectory } from "@sesame/venue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setUpServerStore } from "../root/set-up.js";
import { provisionGateInStore } from "../server.js";
import type { ServerStore } from "../store.js";
import { handleEventBatch } from "./batch.js";
import { checkPlausible, LATE_PASSAGE_DETAIL, type PlausibilityFacts } from "./rules.js";

/*
 * The server checks what a gate says (issue 15, item 5): the sequences an honest gate's journal
 * writes are stored, counted and fanned out; what a stolen gate key signs beyond them is stored as
 * rejected with its reason, acknowledged, never counted nor fanned out, and raises one grouped
 * "gate sends implausible events" alert per gate.
 */

describe("the server checks what a gate says", () => {
  const dir = makeTempDir("sesame-plausible-");
  const now = Date.now();
  const demo = generateDemoVenue({
    spectators: 400,
    doorsOpenMs: now - 3_600_000,
    entrances: 2,
    lanes: 2,
    random: seededRandom("plausibility"),
    signer: createNodeSigner(),
  });
  let store: ServerStore;
  const tickets = demo.bundle.tickets.filter((t) => t.status === "valid" && t.sessions.includes(1));
  const pick = (what: string, ok: (t: BundleTicket) => boolean, skip = 0): number => {
    const found = tickets.filter(ok)[skip];
    if (!found) throw new Error(`no ${what} in the demo venue`);
    return found.id;
  };
  const mobileA = (skip: number) =>
    pick("mobile ticket of entrance A", (t) => t.entrance === 1 && t.kind === "mobile", skip);
  const printedA = pick("printed ticket of entrance A", (t) => t.entrance === 1 && t.kind === "printed");
  const mobileB = pick("mobile ticket of entrance B", (t) => t.entrance === 2 && t.kind === "mobile");
  const gates = new Map<string, MemoryGateStore>();
  const gate = (id: string) => {
    let g = gates.get(id);
    if (!g) {
      g = new MemoryGateStore(id);
      gates.set(id, g);
    }
    return g;
  };
  /** Sends a gate's pending events as one batch, as its GateSync would. */
  const send = (id: string) => {
    const g = gate(id);
    const events = g.outboxPending(g.ackedGateSeq, 1000);
    const result = store.ingest(id, { after: g.ackedGateSeq, sig: "", events: "" }, events, now);
    if (result.kind !== "stored") throw new Error(`gate ${id}'s batch did not follow on`);
    g.acknowledgeOutbox(result.acked);
    return result;
  };

  beforeAll(() => {
    const venueDir = join(dir.path, "venue");
    writeVenueDirectory(venueDir, demo, createNodeSigner());
    store = setUpServerStore(venueDir, join(dir.path, "data"), { now });
    for (const g of demo.venue.gates)
      provisionGateInStore(store, g.id, testGateKey(demo.venue.id, g.id).request, now);
  });
  afterAll(() => {
    store?.close();
    dir.remove();
  });

  it("stores, counts and fans out every sequence an honest gate writes", () => {
    const a = gate("A1");
    a.admit({ ticketId: mobileA(0), session: 1 });
    // A late passage: the authorization annulled while the controller was not heard, then its passage.
    const late = a.append({
      kind: "authorized",
      authorizationId: "late-1",
      ticketId: mobileA(1),
      session: 1,
    });
    a.append({ ...pass(late), kind: "annulled", detail: "window-expired" });
    a.append({ ...pass(late), kind: "entered", detail: "late-passage" });
    // An exit, and a steward's admission of a printed ticket of this entrance.
    const out = a.append({
      kind: "authorized",
      direction: "exit",
      reason: "EXIT_FINAL",
      authorizationId: "exit-1",
      ticketId: mobileA(0),
      session: 1,
    });
    a.append({ ...pass(out), kind: "exited" });
    a.admit({
      ticketId: printedA,
      session: 1,
      manual: true,
      steward: "S042",
      reason: "PRINTED_CONFIRMATION",
    });
    // An authorization nobody used, refusals, alarms, free passages: nothing to check.
    const unused = a.append({
      kind: "authorized",
      authorizationId: "unused",
      ticketId: mobileA(2),
      session: 1,
    });
    a.append({ ...pass(unused), kind: "annulled", detail: "window-expired" });
    a.append({ kind: "refused", reason: "WRONG_ENTRANCE", ticketId: mobileB, session: 1 });
    a.append({ kind: "alarm", reason: "FORCED_PASSAGE" });
    a.append({ kind: "free-passage", reason: "FREE_PASSAGE" });
    const result = send("A1");
    expect(result.rejected).toEqual([]);
    expect(result.admissions.map((x) => x.event.kind)).toEqual(["entered", "entered", "exited", "entered"]);
    expect(result.alerts.filter((x) => x.type === "implausible-events")).toEqual([]);
    expect(store.eventsOfGate("A1")).toHaveLength(a.lastGateSeq);
  });

  it("refuses what a stolen key signs: stored as rejected with its reason, acknowledged, not counted, one alert", () => {
    const b = gate("B1");
    const admissionsBefore = store.admissionSeq();
    const countsBefore = store.counts();
    // An entry with no authorization, and one closing an authorization B1 never opened.
    b.append({ kind: "entered", ticketId: mobileB, session: 1 });
    b.append({ kind: "entered", authorizationId: "never-opened", ticketId: mobileB, session: 1 });
    // Entrance A's ticket at entrance B's gate, authorization and all.
    b.admit({ ticketId: mobileA(3), session: 1 });
    // A ticket the venue never sold; one for another session.
    b.admit({ ticketId: 4_000_000, session: 1 });
    b.admit({ ticketId: mobileB, session: 2 });
    // A steward's hand admission of a mobile ticket as a printed confirmation.
    b.admit({ ticketId: mobileB, session: 1, manual: true, steward: "S7", reason: "PRINTED_CONFIRMATION" });
    const result = send("B1");
    expect(result.acked).toBe(b.lastGateSeq);
    expect(b.outboxDepth()).toBe(0);
    expect(result.rejected.map((r) => [r.gateSeq, r.reason])).toEqual([
      [1, "implausible"],
      [2, "implausible"],
      [3, "implausible"],
      [4, "implausible"],
      [5, "implausible"],
      [6, "implausible"],
      [7, "implausible"],
      [8, "implausible"],
      [9, "implausible"],
      [10, "implausible"],
    ]);
    const details = result.rejected.map((r) => r.detail);
    expect(details[0]).toMatch(/entry of ticket \d+ without an authorization/);
    expect(details[1]).toMatch(/closes authorization never-opened, which gate B1 never opened/);
    expect(details[2]).toMatch(/is for entrance 1, not gate B1's entrance 2/);
    expect(details[4]).toMatch(/ticket 4000000 was not sold for this venue/);
    expect(details[6]).toMatch(/is not for session 2/);
    expect(details[8]).toMatch(/steward admitted mobile ticket \d+ by hand as a printed confirmation/);
    // Nothing stored, counted or fanned out.
    expect(result.stored).toEqual([]);
    expect(result.admissions).toEqual([]);
    expect(store.eventsOfGate("B1")).toEqual([]);
    expect(store.admissionSeq()).toBe(admissionsBefore);
    expect(store.counts().entered).toBe(countsBefore.entered);
    // Kept with their reason where refusals are looked at.
    expect(store.rejections(100, "B1").filter((r) => r.reason === "implausible")).toHaveLength(10);
    // One alert for the gate, with the count.
    const alerts = store.alerts(100).filter((x) => x.type === "implausible-events");
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ gates: ["B1"], count: 10 });
    expect(alerts[0]?.detail).toMatch(/^gate B1 sends implausible events: 10 refused/);

    // The next burst adds to the same alert.
    b.admit({ ticketId: mobileA(4), session: 1 });
    const again = send("B1");
    expect(again.rejected).toHaveLength(2);
    const grouped = store.alerts(100).filter((x) => x.type === "implausible-events");
    expect(grouped).toHaveLength(1);
    expect(grouped[0]).toMatchObject({ id: alerts[0]?.id, count: 12 });
  });

  it("knows a late passage by the detail the gate's journal writes", () => {
    expect(LATE_PASSAGE_DETAIL).toBe(LATE_PASSAGE);
  });

  it("refuses a second passage on one authorization, and a passage claiming one the fire alarm annulled", () => {
    const a = gate("A1");
    const entered = a.admit({ ticketId: mobileA(5), session: 1 });
    a.append({ ...pass(entered), kind: "entered" });
    const fire = a.append({
      kind: "authorized",
      authorizationId: "fire-1",
      ticketId: mobileA(6),
      session: 1,
    });
    a.append({ ...pass(fire), kind: "annulled", detail: "fire-alarm" });
    a.append({ ...pass(fire), kind: "entered", detail: "late-passage" });
    const result = send("A1");
    expect(result.rejected.map((r) => r.detail)).toEqual([
      expect.stringMatching(/already had its passage/),
      expect.stringMatching(/annulled by the fire alarm/),
    ]);
    expect(result.admissions).toHaveLength(1);
  });

  it("refuses a quarantined gate's batches whole until the gate is provisioned again", () => {
    const signer = createNodeSigner();
    const verifier = createNodeVerifier();
    const acked = store.gate("B1")?.ackedSeq ?? 0;
    const g = new MemoryGateStore("B1", { firstGateSeq: acked + 1 });
    g.admit({ ticketId: pick("another ticket of entrance B", (t) => t.entrance === 2, 1), session: 1 });
    const batchOf = (seed: Uint8Array) =>
      encodeEventBatch(signEventBatch("B1", acked, g.outboxPending(acked, 10), seed, signer));
    const firstKey = testGateKey(demo.venue.id, "B1");
    const first = provisionGateInStore(store, "B1", firstKey.request, now);
    expect(store.areas.gates.quarantine("B1", { at: now, by: "Dupont", reason: "stolen" })).toBe(true);
    // The first quarantine stands.
    expect(store.areas.gates.quarantine("B1", { at: now, by: "Martin", reason: "again" })).toBe(false);
    expect(store.gate("B1")?.quarantine).toEqual({ at: now, by: "Dupont", reason: "stolen" });
    const refused = handleEventBatch(store, verifier, "B1", first.gatePublicKey, batchOf(firstKey.seed), now);
    expect(refused).toMatchObject({ kind: "refused", reason: "quarantined" });
    if (refused.kind === "refused") expect(refused.detail).toMatch(/quarantined by Dupont .*\(stolen\)/);
    expect(store.eventsOfGate("B1")).toEqual([]);
    expect(store.gate("B1")?.ackedSeq).toBe(acked);
    // Provisioned again (new keys): the quarantine ends.
    const againKey = testGateKey(demo.venue.id, "B1");
    const again = provisionGateInStore(store, "B1", againKey.request, now);
    expect(store.gate("B1")?.quarantine).toBeNull();
    const stored = handleEventBatch(store, verifier, "B1", again.gatePublicKey, batchOf(againKey.seed), now);
    expect(stored).toMatchObject({ kind: "stored", result: { rejected: [] } });
    expect(store.eventsOfGate("B1")).toHaveLength(2);
  });

  it("accepts a manual admission carrying a supervisor's override, and leaves its checks to the override", () => {
    const facts: PlausibilityFacts = {
      gateEntrance: 2,
      ticket: () => ({ kind: "mobile", sessions: [1], entrance: 1, zone: 1 }),
      entranceZones: () => [2],
      authorizationSteps: () => [],
    };
    const manual = {
      ...gate("B9").append({ kind: "authorized", authorizationId: "o-1", ticketId: 1, session: 1 }),
      manual: true,
      steward: "S7",
      reason: "PRINTED_CONFIRMATION",
    } as EntryLogEvent;
    expect(checkPlausible(manual, facts).ok).toBe(false);
    const overridden = { ...manual, override: { supervisor: "Dupont", note: "lost phone" } } as EntryLogEvent;
    expect(checkPlausible(overridden, facts)).toEqual({ ok: true });
  });
});

/** The fields of an authorization that its closing events repeat. */
function pass(e: EntryLogEvent): Partial<EntryLogEvent> {
  return {
    authorizationId: e.authorizationId,
    ticketId: e.ticketId,
    session: e.session,
    direction: e.direction,
    reason: e.reason,
  } as Partial<EntryLogEvent>;
}
