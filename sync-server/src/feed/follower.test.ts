import { createNodeVerifier, type IssuerKey, keyPairFromSeed } from "@sesame/ticket";
import type { BundleTicket, SignedTicketChange } from "@sesame/venue";
import { MemoryIssuer } from "@sesame/venue/testing";
import { describe, expect, it } from "vitest";
import { IssuerFollower, type IssuerSource, type RefusedIssuedChange } from "./follower.js";

/*
 * The follower on its own: a feed in memory, the issuer's stream from an issuer in memory. Its
 * position is the feed's: a new follower over the same feed (a restart) applies nothing twice and
 * skips nothing; an unreachable issuer is logged once while it lasts; a gap is refused.
 */

const seed = Buffer.alloc(32, 3);
const keys: ReadonlyMap<number, IssuerKey> = new Map([
  [
    1,
    {
      keyId: 1,
      publicKey: keyPairFromSeed(seed).publicKey,
      validFrom: 0,
      validUntil: 4_000_000_000,
      revoked: false,
    },
  ],
]);
const ticket = (id: number): BundleTicket => ({
  id,
  generation: 1,
  kind: "mobile",
  status: "valid",
  sessions: [1],
  entrance: 1,
  zone: 1,
  seat: "",
  categories: [],
  holder: "Léa",
  orderReference: `O-${id}`,
  issueSequence: 1,
});

function world(base = 10) {
  const issuer = new MemoryIssuer({ venueId: "SDF", keyId: 1, seed, ticket });
  issuer.begin(base);
  const feed: SignedTicketChange[] = [];
  const logs: string[] = [];
  const refusals: RefusedIssuedChange[] = [];
  let source: IssuerSource = issuer;
  const follower = () =>
    new IssuerFollower({
      venueId: "SDF",
      source: { where: "test", page: (v, a, l) => source.page(v, a, l) },
      verifier: createNodeVerifier(),
      position: () => feed.at(-1)?.sequence ?? base,
      issuerKeys: () => keys,
      append: (changes) => {
        feed.push(...changes);
        return { applied: changes.length };
      },
      refused: (r) => refusals.push(r),
      log: (l) => logs.push(l),
    });
  return {
    issuer,
    feed,
    logs,
    refusals,
    follower,
    setSource: (s: IssuerSource) => {
      source = s;
    },
  };
}

describe("IssuerFollower", () => {
  it("applies the issuer's changes in order from the feed's position; after a restart, nothing twice, nothing skipped", async () => {
    const w = world();
    for (let id = 1; id <= 3; id++) w.issuer.reassign(100 + id, "resale", `Holder ${id}`);
    const first = w.follower();
    expect(await first.pull()).toEqual({ kind: "applied", count: 3, more: false });
    expect(w.feed.map((c) => c.sequence)).toEqual([11, 12, 13]);
    // "Restart": a new follower over the same feed.
    w.issuer.cancel(104);
    const second = w.follower();
    expect(await second.pull()).toEqual({ kind: "applied", count: 1, more: false });
    expect(await second.pull()).toEqual({ kind: "applied", count: 0, more: false });
    expect(w.feed.map((c) => c.sequence)).toEqual([11, 12, 13, 14]);
    expect(w.feed.every((c) => c.keyId === 1 && /^[0-9a-f]{128}$/.test(c.sig))).toBe(true);
  });

  it("logs an unreachable issuer once while it lasts, and says when it follows again", async () => {
    const w = world();
    const f = w.follower();
    w.setSource({
      where: "http://issuer",
      page: () => Promise.reject(new Error("connect ECONNREFUSED")),
    });
    for (let i = 0; i < 3; i++) expect((await f.pull()).kind).toBe("unreachable");
    expect(w.logs).toEqual([
      "issuer test unreachable or failing for venue SDF (feed at 10): connect ECONNREFUSED",
    ]);
    w.setSource(w.issuer);
    w.issuer.reassign(101, "transfer", "Ami");
    expect(await f.pull()).toEqual({ kind: "applied", count: 1, more: false });
    expect(w.logs.at(-1)).toBe("issuer test: following again, feed at 11");
  });

  it("a failure on the venue side (its store) is logged and retried, never thrown", async () => {
    const w = world();
    w.issuer.reassign(101, "resale", "A");
    const f = new IssuerFollower({
      venueId: "SDF",
      source: w.issuer,
      verifier: createNodeVerifier(),
      position: () => 10,
      issuerKeys: () => {
        throw new Error("no trust list stored");
      },
      append: () => ({ applied: 0 }),
      refused: () => undefined,
      log: (l) => w.logs.push(l),
    });
    expect(await f.pull()).toMatchObject({ kind: "failed" });
    expect(w.logs).toEqual([
      "following the issuer the test's issuer (memory) failed on the venue side: no trust list stored",
    ]);
  });

  it("refuses a gap or a change for another position, and an issuer behind the feed, moving nothing", async () => {
    const w = world();
    const f = w.follower();
    w.issuer.reassign(101, "resale", "A");
    w.issuer.reassign(102, "resale", "B");
    const [, second] = (await w.issuer.page("SDF", 10, 10)).changes;
    w.setSource({ where: "test", page: async () => ({ changes: second ? [second] : [], lastSequence: 12 }) });
    expect(await f.pull()).toMatchObject({
      kind: "refused",
      applied: 0,
      refusal: { reason: "out-of-order", sequence: 12 },
    });
    expect(w.refusals).toHaveLength(1);
    await f.pull(); // the same refusal again: not reported twice
    expect(w.refusals).toHaveLength(1);
    expect(w.feed).toEqual([]);
    w.setSource({ where: "test", page: async () => ({ changes: [], lastSequence: 3 }) });
    expect((await f.pull()).kind).toBe("behind");
    expect(w.logs.at(-1)).toMatch(/venue SDF's stream ends at 3, the venue's feed is at 10/);
  });
});
