import type { Symbology } from "./scan.js";

// Code characters of ISO/IEC 15424 symbology identifiers (`]` + code + modifier) seen on ticket scanners.
const AIM_NAMES: Readonly<Record<string, string>> = {
  A: "Code 39",
  C: "Code 128",
  d: "Data Matrix",
  E: "EAN/UPC",
  e: "GS1 DataBar",
  F: "Codabar",
  G: "Code 93",
  I: "Interleaved 2 of 5",
  L: "PDF417",
  Q: "QR Code",
  U: "MaxiCode",
  X: "other symbology",
  z: "Aztec",
};

/** QR modifiers (Zebra/Honeywell tables): 2, 4 and 6 mean the ECI transfer protocol is in force. */
const QR_ECI_MODIFIERS = new Set(["2", "4", "6"]);

const AIM_PATTERN = /^\][A-Za-z][0-9A-Za-z]/;

/** Reads an AIM symbology identifier at the start of `text`, or returns undefined when there is none. */
export function readAimIdentifier(text: string): Symbology | undefined {
  if (!AIM_PATTERN.test(text)) return undefined;
  const aim = text.slice(0, 3);
  const code = aim.charAt(1);
  const modifier = aim.charAt(2);
  const isQr = code === "Q";
  return {
    name: AIM_NAMES[code] ?? `AIM ${aim}`,
    aim,
    isQr,
    eciProtocol: isQr && QR_ECI_MODIFIERS.has(modifier),
  };
}

/** The camera decodes QR codes only, with ECI already applied by the decoder. */
export const CAMERA_QR: Symbology = { name: "QR Code", aim: undefined, isQr: true, eciProtocol: false };
