/** Where a code came from. `image` is a still file (decode-image); the others are live gate inputs. */
export type ScanSource = "serial" | "wedge" | "camera" | "osdp" | "image";

/** The symbology a scanner reported (AIM identifier) or the camera decoded. */
export interface Symbology {
  /** Human name: "QR Code", "Data Matrix", "Code 128"… or "AIM ]xy" when the code character is unknown. */
  readonly name: string;
  /** The AIM identifier as received, for example "]Q1"; undefined when the source gives none. */
  readonly aim: string | undefined;
  readonly isQr: boolean;
  /** AIM modifiers 2, 4 and 6 of QR announce the ECI transfer protocol (`\nnnnnn` escapes, `\\` doubled). */
  readonly eciProtocol: boolean;
}

/** Steward-facing text, in the two languages the gate speaks. */
export interface StewardMessage {
  readonly en: string;
  readonly fr: string;
}

/** What the scanned text is, judged on its shape only (signatures are @sesame/ticket's business). */
export type ScanContent =
  /** `SE1:` + Base45: a Sésame credential or printed confirmation, still to be verified. */
  | { readonly kind: "sesame"; readonly version: number }
  /** Starts like a Sésame code but cannot be one (bad alphabet, unknown version, truncated). */
  | { readonly kind: "malformed"; readonly reason: MalformedReason; readonly message: StewardMessage }
  /** A well-known code that is not a ticket: a web address, a payment, a health certificate… */
  | { readonly kind: "foreign"; readonly foreign: ForeignKind; readonly message: StewardMessage }
  /** Not empty, not recognised: still not a Sésame credential. */
  | { readonly kind: "unknown"; readonly message: StewardMessage }
  | { readonly kind: "empty"; readonly message: StewardMessage };

export type MalformedReason =
  | "bad-alphabet"
  | "unsupported-version"
  | "truncated"
  | "too-long"
  | "not-a-qr-code"
  | "binary";

import type { ForeignKind } from "@sesame/ticket/foreign";

export type { ForeignKind };

/** The one event every scanner path produces. */
export interface ScanEvent {
  readonly source: ScanSource;
  /** Which device: a serial path, "keyboard", a camera label, an OSDP reader address, a file name. */
  readonly device: string;
  /** The lane the device serves; debouncing is per lane. */
  readonly lane: string;
  /** The bytes as the device delivered them, framing (prefix/suffix) removed, before any normalization. */
  readonly raw: Uint8Array;
  /** The normalized text: symbology identifier, ECI escapes and control characters removed. */
  readonly text: string;
  readonly symbology: Symbology | undefined;
  readonly content: ScanContent;
  /** What normalization had to repair (stripped ECI header, control characters…), for diagnostics. */
  readonly notes: readonly string[];
  /** Milliseconds since the epoch on the gate's (injected) clock. */
  readonly at: number;
}

/** A problem on an input path that is not a scan: the steward or tech needs to hear about it. */
export interface ScanProblem {
  readonly source: ScanSource;
  readonly device: string;
  readonly lane: string;
  readonly code: ScanProblemCode;
  readonly message: string;
  readonly at: number;
}

export type ScanProblemCode =
  /** Bytes that are not part of any frame (before a prefix, a lone noise burst). */
  | "noise"
  /** A frame grew past the limit without its suffix: wrong suffix setting, or a stuck scanner. */
  | "frame-too-long"
  /** A partial frame went quiet before its suffix arrived. */
  | "incomplete-frame"
  /** The port closed, failed to open, or vanished (cable pulled). */
  | "disconnected"
  | "reconnected"
  /** A keyboard-wedge burst that could not be decoded (unknown keys). */
  | "undecodable-keys"
  /** A camera or image decode error other than "no code in view". */
  | "decode-failed";

/** The gate's clock, injected so that logic is testable without waiting. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();
