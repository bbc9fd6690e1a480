import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type GateProvisioning, GateSync, type GateSyncTuning, type SyncLogEntry } from "@sesame/sync";
import { MemoryGateStore, testGateKey } from "@sesame/sync/testing";
import { freePort, Mosquitto, makeTempDir } from "@sesame/testing";
import { createNodeSigner, seededRandom } from "@sesame/ticket";
import { type DemoVenue, generateDemoVenue, writeVenueDirectory } from "@sesame/venue";
import { MemoryIssuer } from "@sesame/venue/testing";
import { tsxImportArgs } from "../src/broker/supervisor.js";
import type { ApiToken } from "../src/http/api.js";
import { writeMosquittoConfig } from "../src/mosquitto.js";
import { setUpServer } from "../src/root/set-up.js";
import { openServerStore, provisionGateInStore, SyncServer, type SyncServerOptions } from "../src/server.js";

/*
 * One sync scenario's world: a demo venue directory, a broker (embedded aedes in its child process,
 * or Mosquitto from Debian started here on a free port), the sync-server, and gates with in-memory
 * stores. Every test runs against both brokers.
 */

const SERVER_BIN = fileURLToPath(new URL("../src/bin/sync-server.ts", import.meta.url));

export type BrokerKind = "aedes" | "mosquitto";
export const BROKERS: readonly BrokerKind[] = ["aedes", "mosquitto"];

export const TOKENS: ApiToken[] = [
  { token: "admin-token-0123456789", role: "admin", name: "ticketing" },
  { token: "supervisor-token-0123456789", role: "supervisor", name: "supervisor Dupont" },
  { token: "tech-token-0123456789", role: "tech", name: "tech Martin" },
];

export const FAST_GATE: Partial<GateSyncTuning> = {
  ackTimeoutMs: 1500,
  replayTimeoutMs: 1000,
  heartbeatMs: 1000,
  reconnectMinMs: 100,
  reconnectMaxMs: 1000,
  pollMs: 100,
  keepaliveSeconds: 5,
};

export interface TestGate {
  readonly id: string;
  readonly store: MemoryGateStore;
  readonly sync: GateSync;
  readonly provisioning: GateProvisioning;
  readonly logs: SyncLogEntry[];
}

export class World {
  readonly dir = makeTempDir("sesame-sync-");
  readonly venueDir = join(this.dir.path, "venue");
  readonly dataDir = join(this.dir.path, "data");
  server: SyncServer | undefined;
  mosquitto: Mosquitto | undefined;
  brokerUrl = "";
  readonly gates: TestGate[] = [];
  readonly serverLog: string[] = [];
  private provisioned = new Map<string, GateProvisioning>();
  /** Each gate's own key, made as the gate makes it: the server only ever sees its public key. */
  private readonly gateKeys = new Map<string, ReturnType<typeof testGateKey>>();

  /** The gate's key pair and key request (a new one once `renew`: the gate made a new key). */
  gateKey(gateId: string, renew = false): ReturnType<typeof testGateKey> {
    let key = this.gateKeys.get(gateId);
    if (!key || renew) {
      if (!this.demo) throw new Error("the world has no venue yet");
      key = testGateKey(this.demo.venue.id, gateId);
      this.gateKeys.set(gateId, key);
    }
    return key;
  }

  /** The seed gate `gateId` signs its batches with. */
  gateSeed(gateId: string): Buffer {
    return Buffer.from(this.gateKey(gateId).seed);
  }

  constructor(readonly broker: BrokerKind) {}

  demo: DemoVenue | undefined;
  /**
   * The venue's issuer, in memory: it signs with the demo's issuer key and the in-process server
   * follows it (a test that needs the real one, PGlite and HTTP, starts it: issuer-follow.test.ts).
   */
  issuer: MemoryIssuer | undefined;

  /** The issuer, once the server is up. */
  requireIssuer(): MemoryIssuer {
    if (!this.issuer) throw new Error("the world has no issuer (a server process follows none)");
    return this.issuer;
  }

  /**
   * Tickets a gate of `entrance` admits for `session` (the server refuses an entry of any other:
   * sync-server/src/ingest/rules.ts), in id order.
   */
  ticketsAt(entrance: number, session = 1): number[] {
    const demo = this.demo;
    if (!demo) throw new Error("the world has no venue yet");
    const all = [
      ...demo.bundle.tickets,
      ...demo.changes.flatMap((c) => (c.type === "issue" ? [c.ticket] : [])),
    ];
    return all.filter((t) => t.entrance === entrance && t.sessions.includes(session)).map((t) => t.id);
  }

  /** Venue with `entrances` entrances of one 2-lane gate each: gates A1, B1, C1… */
  static async create(
    broker: BrokerKind,
    options: {
      entrances?: number;
      /** Default 400; a test that needs thousands of distinct tickets at one entrance asks for more. */
      spectators?: number;
      /** Default: one 2-lane gate per entrance; 1 gives two gates per entrance (A1, A2, B1…). */
      lanesPerGate?: number;
      serverOptions?: Partial<SyncServerOptions>;
      serverProcess?: boolean;
      mosquittoLogTypes?: string[];
    } = {},
  ): Promise<World> {
    const world = new World(broker);
    try {
      await world.setUp(options);
    } catch (error) {
      await world.close();
      throw error;
    }
    return world;
  }

  private async setUp(options: {
    entrances?: number;
    spectators?: number;
    lanesPerGate?: number;
    serverOptions?: Partial<SyncServerOptions>;
    serverProcess?: boolean;
    mosquittoLogTypes?: string[];
  }): Promise<void> {
    const broker = this.broker;
    const entrances = options.entrances ?? 2;
    const demo = generateDemoVenue({
      spectators: options.spectators ?? 400,
      doorsOpenMs: Date.now() - 3_600_000,
      entrances,
      lanes: entrances * 2,
      ...(options.lanesPerGate !== undefined ? { lanesPerGate: options.lanesPerGate } : {}),
      random: seededRandom(`sync-${entrances}`),
      signer: createNodeSigner(),
      lateSales: 3,
    });
    writeVenueDirectory(this.venueDir, demo, createNodeSigner());
    // Set-up, as the demo's: the root (its own file) certifies the server's operations key.
    setUpServer(this.venueDir, this.dataDir, { now: Date.now() });
    this.demo = demo;
    const [keyId, seed] = Object.entries(demo.secrets.issuerSeeds).at(-1) ?? ["1", ""];
    this.issuer = new MemoryIssuer({
      venueId: demo.venue.id,
      keyId: Number(keyId),
      seed: Buffer.from(seed, "hex"),
      ticket: (id) => this.server?.store.ticket(id),
    });
    if (broker === "mosquitto") {
      const port = await freePort();
      const store = openServerStore(this.venueDir, this.dataDir, Date.now());
      for (const g of demo.venue.gates)
        this.provisioned.set(g.id, provisionGateInStore(store, g.id, this.gateKey(g.id).request, Date.now()));
      const files = writeMosquittoConfig(store, {
        outDir: join(this.dir.path, "mosquitto"),
        port,
        ...(process.getuid?.() === 0 ? { user: "root" } : {}),
        ...(options.mosquittoLogTypes ? { logTypes: options.mosquittoLogTypes } : {}),
      });
      store.close();
      this.mosquitto = new Mosquitto(files.config, port);
      await this.mosquitto.start();
      this.brokerUrl = `mqtt://127.0.0.1:${port}`;
    }
    if (options.serverProcess) {
      this.httpPort = await freePort();
      if (broker === "aedes") {
        this.mqttPort = await freePort();
        this.brokerUrl = `mqtt://127.0.0.1:${this.mqttPort}`;
      }
      mkdirSync(this.dataDir, { recursive: true });
      writeFileSync(join(this.dataDir, "tokens.json"), JSON.stringify({ tokens: TOKENS }));
      await this.startServerProcess();
      if (broker === "aedes") {
        for (const g of demo.venue.gates) {
          const r = await this.api("POST", `/api/gates/${g.id}/provision`, this.gateKey(g.id).request);
          this.provisioned.set(g.id, r.json as GateProvisioning);
        }
      }
      return;
    }
    await this.startServer(options.serverOptions);
    if (broker === "aedes") {
      const server = this.requireServer();
      for (const g of demo.venue.gates)
        this.provisioned.set(g.id, server.provisionGate(g.id, this.gateKey(g.id).request));
    }
  }

  httpPort: number | undefined;
  mqttPort: number | undefined;
  serverProcess: ChildProcess | undefined;

  /** The sync-server as its own process (bin/sync-server.ts), so that a SIGKILL is real. */
  async startServerProcess(): Promise<void> {
    const args = [
      ...tsxImportArgs(),
      SERVER_BIN,
      "--venue",
      this.venueDir,
      "--data",
      this.dataDir,
      "--http-port",
      String(this.httpPort),
      ...(this.broker === "mosquitto"
        ? ["--broker", this.brokerUrl]
        : ["--mqtt-port", String(this.mqttPort)]),
    ];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    this.serverProcess = child;
    child.stderr?.on("data", (c: Buffer) => this.serverLog.push(c.toString()));
    let out = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`sync-server process did not start: ${out} ${this.serverLog.join("")}`)),
        30_000,
      );
      child.stdout?.on("data", (c: Buffer) => {
        out += c.toString();
        if (out.includes("Ctrl-C")) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`sync-server process exited (${code}): ${out} ${this.serverLog.join("")}`));
      });
    });
    // Until the server says it reached its broker; the deadline only turns a hang into a failure.
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const health = await this.api("GET", "/api/health").catch(() => undefined);
      if ((health?.json as { mqttConnected?: boolean } | undefined)?.mqttConnected) return;
      await sleep(50);
    }
    throw new Error("sync-server process never connected to its broker");
  }

  async killServerProcess(): Promise<void> {
    const child = this.serverProcess;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGKILL");
    await exited;
  }

  requireServer(): SyncServer {
    if (!this.server) throw new Error("server not running");
    return this.server;
  }

  async startServer(extra: Partial<SyncServerOptions> = {}): Promise<SyncServer> {
    this.server = await SyncServer.start({
      venueDir: this.venueDir,
      dataDir: this.dataDir,
      broker:
        this.broker === "mosquitto"
          ? { kind: "external", url: this.brokerUrl }
          : { kind: "embedded", mode: "child" },
      http: { port: 0, tokens: TOKENS },
      log: (line) => this.serverLog.push(line),
      tuning: { heartbeatMs: 500 },
      ...(this.issuer ? { issuer: { source: this.issuer }, followerTuning: { pollMs: 50 } } : {}),
      ...extra,
    });
    this.issuer?.begin(this.server.store.feedSequence());
    if (this.broker === "aedes") this.brokerUrl = this.server.brokerUrl;
    await waitFor(() => this.server?.mqttConnected === true, 20_000, "server connected to the broker");
    return this.server;
  }

  provisioning(gateId: string): GateProvisioning {
    const p = this.provisioned.get(gateId);
    if (!p) throw new Error(`gate ${gateId} not provisioned`);
    return p;
  }

  gate(
    gateId: string,
    options: { tuning?: Partial<GateSyncTuning>; store?: MemoryGateStore; start?: boolean } = {},
  ): TestGate {
    const store = options.store ?? new MemoryGateStore(gateId);
    const logs: SyncLogEntry[] = [];
    const provisioning = this.provisioning(gateId);
    const sync = new GateSync({
      provisioning,
      signingSeed: this.gateKey(gateId).seed,
      store,
      brokerUrl: this.brokerUrl,
      httpBaseUrl: `http://127.0.0.1:${this.apiPort}`,
      tuning: { ...FAST_GATE, ...options.tuning },
      log: (entry) => logs.push(entry),
      onCommand: () => ({ status: "done" }),
    });
    const gate = { id: gateId, store, sync, provisioning, logs };
    this.gates.push(gate);
    if (options.start !== false) sync.start();
    return gate;
  }

  get apiPort(): number | undefined {
    return this.server?.httpPort ?? this.httpPort;
  }

  async api(
    method: string,
    path: string,
    body?: unknown,
    token = TOKENS[0]?.token,
    contentType = "application/json",
  ): Promise<{ status: number; json: unknown }> {
    const response = await fetch(`http://127.0.0.1:${this.apiPort}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { "content-type": contentType }),
      },
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    let json: unknown = text;
    try {
      json = JSON.parse(text);
    } catch {}
    return { status: response.status, json };
  }

  async close(): Promise<void> {
    await Promise.all(this.gates.map((g) => g.sync.stop()));
    await this.server?.stop();
    if (
      this.serverProcess &&
      this.serverProcess.exitCode === null &&
      this.serverProcess.signalCode === null
    ) {
      const child = this.serverProcess;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGTERM");
      await Promise.race([exited, sleep(10_000)]);
      child.kill("SIGKILL");
    }
    await this.mosquitto?.kill("SIGTERM");
    this.dir.remove();
  }
}

export async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
