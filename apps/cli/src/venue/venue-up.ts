import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadOrCreateGateKey, provisioningRequestOf } from "@sesame/gate";
import {
  Crowd,
  type CrowdLane,
  type CrowdOptions,
  type SimLane,
  seededRandom,
  startSimLane,
} from "@sesame/hardware-sim";
import { type RunningIssuer, startIssuer } from "@sesame/issuer";
import type { GateConfig, Steward } from "@sesame/kiosk";
import { type GateNode, parseGateConfig, startGateNode } from "@sesame/kiosk";
import { dashboardBuilt, dashboardDir } from "@sesame/supervisor";
import {
  type ApiToken,
  type DashboardRole,
  hashPassword,
  openServerStore,
  SyncServer,
  setUpServer,
} from "@sesame/sync-server";
import { createNodeSigner, seededRandom as ticketRandom } from "@sesame/ticket";
import { type DemoVenue, generateDemoVenue, writeVenueDirectory } from "@sesame/venue";
import { type CrowdMix, spectatorsOf } from "./spectators.js";

/*
 * The whole venue on one machine (issue 7, docs/design.md §7): the issuer (PGlite in the venue's
 * data directory) that signs every ticket change, the sync-server following it with its embedded
 * broker and the dashboard, simulated lane controllers and QR readers speaking OSDP over TCP, one gate
 * backend (kiosk) per gate in its own process, and a crowd. `sesame up` and the end-to-end tests
 * start it through startVenue().
 */

const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const GATE_MAIN = join(REPO_ROOT, "apps", "kiosk", "src", "gate-main.ts");

export const DEMO_STEWARDS: readonly Steward[] = [
  { id: "S-101", name: "Camille Martin", pin: "1234" },
  { id: "S-102", name: "Malik Benali", pin: "5678" },
];

export interface VenueUpOptions {
  /** Where the venue, the server's and the gates' data go (fresh for each run). */
  readonly dir: string;
  readonly spectators?: number;
  readonly entrances?: number;
  readonly lanes?: number;
  readonly lanesPerGate?: number;
  readonly seed?: string;
  /** First port: the dashboard there, kiosks after it; 0 = any free ports. */
  readonly basePort?: number;
  readonly host?: string;
  /** Gates as child processes (as in production) or inside this process (tests). */
  readonly gates?: "process" | "in-process";
  /** People per second; 0 = no crowd. */
  readonly arrivalsPerSecond?: number;
  /** The crowd stops arriving after this many people. */
  readonly maxArrivals?: number;
  readonly mix?: CrowdMix;
  /** How long the crowd's people wait for the arm (see CrowdOptions; default 2.5 s). */
  readonly unlockWaitMs?: CrowdOptions["unlockWaitMs"];
  readonly dashboardTokens?: readonly ApiToken[];
  /**
   * Runs the issuer beside the venue (`sesame up`): the venue's tickets and issuer keys go to it
   * and the sync-server follows its signed changes. Off by default for tests (PGlite's first start
   * takes seconds): the venue's feed then takes no new changes.
   */
  readonly issuer?: boolean;
  readonly log?: (line: string) => void;
  readonly now?: () => number;
}

export interface RunningGate {
  readonly gateId: string;
  readonly entrance: number;
  readonly url: string;
  readonly lanes: readonly { readonly lane: number; readonly sim: SimLane }[];
  /** Only for in-process gates. */
  readonly node?: GateNode;
}

export interface RunningVenue {
  readonly demo: DemoVenue;
  readonly venueDir: string;
  readonly server: SyncServer;
  /** The issuer beside the venue (with options.issuer). */
  readonly issuer: RunningIssuer | undefined;
  readonly dashboardUrl: string;
  readonly gates: readonly RunningGate[];
  readonly crowd: Crowd | undefined;
  readonly tokens: readonly ApiToken[];
  readonly users: typeof DEMO_USERS;
  /** False when the dashboard was not built (`pnpm build:ui`): the API still answers. */
  readonly dashboardServed: boolean;
  stop(): Promise<void>;
}

/**
 * Dashboard sign-ins of the demo (printed by `sesame up`); a real venue makes its own (`sesame
 * dashboard-user`). The admin alone may provision a gate over the API; the demo's own gates are
 * provisioned at set-up, in this process, before any of them runs.
 */
export const DEMO_USERS: readonly { name: string; role: DashboardRole; password: string }[] = [
  { name: "dupont", role: "supervisor", password: "superviseur-demo" },
  { name: "martin", role: "tech", password: "technicien-demo" },
  { name: "leroy", role: "admin", password: "administrateur-demo" },
];

/** Default dashboard tokens of the demo (printed by `sesame up`); real venues provision their own. */
export const DEMO_TOKENS: readonly ApiToken[] = [
  { token: "demo-supervisor-7Hq2", role: "supervisor", name: "Superviseur démo" },
  { token: "demo-tech-Xw4p", role: "tech", name: "Technicien démo" },
];

interface GateChild {
  child: ChildProcess | undefined;
  stopping: boolean;
  restarts: number;
}

function spawnGate(
  configFile: string,
  gateId: string,
  log: (line: string) => void,
  state: GateChild,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", GATE_MAIN, "--config", configFile], {
      cwd: REPO_ROOT,
      // Its own process group: Ctrl-C reaches `sesame up` alone, which then stops the gates in
      // order. The gate stops by itself when our end of its stdin closes (we died).
      detached: true,
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, FORCE_COLOR: "0", SESAME_STOP_ON_STDIN_EOF: "1" },
    });
    state.child = child;
    let announced = false;
    let buffer = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      buffer += chunk;
      for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const url = /^kiosk (http:\/\/\S+)$/.exec(line)?.[1];
        if (url && !announced) {
          announced = true;
          resolve(url);
        } else if (line.trim() !== "") log(line.startsWith("[") ? line : `[${gateId}] ${line}`);
      }
    });
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      for (const line of chunk.split("\n")) if (line.trim() !== "") log(`[${gateId}] ${line}`);
    });
    child.on("exit", (code, signal) => {
      if (!announced) reject(new Error(`gate ${gateId} exited before serving (${signal ?? code})`));
      if (state.stopping) return;
      // A gate that dies is restarted: its cache recovers open authorizations at start.
      state.restarts++;
      const delay = Math.min(10_000, 500 * 2 ** Math.min(state.restarts, 5));
      log(`[${gateId}] exited (${signal ?? code}); restarting in ${delay} ms`);
      setTimeout(() => {
        if (state.stopping) return;
        spawnGate(configFile, gateId, log, state).catch((error: Error) => log(error.message));
      }, delay);
    });
  });
}

/**
 * The issuer of the demo venue, as an existing venue's would be set up: it takes the venue's issuer
 * seeds (its key file, 0600, in `<dir>/issuer`), the venue's description, and the venue's tickets with
 * their face values at the venue feed's position, so that its stream continues the feed's numbering.
 */
async function startIssuerBeside(
  demo: DemoVenue,
  where: { venueDir: string; serverDir: string; dir: string; port: number; host: string },
  log: (line: string) => void,
  now: () => number,
): Promise<RunningIssuer> {
  const { venueDir, serverDir, dir } = where;
  const store = openServerStore(venueDir, serverDir, now());
  let position: number;
  let tickets: ReturnType<typeof store.areas.feed.bundle>["tickets"];
  try {
    position = store.feedSequence();
    tickets = store.areas.feed.bundle(store.venue(), store.trustList(), now()).tickets;
  } finally {
    store.close();
  }
  const issuer = await startIssuer({
    dataDir: join(dir, "issuer"),
    host: where.host,
    port: where.port,
    venues: [demo.venue],
    importSeeds: demo.secrets.issuerSeeds,
    now,
    log: (line) => log(`[issuer] ${line}`),
  });
  try {
    const faceValues = new Map(demo.rows.map((r) => [r.id, r.faceValue]));
    const adopted = tickets.map((t) => {
      const faceValue = faceValues.get(t.id);
      if (!faceValue) throw new Error(`demo ticket ${t.id} has no face value`);
      return { ...t, faceValue };
    });
    await issuer.store.adoptTickets(demo.venue.id, adopted, position);
  } catch (error) {
    await issuer.close();
    throw error;
  }
  return issuer;
}

export async function startVenue(options: VenueUpOptions): Promise<RunningVenue> {
  const log = options.log ?? ((line: string) => console.log(line));
  const now = options.now ?? Date.now;
  const host = options.host ?? "127.0.0.1";
  const basePort = options.basePort ?? 0;
  const signer = createNodeSigner();
  const seed = options.seed ?? `up-${now()}`;
  const demo = generateDemoVenue({
    spectators: options.spectators ?? 3000,
    doorsOpenMs: Math.floor(now() / 3_600_000) * 3_600_000 - 3_600_000,
    entrances: options.entrances ?? 2,
    lanes: options.lanes ?? 8,
    lanesPerGate: options.lanesPerGate ?? 2,
    random: ticketRandom(seed),
    signer,
  });
  const venueDir = join(options.dir, "venue");
  writeVenueDirectory(venueDir, demo, signer);
  // The offline step of a real venue's set-up, done here because the demo holds its root (in its
  // own file, secrets/root-key.json, which the server never opens): the root certifies the
  // server's operations key.
  setUpServer(venueDir, join(options.dir, "server"), { now: now() });
  const tokens = options.dashboardTokens ?? DEMO_TOKENS;
  const dashboardServed = dashboardBuilt();

  const stops: Array<() => unknown> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) {
      try {
        await stop();
      } catch (error) {
        log(`while stopping: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    stops.length = 0;
  };
  try {
    const serverDir = join(options.dir, "server");
    // The issuer at the base port + 80 (4880 by default: after the kiosks' ports, at most 64 gates).
    const issuerPort = basePort === 0 ? 0 : basePort + 80;
    const issuer = options.issuer
      ? await startIssuerBeside(
          demo,
          { venueDir, serverDir, dir: options.dir, port: issuerPort, host },
          log,
          now,
        )
      : undefined;
    if (issuer) stops.push(() => issuer.close());
    const server = await SyncServer.start({
      venueDir,
      dataDir: serverDir,
      ...(issuer ? { issuer: { url: issuer.url, token: issuer.venueToken } } : {}),
      broker: { kind: "embedded" },
      http: {
        host,
        port: basePort,
        tokens,
        users: DEMO_USERS.map((u) => ({
          name: u.name,
          role: u.role,
          passwordHash: hashPassword(u.password),
        })),
        ...(dashboardServed ? { dashboardDir } : {}),
      },
      log: (line) => log(`[sync-server] ${line}`),
    });
    stops.push(() => server.stop());
    const dashboardUrl = `http://${host}:${server.httpPort}`;

    const gates: RunningGate[] = [];
    let port = basePort === 0 ? 0 : basePort + 1;
    for (const gate of demo.venue.gates) {
      const gateDir = join(options.dir, "gates", gate.id);
      mkdirSync(gateDir, { recursive: true });
      const provisioningFile = join(gateDir, "provisioning.json");
      // The gate makes its key pair in its own data directory (as the kiosk does at first start);
      // the server gets only its public key and proof of possession.
      const gateKey = loadOrCreateGateKey(join(gateDir, "data"));
      const request = provisioningRequestOf(demo.venue.id, gate.id, gateKey);
      writeFileSync(provisioningFile, JSON.stringify(server.provisionGate(gate.id, request), null, 2), {
        mode: 0o600,
      });
      chmodSync(provisioningFile, 0o600);
      const lanes: { lane: number; sim: SimLane }[] = [];
      for (let lane = 1; lane <= gate.lanes; lane++) {
        const sim = await startSimLane({ endpoint: { tcp: { host: "127.0.0.1", port: 0 } } });
        stops.push(() => sim.close());
        lanes.push({ lane, sim });
      }
      const rawConfig = {
        gateId: gate.id,
        dataDir: join(gateDir, "data"),
        venueDir,
        provisioning: provisioningFile,
        lanes: lanes.map(({ lane, sim }) => ({
          lane,
          direction: "entry",
          controller: sim.where,
          controllerAddress: 0,
          readerAddress: 1,
        })),
        http: { host, port: port === 0 ? 0 : port++ },
        stewards: DEMO_STEWARDS,
      };
      const configFile = join(gateDir, "gate.json");
      writeFileSync(configFile, JSON.stringify(rawConfig, null, 2), { mode: 0o600 });
      const config: GateConfig = parseGateConfig(rawConfig, gateDir);
      if (options.gates === "in-process") {
        const node = await startGateNode(config, { now, log: (line) => log(`[${gate.id}] ${line}`) });
        stops.push(() => node.close());
        gates.push({ gateId: gate.id, entrance: gate.entrance, url: node.url, lanes, node });
      } else {
        const state: GateChild = { child: undefined, stopping: false, restarts: 0 };
        stops.push(
          () =>
            new Promise<void>((resolve) => {
              state.stopping = true;
              const child = state.child;
              if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
              const kill = setTimeout(() => child.kill("SIGKILL"), 5_000);
              child.once("exit", () => {
                clearTimeout(kill);
                resolve();
              });
              child.kill("SIGTERM");
            }),
        );
        const url = await spawnGate(configFile, gate.id, log, state);
        gates.push({ gateId: gate.id, entrance: gate.entrance, url, lanes });
      }
    }

    let crowd: Crowd | undefined;
    const rate = options.arrivalsPerSecond ?? 1;
    if (rate > 0) {
      const crowdLanes: CrowdLane[] = gates.flatMap((g) =>
        g.lanes.flatMap(({ lane, sim }) =>
          sim.reader
            ? [
                {
                  gateId: g.gateId,
                  lane,
                  entrance: g.entrance,
                  reader: sim.reader,
                  controller: sim.controller,
                },
              ]
            : [],
        ),
      );
      const random = seededRandom(Number.parseInt(Buffer.from(seed).toString("hex").slice(0, 8), 16) || 1);
      crowd = new Crowd({
        lanes: crowdLanes,
        arrivalsPerSecond: rate,
        ...(options.maxArrivals !== undefined ? { maxArrivals: options.maxArrivals } : {}),
        spectators: spectatorsOf(demo, {
          session: 1,
          random,
          signer,
          ...(options.mix ? { mix: options.mix } : {}),
        }),
        random,
        ...(options.unlockWaitMs !== undefined ? { unlockWaitMs: options.unlockWaitMs } : {}),
      });
      const c = crowd;
      stops.push(() => c.stop());
    }
    return {
      demo,
      venueDir,
      server,
      issuer,
      dashboardUrl,
      gates,
      crowd,
      tokens,
      users: DEMO_USERS,
      dashboardServed,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
