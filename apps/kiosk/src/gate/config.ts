import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import type { Direction } from "@sesame/gate-core";
import type { Steward } from "../backend/http.js";

/*
 * A gate's configuration file (docs/kiosk-gate.md): which lanes it drives and where their lane
 * controllers are, where its cache lives, how it reaches the sync-server, who its stewards are.
 * Checked field by field: a typo in a venue tech's file must say which field, not crash later.
 */

export interface LaneConfig {
  readonly lane: number;
  readonly direction: Direction;
  /** Where the lane's OSDP bus is: "/dev/ttyUSB0", "/dev/pts/4" or "tcp://host:port". */
  readonly controller?: string;
  /** OSDP address of the lane controller (default 0) and of its QR reader (default 1; null: none). */
  readonly controllerAddress: number;
  readonly readerAddress: number | null;
  /** Hex Secure Channel base key shared with the lane's PDs; absent: clear text (bench and simulator). */
  readonly scbk?: string;
  readonly baudRate?: number;
  /** A serial or USB-CDC scanner on this lane (in addition to, or instead of, the OSDP reader). */
  readonly scanner?: {
    readonly path: string;
    readonly baudRate: number;
    readonly suffix: "CR" | "LF" | "CRLF" | "none";
  };
}

export interface GateConfig {
  readonly gateId: string;
  /** The cache (SQLite) and logs. */
  readonly dataDir: string;
  /** A venue directory whose signed bundle seeds an empty cache (`sesame venue demo` output). */
  readonly venueDir?: string;
  /** The provisioning file the sync-server handed out; absent: the gate runs alone. */
  readonly provisioning?: string;
  readonly brokerUrl?: string;
  readonly httpBaseUrl?: string;
  readonly rootPublicKey?: string;
  readonly lanes: readonly LaneConfig[];
  readonly http: { readonly host: string; readonly port: number };
  readonly stewards: readonly Steward[];
  readonly passageWindowMs?: number;
  /** The lane keyboard-wedge scans typed into the kiosk window go to (default: the first). */
  readonly wedgeLane?: number;
  /** The built steward UI; default: apps/kiosk/dist/ui. */
  readonly uiDir?: string;
}

export class GateConfigError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = "GateConfigError";
  }
}

type Json = Record<string, unknown>;

function object(value: unknown, field: string): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new GateConfigError(field, "must be an object");
  return value as Json;
}

function text(value: unknown, field: string, pattern?: RegExp): string {
  if (typeof value !== "string" || value === "")
    throw new GateConfigError(field, "must be a non-empty string");
  if (pattern && !pattern.test(value)) throw new GateConfigError(field, `must match ${pattern}`);
  return value;
}

function optionalText(value: unknown, field: string, pattern?: RegExp): string | undefined {
  return value === undefined ? undefined : text(value, field, pattern);
}

function integer(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
    throw new GateConfigError(field, `must be a whole number from ${min} to ${max}`);
  return value;
}

const GATE_ID = /^[A-Za-z0-9_-]{1,32}$/;
const HEX_16 = /^[0-9a-fA-F]{32}$/;
const HEX_32 = /^[0-9a-fA-F]{64}$/;

/** Validates a parsed configuration; relative paths are taken from `baseDir` (the file's folder). */
export function parseGateConfig(value: unknown, baseDir: string): GateConfig {
  const o = object(value, "config");
  const path = (v: unknown, field: string) => {
    const p = optionalText(v, field);
    return p === undefined ? undefined : isAbsolute(p) ? p : resolve(baseDir, p);
  };
  const lanesValue = o.lanes;
  if (!Array.isArray(lanesValue) || lanesValue.length === 0 || lanesValue.length > 16)
    throw new GateConfigError("lanes", "must list 1 to 16 lanes");
  const lanes = lanesValue.map((l, i): LaneConfig => {
    const f = `lanes[${i}]`;
    const lane = object(l, f);
    const direction = lane.direction ?? "entry";
    if (direction !== "entry" && direction !== "exit")
      throw new GateConfigError(`${f}.direction`, 'must be "entry" or "exit"');
    const readerAddress =
      lane.readerAddress === null ? null : integer(lane.readerAddress ?? 1, `${f}.readerAddress`, 0, 126);
    const scbk = optionalText(lane.scbk, `${f}.scbk`, HEX_16);
    const controller = optionalText(lane.controller, `${f}.controller`);
    let scanner: LaneConfig["scanner"];
    if (lane.scanner !== undefined) {
      const sc = object(lane.scanner, `${f}.scanner`);
      const suffix = sc.suffix ?? "CR";
      if (suffix !== "CR" && suffix !== "LF" && suffix !== "CRLF" && suffix !== "none")
        throw new GateConfigError(`${f}.scanner.suffix`, 'must be "CR", "LF", "CRLF" or "none"');
      scanner = {
        path: text(sc.path, `${f}.scanner.path`),
        baudRate: integer(sc.baudRate ?? 9600, `${f}.scanner.baudRate`, 1200, 921_600),
        suffix,
      };
    }
    return {
      lane: integer(lane.lane, `${f}.lane`, 1, 255),
      direction,
      ...(controller ? { controller } : {}),
      controllerAddress: integer(lane.controllerAddress ?? 0, `${f}.controllerAddress`, 0, 126),
      readerAddress,
      ...(scbk ? { scbk } : {}),
      ...(scanner ? { scanner } : {}),
      ...(lane.baudRate !== undefined
        ? { baudRate: integer(lane.baudRate, `${f}.baudRate`, 1200, 921_600) }
        : {}),
    };
  });
  const numbers = new Set(lanes.map((l) => l.lane));
  if (numbers.size !== lanes.length) throw new GateConfigError("lanes", "two lanes have the same number");
  const http = object(o.http ?? {}, "http");
  const stewardsValue = o.stewards ?? [];
  if (!Array.isArray(stewardsValue)) throw new GateConfigError("stewards", "must be a list");
  const stewards = stewardsValue.map((s, i): Steward => {
    const st = object(s, `stewards[${i}]`);
    return {
      id: text(st.id, `stewards[${i}].id`, /^[A-Za-z0-9_-]{1,32}$/),
      name: text(st.name, `stewards[${i}].name`),
      pin: text(st.pin, `stewards[${i}].pin`, /^\d{4,8}$/),
    };
  });
  if (new Set(stewards.map((s) => s.pin)).size !== stewards.length)
    throw new GateConfigError("stewards", "two stewards have the same PIN");
  const venueDir = path(o.venueDir, "venueDir");
  const provisioning = path(o.provisioning, "provisioning");
  const uiDir = path(o.uiDir, "uiDir");
  const brokerUrl = optionalText(o.brokerUrl, "brokerUrl");
  const httpBaseUrl = optionalText(o.httpBaseUrl, "httpBaseUrl");
  const rootPublicKey = optionalText(o.rootPublicKey, "rootPublicKey", HEX_32);
  if (!venueDir && !provisioning && !rootPublicKey)
    throw new GateConfigError("config", "needs a venueDir, a provisioning file or a rootPublicKey");
  const wedgeLane = o.wedgeLane === undefined ? undefined : integer(o.wedgeLane, "wedgeLane", 1, 255);
  if (wedgeLane !== undefined && !numbers.has(wedgeLane))
    throw new GateConfigError("wedgeLane", `lane ${wedgeLane} is not one of this gate's lanes`);
  return {
    gateId: text(o.gateId, "gateId", GATE_ID),
    ...(wedgeLane !== undefined ? { wedgeLane } : {}),
    dataDir: path(o.dataDir, "dataDir") ?? resolve(baseDir, "data"),
    ...(venueDir ? { venueDir } : {}),
    ...(provisioning ? { provisioning } : {}),
    ...(brokerUrl ? { brokerUrl } : {}),
    ...(httpBaseUrl ? { httpBaseUrl } : {}),
    ...(rootPublicKey ? { rootPublicKey } : {}),
    ...(uiDir ? { uiDir } : {}),
    lanes,
    http: {
      host: optionalText(http.host, "http.host") ?? "127.0.0.1",
      port: integer(http.port ?? 0, "http.port", 0, 65_535),
    },
    stewards,
    ...(o.passageWindowMs !== undefined
      ? { passageWindowMs: integer(o.passageWindowMs, "passageWindowMs", 1000, 60_000) }
      : {}),
  };
}

export function readGateConfig(file: string): GateConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new GateConfigError(file, `cannot read the gate configuration: ${(error as Error).message}`);
  }
  return parseGateConfig(parsed, dirname(resolve(file)));
}
