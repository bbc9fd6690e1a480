import { join } from "node:path";
import { GateStore } from "@sesame/cache";
import { GateBackend, newGateKey, provisioningRequestOf } from "@sesame/gate";
import { decideScan } from "@sesame/gate-core";
import { CacheSyncStore, type GateProvisioning, GateSync } from "@sesame/sync";
import { SyncServer, setUpServer } from "@sesame/sync-server";
import { freePort, makeTempDir } from "@sesame/testing";
import {
  Category,
  createNodeSigner,
  createNodeVerifier,
  nodeVerifierNoCache,
  seededRandom,
} from "@sesame/ticket";
import { type DemoVenue, generateDemoVenue, walletCode, writeVenueDirectory } from "@sesame/venue";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, FAST_SYNC, sleep } from "./harness.js";

/*
 * The sync, property-based (issue 8): random interleavings of admissions, no-shows and refusals at
 * three gates, with outages — a gate cut off from the broker (its GateSync stopped, then started
 * again), a gate restarted on its cache, the sync-server and its broker stopped and started again
 * (in-process: stop()/start(), not a SIGKILL; the SIGKILL cases are the drills) — and waits of
 * various lengths between them. After every run, once everything is reconnected:
 * - the venue's record (the server's store) is exactly the union of the gates' journals: every
 *   event once, per gate in gateSeq order, nothing missing, nothing extra;
 * - a ticket entered at two gates (possible only while they could not hear each other) has a
 *   double-entry alert;
 * - every gate has caught up with every admission: any code entered anywhere is refused
 *   ALREADY_ENTERED everywhere.
 * Gates here are the real cache, admission backend and GateSync, with steward-operated lanes (no
 * OSDP: the drills cover the lanes). Seeded: SESAME_SYNC_SEED=<n> replays a run; the seed is in
 * the failure message. The costliest file of the folder: a fresh server (its broker a child
 * process) and three gates per run, ~3–10 s a run; at most 5 runs and no new run after 25 s
 * (SESAME_SYNC_RUNS, SESAME_SYNC_BUDGET_MS to explore more).
 */

const GATES = ["A1", "A2", "A3"] as const;
type GateId = (typeof GATES)[number];
const NUM_RUNS = Number(process.env.SESAME_SYNC_RUNS ?? 5);
const BUDGET_MS = Number(process.env.SESAME_SYNC_BUDGET_MS ?? 25_000);

interface Gate {
  readonly id: GateId;
  readonly provisioning: GateProvisioning;
  /** The gate's own key (its public half is in the provisioning). */
  readonly signingSeed: Uint8Array;
  store: GateStore;
  backend: GateBackend;
  sync: GateSync;
}

interface World {
  readonly dir: { path: string; remove: () => void };
  readonly mqttPort: number;
  server: SyncServer;
  readonly gates: Map<GateId, Gate>;
  readonly log: string[];
}

interface Model {
  readonly connected: Set<GateId>;
}

let demo: DemoVenue;
let venueDir: string;
let venueRoot: { path: string; remove: () => void };
const signer = createNodeSigner();
let codes: Array<{ ticketId: number; code: () => string }> = [];

async function startServer(world: { dir: { path: string }; mqttPort: number }, log: string[]) {
  setUpServer(venueDir, join(world.dir.path, "server"), { now: Date.now() });
  const server = await SyncServer.start({
    venueDir,
    dataDir: join(world.dir.path, "server"),
    // The broker as in production: a child process (see the report on the in-process broker's stop).
    broker: { kind: "embedded", mode: "child", host: "127.0.0.1", port: world.mqttPort },
    tuning: { heartbeatMs: 500 },
    log: (line) => log.push(`[server] ${line}`),
  });
  await eventually(() => server.mqttConnected, "the server connected to its broker", 20_000, 20);
  return server;
}

function openGate(world: World, id: GateId, provisioning: GateProvisioning, signingSeed: Uint8Array): Gate {
  const store = GateStore.open(join(world.dir.path, `${id}.sqlite`), {
    rootPublicKey: Uint8Array.from(Buffer.from(demo.venue.rootPublicKey, "hex")),
    gateId: id,
  });
  if (!store.imported) store.importBundle(venueDir);
  const sync = new GateSync({
    provisioning,
    signingSeed,
    store: new CacheSyncStore(store),
    brokerUrl: `mqtt://127.0.0.1:${world.mqttPort}`,
    tuning: FAST_SYNC,
    log: (e) => world.log.push(`[${id}] ${e.level} ${e.code}: ${e.detail}`),
  });
  const backend = new GateBackend(
    {
      store,
      gateId: id,
      entrance: demo.venue.gates.find((g) => g.id === id)?.entrance ?? 1,
      // Steward-operated lanes: 1 for admissions, 2 for holders who do not walk through.
      lanes: [
        { lane: 1, direction: "entry" },
        { lane: 2, direction: "entry" },
      ],
      now: Date.now,
    },
    { onRecorded: () => sync.notifyOutbox() },
  );
  sync.start();
  return { id, provisioning, signingSeed, store, backend, sync };
}

async function startWorld(): Promise<World> {
  const dir = makeTempDir("sesame-sync-prop-");
  const mqttPort = await freePort();
  const log: string[] = [];
  const server = await startServer({ dir, mqttPort }, log);
  const world: World = { dir, mqttPort, server, gates: new Map(), log };
  for (const id of GATES) {
    const key = newGateKey();
    const provisioning = server.provisionGate(id, provisioningRequestOf(demo.venue.id, id, key));
    world.gates.set(id, openGate(world, id, provisioning, key.seed));
  }
  await eventually(
    () => [...world.gates.values()].every((g) => g.sync.status().connected),
    "every gate connected",
    20_000,
    20,
  );
  return world;
}

async function stopWorld(world: World): Promise<void> {
  for (const g of world.gates.values()) {
    await g.sync.stop();
    g.backend.close();
    g.store.close();
  }
  await world.server.stop();
  world.dir.remove();
}

const gateOf = (world: World, id: GateId): Gate => {
  const g = world.gates.get(id);
  if (!g) throw new Error(`no gate ${id}`);
  return g;
};

/** The code of the drill's `ticket`-th good ticket, as its wallet shows it now. */
const codeOf = (ticket: number): string => {
  const c = codes[ticket];
  if (!c) throw new Error("no such code");
  return c.code();
};

// ------------------------------------------------------------------------------------ commands

type Cmd = fc.AsyncCommand<Model, World>;

class Admit implements Cmd {
  constructor(
    readonly gate: GateId,
    readonly ticket: number,
  ) {}
  check = () => true;
  async run(_m: Model, w: World) {
    const g = gateOf(w, this.gate);
    const outcome = await g.backend.scan(1, codeOf(this.ticket));
    if (outcome.authorizationId && !outcome.unlockError) g.backend.confirmManualPassage(1);
  }
  toString = () => `admit(${this.gate}, #${this.ticket})`;
}

class NoShow implements Cmd {
  constructor(
    readonly gate: GateId,
    readonly ticket: number,
  ) {}
  check = () => true;
  async run(_m: Model, w: World) {
    const g = gateOf(w, this.gate);
    const outcome = await g.backend.scan(2, codeOf(this.ticket));
    if (outcome.authorizationId) {
      // The holder never walks through: the window ends, the ticket is not consumed.
      g.store.annul(outcome.authorizationId, Date.now(), "window-expired");
      g.sync.notifyOutbox();
    }
  }
  toString = () => `no-show(${this.gate}, #${this.ticket})`;
}

class Garbage implements Cmd {
  constructor(readonly gate: GateId) {}
  check = () => true;
  async run(_m: Model, w: World) {
    await gateOf(w, this.gate).backend.scan(1, "WIFI:S:Stade;T:WPA;P:x;;");
  }
  toString = () => `garbage(${this.gate})`;
}

class CutOff implements Cmd {
  constructor(readonly gate: GateId) {}
  check = (m: Readonly<Model>) => m.connected.has(this.gate);
  async run(m: Model, w: World) {
    await gateOf(w, this.gate).sync.stop();
    m.connected.delete(this.gate);
  }
  toString = () => `cut-off(${this.gate})`;
}

class Reconnect implements Cmd {
  constructor(readonly gate: GateId) {}
  check = (m: Readonly<Model>) => !m.connected.has(this.gate);
  async run(m: Model, w: World) {
    gateOf(w, this.gate).sync.start();
    m.connected.add(this.gate);
  }
  toString = () => `reconnect(${this.gate})`;
}

class RestartGate implements Cmd {
  constructor(readonly gate: GateId) {}
  check = () => true;
  async run(m: Model, w: World) {
    const g = gateOf(w, this.gate);
    await g.sync.stop();
    g.backend.close();
    g.store.close();
    w.gates.set(this.gate, openGate(w, this.gate, g.provisioning, g.signingSeed));
    m.connected.add(this.gate);
  }
  toString = () => `restart-gate(${this.gate})`;
}

class RestartServer implements Cmd {
  constructor(readonly downMs: number) {}
  check = () => true;
  async run(_m: Model, w: World) {
    await w.server.stop();
    await sleep(this.downMs);
    w.server = await startServer(w, w.log);
  }
  toString = () => `restart-server(down ${this.downMs} ms)`;
}

class Wait implements Cmd {
  constructor(readonly ms: number) {}
  check = () => true;
  async run() {
    await sleep(this.ms);
  }
  toString = () => `wait(${this.ms} ms)`;
}

// ------------------------------------------------------------------------------------ the check

async function settleAndCheck(world: World): Promise<void> {
  for (const g of world.gates.values()) g.sync.start();
  const gates = [...world.gates.values()];
  const server = world.server;
  await eventually(
    () =>
      gates.every((g) => g.sync.status().connected && g.store.outboxDepth() === 0) &&
      gates.every((g) => g.sync.status().admissionSeq === server.store.admissionSeq()),
    "every gate reconnected, its outbox acknowledged and every admission fanned out",
    30_000,
    50,
  );

  // The venue's record is exactly the union of the gates' journals.
  const key = (e: { gateId: string; gateSeq: number; eventId: string; kind: string }) =>
    `${e.gateId}#${e.gateSeq}:${e.eventId}:${e.kind}`;
  const union = gates.flatMap((g) => g.store.events(1, 1_000_000));
  const record = GATES.flatMap((id) => server.store.eventsOfGate(id));
  for (const id of GATES) {
    const local = gateOf(world, id).store.events(1, 1_000_000);
    expect(
      local.map((e) => e.gateSeq),
      `${id}: gapless`,
    ).toEqual(local.map((_, i) => i + 1));
    expect(
      server.store
        .eventsOfGate(id)
        .sort((a, b) => a.gateSeq - b.gateSeq)
        .map(key),
      `${id}: the server's record of the gate's journal`,
    ).toEqual(local.map(key));
  }
  expect(record.map(key).sort()).toEqual(union.map(key).sort());
  expect(new Set(record.map((e) => e.eventId)).size).toBe(record.length);

  // A ticket entered twice got its alert.
  const entered = new Map<number, string[]>();
  for (const e of union)
    if (e.kind === "entered" && e.ticketId !== undefined)
      entered.set(e.ticketId, [...(entered.get(e.ticketId) ?? []), e.gateId]);
  const alerts = server.store.alerts(10_000).filter((a) => a.type === "double-entry");
  for (const [ticketId, at] of entered) {
    if (at.length < 2) continue;
    expect(new Set(at).size, `ticket ${ticketId} entered twice at one gate`).toBe(at.length);
    expect(
      alerts.filter((a) => a.ticketId === ticketId).length,
      `double-entry alerts for ticket ${ticketId} (entered at ${at.join(", ")})`,
    ).toBe(at.length - 1);
  }
  expect(alerts.length).toBe([...entered.values()].reduce((n, at) => n + at.length - 1, 0));

  // Every gate knows every entry (decided on its cache, nothing recorded).
  const issuerVerifier = createNodeVerifier();
  for (const g of gates) {
    const facts = g.store.facts();
    for (const ticketId of entered.keys()) {
      const code = codes.find((c) => c.ticketId === ticketId)?.code();
      if (!code) throw new Error(`no code for ${ticketId}`);
      const d = decideScan(
        code,
        {
          gateId: g.id,
          lane: 1,
          entrance: demo.venue.gates.find((x) => x.id === g.id)?.entrance ?? 1,
          direction: "entry",
          nowMs: Date.now(),
          mode: "normal",
          clockSuspect: false,
        },
        facts,
        { issuerVerifier, deviceVerifier: nodeVerifierNoCache },
      );
      expect(d.reason, `ticket ${ticketId} at ${g.id}`).toBe("ALREADY_ENTERED");
    }
  }
}

// ------------------------------------------------------------------------------------ the property

describe("sync property: the venue's record equals the gates' journals", () => {
  beforeAll(() => {
    venueRoot = makeTempDir("sesame-sync-prop-venue-");
    venueDir = join(venueRoot.path, "venue");
    const now = Date.now();
    demo = generateDemoVenue({
      spectators: 80,
      doorsOpenMs: Math.floor(now / 3_600_000) * 3_600_000 - 3_600_000,
      entrances: 1,
      lanes: GATES.length,
      lanesPerGate: 1,
      random: seededRandom("sync-property"),
      signer,
    });
    writeVenueDirectory(venueDir, demo, signer);
    expect(demo.venue.gates.map((g) => g.id)).toEqual([...GATES]);
    const good = demo.wallets.filter((w) => {
      const row = demo.rows.find((r) => r.id === w.body.ticketId && r.generation === w.body.generation);
      return (
        row?.state === "valid" &&
        !row.late &&
        w.body.sessions.includes(1) &&
        w.body.kind === "mobile" &&
        w.deviceSeed !== undefined &&
        (w.body.categories & (Category.ID_CHECK | Category.ACCESSIBILITY)) === 0
      );
    });
    codes = good.slice(0, 12).map((w) => {
      const seed = Uint8Array.from(Buffer.from(demo.secrets.issuerSeeds[String(w.body.keyId)] ?? "", "hex"));
      return { ticketId: w.body.ticketId, code: () => walletCode(w, seed, Date.now(), signer) };
    });
    expect(codes).toHaveLength(12);
  });

  afterAll(() => venueRoot?.remove());

  it("random admissions, outages and reconnections: every event exactly once, double entries alerted, every gate caught up", async () => {
    const seed = Number(process.env.SESAME_SYNC_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const gate = fc.constantFrom(...GATES);
    const ticket = fc.integer({ min: 0, max: 11 });
    const admit = fc.tuple(gate, ticket).map(([g, t]) => new Admit(g, t));
    const cutOff = gate.map((g) => new CutOff(g));
    const reconnect = gate.map((g) => new Reconnect(g));
    const wait = fc.integer({ min: 0, max: 500 }).map((ms) => new Wait(ms));
    const commands = fc.commands(
      [
        // Weights by repetition: mostly admissions, outages often enough to overlap them.
        admit,
        admit,
        admit,
        admit,
        fc.tuple(gate, ticket).map(([g, t]) => new NoShow(g, t)),
        gate.map((g) => new Garbage(g)),
        cutOff,
        cutOff,
        reconnect,
        reconnect,
        gate.map((g) => new RestartGate(g)),
        fc.integer({ min: 0, max: 400 }).map((ms) => new RestartServer(ms)),
        wait,
        wait,
      ],
      { size: "max", maxCommands: 40 },
    );
    let world: World | undefined;
    const stats: string[] = [];
    const started = Date.now();
    try {
      await fc.assert(
        fc.asyncProperty(commands, async (cmds) => {
          // A time budget: no new world after it (a run with several server restarts takes ~10 s).
          if (Date.now() - started > BUDGET_MS) return;
          world = await startWorld();
          try {
            const w = world;
            await fc.asyncModelRun(() => ({ model: { connected: new Set(GATES) }, real: w }), cmds);
            await settleAndCheck(w);
            stats.push(
              `${String(cmds).split(",").length} commands, ${GATES.map((id) => gateOf(w, id).store.lastGateSeq()).join("+")} events, ` +
                `${w.server.store.alerts(1000).filter((a) => a.type === "double-entry").length} double entries`,
            );
          } catch (error) {
            // What the gates and the server said, with the failure (the world is gone after it).
            const message = error instanceof Error ? error.message : String(error);
            throw new Error(`${message}\n--- last log lines ---\n${world.log.slice(-60).join("\n")}`);
          } finally {
            await stopWorld(world);
            world = undefined;
          }
        }),
        // Each run starts a server and three gates: no shrinking (it would replay dozens of runs).
        { seed, numRuns: NUM_RUNS, endOnFailure: true },
      );
      if (process.env.SESAME_DRILL_LOG) console.log(`seed ${seed}:\n${stats.join("\n")}`);
      // At least one full run, whatever the budget.
      expect(stats.length).toBeGreaterThan(0);
    } catch (error) {
      throw new Error(
        `sync property failed with SESAME_SYNC_SEED=${seed}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }, 180_000);
});
