import type { Random } from "./random.js";

export type ScannerSuffix = "CR" | "LF" | "CRLF" | "none";

/** What a real scanner's menu lets a venue tech configure about its output. */
export interface ScannerOutputSettings {
  /** Bytes sent before each code (STX, a custom marker); empty by default. */
  readonly prefix: Uint8Array;
  readonly suffix: ScannerSuffix | Uint8Array;
  /** Send the AIM symbology identifier (`]Q1`, or `]Q2` when ECI is on). */
  readonly aimIdentifier: boolean;
  /**
   * Emit ECI escapes as scanners do for wallet-app codes: `\nnnnnn` before the data (26 = UTF-8),
   * with data backslashes doubled when the AIM identifier announces the ECI protocol.
   */
  readonly eci: number | undefined;
}

export const DEFAULT_SCANNER_OUTPUT: ScannerOutputSettings = {
  prefix: new Uint8Array(0),
  suffix: "CR",
  aimIdentifier: false,
  eci: undefined,
};

function suffixOf(suffix: ScannerSuffix | Uint8Array): Uint8Array {
  if (suffix instanceof Uint8Array) return suffix;
  return new TextEncoder().encode({ CR: "\r", LF: "\n", CRLF: "\r\n", none: "" }[suffix]);
}

/** The exact bytes a scanner sends for one decoded code: prefix, AIM id, ECI, data, suffix. */
export function encodeScannerOutput(text: string, settings: Partial<ScannerOutputSettings> = {}): Uint8Array {
  const s = { ...DEFAULT_SCANNER_OUTPUT, ...settings };
  let body = text;
  let aim = "";
  if (s.eci !== undefined) {
    const eciEscape = `\\${String(s.eci).padStart(6, "0")}`;
    if (s.aimIdentifier) {
      aim = "]Q2";
      body = eciEscape + text.replaceAll("\\", "\\\\");
    } else {
      // Without the ECI protocol the escape is just stuck in front (what wallet-app codes show).
      body = eciEscape + text;
    }
  } else if (s.aimIdentifier) {
    aim = "]Q1";
  }
  const data = new TextEncoder().encode(aim + body);
  const suffix = suffixOf(s.suffix);
  const out = new Uint8Array(s.prefix.length + data.length + suffix.length);
  out.set(s.prefix, 0);
  out.set(data, s.prefix.length);
  out.set(suffix, s.prefix.length + data.length);
  return out;
}

/** Random bytes, as a noisy line or a scanner waking up sends. */
export function noiseBytes(random: Random, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(random() * 256);
  return out;
}

/** Flips random bits with the given per-byte probability (a marginal RS-232 line). */
export function corruptBytes(bytes: Uint8Array, random: Random, perByteProbability: number): Uint8Array {
  const out = Uint8Array.from(bytes);
  for (let i = 0; i < out.length; i++) {
    if (random() < perByteProbability) out[i] = (out[i] ?? 0) ^ (1 << Math.floor(random() * 8));
  }
  return out;
}
