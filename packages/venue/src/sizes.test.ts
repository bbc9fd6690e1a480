import { createNodeSigner, seededRandom } from "@sesame/ticket";
import { describe, expect, it } from "vitest";
import { decodeGateBundle, encodeGateBundle } from "./bundle.js";
import { cutBundle, generateDemoVenue } from "./demo.js";
import type { BundleTicket, Revocation, SignedTicketChange } from "./model.js";

/*
 * The sizes the docs promise (up to 1,000,000 tickets, `sesame venue demo`): the paths a demo's
 * tickets take into the gate bundle run with 200,000 rows, more than a spread into a call
 * (Math.max(...rows)) survives before "Maximum call stack size exceeded". The whole million is the
 * benchmark's (packages/cache/bench/million.bench.ts): too slow for a test.
 */

const ROWS = 200_000;
const small = generateDemoVenue({
  spectators: 40,
  doorsOpenMs: Date.UTC(2026, 6, 26, 17),
  entrances: 2,
  lanes: 4,
  random: seededRandom("sizes"),
  signer: createNodeSigner(),
});
const template = small.bundle.tickets[0] as BundleTicket;
const tickets: BundleTicket[] = Array.from({ length: ROWS }, (_, i) => ({
  ...template,
  id: 100_001 + i,
  issueSequence: i + 1,
}));
const revocations: Revocation[] = Array.from({ length: ROWS }, (_, i) => ({
  ticketId: 100_001 + i,
  generation: 1,
  reason: "resold",
  sequence: ROWS + i + 1,
}));

describe(`a gate bundle of ${ROWS.toLocaleString("en")} tickets`, () => {
  it("is cut from the demo's tickets without a spread or a quadratic search", () => {
    // The last 1,500 are the late sales, issued by the feed after the cut.
    const late = tickets.slice(-1_500);
    const changes = late.map(
      (ticket) =>
        ({ sequence: ticket.issueSequence, type: "issue", ticket, keyId: 1, sig: "" }) as SignedTicketChange,
    );
    const cut = cutBundle(tickets, revocations, changes);
    expect(cut.tickets).toHaveLength(ROWS - 1_500);
    expect(cut.tickets.at(-1)?.id).toBe(100_000 + ROWS - 1_500);
    expect(cut.feedSequence).toBe(2 * ROWS);
    expect(cutBundle(tickets, [], changes).feedSequence).toBe(ROWS - 1_500);
  });

  it("encodes and decodes", () => {
    // Tickets at full size; the revocations take the same code path (a map) and would only add time.
    const bytes = encodeGateBundle({ ...small.bundle, tickets, revocations: revocations.slice(0, 1_000) });
    const back = decodeGateBundle(bytes);
    expect(back.tickets).toHaveLength(ROWS);
    expect(back.revocations).toHaveLength(1_000);
    expect(back.tickets[ROWS - 1]).toEqual(tickets[ROWS - 1]);
  });
});
