import { join } from "node:path";
import { type Decision, decideScan, type EntryLogEvent } from "@sesame/gate-core";
import { createNodeSigner } from "@sesame/ticket";
import { walletCode } from "@sesame/venue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GateStore } from "../src/index.js";
import { type DemoDir, DURING, demoVenueDir, holders, scanAt, VERIFIERS } from "./helpers.js";

/*
 * Issue 16, cases 1, 4 and 7: a ticket's in/out state follows the order of its movements, never
 * a comparison of two gates' clocks; a generation the gate has seen superseded is refused; the
 * feed refuses a resale of a ticket that is not valid.
 */

const DAY = 24 * 3_600_000;
/** Session 2 of the demo (re-entry with exit scans) is the day after session 1. */
const SESSION2 = DURING + DAY;

describe("admission order: movements, generations, feed", () => {
  let v: DemoDir;
  let h: ReturnType<typeof holders>;
  let n = 0;
  const fresh = (gateId = "A1") => {
    const store = GateStore.open(join(v.temp, `order-${++n}.db`), { rootPublicKey: v.rootPublicKey, gateId });
    store.importBundle(v.dir);
    return store;
  };
  /** A phone ticket of entrance 1, no steward needed, for `session`. */
  const ticket = (session: number, skip: readonly number[] = []) =>
    h.row(
      (r) =>
        r.state === "valid" &&
        r.kind === "mobile" &&
        !r.late &&
        r.session === session &&
        r.entrance === 1 &&
        r.categories.length === 0 &&
        !skip.includes(r.id),
    );

  /** The venue's admissions stream, as the sync-server fans it out: one order for every gate. */
  const venue = () => {
    const stream: EntryLogEvent[] = [];
    const gates = new Map<string, { store: GateStore; delivered: number }>();
    return {
      add(store: GateStore) {
        gates.set(store.gateId, { store, delivered: 0 });
      },
      /** A gate's events reach the server (in its journal order) and join the stream. */
      send(store: GateStore, events: readonly EntryLogEvent[]) {
        for (const e of events) if (e.kind === "entered" || e.kind === "exited") stream.push(e);
        void store;
      },
      /** Delivers what `gateId` has not received yet, in the stream's order, with positions. */
      deliver(gateId: string) {
        const g = gates.get(gateId);
        if (!g) throw new Error(`no gate ${gateId}`);
        const events = stream.slice(g.delivered);
        const positions = events.map((_, i) => g.delivered + i + 1);
        g.delivered = stream.length;
        if (events.length > 0) g.store.recordRemoteEntries(events, positions);
      },
    };
  };

  /** Scans `t` at `store`'s lane at gate-clock `at`; on ADMIT, records the passage at once. */
  const scan = (
    store: GateStore,
    ticketId: number,
    at: number,
    direction: "entry" | "exit",
    out?: EntryLogEvent[],
    code = h.code(ticketId, at),
  ): Decision => {
    // Every gate here lets the ticket's entrance (1) in: B1 stands at entrance 1 for these tests.
    const context = scanAt(v, store.gateId, at, { direction, entrance: 1 });
    const d = decideScan(code, context, store.facts(), VERIFIERS);
    if (d.outcome !== "ADMIT") {
      out?.push(store.recordRefusal(d, { lane: 1, direction, at }).event);
      return d;
    }
    const opened = store.authorize(d, { lane: 1, direction, at });
    const passed = store.confirmPassage(opened.authorization.authorizationId, at);
    out?.push(opened.event);
    if (passed.event) out?.push(passed.event);
    return d;
  };

  beforeAll(() => {
    v = demoVenueDir(600, "admission-order");
    h = holders(v);
  });
  afterAll(() => v.remove());

  describe("case 1: in/out state follows the order of movements, not the gates' clocks", () => {
    it("clock step back between entry and exit does not admit twice", () => {
      const store = fresh();
      const t = ticket(2);
      const t0 = SESSION2;
      expect(scan(store, t.id, t0, "entry").reason).toBe("ADMITTED");
      expect(scan(store, t.id, t0 + 20_000, "exit").reason).toBe("EXIT_RECORDED");
      // The gate's clock steps back 25 s (inside the proof's ±30 s): the holder comes back in.
      expect(scan(store, t.id, t0 - 5_000, "entry").reason).toBe("ADMITTED");
      expect(store.facts().presence(t.id, 2)?.state).toBe("inside");
      // A second entry without an exit between is refused.
      expect(scan(store, t.id, t0 - 3_000, "entry").reason).toBe("ALREADY_ENTERED");
      store.close();
    });

    it("clock step back between entry and exit does not leave the ticket inside", () => {
      const store = fresh();
      const t = ticket(2);
      const t0 = SESSION2;
      expect(scan(store, t.id, t0, "entry").reason).toBe("ADMITTED");
      // The exit is stamped before the entry: the clock stepped back 25 s in between.
      expect(scan(store, t.id, t0 - 20_000, "exit").reason).toBe("EXIT_RECORDED");
      expect(store.facts().presence(t.id, 2)?.state).toBe("outside");
      expect(scan(store, t.id, t0 - 10_000, "entry").reason).toBe("ADMITTED");
      store.close();
    });

    it("two gates whose clocks differ by 40 s neither admit twice nor leave the ticket inside", () => {
      const a = fresh("A1");
      const b = fresh("B1");
      const stream = venue();
      stream.add(a);
      stream.add(b);
      const t = ticket(2);
      const u = ticket(2, [t.id]);
      const t0 = SESSION2;
      const AHEAD = 40_000; // A1's clock runs 40 s ahead of B1's
      // t: in at A1, out at B1 20 s later (B1 stamps it 20 s before the entry): not stuck inside.
      let events: EntryLogEvent[] = [];
      expect(scan(a, t.id, t0 + AHEAD, "entry", events).reason).toBe("ADMITTED");
      stream.send(a, events);
      stream.deliver("B1");
      events = [];
      expect(scan(b, t.id, t0 + 20_000, "exit", events).reason).toBe("EXIT_RECORDED");
      stream.send(b, events);
      stream.deliver("A1");
      stream.deliver("B1");
      expect(a.facts().presence(t.id, 2)?.state).toBe("outside");
      expect(b.facts().presence(t.id, 2)?.state).toBe("outside");
      expect(scan(a, t.id, t0 + AHEAD + 60_000, "entry").reason).toBe("ADMITTED");
      // u: in at B1, out at A1, back in at B1 (stamped before the exit): not admitted twice.
      events = [];
      expect(scan(b, u.id, t0, "entry", events).reason).toBe("ADMITTED");
      stream.send(b, events);
      stream.deliver("A1");
      events = [];
      expect(scan(a, u.id, t0 + AHEAD + 10_000, "exit", events).reason).toBe("EXIT_RECORDED");
      stream.send(a, events);
      stream.deliver("B1");
      events = [];
      expect(scan(b, u.id, t0 + 20_000, "entry", events).reason).toBe("ADMITTED");
      stream.send(b, events);
      stream.deliver("A1");
      stream.deliver("B1");
      expect(a.facts().presence(u.id, 2)?.state).toBe("inside");
      expect(b.facts().presence(u.id, 2)?.state).toBe("inside");
      expect(scan(a, u.id, t0 + AHEAD + 30_000, "entry").reason).toBe("ALREADY_ENTERED");
      a.close();
      b.close();
    });

    it("a gate's own passage is not undone by another gate's movement it had not heard of", () => {
      // B1 is cut off: the ticket enters and leaves at A1; then someone enters with it at B1.
      const a = fresh("A1");
      const b = fresh("B1");
      const stream = venue();
      stream.add(a);
      stream.add(b);
      const t = ticket(2);
      const t0 = SESSION2;
      let events: EntryLogEvent[] = [];
      scan(a, t.id, t0, "entry", events);
      scan(a, t.id, t0 + 60_000, "exit", events);
      stream.send(a, events);
      stream.deliver("A1");
      events = [];
      // Its clock is behind: its entry is stamped before A1's.
      expect(scan(b, t.id, t0 - 10_000, "entry", events).reason).toBe("ADMITTED");
      // B1 hears of A1's movements before its own entry comes back in the stream: they came first.
      stream.deliver("B1");
      expect(b.facts().presence(t.id, 2)?.state).toBe("inside");
      stream.send(b, events);
      stream.deliver("A1");
      stream.deliver("B1");
      expect(a.facts().presence(t.id, 2)?.state).toBe("inside");
      expect(b.facts().presence(t.id, 2)?.state).toBe("inside");
      a.close();
      b.close();
    });
  });

  describe("case 4: the highest generation a gate has seen is the current one", () => {
    it("the gate refuses a generation it has itself seen superseded", () => {
      const store = fresh();
      const t = ticket(2);
      const wallet = v.demo.wallets.find(
        (w) => w.body.ticketId === t.id && w.body.generation === t.generation,
      );
      if (!wallet) throw new Error("no wallet for the ticket");
      // A resale the feed has not brought yet: generation + 1, signed after the cache's feed position.
      const resold = {
        ...wallet,
        body: { ...wallet.body, generation: t.generation + 1, issueSequence: store.feedSequence + 10 },
      };
      const signer = createNodeSigner();
      const buyer = (at: number) => walletCode(resold, v.issuerSeed, at, signer);
      const t0 = SESSION2;
      expect(scan(store, t.id, t0, "entry", undefined, buyer(t0)).reason).toBe("ADMITTED_NEW_SALE");
      expect(scan(store, t.id, t0 + 60_000, "exit", undefined, buyer(t0 + 60_000)).reason).toBe(
        "EXIT_RECORDED",
      );
      // The seller's old code: this gate's own journal shows a newer generation.
      const seller = scan(store, t.id, t0 + 120_000, "entry", undefined, h.code(t.id, t0 + 120_000));
      expect(seller).toMatchObject({ outcome: "REFUSE", reason: "REVOKED_RESOLD" });
      // The buyer comes back in.
      expect(scan(store, t.id, t0 + 180_000, "entry", undefined, buyer(t0 + 180_000)).outcome).toBe("ADMIT");
      store.close();
    });

    it("a generation admitted at another gate supersedes the older one here too", () => {
      const a = fresh("A1");
      const b = fresh("B1");
      const t = ticket(2);
      const wallet = v.demo.wallets.find(
        (w) => w.body.ticketId === t.id && w.body.generation === t.generation,
      );
      if (!wallet) throw new Error("no wallet for the ticket");
      const resold = {
        ...wallet,
        body: { ...wallet.body, generation: t.generation + 1, issueSequence: a.feedSequence + 10 },
      };
      const signer = createNodeSigner();
      const buyer = (at: number) => walletCode(resold, v.issuerSeed, at, signer);
      const t0 = SESSION2;
      const events: EntryLogEvent[] = [];
      expect(scan(a, t.id, t0, "entry", events, buyer(t0)).reason).toBe("ADMITTED_NEW_SALE");
      expect(scan(a, t.id, t0 + 60_000, "exit", events, buyer(t0 + 60_000)).reason).toBe("EXIT_RECORDED");
      const moves = events.filter((e) => e.kind === "entered" || e.kind === "exited");
      b.recordRemoteEntries(
        moves,
        moves.map((_, i) => i + 1),
      );
      expect(scan(b, t.id, t0 + 120_000, "entry").reason).toBe("REVOKED_RESOLD");
      a.close();
      b.close();
    });
  });

  describe("case 7: the feed refuses a resale or transfer of a ticket that is not valid", () => {
    it("a resale applied to a cancelled ticket is refused and keeps the cancellation", () => {
      const store = fresh();
      const t = ticket(1);
      let seq = store.feedSequence;
      store.applyChanges([{ sequence: ++seq, type: "cancel", ticketId: t.id }]);
      const resale = {
        sequence: ++seq,
        type: "resale" as const,
        ticketId: t.id,
        generation: t.generation + 1,
        holder: "Zoé Nouvelle",
      };
      const summary = store.applyChanges([resale]);
      expect(summary).toMatchObject({ applied: 0, repeated: 0, feedSequence: seq });
      expect(summary.refused).toEqual([
        expect.objectContaining({ sequence: seq, type: "resale", ticketId: t.id }),
      ]);
      expect(summary.refused?.[0]?.detail).toMatch(/cancelled/);
      expect(store.facts().ticket(t.id)).toMatchObject({ generation: t.generation, status: "cancelled" });
      expect(store.facts().revocationReason(t.id, t.generation)).toBe("cancelled");
      const code = h.code(t.id, DURING);
      expect(decideScan(code, scanAt(v, "A1", DURING), store.facts(), VERIFIERS).reason).toBe("CANCELLED");
      // Sent again, it is a repeat (not refused twice); a transfer of it is refused as well.
      expect(store.applyChanges([resale])).toMatchObject({ applied: 0, repeated: 1, refused: [] });
      const transfer = { ...resale, sequence: ++seq, type: "transfer" as const };
      expect(store.applyChanges([transfer]).refused).toHaveLength(1);
      expect(store.facts().revocationReason(t.id, t.generation)).toBe("cancelled");
      // The feed goes on after a refused change.
      const other = ticket(1, [t.id]);
      store.applyChanges([{ sequence: ++seq, type: "cancel", ticketId: other.id }]);
      expect(store.facts().ticket(other.id)?.status).toBe("cancelled");
      store.close();
    });
  });
});
