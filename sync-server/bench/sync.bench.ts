import { join } from "node:path";
import type { EntryLogEvent } from "@sesame/gate-core";
import { startIssuer } from "@sesame/issuer";
import { MemoryGateStore } from "@sesame/sync/testing";
import { makeTempDir } from "@sesame/testing";
import { type BenchFigure, percentile } from "@sesame/testing/bench";
import type { BundleTicket, TicketChange } from "@sesame/venue";
import { DEFAULT_FOLLOWER_TUNING } from "../src/feed/follower.js";
import { ServerStore } from "../src/store.js";
import { BROKERS, type BrokerKind, TOKENS, World, waitFor } from "../test/harness.js";
import { SseClient } from "../test/sse-client.js";

/*
 * Sync targets (docs/design.md §11, issue 6), for both brokers: sync-server ingest (events/s, 4 gates
 * draining at once), admission at gate A known at gate B (p99, from A's commit to B's store),
 * entry visible on the supervisor's SSE stream (p99), one gate's 50,000-event backlog drained, and
 * a resale committed at the issuer (PGlite, its HTTP API) applied at every gate (p99, through the
 * server's follower, which polls the issuer's stream: its poll interval is the floor).
 * The sync-server runs as its own process (bin/sync-server.ts, as in production), the broker in
 * another (aedes as the server's child, or Mosquitto); the simulated gates and the SSE reader here.
 */

const GATE_TUNING = { ackTimeoutMs: 2000 };

const INGEST_GATES = 4;
const INGEST_PER_GATE = 15_000;
const LATENCY_SAMPLES = 400;
const LATENCY_RATE_PER_S = 100;
const BACKLOG = 50_000;

/**
 * `n` events as a gate's journal writes them: admissions (authorized, then entered) of distinct
 * tickets of the gate's entrance — the server refuses any other entry — and every fifth a refusal.
 */
function fill(store: MemoryGateStore, n: number, tickets: number[]): void {
  while (store.lastGateSeq < n) {
    if (store.lastGateSeq % 5 === 4 || n - store.lastGateSeq < 2) {
      store.append({ kind: "refused", reason: "EXPIRED_CODE" });
      continue;
    }
    const ticketId = tickets.shift();
    if (ticketId === undefined) throw new Error("the bench venue has too few tickets");
    store.admit({ ticketId, session: 1 });
  }
}

async function ingest(broker: BrokerKind): Promise<number> {
  // Enough tickets for 6,000 distinct admissions at each entrance.
  const world = await World.create(broker, {
    entrances: INGEST_GATES,
    serverProcess: true,
    spectators: 45_000,
  });
  const reader = new ServerStore(join(world.dataDir, "sync.db"), { readonly: true });
  try {
    const gates = ["A1", "B1", "C1", "D1"].slice(0, INGEST_GATES).map((id, k) => {
      const store = new MemoryGateStore(id);
      fill(store, INGEST_PER_GATE, world.ticketsAt(k + 1));
      return world.gate(id, { store, start: false, tuning: GATE_TUNING });
    });
    const total = INGEST_GATES * INGEST_PER_GATE;
    const base = reader.eventCount();
    const t0 = performance.now();
    for (const g of gates) g.sync.start();
    await waitFor(() => gates.every((g) => g.store.outboxDepth() === 0), 120_000, "ingest");
    const seconds = (performance.now() - t0) / 1000;
    if (reader.eventCount() - base !== total) throw new Error("ingest lost or duplicated events");
    return total / seconds;
  } finally {
    reader.close();
    await world.close();
  }
}

async function latencies(broker: BrokerKind): Promise<{ fanout: number[]; sse: number[] }> {
  const world = await World.create(broker, { serverProcess: true, spectators: 2000 });
  const tickets = world.ticketsAt(1);
  try {
    const a = world.gate("A1", { tuning: GATE_TUNING });
    const b = world.gate("B1", { tuning: GATE_TUNING });
    await waitFor(() => a.sync.status().connected && b.sync.status().connected, 20_000, "gates connected");
    // Let the start-up catch-up (snapshot, replays) finish before measuring.
    await waitFor(() => a.store.snapshots === 1 && b.store.snapshots === 1, 20_000, "snapshots");
    const committed = new Map<string, number>();
    const fanout: number[] = [];
    const sse: number[] = [];
    b.store.onRemoteEntry = (e: EntryLogEvent) => {
      const t = committed.get(e.eventId);
      if (t !== undefined) fanout.push(performance.now() - t);
    };
    const stream = await SseClient.open(
      `http://127.0.0.1:${world.apiPort}/api/stream`,
      TOKENS[1]?.token ?? "",
    );
    stream.onMessage = (m) => {
      if (m.event !== "entries") return;
      for (const e of JSON.parse(m.data) as EntryLogEvent[]) {
        const t = committed.get(e.eventId);
        if (t !== undefined) sse.push(m.receivedAt - t);
      }
    };
    try {
      for (let i = 0; i < LATENCY_SAMPLES; i++) {
        const e = a.store.admit({ ticketId: tickets[i] ?? 0, session: 1 });
        committed.set(e.eventId, performance.now());
        a.sync.notifyOutbox();
        await new Promise((r) => setTimeout(r, 1000 / LATENCY_RATE_PER_S));
      }
      await waitFor(
        () => fanout.length === LATENCY_SAMPLES && sse.length === LATENCY_SAMPLES,
        20_000,
        "all samples",
      );
    } finally {
      stream.close();
    }
    return { fanout: fanout.sort((x, y) => x - y), sse: sse.sort((x, y) => x - y) };
  } finally {
    await world.close();
  }
}

const RESALE_SAMPLES = 100;
const RESALE_RATE_PER_S = 10;

/**
 * From the platform's resale answered by the issuer (committed) to the change in every gate's store:
 * the issuer and the server in this process (the server follows the issuer over HTTP with its
 * default tuning), four gates.
 */
export async function resaleToGates(): Promise<number[]> {
  const dir = makeTempDir("sesame-bench-issuer-");
  const issuerBox: { url?: string; token?: string } = {};
  const world = await World.create("aedes", {
    entrances: 4,
    spectators: 2000,
    serverOptions: {
      followerTuning: DEFAULT_FOLLOWER_TUNING,
      // The issuer starts below, once the venue's feed position is known; until then it is unreachable.
      issuer: {
        source: {
          where: "bench issuer",
          page: async (venue, after, limit) => {
            if (!issuerBox.url) return { changes: [], lastSequence: after };
            const res = await fetch(
              `${issuerBox.url}/venues/${venue}/changes?after=${after}&limit=${limit}`,
              {
                headers: { authorization: `Bearer ${issuerBox.token}` },
              },
            );
            return (await res.json()) as { changes: never[]; lastSequence: number };
          },
        },
      },
    },
  });
  const server = world.requireServer();
  const demo = world.demo;
  if (!demo) throw new Error("no demo venue");
  const issuer = await startIssuer({
    dataDir: dir.path,
    venues: [demo.venue],
    importSeeds: demo.secrets.issuerSeeds,
    log: () => undefined,
  });
  try {
    const faceValues = new Map(demo.rows.map((r) => [r.id, r.faceValue]));
    const held = server.store.areas.feed.bundle(server.venue, server.store.trustList(), Date.now()).tickets;
    await issuer.store.adoptTickets(
      demo.venue.id,
      held.map((t) => ({ ...t, faceValue: faceValues.get(t.id) ?? { cents: 5000, currency: "EUR" } })),
      server.store.feedSequence(),
    );
    issuerBox.url = issuer.url;
    issuerBox.token = issuer.venueToken;
    const gates = ["A1", "B1", "C1", "D1"].map((id) => world.gate(id, { tuning: GATE_TUNING }));
    await waitFor(() => gates.every((g) => g.store.snapshots === 1), 20_000, "snapshots");
    // When each gate applied each sequence.
    const applied = new Map<number, number[]>();
    for (const g of gates) {
      const apply = g.store.applyChanges.bind(g.store);
      g.store.applyChanges = (changes: readonly TicketChange[]) => {
        const outcome = apply(changes);
        const at = performance.now();
        for (const c of changes) applied.set(c.sequence, [...(applied.get(c.sequence) ?? []), at]);
        return outcome;
      };
    }
    const resold = held.filter((t: BundleTicket) => t.status === "valid").slice(0, RESALE_SAMPLES);
    const committed = new Map<number, number>();
    for (const t of resold) {
      const face = faceValues.get(t.id);
      const res = await fetch(`${issuer.url}/venues/${demo.venue.id}/tickets/${t.id}/resale`, {
        method: "POST",
        headers: { authorization: `Bearer ${issuer.platformToken}`, "content-type": "application/json" },
        body: JSON.stringify({ holder: "Nouveau Détenteur", price: face?.cents, currency: face?.currency }),
      });
      const answer = (await res.json()) as { sequence?: number; error?: string };
      if (answer.sequence === undefined) throw new Error(`resale of ${t.id} refused: ${answer.error}`);
      committed.set(answer.sequence, performance.now());
      await new Promise((r) => setTimeout(r, 1000 / RESALE_RATE_PER_S));
    }
    await waitFor(
      () => [...committed.keys()].every((s) => (applied.get(s)?.length ?? 0) === gates.length),
      20_000,
      "every resale at every gate",
    );
    return [...committed].map(([s, t]) => Math.max(...(applied.get(s) ?? [])) - t).sort((x, y) => x - y);
  } finally {
    await world.close();
    await issuer.close();
    dir.remove();
  }
}

async function backlog(broker: BrokerKind): Promise<number> {
  // Enough tickets for 20,000 distinct admissions at entrance A.
  const world = await World.create(broker, { serverProcess: true, spectators: 65_000 });
  try {
    const store = new MemoryGateStore("A1");
    fill(store, BACKLOG, world.ticketsAt(1));
    const a = world.gate("A1", { store, start: false, tuning: GATE_TUNING });
    const t0 = performance.now();
    a.sync.start();
    await waitFor(() => store.outboxDepth() === 0, 120_000, "backlog drained");
    return (performance.now() - t0) / 1000;
  } finally {
    await world.close();
  }
}

export async function run(): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];
  const resale = await resaleToGates();
  const resaleP99 = percentile(resale, 99);
  figures.push(
    {
      name: "resale committed at the issuer → applied at every gate, p99 (4 gates, embedded aedes)",
      value: resaleP99,
      unit: "ms",
      target: "p99 ≤ 1 s",
      ok: resaleP99 <= 1000,
    },
    {
      name: `  its floor: the follower's poll interval (${DEFAULT_FOLLOWER_TUNING.pollMs} ms); fastest sample`,
      value: resale[0] ?? Number.NaN,
      unit: "ms",
    },
  );
  for (const broker of BROKERS) {
    const label = broker === "aedes" ? "embedded aedes" : "Mosquitto";
    const rate = await ingest(broker);
    figures.push({
      name: `sync-server ingest, ${INGEST_GATES} gates (${label})`,
      value: Math.round(rate),
      unit: "events/s",
      target: "≥ 10,000 events/s",
      ok: rate >= 10_000,
    });
    const { fanout, sse } = await latencies(broker);
    const fanoutP99 = percentile(fanout, 99);
    figures.push({
      name: `admission at A known at B, p99 (${label})`,
      value: fanoutP99,
      unit: "ms",
      target: "p99 ≤ 250 ms",
      ok: fanoutP99 <= 250,
    });
    const sseP99 = percentile(sse, 99);
    figures.push({
      name: `entry visible on the SSE stream, p99 (${label})`,
      value: sseP99,
      unit: "ms",
      target: "p99 ≤ 1 s",
      ok: sseP99 <= 1000,
    });
    const drained = await backlog(broker);
    figures.push({
      name: `50,000-event backlog drained (${label})`,
      value: drained,
      unit: "s",
      target: "≤ 30 s",
      ok: drained <= 30,
    });
  }
  return figures;
}
