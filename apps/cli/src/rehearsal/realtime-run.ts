import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { CommandCode } from "@sesame/bridge";
import { GateStore } from "@sesame/cache";
import {
  Crowd,
  type CrowdLane,
  type PersonOutcome,
  type Spectator,
  seededRandom,
} from "@sesame/hardware-sim";
import { createNodeSigner } from "@sesame/ticket";
import { spectatorsOf } from "../venue/spectators.js";
import { type RunningVenue, startVenue } from "../venue/venue-up.js";
import {
  type EntranceFigures,
  histogram,
  LATENCY_BOUNDS,
  type LaneFigures,
  machine,
  type ProfileFigures,
  percentiles,
  REPORT_FORMAT,
  type RehearsalReport,
} from "./report.js";
import { seedNumber } from "./timing.js";

/*
 * `sesame sim venue --realtime`: a smaller rehearsal through the whole stack as `sesame up` runs
 * it (startVenue): the sync-server with its embedded MQTT broker, one gate process per gate
 * (kiosk backend, SQLite cache, GateSync over MQTT), simulated lane controllers and QR readers
 * speaking OSDP over TCP to the gates' bridges, and hardware-sim's Crowd showing codes to the
 * readers and walking through the turnstiles, on the wall clock. The same report as the virtual
 * mode, with what only this mode measures: latency across processes and sockets.
 */

export interface RealtimeRehearsalOptions {
  /** Tickets of the demo venue (the crowd draws from the session's holders). */
  readonly spectators: number;
  readonly lanes: number;
  readonly entrances: number;
  readonly lanesPerGate?: number;
  /** How long people keep arriving. */
  readonly minutes: number;
  /** People per second, venue-wide. */
  readonly rate: number;
  readonly seed: string;
  /** Where the venue, server and gates keep their data (emptied first). */
  readonly dir: string;
  readonly keepData?: boolean;
  readonly log?: (line: string) => void;
}

export const REAL_REALTIME: readonly string[] = [
  "The whole venue as `sesame up` starts it: the sync-server and its embedded MQTT broker (aedes, a child process), one gate process per gate (apps/kiosk gate-main: GateStore on disk, GateBackend, the bridge's OSDP control panels, GateSync over MQTT with its windows, acks and resends, the kiosk HTTP server).",
  "Lane controllers and QR readers from @sesame/hardware-sim on OSDP over TCP sockets, paced at 115,200 baud, polled by the gates' bridges every 50 ms.",
  "Codes made from the demo venue's wallets (spectatorsOf), shown to the readers at the wall-clock time.",
  "Durable writes to the disk under --out (or the data folder), with synchronous=FULL.",
];

export const MODELED_REALTIME: readonly string[] = [
  "People: hardware-sim's Crowd — Poisson arrivals at a constant rate, the shortest queue at their entrance, 0.8 s to show the code, 2.5 s waiting for the arm, a 1.2 s rotation.",
  "Stewards: none. A steward-assisted scan (printed confirmation, ID check, accessibility) is left unanswered, which is what the Crowd's ground truth expects; the virtual mode has stewards.",
  "The credential mix of `sesame up` (spectators.ts): screenshots, resold and transferred tickets' old codes, cancelled tickets, forgeries, the wrong entrance, a code used twice, foreign QR codes.",
];

interface Tally {
  arrived: number;
  done: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function outboxDepth(url: string): Promise<number | undefined> {
  try {
    const response = await fetch(`${url}/api/state`, { signal: AbortSignal.timeout(2_000) });
    if (!response.ok) return undefined;
    const state = (await response.json()) as { diagnostics?: { outboxDepth?: number } };
    return state.diagnostics?.outboxDepth;
  } catch {
    return undefined;
  }
}

export async function runRealtimeRehearsal(options: RealtimeRehearsalOptions): Promise<RehearsalReport> {
  const log = options.log ?? (() => {});
  const wallStart = performance.now();
  rmSync(options.dir, { recursive: true, force: true });
  mkdirSync(options.dir, { recursive: true });
  log(`starting the venue in ${options.dir}: sync-server, broker, gate processes, OSDP lanes over TCP …`);
  let venue: RunningVenue | undefined;
  try {
    venue = await startVenue({
      dir: options.dir,
      spectators: options.spectators,
      entrances: options.entrances,
      lanes: options.lanes,
      ...(options.lanesPerGate ? { lanesPerGate: options.lanesPerGate } : {}),
      seed: `rehearsal-${options.seed}`,
      basePort: 0,
      gates: "process",
      arrivalsPerSecond: 0,
      log: (line) => {
        if (process.env.SESAME_REHEARSAL_VERBOSE || /error|ALERT|exited|restart/i.test(line)) log(line);
      },
    });
    const v = venue;
    const demo = v.demo;
    const entranceCode = (id: number) => demo.venue.entrances.find((e) => e.id === id)?.code ?? String(id);

    // -------------------------------------------------------------------- measurements at the lanes
    const unlockWall: number[] = [];
    const decisionWall: number[] = [];
    const laneFigures = new Map<string, { -readonly [K in keyof LaneFigures]: LaneFigures[K] }>();
    const crowdLanes: CrowdLane[] = [];
    for (const g of v.gates)
      for (const { lane, sim } of g.lanes) {
        const reader = sim.reader;
        if (!reader) continue;
        const key = `${g.gateId}/${lane}`;
        laneFigures.set(key, {
          gateId: g.gateId,
          lane,
          entrance: entranceCode(g.entrance),
          scans: 0,
          admitted: 0,
          refused: 0,
          assisted: 0,
        });
        // The reader's report leaves with the first POLL after a new scan; the unlock (or the
        // refusal's red LED) arrives at the controller over the same socket.
        let seenScans = reader.scans;
        let reportAt: number | undefined;
        sim.bus.onCommand = (packet) => {
          if (packet.code !== CommandCode.POLL || packet.address !== reader.device.address) return;
          if (reader.scans !== seenScans && reader.device.queuedReports > 0) {
            seenScans = reader.scans;
            reportAt = performance.now();
          }
        };
        sim.controller.on("output", (output, on) => {
          if (on && output === sim.controller.wiring.entryUnlockOutput && reportAt !== undefined)
            unlockWall.push(performance.now() - reportAt);
        });
        sim.controller.on("led", () => {
          if (reportAt === undefined) return;
          decisionWall.push(performance.now() - reportAt);
          reportAt = undefined;
        });
        crowdLanes.push({ gateId: g.gateId, lane, entrance: g.entrance, reader, controller: sim.controller });
      }

    // -------------------------------------------------------------------- the crowd
    const random = seededRandom(seedNumber(options.seed));
    const tallies = new Map(
      demo.venue.entrances.map((e): [number, Tally] => [e.id, { arrived: 0, done: 0 }]),
    );
    const byProfile: Record<string, ProfileFigures> = {};
    const perMinuteArrivals: number[] = [];
    const perMinuteAdmitted: number[] = [];
    const ingressStart = Date.now();
    const minuteOf = (at: number) => Math.max(0, Math.floor((at - ingressStart) / 60_000));
    const bump = (row: number[], i: number) => {
      while (row.length <= i) row.push(0);
      row[i] = (row[i] ?? 0) + 1;
    };
    const source = spectatorsOf(demo, { session: 1, random, signer: createNodeSigner() });
    // Counts each person as they arrive (the Crowd pulls the next one when someone arrives).
    function* counted(): Generator<Spectator> {
      for (const s of source) {
        const t = tallies.get(s.entrance);
        if (t) t.arrived++;
        bump(perMinuteArrivals, minuteOf(Date.now()));
        const f = byProfile[s.profile] ?? {
          people: 0,
          presentations: 0,
          passed: 0,
          notPassed: 0,
          reasons: {},
        };
        byProfile[s.profile] = f;
        f.people++;
        f.presentations++;
        yield s;
      }
    }
    const onOutcome = (o: PersonOutcome) => {
      const t = tallies.get(o.spectator.entrance);
      if (t) t.done++;
      const lane = laneFigures.get(`${o.gateId}/${o.lane}`);
      const f = byProfile[o.spectator.profile];
      if (lane) lane.scans++;
      if (o.result === "passed") {
        if (lane) lane.admitted++;
        if (f) f.passed++;
        bump(perMinuteAdmitted, minuteOf(o.at));
      } else {
        if (lane) lane.refused++;
        if (f) f.notPassed++;
        if (lane && o.spectator.expect === "assisted") lane.assisted++;
      }
    };
    const maxArrivals = Math.max(1, Math.round(options.rate * options.minutes * 60));
    const crowd = new Crowd({
      lanes: crowdLanes,
      arrivalsPerSecond: options.rate,
      maxArrivals,
      spectators: counted(),
      random,
      onOutcome,
    });
    const entrances = demo.venue.entrances;
    const samples: Array<{ minute: number; byEntrance: number[]; longestLane: number }> = [];
    const sampleEveryMs = 2_000;
    const sampler = setInterval(() => {
      samples.push({
        minute: Math.round(((Date.now() - ingressStart) / 60_000) * 100) / 100,
        byEntrance: entrances.map((e) => {
          const t = tallies.get(e.id);
          return t ? t.arrived - t.done : 0;
        }),
        longestLane: 0,
      });
    }, sampleEveryMs);
    const setupWallMs = performance.now() - wallStart;
    log(
      `crowd: ${maxArrivals.toLocaleString("en")} people at ${options.rate}/s over ${options.minutes} min, ${crowdLanes.length} lanes in ${v.gates.length} gate processes (set-up took ${(setupWallMs / 1000).toFixed(1)} s)`,
    );
    const ingressWall = performance.now();
    crowd.start();
    const progress = setInterval(() => {
      const c = crowd.counters;
      log(
        `${new Date().toISOString().slice(11, 19)}  arrived ${c.arrived}, through ${c.passed}, not let through ${c.notOpened}, queuing ${c.waiting}`,
      );
    }, 15_000);
    const deadline = Date.now() + options.minutes * 60_000 + 60_000;
    while (!crowd.done && Date.now() < deadline) await sleep(250);
    crowd.stop();
    clearInterval(progress);
    clearInterval(sampler);
    const lastPersonWall = performance.now();
    const notes: string[] = [];
    if (!crowd.done) notes.push(`${crowd.counters.waiting} people were still queuing when the run ended`);

    // -------------------------------------------------------------------- drain, then compare
    // Open grants close within their window (6 s); then every gate's outbox must empty.
    await sleep(7_000);
    const drainUntil = Date.now() + 60_000;
    for (;;) {
      const depths = await Promise.all(v.gates.map((g) => outboxDepth(g.url)));
      if (depths.every((d) => d === 0)) break;
      if (Date.now() > drainUntil) {
        notes.push(
          `outboxes not empty after 60 s: ${depths.map((d, i) => `${v.gates[i]?.gateId}=${d}`).join(" ")}`,
        );
        break;
      }
      await sleep(500);
    }
    const ingressWallMs = performance.now() - ingressWall;
    const serverEvents = new Map(
      v.gates.map((g) => [
        g.gateId,
        new Map(v.server.store.eventsOfGate(g.gateId).map((e) => [e.eventId, e])),
      ]),
    );
    const serverAlerts: Record<string, number> = {};
    for (const a of v.server.store.alerts(100_000)) serverAlerts[a.type] = (serverAlerts[a.type] ?? 0) + 1;
    const counts = v.server.store.counts();
    await v.stop();
    venue = undefined;

    let lostEvents = 0;
    let alteredEvents = 0;
    let annulled = 0;
    const byReason: Record<string, number> = {};
    const byOutcome: Record<string, number> = {};
    const rootPublicKey = Uint8Array.from(Buffer.from(demo.venue.rootPublicKey, "hex"));
    for (const g of v.gates) {
      // The gate process's cache, as startVenue lays it out (gates/<id>/data/gate.sqlite).
      const store = GateStore.open(join(options.dir, "gates", g.gateId, "data", "gate.sqlite"), {
        rootPublicKey,
        gateId: g.gateId,
      });
      try {
        const held = serverEvents.get(g.gateId) ?? new Map();
        for (let from = 1; ; ) {
          const page = store.events(from, 5_000);
          for (const e of page) {
            const s = held.get(e.eventId);
            if (!s) lostEvents++;
            else if (s.gateSeq !== e.gateSeq || s.kind !== e.kind || s.reason !== e.reason) alteredEvents++;
            if (e.kind === "annulled") annulled++;
            if (e.kind === "authorized" || e.kind === "refused") {
              byReason[e.reason] = (byReason[e.reason] ?? 0) + 1;
              const outcome = e.kind === "authorized" ? (e.manual ? "ASSISTED" : "ADMIT") : "REFUSE";
              byOutcome[outcome] = (byOutcome[outcome] ?? 0) + 1;
            }
          }
          const last = page[page.length - 1];
          if (!last || page.length < 5_000) break;
          from = last.gateSeq + 1;
        }
      } finally {
        store.close();
      }
    }
    if (!options.keepData) rmSync(options.dir, { recursive: true, force: true });

    // -------------------------------------------------------------------- the report
    const c = crowd.counters;
    const perLane = [...laneFigures.values()];
    const perEntrance: EntranceFigures[] = entrances.map((e, i) => {
      const lanes = perLane.filter((l) => l.entrance === e.code);
      return {
        entrance: e.code,
        name: e.name,
        lanes: lanes.length,
        arrived: tallies.get(e.id)?.arrived ?? 0,
        admitted: lanes.reduce((n, l) => n + l.admitted, 0),
        refused: lanes.reduce((n, l) => n + l.refused, 0),
        peakPerLaneHour:
          lanes.length > 0
            ? Math.round(
                (lanes.reduce((n, l) => n + l.admitted, 0) / lanes.length / (ingressWallMs / 3_600_000)) * 1,
              )
            : 0,
        maxQueue: Math.max(0, ...samples.map((s) => s.byEntrance[i] ?? 0)),
      };
    });
    const decisions = Object.values(byReason).reduce((a, b) => a + b, 0);
    const doubleEntries = serverAlerts["double-entry"] ?? 0;
    const ok =
      c.falseAccepts === 0 &&
      c.falseRefusals === 0 &&
      lostEvents === 0 &&
      alteredEvents === 0 &&
      doubleEntries === 0;
    const simulatedMs = Math.round(lastPersonWall - ingressWall);
    return {
      format: REPORT_FORMAT,
      mode: "realtime",
      ok,
      generatedAt: new Date().toISOString(),
      machine: machine(),
      parameters: {
        spectators: options.spectators,
        lanes: crowdLanes.length,
        entrances: entrances.length,
        gates: v.gates.length,
        minutes: options.minutes,
        rate: options.rate,
        seed: options.seed,
        dataDir: options.dir,
      },
      timing: {
        simulatedMs,
        wallMs: Math.round(ingressWallMs),
        setupWallMs: Math.round(setupWallMs),
        speedup: 1,
        decisionsPerWallSecond: Math.round(decisions / (ingressWallMs / 1000)),
      },
      truth: {
        falseAccepts: c.falseAccepts,
        falseRefusals: c.falseRefusals,
        lostEvents,
        alteredEvents,
        wrongReasons: 0,
        noDecision: 0,
        annulled,
        expectedAnnulled: 0,
        doubleEntries,
        mismatches: [],
      },
      people: {
        total: c.arrived,
        admitted: c.passed,
        notAdmitted: c.notOpened,
        byProfile,
        lastHalfShare: 0.5,
      },
      decisions: { total: decisions, byReason, byOutcome },
      latency: {
        scanToUnlockMs: percentiles(unlockWall),
        scanToDecisionMs: percentiles(decisionWall),
        histogram: { bounds: LATENCY_BOUNDS, counts: histogram(unlockWall, LATENCY_BOUNDS) },
      },
      throughput: {
        perLane,
        perEntrance,
        perMinute: perMinuteArrivals.map((arrivals, minute) => ({
          minute,
          arrivals,
          admitted: perMinuteAdmitted[minute] ?? 0,
        })),
      },
      queues: {
        sampleEveryMs,
        samples,
        waitMs: percentiles([]),
        maxQueue: Math.max(0, ...perEntrance.map((e) => e.maxQueue)),
      },
      server: { events: counts.events, entered: counts.entered, alerts: serverAlerts },
      real: REAL_REALTIME,
      modeled: MODELED_REALTIME,
      notes: [
        ...notes,
        "Latency here is measured in the simulator's process: from the reader's RAW report leaving on its TCP socket to the unlock command (or, for every decision, the first LED command) arriving at the lane controller — through the gate process, its OSDP bridge and the sockets both ways.",
        "Decisions by reason come from the gates' logs (authorized and refused records); a steward-assisted scan nobody answered is not recorded.",
      ],
    };
  } finally {
    if (venue) await venue.stop().catch(() => undefined);
  }
}
