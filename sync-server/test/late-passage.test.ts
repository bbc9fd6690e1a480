import { randomUUID } from "node:crypto";
import { join } from "node:path";
import type { EntryLogEvent } from "@sesame/gate-core";
import { testGateKey } from "@sesame/sync/testing";
import { makeTempDir } from "@sesame/testing";
import { createNodeSigner, seededRandom } from "@sesame/ticket";
import { generateDemoVenue, writeVenueDirectory } from "@sesame/venue";
import { afterAll, describe, expect, it } from "vitest";
import { setUpServerStore } from "../src/root/set-up.js";
import { provisionGateInStore } from "../src/server.js";

/*
 * A gate that annulled an authorization while it could not hear its lane controller, then heard
 * the passage the controller kept, sends `entered` (detail late-passage) after `annulled` for the
 * same authorization. The server stores and counts it as an entry; if the ticket entered again
 * meanwhile (the holder went to another gate), that is a double entry and it is alerted.
 */

describe("sync-server ingest: an entry recorded after its authorization was annulled", () => {
  const dir = makeTempDir("sesame-late-passage-");
  const signer = createNodeSigner();
  const demo = generateDemoVenue({
    spectators: 40,
    doorsOpenMs: Date.now() - 3_600_000,
    entrances: 2,
    lanes: 4,
    lanesPerGate: 1,
    random: seededRandom("late-passage-ingest"),
    signer,
  });
  const venueDir = join(dir.path, "venue");
  writeVenueDirectory(venueDir, demo, signer);
  // Tickets of entrance A (gates A1, A2) for session 1: the server checks both.
  const [ticketA, ticketB] = demo.rows.filter(
    (r) => r.state === "valid" && r.entrance === 1 && r.session === 1,
  );
  afterAll(() => dir.remove());

  let n = 0;
  const open = () => {
    const store = setUpServerStore(venueDir, join(dir.path, `server-${++n}`), { now: Date.now() });
    for (const gateId of ["A1", "A2"])
      provisionGateInStore(store, gateId, testGateKey(demo.venue.id, gateId).request, Date.now());
    return store;
  };
  /** One gate's journal, numbered from 1, as its outbox sends it. */
  const journal = (gateId: string, events: Array<Partial<EntryLogEvent> & Pick<EntryLogEvent, "kind">>) =>
    events.map(
      (e, i): EntryLogEvent => ({
        eventId: randomUUID(),
        gateId,
        gateSeq: i + 1,
        lane: 1,
        direction: "entry",
        reason: "ADMITTED",
        manual: false,
        session: 1,
        at: Date.now() + i * 1000,
        ...e,
      }),
    );
  const send = (store: ReturnType<typeof open>, gateId: string, events: EntryLogEvent[], after = 0) => {
    const result = store.ingest(
      gateId,
      { after, sig: "test", events: JSON.stringify(events) },
      events,
      Date.now(),
    );
    if (result.kind !== "stored") throw new Error(`ingest: ${result.kind}`);
    expect(result.rejected).toEqual([]);
    return result;
  };

  it("stores and counts the late entry, with no alert", () => {
    const store = open();
    const ticketId = ticketA?.id ?? 0;
    const result = send(
      store,
      "A1",
      journal("A1", [
        { kind: "authorized", authorizationId: "auth-1", ticketId },
        { kind: "annulled", authorizationId: "auth-1", ticketId, detail: "window-expired" },
        { kind: "entered", authorizationId: "auth-1", ticketId, detail: "late-passage" },
      ]),
    );
    expect(result.stored.map((e) => `${e.kind}:${e.detail ?? ""}`)).toEqual([
      "authorized:",
      "annulled:window-expired",
      "entered:late-passage",
    ]);
    expect(result.admissions.map((a) => a.event.ticketId)).toEqual([ticketId]);
    expect(result.alerts).toEqual([]);
    expect(store.counts()).toMatchObject({ entered: 1, insideBySession: { "1": 1 } });
    store.close();
  });

  it("alerts a double entry when the ticket was admitted elsewhere between the annulment and the late report", () => {
    const store = open();
    const ticketId = ticketB?.id ?? 0;
    const a1 = journal("A1", [
      { kind: "authorized", authorizationId: "auth-a", ticketId },
      { kind: "annulled", authorizationId: "auth-a", ticketId, detail: "recovery" },
      { kind: "entered", authorizationId: "auth-a", ticketId, detail: "late-passage" },
    ]);
    send(store, "A1", a1.slice(0, 2));
    // Meanwhile the holder got in at A2.
    send(
      store,
      "A2",
      journal("A2", [
        { kind: "authorized", authorizationId: "auth-b", ticketId },
        { kind: "entered", authorizationId: "auth-b", ticketId },
      ]),
    );
    const late = send(store, "A1", a1.slice(2), 2);
    expect(late.alerts.map((a) => [a.type, a.ticketId, [...a.gates].sort()])).toEqual([
      ["double-entry", ticketId, ["A1", "A2"]],
    ]);
    expect(store.counts()).toMatchObject({ entered: 2 });
    store.close();
  });
});
