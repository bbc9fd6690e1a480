import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { newGateKey, provisioningRequestOf } from "@sesame/gate";
import { seededRandom } from "@sesame/hardware-sim";
import type { GateProvisioning } from "@sesame/sync";
import { provisionGateInStore, setUpServerStore } from "@sesame/sync-server";
import { createNodeSigner, seededRandom as ticketRandom } from "@sesame/ticket";
import { type Gate, generateDemoVenue, writeVenueDirectory } from "@sesame/venue";
import {
  emptyTruthTally,
  HOP_MIN_MS,
  ROUND_MS,
  type RoundOrder,
  type RoundReply,
  type SectorConfig,
  type SectorResult,
} from "./messages.js";
import { type CrowdMix, extraShare, makePopulation, type PersonSpec, REHEARSAL_MIX } from "./population.js";
import {
  type EntranceFigures,
  histogram,
  LATENCY_BOUNDS,
  type LaneFigures,
  type Mismatch,
  machine,
  type ProfileFigures,
  percentiles,
  REPORT_FORMAT,
  type RehearsalReport,
} from "./report.js";
import { Sector } from "./sector.js";
import { ArrivalCurve, MINUTE, seedNumber } from "./timing.js";
import { VenueServer } from "./venue-server.js";

/*
 * `sesame sim venue` in virtual time: a whole match-day ingress through the real admission core,
 * the real gate caches and backends, lane controllers and readers simulated at the OSDP byte seam,
 * and the real sync-server store, faster than real time. The venue is cut into sectors (groups
 * of entrances with their gates, lanes and crowd: sector.ts) that run in worker threads or in
 * this thread, in rounds of virtual time (messages.ts); this thread is the sync-server
 * (venue-server.ts). What is real and what is modeled is listed in REAL_VIRTUAL and
 * MODELED_VIRTUAL (and docs/rehearsal.md); the report carries both lists.
 */

export interface VirtualRehearsalOptions {
  /** People who come to the gates (ticket holders of the session and bad codes). */
  readonly spectators: number;
  readonly lanes: number;
  readonly entrances: number;
  /** Lanes per gate (kiosk); default: the demo venue's layout (gates of 4 lanes where they fit). */
  readonly lanesPerGate?: number;
  /** Length of the arrival window before kick-off (≤ 90: the doors open 90 minutes before). */
  readonly minutes: number;
  readonly seed: string;
  /** Worker threads, each a sector of the venue; 0: everything in this thread. */
  readonly workers?: number;
  /** Parent folder of the run's SQLite files (default /dev/shm when there is one). */
  readonly dataDir?: string;
  readonly keepData?: boolean;
  /** Keep every OSDP poll of idle lanes (exact bus traffic, ~5× slower). */
  readonly fullPolling?: boolean;
  readonly mix?: CrowdMix;
  readonly log?: (line: string) => void;
}

export const REAL_VIRTUAL: readonly string[] = [
  "Admission decisions: @sesame/gate-core decideScan with node:crypto Ed25519 checks of the issuer signature and the device proof, on the text the reader reported.",
  "Gate caches: one @sesame/cache GateStore (SQLite, WAL, synchronous=FULL) per gate, loaded from the venue's signed gate bundle; every authorized / entered / refused / annulled record is a committed transaction.",
  "Gates: each built by @sesame/gate's createGate, as every gate process builds its own, on the virtual clock; its GateBackend (scan → decide → durable authorize → unlock → passage → entered, or annulled when nobody walks through); steward confirmations through confirmAssisted / declineAssisted.",
  "Lanes: the bridge's OSDP ControlPanel and Lane per lane, talking real OSDP frames (CRC-16, sequence numbers, POLL, OUT, LED, BUZ, RAW, ISTATR) over an in-memory byte link to @sesame/hardware-sim's LaneController, Turnstile and SimReader on a SimBus.",
  "Scanner input: the gate's own scan intake (reader RAW reports → normalizeScanBytes → ScanDebouncer → GateBackend.scan).",
  "Sync: each gate's own GateSync (outbox window, signed batches, ack timeouts, replays, heartbeats, admissions and ticket feed into the cache) on the virtual clock, over an in-memory MQTT client; the sync-server's decodeEventBatch, verifyEventBatch, decodeBatchEvents and ServerStore.ingest (idempotent by event id, in order per gate, presence, double-entry and forgery alerts); its acknowledgements (encodeAck), admission fan-out to every gate (encodeAdmissions) and ticket feed (encodeFeed).",
  "Venue data: a demo venue from @sesame/venue (keys, signed trust list and gate bundle, resales, transfers, cancellations, printed confirmations, late sales), provisioned gates (each makes its key pair; provisionGateInStore gets its public key).",
];

export const MODELED_VIRTUAL: readonly string[] = [
  "Time: virtual clocks; processing takes no virtual time (its wall-clock cost is measured and reported as latency).",
  "People: the arrival curve (about 70 % in the last 45 minutes), phone presentation 0.9–3.5 s (paper 1.8–4.5 s), approach 0.1–0.9 s plus a 1.1 s turnstile rotation, 2–6 s to turn a refused person away, 6–20 s for a steward's check, the shortest queue at their entrance, 3–9 minutes to walk to the right entrance.",
  "Phones: codes made with the demo venue's issuer and device keys (a fresh 15 s device proof at each presentation); screenshots two minutes old; forgeries with one character changed.",
  "Stewards: confirm an assisted scan when the ground truth says the holder is entitled (no steward errors).",
  "OSDP timing: no wire time (the bus is not paced at 115,200 baud); a quiet lane's idle polls are elided, its first poll after a quiet spell comes a random part of the 50 ms poll interval later (--full-polling keeps them all).",
  `Network and broker: a lossless, in-order link per gate and direction, ${HOP_MIN_MS} ms + exponential (mean 5 ms) per hop, so GateSync never needs its resends and reconnections (the drills test losses). No MQTT broker (an in-memory client per gate) and no HTTP in the loop.`,
  "Signature checks: the gates of a sector share one verifier that remembers its answer per key, signature and message, so a message every gate checks (a fan-out, the feed, a trust list) is checked once, as each real gate checks it once on its own machine; a tampered message has other bytes and is checked anew.",
  "Disks: the SQLite files live in one folder (tmpfs by default: 25+ gates' fsyncs on one shared disk would measure that disk, not a gate's).",
];

const DOORS = Date.UTC(2026, 6, 26, 16, 30, 0);

interface SectorHandle {
  round(order: RoundOrder): Promise<RoundReply>;
  finish(): Promise<SectorResult>;
  terminate(): Promise<void>;
}

async function inProcessSector(config: SectorConfig): Promise<SectorHandle> {
  const sector = await Sector.open(config);
  return {
    round: (order) => sector.runRound(order),
    finish: () => sector.finish(),
    terminate: async () => {},
  };
}

function workerSector(config: SectorConfig): Promise<SectorHandle> {
  const worker = new Worker(new URL("./sector-worker.mjs", import.meta.url), {
    workerData: { entry: new URL("./sector-worker.ts", import.meta.url).href, config },
  });
  type Reply =
    | { type: "ready" }
    | { type: "round"; reply: RoundReply }
    | { type: "result"; result: SectorResult }
    | { type: "error"; message: string };
  let waiting: { resolve: (m: Reply) => void; reject: (e: Error) => void } | undefined;
  let failure: Error | undefined;
  const next = () =>
    new Promise<Reply>((resolve, reject) => {
      if (failure) reject(failure);
      else waiting = { resolve, reject };
    });
  const settle = (m: Reply | Error) => {
    const w = waiting;
    waiting = undefined;
    if (m instanceof Error) {
      failure = m;
      w?.reject(m);
    } else if (m.type === "error") {
      failure = new Error(`sector ${config.index}: ${m.message}`);
      w?.reject(failure);
    } else w?.resolve(m);
  };
  worker.on("message", (m: Reply) => settle(m));
  worker.on("error", (e) => settle(e));
  worker.on("exit", (code) => {
    if (waiting) settle(new Error(`sector ${config.index}'s thread exited (${code})`));
  });
  const ready = next();
  return ready.then(() => ({
    async round(order) {
      const reply = next();
      worker.postMessage({ type: "round", order });
      const m = await reply;
      if (m.type !== "round")
        throw new Error(`sector ${config.index}: expected a round reply, got ${m.type}`);
      return m.reply;
    },
    async finish() {
      const reply = next();
      worker.postMessage({ type: "finish" });
      const m = await reply;
      if (m.type !== "result") throw new Error(`sector ${config.index}: expected results, got ${m.type}`);
      return m.result;
    },
    async terminate() {
      await worker.terminate();
    },
  }));
}

function defaultDataParent(): string {
  return existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
}

/** Entrances to sectors, balancing lanes: the largest entrance first to the least loaded sector. */
function partition(gates: readonly Gate[], entrances: readonly number[], sectors: number): number[][] {
  const lanes = new Map(entrances.map((e) => [e, 0]));
  for (const g of gates) lanes.set(g.entrance, (lanes.get(g.entrance) ?? 0) + g.lanes);
  const out = Array.from({ length: sectors }, () => ({ entrances: [] as number[], lanes: 0 }));
  for (const e of [...entrances].sort((a, b) => (lanes.get(b) ?? 0) - (lanes.get(a) ?? 0))) {
    const target = out.reduce((best, s) => (s.lanes < best.lanes ? s : best));
    target.entrances.push(e);
    target.lanes += lanes.get(e) ?? 0;
  }
  return out.map((s) => s.entrances.sort((a, b) => a - b)).filter((s) => s.length > 0);
}

export async function runVirtualRehearsal(options: VirtualRehearsalOptions): Promise<RehearsalReport> {
  const log = options.log ?? (() => {});
  const mix = options.mix ?? REHEARSAL_MIX;
  const wallStart = performance.now();
  const random = seededRandom(seedNumber(options.seed));
  const parent = options.dataDir ?? defaultDataParent();
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, "sesame-rehearsal-"));
  const handles: SectorHandle[] = [];
  try {
    // ------------------------------------------------------------------ the venue
    // Enough tickets that the session's holders fill the crowd (a demo order is for session 1 at 75 %).
    const holdersWanted = Math.ceil(options.spectators * (1 - extraShare(mix)));
    const tickets = Math.ceil(holdersWanted / 0.72) + 50;
    log(
      `generating a demo venue: ${tickets.toLocaleString("en")} tickets, ${options.entrances} entrances, ${options.lanes} lanes …`,
    );
    const signer = createNodeSigner();
    const demo = generateDemoVenue({
      spectators: tickets,
      doorsOpenMs: DOORS,
      entrances: options.entrances,
      lanes: options.lanes,
      ...(options.lanesPerGate ? { lanesPerGate: options.lanesPerGate } : {}),
      random: ticketRandom(`rehearsal-${options.seed}`),
      signer,
    });
    const session = demo.venue.sessions[0];
    if (!session) throw new Error("the demo venue has no session");
    const kickOff = Date.parse(session.start);
    const windowMs = options.minutes * MINUTE;
    const windowStart = kickOff - windowMs;
    const startAt = windowStart - MINUTE;
    const venueDir = join(dir, "venue");
    writeVenueDirectory(venueDir, demo, signer);
    const store = setUpServerStore(venueDir, join(dir, "server"), { now: startAt });
    const provisioning: Record<string, GateProvisioning> = {};
    const gateKeys: Record<string, string> = {};
    for (const g of demo.venue.gates) {
      // Each gate makes its key pair (~50 µs); the server gets only its public key and proof.
      const key = newGateKey();
      gateKeys[g.id] = Buffer.from(key.seed).toString("hex");
      const request = provisioningRequestOf(demo.venue.id, g.id, key);
      provisioning[g.id] = provisionGateInStore(store, g.id, request, startAt);
    }
    // Each gate is handed the venue gate list as it stood when it was provisioned; the last one
    // names every gate (a real venue sends the newer lists over MQTT, which the modeled network lacks).
    const gateList = Object.values(provisioning).at(-1)?.gateList;
    for (const [id, p] of Object.entries(provisioning))
      provisioning[id] = { ...p, ...(gateList ? { gateList } : {}) };

    // ------------------------------------------------------------------ the crowd
    const population = makePopulation(demo, { count: options.spectators, session: 1, random, mix });
    const curve = new ArrivalCurve();
    for (const p of population.people) p.arriveAt = Math.round(windowStart + curve.sample(random) * windowMs);

    // ------------------------------------------------------------------ the sectors
    const entranceIds = demo.venue.entrances.map((e) => e.id);
    const sectors = partition(demo.venue.gates, entranceIds, Math.max(1, options.workers ?? 0));
    const sectorOfEntrance = new Map<number, number>();
    sectors.forEach((es, i) => {
      for (const e of es) sectorOfEntrance.set(e, i);
    });
    const sectorOfGate = new Map(demo.venue.gates.map((g) => [g.id, sectorOfEntrance.get(g.entrance) ?? 0]));
    let firstLane = 0;
    const laneStart = new Map<string, number>();
    for (const g of demo.venue.gates) {
      laneStart.set(g.id, firstLane);
      firstLane += g.lanes;
    }
    const sampleEveryMs = Math.max(5_000, Math.round(windowMs / 360 / 1000) * 1000);
    const sharers = new Set(population.sharers);
    const configs: SectorConfig[] = sectors.map((es, index) => {
      const people: PersonSpec[] = population.people.filter(
        (p) => sectorOfEntrance.get(p.entrance) === index,
      );
      return {
        index,
        venueDir,
        dataDir: dir,
        gates: demo.venue.gates
          .filter((g) => es.includes(g.entrance))
          .map((gate) => ({ gate, firstLane: laneStart.get(gate.id) ?? 0 })),
        provisioning,
        gateKeys,
        rootPublicKey: demo.venue.rootPublicKey,
        people,
        sharers: people.filter((p) => sharers.has(p.id)).map((p) => p.id),
        seed: options.seed,
        startAt,
        windowStart,
        windowMs,
        sampleEveryMs,
        fullPolling: options.fullPolling === true,
        entrances: es,
      };
    });
    const threads = (options.workers ?? 0) > 0;
    log(
      `opening ${demo.venue.gates.length} gate caches (each imports the signed bundle) in ${sectors.length} sector${sectors.length > 1 ? "s" : ""}${threads ? " (worker threads)" : ""} …`,
    );
    const opened = await Promise.allSettled(
      configs.map((c) => (threads ? workerSector(c) : inProcessSector(c))),
    );
    for (const o of opened) if (o.status === "fulfilled") handles.push(o.value);
    const failed = opened.find((o): o is PromiseRejectedResult => o.status === "rejected");
    if (failed) throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));

    // ------------------------------------------------------------------ the ingress, round by round
    const server = new VenueServer(store, sectorOfGate, handles.length, random);
    // The ticket feed reaches the gates a fifth into the window (late sales then known).
    let feedAt: number | undefined = windowStart + Math.round(windowMs * 0.2);
    const setupWallMs = performance.now() - wallStart;
    const ingressWall = performance.now();
    const people = population.people.length;
    log(
      `ingress: ${people.toLocaleString("en")} people over ${options.minutes} minutes to kick-off at ${new Date(kickOff).toISOString().slice(11, 16)} UTC, ${firstLane} lanes in ${demo.venue.gates.length} gates (set-up took ${(setupWallMs / 1000).toFixed(1)} s)`,
    );
    const hardStop = kickOff + 2 * windowMs + 30 * MINUTE;
    const progressEvery = Math.max(MINUTE, Math.round(windowMs / 12 / MINUTE) * MINUTE);
    let nextProgress = windowStart + progressEvery;
    let crowdDoneAt: number | undefined;
    let lastPersonAt = windowStart;
    const errors: string[] = [];
    let T = windowStart - 30_000;
    for (;;) {
      const until = T + ROUND_MS;
      if (feedAt !== undefined && feedAt < until) {
        server.feed(Math.max(T, feedAt));
        feedAt = undefined;
      }
      // Batches reaching the server in the round's first hop (sent in earlier rounds): their
      // answers may be due in this round.
      server.process(T + HOP_MIN_MS);
      const orders = handles.map((_, i): RoundOrder => ({ until, ...server.take(i, until) }));
      const running = Promise.all(
        handles.map((h, i) => h.round(orders[i] ?? { until, inbound: [], payloads: [] })),
      );
      // While the sectors run it, those reaching it in the second hop (also sent before the round):
      // their answers are due in later rounds.
      server.process(until);
      const replies = await running;
      for (const reply of replies)
        for (const m of reply.outbound) {
          if (m.kind === "batch") server.arrive(m.at, m.gateId, m.payload);
          else server.handOver(sectorOfEntrance.get(m.person.entrance) ?? 0, m.at, m.person);
        }
      T = until;
      if (T >= nextProgress) {
        nextProgress += progressEvery;
        const sum = (k: "arrived" | "admitted" | "queuing") => replies.reduce((n, r) => n + r[k], 0);
        log(
          `${new Date(T).toISOString().slice(11, 16)} UTC  arrived ${sum("arrived").toLocaleString("en")}, through ${sum("admitted").toLocaleString("en")}, queuing ${sum("queuing").toLocaleString("en")}  (wall ${((performance.now() - ingressWall) / 1000).toFixed(0)} s)`,
        );
      }
      const idle = replies.every((r) => r.idle) && !server.pending;
      if (idle && crowdDoneAt === undefined) {
        crowdDoneAt = T;
        lastPersonAt = Math.max(windowStart, ...replies.map((r) => r.lastActivity));
      }
      if (crowdDoneAt !== undefined && replies.every((r) => r.unacked === 0) && !server.pending) break;
      if (crowdDoneAt !== undefined && T > crowdDoneAt + 5 * MINUTE) {
        errors.push("the outboxes did not drain within 5 minutes of the last person");
        break;
      }
      if (T > hardStop) {
        errors.push(`the crowd was not through by ${new Date(hardStop).toISOString()}`);
        break;
      }
    }
    const ingressWallMs = performance.now() - ingressWall;
    const results = await Promise.all(handles.map((h) => h.finish()));

    // ------------------------------------------------------------------ gates' records against the server's
    let lostEvents = 0;
    let alteredEvents = 0;
    let gateEvents = 0;
    for (const r of results)
      for (const [gateId, events] of Object.entries(r.gateLogs)) {
        const held = new Map(store.eventsOfGate(gateId).map((e) => [e.eventId, e]));
        for (const [eventId, gateSeq, kind, ticketId, reason] of events) {
          gateEvents++;
          const s = held.get(eventId);
          if (!s) lostEvents++;
          else if (
            s.gateSeq !== gateSeq ||
            s.kind !== kind ||
            (s.ticketId ?? null) !== ticketId ||
            s.reason !== reason
          )
            alteredEvents++;
        }
      }
    const counts = store.counts();
    const serverAlerts: Record<string, number> = {};
    for (const a of store.alerts(1_000_000)) serverAlerts[a.type] = (serverAlerts[a.type] ?? 0) + 1;
    store.close();
    return buildReport({
      options,
      results,
      demoRows: demo.rows.length,
      entrances: demo.venue.entrances.map((e) => ({ id: e.id, code: e.code, name: e.name })),
      gates: demo.venue.gates.length,
      lanes: firstLane,
      sectors: sectors.length,
      windowStart,
      kickOff,
      lastPersonAt,
      sampleEveryMs,
      setupWallMs,
      ingressWallMs,
      lastHalfShare: curve.share(0.5, 1),
      truthExtra: { lostEvents, alteredEvents, doubleEntries: serverAlerts["double-entry"] ?? 0 },
      sync: {
        gateEvents,
        serverBatches: server.stats.batches,
        rejectedBatches: server.stats.rejectedBatches,
        rejectedEvents: server.stats.rejectedEvents,
        resyncs: server.stats.resyncs,
        admissionMessages: server.stats.admissionMessages,
        wallMsServerIngest: Math.round(server.stats.wallMsIngest),
      },
      server: { events: counts.events, entered: counts.entered, alerts: serverAlerts },
      errors: [...errors, ...results.flatMap((r) => r.errors)],
      dataDir: parent,
    });
  } finally {
    await Promise.all(handles.map((h) => h.terminate().catch(() => undefined)));
    if (!options.keepData) rmSync(dir, { recursive: true, force: true });
  }
}

interface ReportInput {
  readonly options: VirtualRehearsalOptions;
  readonly results: readonly SectorResult[];
  readonly demoRows: number;
  readonly entrances: ReadonlyArray<{ id: number; code: string; name: string }>;
  readonly gates: number;
  readonly lanes: number;
  readonly sectors: number;
  readonly windowStart: number;
  readonly kickOff: number;
  readonly lastPersonAt: number;
  readonly sampleEveryMs: number;
  readonly setupWallMs: number;
  readonly ingressWallMs: number;
  readonly lastHalfShare: number;
  readonly truthExtra: { lostEvents: number; alteredEvents: number; doubleEntries: number };
  readonly sync: Record<string, number>;
  readonly server: { events: number; entered: number; alerts: Record<string, number> };
  readonly errors: readonly string[];
  readonly dataDir: string;
}

function addInto(target: Record<string, number>, source: Readonly<Record<string, number>>): void {
  for (const [k, v] of Object.entries(source)) target[k] = (target[k] ?? 0) + v;
}

function buildReport(input: ReportInput): RehearsalReport {
  const { results, options } = input;
  const all = <K extends keyof SectorResult>(k: K) => results.flatMap((r) => r[k] as unknown as number[]);
  const byReason: Record<string, number> = {};
  const byOutcome: Record<string, number> = {};
  const counters: Record<string, number> = {};
  const gateAlerts: Record<string, number> = {};
  const byProfile: Record<string, ProfileFigures & { reasons: Record<string, number> }> = {};
  const truth = emptyTruthTally();
  const mismatches: Mismatch[] = [];
  let people = 0;
  let admitted = 0;
  let decisions = 0;
  for (const r of results) {
    addInto(byReason, r.byReason);
    addInto(byOutcome, r.byOutcome);
    addInto(counters, r.counters);
    addInto(gateAlerts, r.gateAlerts);
    for (const [name, f] of Object.entries(r.byProfile)) {
      const t = byProfile[name] ?? { people: 0, presentations: 0, passed: 0, notPassed: 0, reasons: {} };
      byProfile[name] = t;
      t.people += f.people;
      t.presentations += f.presentations;
      t.passed += f.passed;
      t.notPassed += f.notPassed;
      addInto(t.reasons, f.reasons);
    }
    for (const k of Object.keys(truth) as Array<keyof typeof truth>) truth[k] += r.truth[k];
    mismatches.push(...r.mismatches);
    people += r.people;
    admitted += r.admitted;
    decisions += r.decisions;
  }
  const unlockWall = all("unlockWall");
  const decisionWall = all("decisionWall");
  const codeOf = (id: number) => input.entrances.find((e) => e.id === id)?.code ?? String(id);
  const perLane: LaneFigures[] = results
    .flatMap((r) => r.lanes)
    .sort((a, b) => a.index - b.index)
    .map((l) => ({
      gateId: l.gateId,
      lane: l.lane,
      entrance: codeOf(l.entrance),
      scans: l.scans,
      admitted: l.admitted,
      refused: l.refused,
      assisted: l.assisted,
    }));
  const minutes = Math.max(
    0,
    ...results.map((r) => Math.max(r.perMinute.arrivals.length, r.perMinute.admitted.length)),
  );
  const perMinute = Array.from({ length: minutes }, (_, minute) => ({
    minute,
    arrivals: results.reduce((n, r) => n + (r.perMinute.arrivals[minute] ?? 0), 0),
    admitted: results.reduce((n, r) => n + (r.perMinute.admitted[minute] ?? 0), 0),
  }));
  const sampleCount = Math.max(0, ...results.map((r) => r.longestLaneSamples.length));
  const queueRow = (id: number) => {
    for (const r of results) {
      const row = r.queueSamples[String(id)];
      if (row) return row;
    }
    return [];
  };
  const samples = Array.from({ length: sampleCount }, (_, i) => ({
    minute: Math.round(((i * input.sampleEveryMs) / MINUTE) * 100) / 100,
    byEntrance: input.entrances.map((e) => queueRow(e.id)[i] ?? 0),
    longestLane: Math.max(0, ...results.map((r) => r.longestLaneSamples[i] ?? 0)),
  }));
  const perEntrance: EntranceFigures[] = input.entrances.map((e, i) => {
    const lanes = perLane.filter((l) => l.entrance === e.code);
    let row: number[] = [];
    let arrived = 0;
    for (const r of results) {
      row = r.admittedPerEntranceMinute[String(e.id)] ?? row;
      arrived += r.arrivedPerEntrance[String(e.id)] ?? 0;
    }
    let peak = 0;
    for (let m = 0; m < row.length; m++) {
      let sum = 0;
      for (let k = m; k < Math.min(row.length, m + 15); k++) sum += row[k] ?? 0;
      peak = Math.max(peak, sum);
    }
    return {
      entrance: e.code,
      name: e.name,
      lanes: lanes.length,
      arrived,
      admitted: lanes.reduce((n, l) => n + l.admitted, 0),
      refused: lanes.reduce((n, l) => n + l.refused, 0),
      peakPerLaneHour: lanes.length > 0 ? Math.round((peak * 4) / lanes.length) : 0,
      maxQueue: Math.max(0, ...samples.map((s) => s.byEntrance[i] ?? 0)),
    };
  });
  const errors = [...input.errors];
  const x = input.truthExtra;
  const ok =
    errors.length === 0 &&
    truth.falseAccepts === 0 &&
    truth.falseRefusals === 0 &&
    x.lostEvents === 0 &&
    x.alteredEvents === 0 &&
    x.doubleEntries === 0;
  const simulatedMs = input.lastPersonAt - input.windowStart;
  const round = (n: number) => Math.round(n);
  return {
    format: REPORT_FORMAT,
    mode: "virtual",
    ok,
    generatedAt: new Date().toISOString(),
    machine: machine(),
    parameters: {
      spectators: options.spectators,
      lanes: input.lanes,
      entrances: input.entrances.length,
      gates: input.gates,
      minutes: options.minutes,
      seed: options.seed,
      tickets: input.demoRows,
      workers: options.workers ?? 0,
      sectors: input.sectors,
      roundMs: ROUND_MS,
      fullPolling: options.fullPolling === true,
      dataDir: input.dataDir,
      kickOff: new Date(input.kickOff).toISOString(),
    },
    timing: {
      simulatedMs,
      wallMs: round(input.ingressWallMs),
      setupWallMs: round(input.setupWallMs),
      speedup: Math.round((simulatedMs / input.ingressWallMs) * 10) / 10,
      decisionsPerWallSecond: round(decisions / (input.ingressWallMs / 1000)),
    },
    truth: {
      falseAccepts: truth.falseAccepts,
      falseRefusals: truth.falseRefusals,
      lostEvents: x.lostEvents,
      alteredEvents: x.alteredEvents,
      wrongReasons: truth.wrongReasons,
      noDecision: truth.noDecision,
      annulled: truth.annulled,
      expectedAnnulled: truth.expectedAnnulled,
      doubleEntries: x.doubleEntries,
      mismatches: mismatches.slice(0, 50),
    },
    people: {
      total: people,
      admitted,
      notAdmitted: people - admitted,
      byProfile,
      lastHalfShare: Math.round(input.lastHalfShare * 1000) / 1000,
    },
    decisions: { total: decisions, byReason, byOutcome },
    latency: {
      scanToUnlockMs: percentiles(unlockWall),
      scanToDecisionMs: percentiles(decisionWall),
      presentToUnlockMs: percentiles(all("presentToUnlock")),
      fanOutMs: percentiles(all("fanOut")),
      histogram: { bounds: LATENCY_BOUNDS, counts: histogram(unlockWall, LATENCY_BOUNDS) },
    },
    throughput: { perLane, perEntrance, perMinute },
    queues: {
      sampleEveryMs: input.sampleEveryMs,
      samples,
      waitMs: percentiles(all("waits")),
      maxQueue: Math.max(0, ...results.map((r) => r.maxQueue)),
    },
    sync: {
      ...input.sync,
      ...Object.fromEntries(Object.entries(counters).map(([k, v]) => [k, Math.round(v)])),
      gateAlerts,
    },
    server: input.server,
    real: REAL_VIRTUAL,
    modeled: MODELED_VIRTUAL,
    notes: errors,
  };
}
