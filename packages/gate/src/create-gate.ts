import { EventEmitter } from "node:events";
import {
  type Clock,
  ControlPanel,
  Lane,
  SECURE_CHANNEL_FAILED,
  type TransportFactory,
  transportFactory,
} from "@sesame/bridge";
import { GateStore } from "@sesame/cache";
import type { Direction, EntryLogEvent, LaneMode } from "@sesame/gate-core";
import {
  normalizeScanBytes,
  ScanDebouncer,
  type SerialLinkOpener,
  SerialScannerReader,
} from "@sesame/scanner";
import {
  bundleSigner,
  CacheSyncStore,
  type Command,
  type CommandResult,
  type GateProvisioning,
  GateSync,
  type GateSyncTuning,
  type HttpConnector,
  type MqttConnector,
  type OfflinePeripheral,
  type SyncClock,
  systemSyncClock,
} from "@sesame/sync";
import { createNodeVerifier, type Ed25519Verifier } from "@sesame/ticket";
import type { Entrance } from "@sesame/venue";
import {
  type GateAlert,
  GateBackend,
  type LaneBinding,
  type LaneView,
  type ScanOutcome,
} from "./gate-backend.js";

/*
 * One gate, assembled once: its cache, its lanes (the bridge's OSDP control panels
 * and their QR readers, serial scanners), the scan intake (reader report → normalizeScanBytes →
 * ScanDebouncer → GateBackend.scan), the admission backend, the venue sync (GateSync) and the
 * supervisor's commands. Its I/O comes in through ports — the clock and its timers, the lanes'
 * transports, the sync client's MQTT and HTTP connectors — so the kiosk process, `sesame up`, the
 * rehearsals and the drills all run this same assembly: on the system's clock with serial ports
 * and a broker, or on a virtual clock over in-memory links.
 */

export interface GateLaneSetup {
  readonly lane: number;
  /** Which way people walk through this lane's scanner. */
  readonly direction: Direction;
  /** The lane's OSDP bus; absent: a steward-operated lane (passages confirmed by hand). */
  readonly osdp?: {
    /** Where the bus is: "/dev/ttyUSB0", "/dev/pts/4", "tcp://host:port" (the transports port reads it). */
    readonly where: string;
    readonly controllerAddress: number;
    /** The lane's QR reader on the same bus (null: none). */
    readonly readerAddress: number | null;
    /** Secure Channel base key shared with the lane's PDs; absent: clear text. */
    readonly scbk?: Uint8Array;
    readonly baudRate?: number;
  };
  /** A serial or USB-CDC scanner on this lane (in addition to, or instead of, the OSDP reader). */
  readonly scanner?: {
    readonly path: string;
    readonly baudRate: number;
    readonly suffix: "CR" | "LF" | "CRLF" | "none";
  };
}

export interface GateSetup {
  readonly gateId: string;
  /** The cache's SQLite file. */
  readonly cacheFile: string;
  /** The venue root key the cache checks bundles and trust lists against. */
  readonly rootPublicKey: Uint8Array;
  /** A venue directory whose signed bundle seeds an empty cache; without it, the sync-server's snapshot. */
  readonly venueDir?: string;
  /** What the sync-server handed out; absent: the gate runs alone (no sync, no commands). */
  readonly provisioning?: GateProvisioning;
  /**
   * The gate's own event-signing key (loadOrCreateGateKey), whose public half is
   * provisioning.gatePublicKey; required with provisioning.
   */
  readonly signingSeed?: Uint8Array;
  /** Override provisioning.mqtt.url / provisioning.http.baseUrl. */
  readonly brokerUrl?: string;
  readonly httpBaseUrl?: string;
  readonly lanes: readonly GateLaneSetup[];
  readonly passageWindowMs?: number;
  readonly syncTuning?: Partial<GateSyncTuning>;
  /** Named in the gate's retained presence. */
  readonly software?: string;
}

/** A lane's OSDP link, as the transports port opens it. */
export interface LaneLink {
  readonly connect: TransportFactory;
  /** The control panel's timers, when not the gate's clock (a simulator that elides idle polls). */
  readonly clock?: Clock;
  readonly pollIntervalMs?: number;
  readonly random?: (length: number) => Uint8Array;
}

export interface GatePorts {
  /**
   * Wall-clock time and timers for the backend, the scan debouncer, the sync client and the
   * bridge. Default: the system's (the bridge then keeps its own monotonic clock). `immediate`:
   * how the sync client runs work once the current work is done (default: a 0 ms timer).
   */
  readonly clock?: Clock & Pick<SyncClock, "immediate">;
  /** The sync client's MQTT connector (default: mqtt.js). */
  readonly mqtt?: MqttConnector;
  /** Snapshot downloads (default: fetch). */
  readonly http?: HttpConnector;
  /** Opens each OSDP lane's bus (default: osdpTransport, serial or TCP from `where`). */
  readonly transports?: (lane: GateLaneSetup) => LaneLink;
  /** Opens serial scanners (default: serialport). */
  readonly serialOpener?: SerialLinkOpener;
  readonly log?: (line: string) => void;
  /** A fraction in [0, 1) for the sync client's reconnect jitter (default: Math.random). */
  readonly random?: () => number;
  /**
   * The sync client's signature checks: admissions, gate list, commands, snapshots (default:
   * node:crypto). A rehearsal that runs many gates in one process gives them one, so that a message
   * every gate checks is checked once.
   */
  readonly verifier?: Ed25519Verifier;
}

/** The default transports port: the lane's serial port or TCP bridge. */
export function osdpTransport(lane: GateLaneSetup): LaneLink {
  const osdp = lane.osdp;
  if (!osdp) throw new Error(`lane ${lane.lane} has no OSDP bus`);
  return { connect: transportFactory(osdp.where, osdp.baudRate ? { baudRate: osdp.baudRate } : {}) };
}

export interface ReaderStatus {
  readonly lane: number;
  readonly kind: "osdp" | "serial";
  readonly path: string;
  readonly online: boolean;
  readonly detail?: string;
}

/** A supervisor's message for the stewards' screens. */
export interface GateNotice {
  readonly text: string;
  readonly by: string;
  readonly at: number;
}

export interface GateEvents {
  /** A lane changed (its view when one lane's screen did; none for a change the screens re-read). */
  lane: [view?: LaneView];
  /** Sync or scanner status changed. */
  diagnostics: [];
  recorded: [event: EntryLogEvent];
  alert: [alert: GateAlert];
  /** A supervisor's message; a gate nobody listens to for these refuses message commands. */
  notice: [notice: GateNotice];
  /** A scan the intake passed on, decided (and the turnstile told). */
  outcome: [lane: number, outcome: ScanOutcome, text: string];
  /** A scan the debouncer took for a repeat of the previous one. */
  "scan-dropped": [lane: number, text: string];
  /** A scan that threw: a bug, or a cache that can no longer write. */
  "scan-failed": [lane: number, error: unknown];
}

export interface Gate extends EventEmitter<GateEvents> {
  readonly gateId: string;
  readonly entrance: Entrance;
  readonly store: GateStore;
  readonly backend: GateBackend;
  /** Absent for a gate without provisioning. */
  readonly sync: GateSync | undefined;
  /** The OSDP lanes, by lane number. */
  readonly lanes: ReadonlyMap<number, Lane>;
  /** The broker the sync client talks to (for diagnostics). */
  readonly brokerUrl: string | undefined;
  /** Scanners (OSDP readers and serial scanners) and whether each is heard. */
  readers(): ReaderStatus[];
  /** A code read at a lane by another path (a keyboard wedge): debounced and decided as any scan. */
  scanned(lane: number, text: string): void;
  /** Starts the sync client (connects, and keeps reconnecting). */
  start(): void;
  close(): Promise<void>;
}

async function downloadSnapshot(
  store: GateStore,
  baseUrl: string,
  provisioning: GateProvisioning,
  ports: GatePorts,
  now: number,
  log: (line: string) => void,
): Promise<void> {
  const response = await (ports.http ?? fetch)(new URL("/api/gate/bundle", baseUrl), {
    headers: { authorization: `Bearer ${provisioning.http.token}` },
    signal: AbortSignal.timeout(30_000),
  });
  if (!response.ok) throw new Error(`snapshot download: HTTP ${response.status}`);
  const signature = response.headers.get("sesame-bundle-signature");
  if (!signature) throw new Error("snapshot download: no signature header");
  const bytes = Buffer.from(await response.arrayBuffer());
  // The operations key signs snapshots: its certificate is checked against the pinned root key, and
  // the cache checks the signature again before anything is written.
  const signerKey = bundleSigner(
    bytes,
    signature,
    {
      rootKey: Buffer.from(provisioning.rootPublicKey, "hex"),
      certificate: provisioning.operationsCertificate,
      venueId: provisioning.venueId,
      now,
    },
    ports.verifier ?? createNodeVerifier(1024),
  );
  if (!signerKey)
    throw new Error("snapshot download: signed by neither the operations key nor the venue root key");
  new CacheSyncStore(store).applySnapshot({
    bundle: JSON.parse(bytes.toString("utf8")),
    bytes,
    signature,
    signerKey,
  });
  log(`imported the venue snapshot from ${baseUrl} (${bytes.length} bytes)`);
}

class AssembledGate extends EventEmitter<GateEvents> implements Gate {
  readonly lanes = new Map<number, Lane>();
  private readonly readerStatus = new Map<string, ReaderStatus & { online: boolean; detail?: string }>();
  private readonly debouncer = new ScanDebouncer();
  private readonly closers: Array<() => unknown> = [];
  backend!: GateBackend;
  sync: GateSync | undefined;
  entrance!: Entrance;

  constructor(
    private readonly setup: GateSetup,
    private readonly ports: GatePorts,
    readonly store: GateStore,
    private readonly clock: Clock & Pick<SyncClock, "immediate">,
    private readonly log: (line: string) => void,
  ) {
    super();
    this.closers.push(() => store.close());
  }

  get gateId(): string {
    return this.setup.gateId;
  }

  get brokerUrl(): string | undefined {
    return this.setup.brokerUrl ?? this.setup.provisioning?.mqtt.url;
  }

  readers(): ReaderStatus[] {
    return [...this.readerStatus.values()].map((r) => ({ ...r }));
  }

  async assemble(): Promise<void> {
    const { setup, store, log } = this;
    if (!store.imported) {
      const httpBase = setup.httpBaseUrl ?? setup.provisioning?.http.baseUrl;
      if (setup.venueDir) {
        const summary = store.importBundle(setup.venueDir);
        log(`imported the venue bundle from ${setup.venueDir}: ${JSON.stringify(summary)}`);
      } else if (setup.provisioning && httpBase) {
        await downloadSnapshot(store, httpBase, setup.provisioning, this.ports, this.clock.now(), log);
      } else {
        throw new Error("the cache is empty and there is neither a venueDir nor a sync-server to fill it");
      }
    }
    const entranceId =
      setup.provisioning?.entranceId ?? store.venue.gates.find((g) => g.id === setup.gateId)?.entrance;
    const entrance = store.venue.entrances.find((e) => e.id === entranceId);
    if (!entrance) throw new Error(`gate ${setup.gateId} is not at any entrance of ${store.venue.venueName}`);
    this.entrance = entrance;

    const bindings = setup.lanes.map((l) => this.openLane(l));
    this.backend = new GateBackend(
      {
        store,
        gateId: setup.gateId,
        entrance: entrance.id,
        lanes: bindings,
        now: () => this.clock.now(),
        ...(setup.passageWindowMs ? { passageWindowMs: setup.passageWindowMs } : {}),
      },
      {
        onLane: (view) => this.emit("lane", view),
        onRecorded: (event) => {
          this.sync?.notifyOutbox();
          this.emit("recorded", event);
          this.emit("lane");
        },
        onAlert: (alert) => this.alert(alert),
        onWarning: log,
      },
    );
    const backend = this.backend;
    this.closers.push(() => backend.close());
    for (const l of setup.lanes) if (l.scanner) await this.openScanner(l.lane, l.scanner);
    for (const [laneNumber, lane] of this.lanes) {
      lane.on("scan", (event) => this.scanned(laneNumber, normalizeScanBytes(event.data).text));
    }
    if (setup.provisioning) this.openSync(setup.provisioning);
  }

  private openLane(l: GateLaneSetup): LaneBinding {
    const osdp = l.osdp;
    if (!osdp) return { lane: l.lane, direction: l.direction };
    const link = (this.ports.transports ?? osdpTransport)(l);
    const scbk = osdp.scbk ? { scbk: osdp.scbk } : {};
    const controlPanel = new ControlPanel({
      connect: link.connect,
      ...((link.clock ?? this.ports.clock) ? { clock: link.clock ?? this.ports.clock } : {}),
      ...(link.pollIntervalMs ? { pollIntervalMs: link.pollIntervalMs } : {}),
      ...(link.random ? { random: link.random } : {}),
    });
    const controller = new Lane(
      controlPanel,
      {
        controller: { address: osdp.controllerAddress, ...scbk },
        readers: osdp.readerAddress === null ? [] : [{ address: osdp.readerAddress, ...scbk }],
        ...(this.ports.clock ? { clock: this.ports.clock } : {}),
      },
      true,
    );
    controlPanel.start();
    this.lanes.set(l.lane, controller);
    this.closers.push(() => controller.close());
    if (osdp.readerAddress !== null) {
      const key = `${l.lane}:osdp:${osdp.readerAddress}`;
      this.readerStatus.set(key, {
        lane: l.lane,
        kind: "osdp",
        path: `${osdp.where} #${osdp.readerAddress}`,
        online: false,
      });
      controller.on("reader-online", (address) => this.setReader(`${l.lane}:osdp:${address}`, true, "lane"));
      controller.on("reader-offline", (address, reason) => {
        this.setReader(`${l.lane}:osdp:${address}`, false, "lane", reason);
        if (reason.startsWith(SECURE_CHANNEL_FAILED)) {
          this.alert({ kind: "reader-offline", lane: l.lane, at: this.clock.now(), detail: reason });
        }
      });
    }
    controller.on("warning", (message) => this.log(`lane ${l.lane}: ${message}`));
    return { lane: l.lane, direction: l.direction, controller };
  }

  /** Lane controllers and OSDP readers offline, with their reasons, for the dashboard. */
  private offlinePeripherals(): OfflinePeripheral[] {
    const offline: OfflinePeripheral[] = [];
    for (const [lane, controller] of this.lanes) {
      if (!controller.online) {
        offline.push({
          lane,
          peripheral: "controller",
          reason: controller.offlineReason ?? "not online yet",
        });
      }
    }
    for (const r of this.readerStatus.values()) {
      if (r.kind === "osdp" && !r.online) {
        offline.push({ lane: r.lane, peripheral: "reader", reason: r.detail ?? "not online yet" });
      }
    }
    // The heartbeat carries at most 200 characters of a reason (a longer one would void it).
    return offline.map((p) => ({
      ...p,
      reason: p.reason.slice(0, 200),
      ...(p.reason.startsWith(SECURE_CHANNEL_FAILED) ? { secureChannelFailed: true as const } : {}),
    }));
  }

  private alert(alert: GateAlert): void {
    this.log(`ALERT ${JSON.stringify(alert)}`);
    this.emit("alert", alert);
  }

  private setReader(key: string, online: boolean, changed: "lane" | "diagnostics", detail?: string): void {
    const r = this.readerStatus.get(key);
    if (!r) return;
    r.online = online;
    if (detail) r.detail = detail;
    else delete r.detail;
    if (changed === "lane") this.emit("lane");
    else this.emit("diagnostics");
  }

  private async openScanner(lane: number, scanner: NonNullable<GateLaneSetup["scanner"]>): Promise<void> {
    const key = `${lane}:serial:${scanner.path}`;
    this.readerStatus.set(key, { lane, kind: "serial", path: scanner.path, online: false });
    const reader = new SerialScannerReader({
      path: scanner.path,
      lane: String(lane),
      baudRate: scanner.baudRate,
      framing: { suffix: scanner.suffix },
      ...(this.ports.serialOpener ? { open: this.ports.serialOpener } : {}),
      onScan: (event) => this.scanned(lane, event.text),
      onProblem: (problem) => {
        this.log(`scanner ${scanner.path}: ${problem.message}`);
        if (problem.code !== "disconnected" && problem.code !== "reconnected")
          this.setReader(key, true, "diagnostics", problem.message);
      },
      onConnectionChange: (connected) => this.setReader(key, connected, "diagnostics"),
    });
    await reader.start();
    this.closers.push(() => reader.stop());
  }

  // Every scanner of a lane feeds one debouncer: one code held in front of a reader (or seen by
  // two scanners) is one scan.
  scanned(lane: number, text: string): void {
    if (!this.debouncer.check(String(lane), text, this.clock.now()).accepted) {
      this.emit("scan-dropped", lane, text);
      return;
    }
    this.backend.scan(lane, text).then(
      (outcome) => this.emit("outcome", lane, outcome, text),
      (error: unknown) => {
        this.log(`scan at lane ${lane}: ${error instanceof Error ? error.message : String(error)}`);
        this.emit("scan-failed", lane, error);
      },
    );
  }

  private openSync(provisioning: GateProvisioning): void {
    const { setup, ports } = this;
    if (!setup.signingSeed)
      throw new Error(`gate ${setup.gateId} is provisioned but has no signing key (signingSeed)`);
    const sync = new GateSync({
      provisioning,
      signingSeed: setup.signingSeed,
      store: new CacheSyncStore(this.store),
      ...(setup.brokerUrl ? { brokerUrl: setup.brokerUrl } : {}),
      ...(setup.httpBaseUrl ? { httpBaseUrl: setup.httpBaseUrl } : {}),
      onCommand: (command) => this.onCommand(command),
      log: (entry) => {
        if (entry.level !== "info") this.log(`sync ${entry.level} ${entry.code}: ${entry.detail}`);
      },
      clock: this.clock,
      ...(ports.mqtt ? { mqtt: ports.mqtt } : {}),
      ...(ports.http ? { http: ports.http } : {}),
      ...(ports.random ? { random: ports.random } : {}),
      ...(ports.verifier ? { verifier: ports.verifier } : {}),
      ...(setup.syncTuning ? { tuning: setup.syncTuning } : {}),
      ...(setup.software ? { software: setup.software } : {}),
      // The backend notifies the sync client of every event it records.
      outboxNotified: true,
      offlinePeripherals: () => this.offlinePeripherals(),
    });
    this.sync = sync;
    sync.on("remote-entry", () => this.emit("lane"));
    for (const name of ["connected", "disconnected", "feed-applied", "ack"] as const)
      sync.on(name, () => this.emit("diagnostics"));
    this.closers.push(() => sync.stop());
  }

  private async setModes(mode: LaneMode, lane?: number): Promise<number> {
    let changed = 0;
    for (const view of this.backend.laneViews()) {
      if (lane !== undefined && view.lane !== lane) continue;
      await this.backend.setMode(view.lane, mode);
      changed++;
    }
    return changed;
  }

  private async onCommand(command: Command): Promise<CommandResult> {
    if (command.lane !== undefined && !this.backend.laneViews().some((v) => v.lane === command.lane)) {
      return { status: "refused", detail: `gate ${this.gateId} has no lane ${command.lane}` };
    }
    switch (command.type) {
      case "free-passage":
        // Emergency: every entry lane held open; exit lanes too (people must get out).
        return { status: "done", detail: `${await this.setModes("free-passage", command.lane)} lanes free` };
      case "end-free-passage":
        return {
          status: "done",
          detail: `${await this.setModes("normal", command.lane)} lanes back to normal`,
        };
      case "lock-lane":
        return { status: "done", detail: `${await this.setModes("locked", command.lane)} lanes locked` };
      case "unlock-lane":
        return { status: "done", detail: `${await this.setModes("normal", command.lane)} lanes unlocked` };
      case "message": {
        const text = command.text?.trim() ?? "";
        // The protocol requires a text; an empty one is refused, and the supervisor sees why.
        if (text === "") return { status: "refused", detail: "a message needs a text" };
        if (this.listenerCount("notice") === 0)
          return { status: "refused", detail: "this gate has no steward screen to show a message on" };
        this.emit("notice", { text, by: command.by, at: command.issuedAt });
        return { status: "done" };
      }
    }
  }

  start(): void {
    this.sync?.start();
  }

  async close(): Promise<void> {
    for (const close of this.closers.splice(0).reverse()) {
      try {
        await close();
      } catch (error) {
        this.log(`while stopping: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}

/**
 * Opens the gate's cache (seeding an empty one), its lanes and scanners, its backend (which
 * recovers what a crash left open) and its sync client. The sync client connects on `start()`.
 */
export async function createGate(setup: GateSetup, ports: GatePorts = {}): Promise<Gate> {
  const log = ports.log ?? ((line: string) => console.log(`[${setup.gateId}] ${line}`));
  if (setup.provisioning && setup.provisioning.gateId !== setup.gateId) {
    throw new Error(
      `the provisioning is for gate ${setup.provisioning.gateId}, this configuration is gate ${setup.gateId}`,
    );
  }
  if (setup.provisioning && !setup.signingSeed)
    throw new Error(`gate ${setup.gateId} is provisioned but has no signing key (signingSeed)`);
  const store = GateStore.open(setup.cacheFile, {
    rootPublicKey: setup.rootPublicKey,
    gateId: setup.gateId,
    onBackgroundError: (what, error) => log(`gate cache: ${what}: ${error.message}`),
  });
  const gate = new AssembledGate(setup, ports, store, ports.clock ?? systemSyncClock, log);
  try {
    await gate.assemble();
    return gate;
  } catch (error) {
    await gate.close();
    throw error;
  }
}
