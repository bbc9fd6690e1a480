import { makeScanEvent } from "./normalize.js";
import type { ScanEvent, ScanProblem } from "./scan.js";

/**
 * An osdp_RAW reply (0x50) as the bridge parses it: reader number, format code, bit count, data.
 * QR readers report the code's bytes with format 0 ("raw, unspecified") and a bit count of 8 per byte.
 */
export interface OsdpRawReport {
  readonly address: number;
  readonly readerNumber: number;
  readonly format: number;
  readonly bitCount: number;
  readonly data: Uint8Array;
}

export const OSDP_RAW_FORMAT_UNSPECIFIED = 0x00;
export const OSDP_RAW_FORMAT_WIEGAND = 0x01;

/** Parses the data block of an osdp_RAW reply: reader, format, bit count (LSB first), bytes. */
export function parseOsdpRawPayload(address: number, payload: Uint8Array): OsdpRawReport | { error: string } {
  if (payload.length < 4)
    return { error: `osdp_RAW payload of ${payload.length} bytes is shorter than its 4-byte header` };
  const bitCount = (payload[2] ?? 0) | ((payload[3] ?? 0) << 8);
  const data = payload.subarray(4);
  if (Math.ceil(bitCount / 8) !== data.length) {
    return { error: `osdp_RAW says ${bitCount} bits but carries ${data.length} bytes` };
  }
  return { address, readerNumber: payload[0] ?? 0, format: payload[1] ?? 0, bitCount, data };
}

export type OsdpScanResult =
  | { readonly kind: "scan"; readonly event: ScanEvent }
  | { readonly kind: "problem"; readonly problem: ScanProblem };

/**
 * Turns an OSDP reader's RAW report into a scan event. A report that cannot be a QR code
 * (a Wiegand card number, a bit count that is not whole bytes) becomes a clear problem instead.
 */
export function scanFromOsdpRaw(report: OsdpRawReport, lane: string, at: number): OsdpScanResult {
  const device = `osdp:${report.address}/reader ${report.readerNumber}`;
  const problem = (message: string): OsdpScanResult => ({
    kind: "problem",
    problem: { source: "osdp", device, lane, code: "unsupported-report", message, at },
  });
  if (report.format === OSDP_RAW_FORMAT_WIEGAND) {
    return problem(
      `a card was presented (Wiegand, ${report.bitCount} bits): this lane admits QR tickets only`,
    );
  }
  if (report.format !== OSDP_RAW_FORMAT_UNSPECIFIED) {
    return problem(`osdp_RAW format 0x${report.format.toString(16).padStart(2, "0")} is not a scanned code`);
  }
  if (report.bitCount % 8 !== 0) {
    return problem(`${report.bitCount} bits is not a whole number of bytes: a card number, not a QR code`);
  }
  const data = report.data.subarray(0, report.bitCount / 8);
  return { kind: "scan", event: makeScanEvent({ source: "osdp", device, lane }, Uint8Array.from(data), at) };
}
