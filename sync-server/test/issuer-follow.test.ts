import { join } from "node:path";
import { GateStore } from "@sesame/cache";
import { decideScan } from "@sesame/gate-core";
import { type RunningIssuer, startIssuer } from "@sesame/issuer";
import { CacheSyncStore, GateSync } from "@sesame/sync";
import { makeTempDir } from "@sesame/testing";
import { createNodeSigner, createScanVerifiers, keyPairFromSeed } from "@sesame/ticket";
import {
  type BundleTicket,
  type IssuedTicketChange,
  signTicketChange,
  ticketCredential,
} from "@sesame/venue";
import { afterEach, describe, expect, it } from "vitest";
import { httpIssuerSource, type IssuerPage, type IssuerSource } from "../src/feed/follower.js";
import { FAST_GATE, World, waitFor } from "./harness.js";

/*
 * The whole path of a resale since the issuer left the venue server: the issuer commits it, the
 * venue server's follower checks its signature against the venue's trust list and appends it to
 * the feed, and every gate refuses the old code and admits the new one. A forged change in the
 * issuer's answer (bad signature, another venue's, a key outside the trust list) is refused,
 * logged, alerted, and the feed does not move.
 */

/** The issuer's stream as the server reads it, with room for a forger between the two. */
class InterposedSource implements IssuerSource {
  where = "issuer (not yet started)";
  target: IssuerSource | undefined;
  /** Put in front of the issuer's answer. */
  forged: IssuedTicketChange | undefined;
  async page(venue: string, after: number, limit: number): Promise<IssuerPage> {
    if (!this.target) throw new Error("connect ECONNREFUSED (the issuer is not started yet)");
    const real = await this.target.page(venue, after, limit);
    if (!this.forged) return real;
    return { changes: [this.forged, ...real.changes], lastSequence: Math.max(real.lastSequence, after + 1) };
  }
}

const signer = createNodeSigner();
const verifiers = createScanVerifiers();

describe("the venue server follows the issuer (aedes)", { timeout: 300_000 }, () => {
  let world: World | undefined;
  let issuer: RunningIssuer | undefined;
  const closers: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of closers.reverse()) await c();
    closers.length = 0;
    await world?.close();
    await issuer?.close();
    world = undefined;
    issuer = undefined;
  });

  it("a resale at the issuer reaches every gate; forged changes in its answer are refused and move nothing", async () => {
    const source = new InterposedSource();
    world = await World.create("aedes", {
      serverOptions: {
        issuer: { source },
        followerTuning: { pollMs: 50, minBackoffMs: 50, maxBackoffMs: 200 },
      },
    });
    const w = world;
    const server = w.requireServer();
    const demo = w.demo;
    if (!demo) throw new Error("no demo venue");
    expect(server.follower).toBeDefined();

    // The issuer beside the venue: the venue's issuer seeds, its tickets at the feed's position.
    const dir = makeTempDir("sesame-issuer-follow-");
    closers.push(dir.remove);
    issuer = await startIssuer({
      dataDir: dir.path,
      venues: [demo.venue],
      importSeeds: demo.secrets.issuerSeeds,
      log: () => undefined,
    });
    const faceValues = new Map(demo.rows.map((r) => [r.id, r.faceValue]));
    const held = server.store.areas.feed.bundle(server.venue, server.store.trustList(), Date.now()).tickets;
    await issuer.store.adoptTickets(
      demo.venue.id,
      held.map((t) => ({ ...t, faceValue: faceValues.get(t.id) ?? { cents: 5000, currency: "EUR" } })),
      server.store.feedSequence(),
    );
    const logs = () => w.serverLog.join("\n");
    await waitFor(() => /issuer .*unreachable/.test(logs()), 10_000, "the unreachable issuer logged");
    source.target = httpIssuerSource(issuer.url, issuer.venueToken);
    source.where = source.target.where;

    // Two gates: A1 on the real gate cache, B1 on the in-memory store.
    const cache = GateStore.open(join(w.dir.path, "A1.db"), {
      rootPublicKey: Buffer.from(server.venue.rootPublicKey, "hex"),
      gateId: "A1",
    });
    closers.push(() => cache.close());
    cache.importBundle(w.venueDir);
    const sync = new GateSync({
      provisioning: w.provisioning("A1"),
      signingSeed: w.gateKey("A1").seed,
      store: new CacheSyncStore(cache),
      brokerUrl: w.brokerUrl,
      httpBaseUrl: `http://127.0.0.1:${server.httpPort}`,
      tuning: FAST_GATE,
    });
    sync.start();
    closers.push(() => sync.stop());
    const b = w.gate("B1");
    await waitFor(
      () => cache.feedSequence === server.store.feedSequence() && b.sync.status().connected,
      15_000,
      "gates caught up",
    );

    // A printed ticket of A1's entrance: its code admits at A1 (printed: with the steward's look) before the resale.
    const ticket = w
      .ticketsAt(1)
      .map((id) => server.store.ticket(id))
      .find(
        (t): t is BundleTicket => t?.kind === "printed" && t.status === "valid" && t.categories.length === 0,
      );
    if (!ticket) throw new Error("no printed ticket at entrance A");
    const seed = demo.secrets.issuerSeeds["1"] ?? "";
    const oldCode = ticketCredential(
      demo.venue,
      ticket,
      { keyId: 1, seed: Buffer.from(seed, "hex") },
      undefined,
      signer,
    );
    const gate = demo.venue.gates.find((g) => g.id === "A1");
    const scan = (code: string) =>
      decideScan(
        code,
        {
          gateId: "A1",
          lane: 1,
          entrance: gate?.entrance ?? 1,
          direction: "entry",
          nowMs: Date.now(),
          mode: "normal",
          clockSuspect: false,
        },
        cache.facts(),
        verifiers,
      );
    expect(scan(oldCode).reason).toBe("PRINTED_CONFIRMATION"); // admitted, the steward glancing at the paper

    // The platform resells at the issuer; the follower brings the change to both gates.
    const before = server.store.feedSequence();
    const face = faceValues.get(ticket.id);
    const res = await fetch(`${issuer.url}/venues/${demo.venue.id}/tickets/${ticket.id}/resale`, {
      method: "POST",
      headers: { authorization: `Bearer ${issuer.platformToken}`, "content-type": "application/json" },
      body: JSON.stringify({ holder: "Nouvelle Titulaire", price: face?.cents, currency: face?.currency }),
    });
    const resale = (await res.json()) as { sequence: number; credential: string };
    expect(res.status).toBe(200);
    expect(resale.sequence).toBe(before + 1);
    await waitFor(
      () => cache.feedSequence === before + 1 && b.store.feedSequence() === before + 1,
      10_000,
      "the resale at every gate",
    );
    expect(b.store.changes.at(-1)).toMatchObject({ type: "resale", ticketId: ticket.id, keyId: 1 });
    expect(scan(oldCode)).toMatchObject({ outcome: "REFUSE", reason: "REVOKED_RESOLD" });
    expect(scan(resale.credential).reason).toBe("PRINTED_CONFIRMATION");
    expect(sync.status().refusedMessages).toBe(0);

    // Forged changes in the issuer's answer, each at the next position.
    const next = before + 2;
    const change = {
      sequence: next,
      type: "transfer" as const,
      ticketId: ticket.id,
      generation: ticket.generation + 2,
      holder: "Faussaire",
    };
    const genuine = signTicketChange(
      demo.venue.id,
      change,
      { keyId: 1, seed: Buffer.from(seed, "hex") },
      signer,
    );
    const stranger = keyPairFromSeed(Buffer.alloc(32, 7));
    const forgeries: Array<[string, IssuedTicketChange]> = [
      ["bad-signature", { ...genuine, change: { ...change, holder: "Autre Faussaire" } }],
      [
        "wrong-target",
        signTicketChange("another-venue", change, { keyId: 1, seed: Buffer.from(seed, "hex") }, signer),
      ],
      ["unknown-key", signTicketChange(demo.venue.id, change, { keyId: 99, seed: stranger.seed }, signer)],
    ];
    for (const [reason, forged] of forgeries) {
      const alerts = server.store.alerts().length;
      source.forged = forged;
      await waitFor(
        () => server.store.rejections(100, "issuer").some((r) => r.reason === reason),
        10_000,
        `the ${reason} change refused`,
      );
      await waitFor(() => server.store.alerts().length === alerts + 1, 5000, "alerted");
      expect(server.store.alerts().at(-1)?.type).toBe("forged-message");
      expect(logs()).toMatch(
        new RegExp(`rejected from issuer: ${reason}: change ${next} .*feed stays at ${before + 1}`),
      );
      expect(server.store.feedSequence()).toBe(before + 1);
    }
    source.forged = undefined;
    expect(cache.feedSequence).toBe(before + 1);
    expect(b.store.feedSequence()).toBe(before + 1);
    expect(scan(resale.credential).reason).toBe("PRINTED_CONFIRMATION");

    // The stream goes on once the forger is gone: the next genuine change is applied.
    const cancel = await fetch(`${issuer.url}/venues/${demo.venue.id}/tickets/${ticket.id}/cancel`, {
      method: "POST",
      headers: { authorization: `Bearer ${issuer.platformToken}` },
    });
    expect(cancel.status).toBe(200);
    await waitFor(() => cache.feedSequence === next, 10_000, "the cancellation at A1");
    expect(scan(resale.credential).outcome).toBe("REFUSE");
  });
});
