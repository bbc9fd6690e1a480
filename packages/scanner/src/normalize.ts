import { classifyContent } from "./content.js";
import type { ScanContent, ScanEvent, ScanSource, Symbology } from "./scan.js";
import { readAimIdentifier } from "./symbology.js";

/** ECI assignment numbers → WHATWG encoding labels (AIM ECI part 3 table). */
const ECI_ENCODINGS: ReadonlyMap<number, string> = new Map([
  [1, "iso-8859-1"],
  [3, "iso-8859-1"],
  [4, "iso-8859-2"],
  [5, "iso-8859-3"],
  [6, "iso-8859-4"],
  [7, "iso-8859-5"],
  [8, "iso-8859-6"],
  [9, "iso-8859-7"],
  [10, "iso-8859-8"],
  [11, "iso-8859-9"],
  [12, "iso-8859-10"],
  [13, "iso-8859-11"],
  [15, "iso-8859-13"],
  [16, "iso-8859-14"],
  [17, "iso-8859-15"],
  [18, "iso-8859-16"],
  [20, "shift_jis"],
  [21, "windows-1250"],
  [22, "windows-1251"],
  [23, "windows-1252"],
  [24, "windows-1256"],
  [25, "utf-16be"],
  [26, "utf-8"],
  [27, "us-ascii"],
  [28, "big5"],
  [29, "gb18030"],
  [30, "euc-kr"],
]);

const BACKSLASH = 0x5c;

/** Longest text we classify; a Sésame credential is ~320 characters, anything past this is not one. */
export const MAX_SCAN_TEXT_LENGTH = 4096;

export interface NormalizedText {
  readonly text: string;
  readonly symbology: Symbology | undefined;
  readonly notes: string[];
}

function isDigit(byte: number | undefined): boolean {
  return byte !== undefined && byte >= 0x30 && byte <= 0x39;
}

/** Decodes bytes as UTF-8 when they are UTF-8, else as ISO-8859-1 (what a QR byte segment means by default). */
function decodeUnknownCharset(bytes: Uint8Array, notes: string[]): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    notes.push("bytes are not UTF-8: read as ISO-8859-1");
    return new TextDecoder("iso-8859-1").decode(bytes);
  }
}

function decodeWithEci(bytes: Uint8Array, eci: number | undefined, notes: string[]): string {
  if (eci === undefined) return decodeUnknownCharset(bytes, notes);
  const label = ECI_ENCODINGS.get(eci);
  if (label === undefined) {
    notes.push(`ECI ${eci} is not supported: its data read as UTF-8 or ISO-8859-1`);
    return decodeUnknownCharset(bytes, notes);
  }
  return new TextDecoder(label).decode(bytes);
}

/**
 * Applies the AIM ECI transfer protocol: `\nnnnnn` switches the character set of what follows,
 * and a data backslash arrives doubled.
 */
function decodeEciProtocol(bytes: Uint8Array, notes: string[]): string {
  let text = "";
  let eci: number | undefined;
  let segment: number[] = [];
  const flush = () => {
    if (segment.length > 0) text += decodeWithEci(Uint8Array.from(segment), eci, notes);
    segment = [];
  };
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] ?? 0;
    if (byte !== BACKSLASH) {
      segment.push(byte);
      continue;
    }
    if (bytes[i + 1] === BACKSLASH) {
      segment.push(BACKSLASH);
      i++;
      continue;
    }
    const digits = bytes.subarray(i + 1, i + 7);
    if (digits.length === 6 && Array.from(digits).every((b) => isDigit(b))) {
      flush();
      eci = Number.parseInt(String.fromCharCode(...digits), 10);
      notes.push(`ECI ${String(eci).padStart(6, "0")} applied`);
      i += 6;
      continue;
    }
    notes.push(`lone backslash at byte ${i} kept as data`);
    segment.push(byte);
  }
  flush();
  return text;
}

// Some scanners prepend ECI escapes to QR codes from wallet apps even without announcing the ECI
// protocol (libpretixsync strips \000001, \000003, \000026, \000027 for that reason).
const LEADING_ECI = /^(?:\\\d{6})+/;

// C0 and C1 controls and DEL: suffixes, GS separators and line noise, never part of a ticket.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\ufeff]/g;

/**
 * Turns the bytes of one frame into the text the gate validates: reads and removes the AIM
 * identifier, applies ECI escapes, removes control characters. Pure; never throws.
 */
export function normalizeScanBytes(raw: Uint8Array, knownSymbology?: Symbology): NormalizedText {
  const notes: string[] = [];
  // AIM identifiers are ASCII, so reading the first three bytes as latin1 is exact.
  const head = String.fromCharCode(...raw.subarray(0, 3));
  const aim = readAimIdentifier(head);
  const symbology = aim ?? knownSymbology;
  const body = aim === undefined ? raw : raw.subarray(3);
  let text: string;
  if (aim?.eciProtocol) {
    text = decodeEciProtocol(body, notes);
  } else {
    text = decodeUnknownCharset(body, notes);
    const leading = LEADING_ECI.exec(text);
    if (leading) {
      notes.push(`leading ECI escape ${leading[0]} removed`);
      text = text.slice(leading[0].length);
    }
  }
  return { text: stripControlCharacters(text, notes), symbology, notes };
}

/** Same as normalizeScanBytes for sources that deliver characters (keyboard wedge, camera). */
export function normalizeScanText(text: string, knownSymbology?: Symbology): NormalizedText {
  return normalizeScanBytes(new TextEncoder().encode(text), knownSymbology);
}

function stripControlCharacters(text: string, notes: string[]): string {
  let count = 0;
  const clean = text.replace(CONTROL_CHARACTERS, () => {
    count++;
    return "";
  });
  if (count > 0) notes.push(`${count} control character${count === 1 ? "" : "s"} removed`);
  return clean;
}

export interface ScanOrigin {
  readonly source: ScanSource;
  readonly device: string;
  readonly lane: string;
}

/** Builds the normalized scan event from the bytes of one frame. */
export function makeScanEvent(
  origin: ScanOrigin,
  raw: Uint8Array,
  at: number,
  knownSymbology?: Symbology,
): ScanEvent {
  const { text, symbology, notes } = normalizeScanBytes(raw, knownSymbology);
  const content: ScanContent = classifyContent(text, symbology);
  return { ...origin, raw, text, symbology, content, notes, at };
}
