import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { call, type Reply, serverTools } from "./attack-tools.js";
import { DrillVenue, eventually, type Holder, STEWARDS } from "./harness.js";

/*
 * Drill (issue 15, items 8 and 9): a steward at gate A1 (entrance A) admits by hand, through the
 * kiosk's HTTP API as the steward UI does, a printed ticket of entrance B and a phone ticket of
 * entrance A. Alone: each refused with its specific reason (WRONG_ENTRANCE, MOBILE_TICKET), the
 * kiosk saying a supervisor's override is needed, logged on one line, nothing recorded. With a
 * supervisor's override (the code whose scrypt hash is in the signed bundle): admitted, the steward
 * walks them through, recorded with both identities, the note and the ticket's real state; fanned
 * out with the override, so that B1 (entrance B) applies the entry and the server stores and counts
 * it (no `implausible` rejection). Afterwards the right people are admitted at both gates (0 false
 * refusals), the admitted ones are refused ALREADY_ENTERED, and A1's journal is whole on the server.
 * Through the real sync-server, its broker (the embedded aedes, then Mosquitto) and gates A1, B1.
 */

interface ManualResult {
  readonly ticketId: number;
  readonly admitted: boolean;
  readonly reason?: string;
  readonly needsSupervisor?: boolean;
  readonly decision?: { readonly reason: string };
  readonly error?: string;
}

describe.each(["embedded", "mosquitto"] as const)(
  "drill: a steward admitting by hand what is not theirs (%s broker)",
  (broker) => {
    let venue: DrillVenue;
    let cookie = "";
    let printedB: number;
    let phone: Holder;
    const note = "wrong entrance printed on the ticket, ID checked";

    beforeAll(async () => {
      venue = await DrillVenue.start({
        name: `attacks-manual-${broker}`,
        // The same venue on both brokers: one with a printed ticket of entrance B for session 1.
        seed: "attacks-manual-embedded",
        spectators: 150,
        entrances: 2,
        lanes: 2,
        lanesPerGate: 1,
        broker,
        reservedPerEntrance: 6,
      });
      // A printed ticket of entrance B for session 1 that nobody uses in the drill.
      const ticket = venue.demo.bundle.tickets.find(
        (t) =>
          t.kind === "printed" &&
          t.status === "valid" &&
          t.entrance === 2 &&
          t.sessions.length === 1 &&
          t.sessions[0] === 1,
      );
      if (!ticket) throw new Error("no printed ticket of entrance B in the demo venue");
      printedB = ticket.id;
      phone = venue.holder(1);
    }, 120_000);

    afterAll(async () => {
      await venue?.stop();
    });

    const { server } = serverTools(() => venue);
    const kiosk = (method: string, path: string, body?: unknown): Promise<Reply> => {
      const node = venue.gate("A1").node;
      if (!node) throw new Error("A1 is not in this process");
      return call(node.url, method, path, {
        headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    };
    const admit = async (ticketId: number, override?: unknown): Promise<ManualResult> => {
      const r = await kiosk("POST", "/api/lanes/1/manual-admission", {
        idChecked: true,
        tickets: [{ ticketId, session: 1 }],
        ...(override === undefined ? {} : { override }),
      });
      expect(r.status, r.text).toBe(200);
      const [result] = (r.json as { results: ManualResult[] }).results;
      if (!result) throw new Error(`no result: ${r.text}`);
      return result;
    };
    const a1Journal = () => venue.journal(venue.gate("A1")).events;

    it("alone, the steward is refused both with the specific reason: logged, nothing recorded", async () => {
      onTestFailed(() => console.log(venue.logTail()));
      const signIn = await kiosk("POST", "/api/session", { pin: STEWARDS[0]?.pin });
      expect(signIn.status, signIn.text).toBe(200);
      cookie = String(signIn.headers["set-cookie"]).split(";")[0] ?? "";
      const before = a1Journal().length;

      const other = await admit(printedB);
      expect(other).toMatchObject({
        ticketId: printedB,
        admitted: false,
        reason: "WRONG_ENTRANCE",
        needsSupervisor: true,
      });
      const mobile = await admit(phone.ticketId);
      expect(mobile).toMatchObject({
        ticketId: phone.ticketId,
        admitted: false,
        reason: "MOBILE_TICKET",
        needsSupervisor: true,
      });
      for (const [ticketId, reason] of [
        [printedB, "WRONG_ENTRANCE"],
        [phone.ticketId, "MOBILE_TICKET"],
      ] as const)
        await eventually(
          () =>
            venue
              .gate("A1")
              .lines.some((l) =>
                l.includes(
                  `manual admission refused at lane 1: steward ${STEWARDS[0]?.id}, ticket ${ticketId} session 1: ${reason} (needs a supervisor's override)`,
                ),
              ),
          `A1 logged the refused admission of ${ticketId}`,
        );
      expect(venue.gate("A1").lines.filter((l) => /[\r\n]/.test(l))).toEqual([]);
      // Nothing recorded, nothing unlocked.
      expect(a1Journal()).toHaveLength(before);
      expect(venue.lane("A1").sim.controller.turnstile.isFree("entry")).toBe(false);
    }, 60_000);

    it("with a supervisor's override: admitted, recorded with both identities and the note, accepted by B1 and the server", async () => {
      onTestFailed(() => console.log(venue.logTail()));
      const supervisor = "SUP-01";
      const code = venue.demo.secrets.supervisorCodes?.[supervisor];
      if (!code) throw new Error("the demo venue has no code for SUP-01");
      const lane = venue.lane("A1");
      const c = lane.sim.controller;
      for (const [ticketId, state] of [
        [printedB, "WRONG_ENTRANCE"],
        [phone.ticketId, "MOBILE_TICKET"],
      ] as const) {
        const result = await admit(ticketId, { supervisor, code, note });
        expect(result, result.error).toMatchObject({
          ticketId,
          admitted: true,
          decision: { reason: "SUPERVISOR_OVERRIDE" },
        });
        // The arm opened for them: they walk through.
        await eventually(
          () => c.outputState[c.wiring.entryUnlockOutput] === true,
          `the arm opened for ${ticketId}`,
        );
        expect(await c.walk("entry", "normal")).toBe("passed");
        await eventually(
          () => a1Journal().some((e) => e.kind === "entered" && e.ticketId === ticketId),
          `A1 recorded ${ticketId}'s entry`,
        );
        const authorized = a1Journal().find((e) => e.kind === "authorized" && e.ticketId === ticketId);
        expect(authorized).toMatchObject({
          steward: STEWARDS[0]?.id,
          reason: "SUPERVISOR_OVERRIDE",
          override: { supervisor, note, state },
        });
      }
      await venue.settle();

      // The server: stored and counted with the override, never rejected as implausible.
      const stored = server().store.eventsOfGate("A1");
      for (const ticketId of [printedB, phone.ticketId]) {
        expect(stored.filter((e) => e.ticketId === ticketId).map((e) => e.kind)).toEqual([
          "authorized",
          "entered",
        ]);
        expect(stored.find((e) => e.ticketId === ticketId && e.kind === "authorized")).toMatchObject({
          steward: STEWARDS[0]?.id,
          override: { supervisor, note },
        });
      }
      expect(
        server()
          .store.rejections(1000, "A1")
          .filter((r) => r.reason === "implausible"),
      ).toEqual([]);
      expect(
        server()
          .store.alerts(1000)
          .filter((a) => a.type === "implausible-events"),
      ).toEqual([]);

      // B1 applied both entries from the fan-out (the override makes the other entrance's entry plausible).
      const b1 = venue.gate("B1").node;
      for (const ticketId of [printedB, phone.ticketId])
        await eventually(
          () => b1?.store.facts().presence(ticketId, 1) !== undefined,
          `B1 holds ${ticketId} as inside`,
        );
      expect(venue.gate("B1").lines.filter((l) => l.includes("rejected") && l.includes("A1"))).toEqual([]);
    }, 90_000);

    it("afterwards: the right people are admitted (0 false refusals), the admitted ones refused, the record whole", async () => {
      onTestFailed(() => console.log(venue.logTail()));
      for (const [gateId, entrance] of [
        ["A1", 1],
        ["B1", 2],
      ] as const) {
        const holder = venue.holder(entrance);
        expect(
          (await venue.present(venue.lane(gateId), holder)).result,
          `holder ${holder.ticketId} at ${gateId}`,
        ).toBe("passed");
      }
      // The phone ticket admitted by override is inside: refused at both gates.
      for (const gateId of ["A1", "B1"])
        expect((await venue.present(venue.lane(gateId), { ...phone, expect: "refuse" })).result).toBe(
          "not-opened",
        );
      await venue.settle();
      const key = (e: { gateSeq: number; eventId: string; kind: string }) =>
        `${e.gateSeq}:${e.eventId}:${e.kind}`;
      for (const g of venue.gates) {
        const local = venue.journal(g);
        expect(local.open, `${g.gateId}: open authorizations`).toBe(0);
        const remote = server()
          .store.eventsOfGate(g.gateId)
          .sort((a, b) => a.gateSeq - b.gateSeq);
        expect(remote.map(key), `${g.gateId}'s journal on the server`).toEqual(local.events.map(key));
      }
    }, 90_000);
  },
);
