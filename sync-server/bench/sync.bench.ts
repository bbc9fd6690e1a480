import { join } from "node:path";
import type { EntryLogEvent } from "@sesame/gate-core";
import { MemoryGateStore } from "@sesame/sync/testing";
import { type BenchFigure, percentile } from "@sesame/testing/bench";
import { ServerStore } from "../src/store.js";
import { BROKERS, type BrokerKind, TOKENS, World, waitFor } from "../test/harness.js";
import { SseClient } from "../test/sse-client.js";

/*
 * Sync targets (docs/design.md §11, issue 6), for both brokers: sync-server ingest (events/s, 4 gates
 * draining at once), admission at gate A known at gate B (p99, from A's commit to B's store),
 * entry visible on the supervisor's SSE stream (p99), and one gate's 50,000-event backlog drained.
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
