import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Lane, TransportFactory } from "@sesame/bridge";
import type { GateStore } from "@sesame/cache";
import {
  createGate,
  type GateBackend,
  type GateLaneSetup,
  loadOrCreateGateKey,
  osdpTransport,
  provisioningRequestOf,
} from "@sesame/gate";
import type { SerialLinkOpener } from "@sesame/scanner";
import { type GateSync, type GateSyncTuning, parseProvisioning, systemSyncClock } from "@sesame/sync";
import { readVenue } from "@sesame/venue";
import { KioskHttp } from "../backend/http.js";
import type { GateConfig } from "./config.js";

/*
 * The kiosk's gate (docs/design.md §6): one gate assembled by @sesame/gate (cache, lanes, scan intake, backend, sync,
 * commands) from its configuration file, with the steward UI's HTTP server on top. The kiosk
 * process (gate-main.ts), the Electron shell and `sesame up` all start gates through this.
 */

export const DEFAULT_UI_DIR = fileURLToPath(new URL("../../dist/ui", import.meta.url));

export interface GateNodeOptions {
  /** The gate's wall clock (a drill skews it); its timers stay the system's. */
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

function rootKeyOf(config: GateConfig, provisioningRoot: string | undefined): Uint8Array {
  const hex =
    provisioningRoot ??
    config.rootPublicKey ??
    (config.venueDir ? readVenue(config.venueDir).rootPublicKey : undefined);
  if (!hex) throw new Error("no venue root key: give a provisioning file, a venueDir or a rootPublicKey");
  return Uint8Array.from(Buffer.from(hex, "hex"));
}

/** The configuration file's lanes, as the gate assembly takes them. */
function laneSetups(config: GateConfig): GateLaneSetup[] {
  return config.lanes.map((l) => ({
    lane: l.lane,
    direction: l.direction,
    ...(l.controller
      ? {
          osdp: {
            where: l.controller,
            controllerAddress: l.controllerAddress,
            readerAddress: l.readerAddress,
            ...(l.scbk ? { scbk: Uint8Array.from(Buffer.from(l.scbk, "hex")) } : {}),
            ...(l.baudRate ? { baudRate: l.baudRate } : {}),
          },
        }
      : {}),
    ...(l.scanner ? { scanner: l.scanner } : {}),
  }));
}

export async function startGateNode(config: GateConfig, options: GateNodeOptions = {}): Promise<GateNode> {
  const log = options.log ?? ((line: string) => console.log(`[${config.gateId}] ${line}`));
  mkdirSync(config.dataDir, { recursive: true });
  const provisioning = config.provisioning
    ? parseProvisioning(JSON.parse(readFileSync(config.provisioning, "utf8")))
    : undefined;
  // The gate's own key: made here at first start, it never leaves this data directory.
  const key = loadOrCreateGateKey(config.dataDir);
  const venueId = provisioning?.venueId ?? (config.venueDir ? readVenue(config.venueDir).id : undefined);
  if (!provisioning && venueId) {
    // What an admin sends to provision this gate (POST /api/gates/<id>/provision): no secret in it.
    const requestFile = join(config.dataDir, "provisioning-request.json");
    writeFileSync(
      requestFile,
      `${JSON.stringify({ venueId, gateId: config.gateId, ...provisioningRequestOf(venueId, config.gateId, key) }, null, 2)}\n`,
    );
    log(`not provisioned: this gate's key request is in ${requestFile}`);
  }
  const now = options.now;
  // A skewed wall clock (a drill's) keeps the system's timers.
  const clock = now ? { ...systemSyncClock, now } : undefined;
  const wrap = options.instrument?.transport;
  const gate = await createGate(
    {
      gateId: config.gateId,
      cacheFile: join(config.dataDir, "gate.sqlite"),
      rootPublicKey: rootKeyOf(config, provisioning?.rootPublicKey),
      ...(config.venueDir ? { venueDir: config.venueDir } : {}),
      ...(provisioning ? { provisioning, signingSeed: key.seed } : {}),
      ...(config.brokerUrl ? { brokerUrl: config.brokerUrl } : {}),
      ...(config.httpBaseUrl ? { httpBaseUrl: config.httpBaseUrl } : {}),
      lanes: laneSetups(config),
      ...(config.passageWindowMs ? { passageWindowMs: config.passageWindowMs } : {}),
      ...(options.syncTuning ? { syncTuning: options.syncTuning } : {}),
      software: "sesame-kiosk/0.1",
    },
    {
      ...(clock ? { clock } : {}),
      log,
      ...(wrap
        ? {
            transports: (lane) => {
              const link = osdpTransport(lane);
              return { ...link, connect: wrap(lane.lane, link.connect) };
            },
          }
        : {}),
      ...(options.instrument?.serialOpener ? { serialOpener: options.instrument.serialOpener } : {}),
    },
  );
  try {
    const { entrance, store, backend, sync } = gate;
    const uiDir = config.uiDir ?? DEFAULT_UI_DIR;
    const http = new KioskHttp({
      backend,
      store,
      log,
      gate: { id: config.gateId, entrance: { id: entrance.id, code: entrance.code, name: entrance.name } },
      stewards: config.stewards,
      now: now ?? Date.now,
      ...(config.wedgeLane !== undefined ? { wedgeLane: config.wedgeLane } : {}),
      ...(existsSync(uiDir) ? { staticDir: uiDir } : {}),
      diagnostics: () => {
        const status = sync?.status();
        return {
          ...(status
            ? {
                sync: {
                  connected: status.connected,
                  brokerUrl: gate.brokerUrl ?? "",
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
          scanners: gate.readers().map((r) => ({
            lane: r.lane,
            kind: r.kind,
            path: r.path,
            status: r.online ? ("ok" as const) : ("offline" as const),
            ...(r.detail ? { detail: r.detail } : {}),
          })),
        };
      },
    });
    gate.on("lane", (view) => http.laneChanged(view));
    gate.on("diagnostics", () => http.diagnosticsChanged());
    gate.on("notice", (notice) => http.notice(notice));
    const url = await http.listen(config.http.port, config.http.host);
    gate.start();
    // The data-age line and the SSE clients need a tick even when nothing happens.
    const tick = setInterval(() => http.diagnosticsChanged(), 5_000);
    return {
      gateId: config.gateId,
      url,
      store,
      backend,
      http,
      sync,
      lanes: gate.lanes,
      close: async () => {
        clearInterval(tick);
        try {
          await http.close();
        } catch (error) {
          log(`while stopping: ${error instanceof Error ? error.message : String(error)}`);
        }
        await gate.close();
      },
    };
  } catch (error) {
    await gate.close();
    throw error;
  }
}
