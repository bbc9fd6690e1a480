import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ControlPanel, Lane, type TransportFactory, transportFactory } from "@sesame/bridge";
import { GateStore } from "@sesame/cache";
import type { Direction, LaneMode } from "@sesame/gate-core";
import {
  normalizeScanBytes,
  ScanDebouncer,
  type SerialLinkOpener,
  SerialScannerReader,
} from "@sesame/scanner";
import {
  CacheSyncStore,
  type Command,
  type CommandResult,
  GateSync,
  type GateSyncTuning,
  parseProvisioning,
} from "@sesame/sync";
import { readVenue } from "@sesame/venue";
import { type GateAlert, GateBackend, type LaneBinding } from "../backend/gate-backend.js";
import { KioskHttp } from "../backend/http.js";
import type { GateConfig } from "./config.js";

/*
 * One gate, fully assembled (docs/design.md §6): the cache, the lane controllers and their QR readers
 * over OSDP, the admission backend, the steward UI's HTTP server and the venue sync. The kiosk
 * process (gate-main.ts), the Electron shell and `sesame up` all start gates through this.
 */

export const DEFAULT_UI_DIR = fileURLToPath(new URL("../../dist/ui", import.meta.url));

export interface GateNodeOptions {
  readonly now?: () => number;
  readonly log?: (line: string) => void;
  readonly syncTuning?: Partial<GateSyncTuning>;
  /** Measurement hooks for the benchmarks: wrap a lane's OSDP transport, open serial scanners. */
  readonly instrument?: {
    readonly transport?: (lane: number, factory: TransportFactory) => TransportFactory;
    readonly serialOpener?: SerialLinkOpener;
  };
}

export interface GateNode {
  readonly gateId: string;
  readonly url: string;
  readonly store: GateStore;
  readonly backend: GateBackend;
  readonly http: KioskHttp;
  readonly sync: GateSync | undefined;
  readonly lanes: ReadonlyMap<number, Lane>;
  close(): Promise<void>;
}

interface ReaderStatus {
  lane: number;
  kind: "osdp" | "serial";
  path: string;
  online: boolean;
  detail?: string;
}

function rootKeyOf(config: GateConfig, provisioningRoot: string | undefined): Uint8Array {
  const hex =
    provisioningRoot ??
    config.rootPublicKey ??
    (config.venueDir ? readVenue(config.venueDir).rootPublicKey : undefined);
  if (!hex) throw new Error("no venue root key: give a provisioning file, a venueDir or a rootPublicKey");
  return Uint8Array.from(Buffer.from(hex, "hex"));
}

async function downloadSnapshot(
  store: GateStore,
  baseUrl: string,
  token: string,
  log: (line: string) => void,
): Promise<void> {
  const response = await fetch(`${baseUrl}/api/gate/bundle`, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(30_000),
  });
  if (!response.ok) throw new Error(`snapshot download: HTTP ${response.status}`);
  const signature = response.headers.get("sesame-bundle-signature");
  if (!signature) throw new Error("snapshot download: no signature header");
  const bytes = Buffer.from(await response.arrayBuffer());
  // The cache checks the signature against the pinned root key before anything is written.
  new CacheSyncStore(store).applySnapshot({ bundle: JSON.parse(bytes.toString("utf8")), bytes, signature });
  log(`imported the venue snapshot from ${baseUrl} (${bytes.length} bytes)`);
}

export async function startGateNode(config: GateConfig, options: GateNodeOptions = {}): Promise<GateNode> {
  const now = options.now ?? Date.now;
  const log = options.log ?? ((line: string) => console.log(`[${config.gateId}] ${line}`));
  mkdirSync(config.dataDir, { recursive: true });
  const provisioning = config.provisioning
    ? parseProvisioning(JSON.parse(readFileSync(config.provisioning, "utf8")))
    : undefined;
  if (provisioning && provisioning.gateId !== config.gateId) {
    throw new Error(
      `the provisioning file is for gate ${provisioning.gateId}, this configuration is gate ${config.gateId}`,
    );
  }
  const store = GateStore.open(join(config.dataDir, "gate.sqlite"), {
    rootPublicKey: rootKeyOf(config, provisioning?.rootPublicKey),
    gateId: config.gateId,
  });
  const closers: Array<() => unknown> = [() => store.close()];
  const closeAll = async () => {
    for (const close of closers.reverse()) {
      try {
        await close();
      } catch (error) {
        log(`while stopping: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  };
  try {
    if (!store.imported) {
      const httpBase = config.httpBaseUrl ?? provisioning?.http.baseUrl;
      if (config.venueDir) {
        const summary = store.importBundle(config.venueDir);
        log(`imported the venue bundle from ${config.venueDir}: ${JSON.stringify(summary)}`);
      } else if (provisioning && httpBase) {
        await downloadSnapshot(store, httpBase, provisioning.http.token, log);
      } else {
        throw new Error("the cache is empty and there is neither a venueDir nor a sync-server to fill it");
      }
    }
    const entrance = store.venue.entrances.find(
      (e) =>
        e.id ===
        (provisioning?.entranceId ?? store.venue.gates.find((g) => g.id === config.gateId)?.entrance),
    );
    if (!entrance)
      throw new Error(`gate ${config.gateId} is not at any entrance of ${store.venue.venueName}`);

    const lanes = new Map<number, Lane>();
    const readers = new Map<string, ReaderStatus>();
    const bindings: LaneBinding[] = config.lanes.map((l) => {
      if (!l.controller) return { lane: l.lane, direction: l.direction };
      const scbk = l.scbk ? Uint8Array.from(Buffer.from(l.scbk, "hex")) : undefined;
      const connect = transportFactory(l.controller, l.baudRate ? { baudRate: l.baudRate } : {});
      const controlPanel = new ControlPanel({
        connect: options.instrument?.transport?.(l.lane, connect) ?? connect,
      });
      const controller = new Lane(
        controlPanel,
        {
          controller: { address: l.controllerAddress, ...(scbk ? { scbk } : {}) },
          readers: l.readerAddress === null ? [] : [{ address: l.readerAddress, ...(scbk ? { scbk } : {}) }],
        },
        true,
      );
      controlPanel.start();
      lanes.set(l.lane, controller);
      closers.push(() => controller.close());
      if (l.readerAddress !== null) {
        readers.set(`${l.lane}:osdp:${l.readerAddress}`, {
          lane: l.lane,
          kind: "osdp",
          path: `${l.controller} #${l.readerAddress}`,
          online: false,
        });
      }
      return { lane: l.lane, direction: l.direction, controller };
    });

    let http: KioskHttp | undefined;
    let sync: GateSync | undefined;
    const backend = new GateBackend(
      {
        store,
        gateId: config.gateId,
        entrance: entrance.id,
        lanes: bindings,
        now,
        ...(config.passageWindowMs ? { passageWindowMs: config.passageWindowMs } : {}),
      },
      {
        onLane: (view) => http?.laneChanged(view),
        onRecorded: () => {
          sync?.notifyOutbox();
          http?.laneChanged();
        },
        onAlert: (alert: GateAlert) => log(`ALERT ${JSON.stringify(alert)}`),
        onWarning: log,
      },
    );
    closers.push(() => backend.close());

    // Every scanner of a lane feeds one debouncer: one code held in front of a reader (or seen by
    // two scanners) is one scan.
    const debouncer = new ScanDebouncer();
    const scanned = (laneNumber: number, text: string) => {
      if (!debouncer.check(String(laneNumber), text, now()).accepted) return;
      backend.scan(laneNumber, text).catch((error: unknown) => {
        log(`scan at lane ${laneNumber}: ${error instanceof Error ? error.message : String(error)}`);
      });
    };
    const setStatus = (key: string, online: boolean, detail?: string) => {
      const r = readers.get(key);
      if (!r) return;
      r.online = online;
      if (detail) r.detail = detail;
      else delete r.detail;
      http?.diagnosticsChanged();
    };
    for (const l of config.lanes) {
      if (!l.scanner) continue;
      const key = `${l.lane}:serial:${l.scanner.path}`;
      readers.set(key, { lane: l.lane, kind: "serial", path: l.scanner.path, online: false });
      const reader = new SerialScannerReader({
        path: l.scanner.path,
        lane: String(l.lane),
        baudRate: l.scanner.baudRate,
        framing: { suffix: l.scanner.suffix },
        ...(options.instrument?.serialOpener ? { open: options.instrument.serialOpener } : {}),
        onScan: (event) => scanned(l.lane, event.text),
        onProblem: (problem) => {
          log(`scanner ${l.scanner?.path}: ${problem.message}`);
          if (problem.code !== "disconnected" && problem.code !== "reconnected")
            setStatus(key, true, problem.message);
        },
        onConnectionChange: (connected) => setStatus(key, connected),
      });
      await reader.start();
      closers.push(() => reader.stop());
    }
    for (const [laneNumber, lane] of lanes) {
      lane.on("scan", (event) => scanned(laneNumber, normalizeScanBytes(event.data).text));
      const setReader = (address: number, online: boolean, detail?: string) => {
        const r = readers.get(`${laneNumber}:osdp:${address}`);
        if (!r) return;
        r.online = online;
        if (detail) r.detail = detail;
        else delete r.detail;
        http?.laneChanged();
      };
      lane.on("reader-online", (address) => setReader(address, true));
      lane.on("reader-offline", (address, reason) => setReader(address, false, reason));
      lane.on("warning", (message) => log(`lane ${laneNumber}: ${message}`));
    }

    const setModes = async (mode: LaneMode, lane?: number, direction?: Direction): Promise<number> => {
      let changed = 0;
      for (const view of backend.laneViews()) {
        if (lane !== undefined && view.lane !== lane) continue;
        if (direction !== undefined && view.direction !== direction) continue;
        await backend.setMode(view.lane, mode);
        changed++;
      }
      return changed;
    };
    const onCommand = async (command: Command): Promise<CommandResult> => {
      if (command.lane !== undefined && !backend.laneViews().some((v) => v.lane === command.lane)) {
        return { status: "refused", detail: `gate ${config.gateId} has no lane ${command.lane}` };
      }
      switch (command.type) {
        case "free-passage":
          // Emergency: every entry lane held open; exit lanes too (people must get out).
          return { status: "done", detail: `${await setModes("free-passage", command.lane)} lanes free` };
        case "end-free-passage":
          return { status: "done", detail: `${await setModes("normal", command.lane)} lanes back to normal` };
        case "lock-lane":
          return { status: "done", detail: `${await setModes("locked", command.lane)} lanes locked` };
        case "unlock-lane":
          return { status: "done", detail: `${await setModes("normal", command.lane)} lanes unlocked` };
        case "message": {
          const text = command.text?.trim() ?? "";
          // The protocol requires a text; an empty one is refused, and the supervisor sees why.
          if (text === "" || !http) return { status: "refused", detail: "a message needs a text" };
          http.notice({ text, by: command.by, at: command.issuedAt });
          return { status: "done" };
        }
      }
    };

    if (provisioning) {
      sync = new GateSync({
        provisioning,
        store: new CacheSyncStore(store),
        ...(config.brokerUrl ? { brokerUrl: config.brokerUrl } : {}),
        ...(config.httpBaseUrl ? { httpBaseUrl: config.httpBaseUrl } : {}),
        onCommand,
        log: (entry) => {
          if (entry.level !== "info") log(`sync ${entry.level} ${entry.code}: ${entry.detail}`);
        },
        now,
        ...(options.syncTuning ? { tuning: options.syncTuning } : {}),
        software: "sesame-kiosk/0.1",
      });
      const s = sync;
      s.on("remote-entry", () => http?.laneChanged());
      s.on("connected", () => http?.diagnosticsChanged());
      s.on("disconnected", () => http?.diagnosticsChanged());
      s.on("feed-applied", () => http?.diagnosticsChanged());
      s.on("ack", () => http?.diagnosticsChanged());
      closers.push(() => s.stop());
    }

    const uiDir = config.uiDir ?? DEFAULT_UI_DIR;
    const brokerUrl = config.brokerUrl ?? provisioning?.mqtt.url;
    http = new KioskHttp({
      backend,
      store,
      log,
      gate: { id: config.gateId, entrance: { id: entrance.id, code: entrance.code, name: entrance.name } },
      stewards: config.stewards,
      now,
      ...(config.wedgeLane !== undefined ? { wedgeLane: config.wedgeLane } : {}),
      ...(existsSync(uiDir) ? { staticDir: uiDir } : {}),
      diagnostics: () => {
        const status = sync?.status();
        return {
          ...(status
            ? {
                sync: {
                  connected: status.connected,
                  brokerUrl: brokerUrl ?? "",
                  ...(status.lastServerContactAt !== undefined
                    ? { lastServerContactAt: status.lastServerContactAt }
                    : {}),
                  ...(status.clockOffsetMs !== undefined ? { clockOffsetMs: status.clockOffsetMs } : {}),
                  outboxDepth: status.outboxDepth,
                  feedSequence: status.feedSequence,
                  inFlightEvents: status.inFlightEvents,
                },
              }
            : {}),
          scanners: [...readers.values()].map((r) => ({
            lane: r.lane,
            kind: r.kind,
            path: r.path,
            status: r.online ? ("ok" as const) : ("offline" as const),
            ...(r.detail ? { detail: r.detail } : {}),
          })),
        };
      },
    });
    const kiosk = http;
    const url = await kiosk.listen(config.http.port, config.http.host);
    closers.push(() => kiosk.close());
    sync?.start();
    // The data-age line and the SSE clients need a tick even when nothing happens.
    const tick = setInterval(() => kiosk.diagnosticsChanged(), 5_000);
    closers.push(() => clearInterval(tick));
    return {
      gateId: config.gateId,
      url,
      store,
      backend,
      http: kiosk,
      sync,
      lanes,
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
