import type { Clock } from "@sesame/bridge";
import { SimBus } from "../osdp/bus.js";
import { type BusEndpoint, listenTcp, openPtyEndpoint } from "../osdp/endpoints.js";
import { LaneController, type LaneControllerOptions } from "./laneController.js";
import { SimReader } from "./reader.js";

export type SimEndpoint = { readonly tcp: { host?: string; port?: number } } | { readonly pty: string };

export interface SimLaneOptions {
  readonly endpoint: SimEndpoint;
  /** Lane controller address (default 0). */
  readonly address?: number;
  /** Reader address (default address + 1); false for a lane without an OSDP reader. */
  readonly readerAddress?: number | false;
  /** SCBK for both PDs; without one they run in clear text (and accept SCBK-D in install mode). */
  readonly scbk?: Uint8Array;
  /** Accept an SCBK-D handshake (install mode); default: only while no SCBK is given. */
  readonly installMode?: boolean;
  /** Both PDs seal status replies under SCS_15, as libosdp 3.x PDs do. */
  readonly libosdpStatusBlock?: boolean;
  readonly baudRate?: number;
  /** Pace bytes at the baud rate (default true). */
  readonly paced?: boolean;
  readonly turnaroundMs?: number;
  readonly turnstile?: LaneControllerOptions["turnstile"];
  readonly clock?: Clock;
}

export interface SimLane {
  /** What a control panel opens. */
  readonly where: string;
  readonly bus: SimBus;
  readonly controller: LaneController;
  readonly reader: SimReader | undefined;
  close(): Promise<void>;
}

export function openEndpoint(bus: SimBus, endpoint: SimEndpoint, baudRate?: number): Promise<BusEndpoint> {
  return "tcp" in endpoint
    ? listenTcp(bus, endpoint.tcp.host, endpoint.tcp.port)
    : openPtyEndpoint(bus, endpoint.pty, { baudRate });
}

/** Starts a simulated lane (controller + QR reader on one bus) reachable over TCP or a PTY. */
export async function startSimLane(options: SimLaneOptions): Promise<SimLane> {
  const address = options.address ?? 0;
  const readerAddress = options.readerAddress ?? address + 1;
  const bus = new SimBus({
    baudRate: options.baudRate,
    paced: options.paced,
    turnaroundMs: options.turnaroundMs,
    clock: options.clock,
  });
  const controller = new LaneController({
    address,
    scbk: options.scbk,
    installMode: options.installMode,
    libosdpStatusBlock: options.libosdpStatusBlock,
    turnstile: options.turnstile,
    clock: options.clock,
  });
  bus.add(controller.device);
  let reader: SimReader | undefined;
  if (readerAddress !== false) {
    reader = new SimReader({
      address: readerAddress,
      scbk: options.scbk,
      installMode: options.installMode,
      libosdpStatusBlock: options.libosdpStatusBlock,
    });
    bus.add(reader.device);
  }
  const endpoint = await openEndpoint(bus, options.endpoint, options.baudRate);
  return {
    where: endpoint.where,
    bus,
    controller,
    reader,
    async close() {
      controller.close();
      await endpoint.close();
    },
  };
}
