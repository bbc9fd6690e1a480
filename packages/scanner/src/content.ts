import { classifyForeign } from "@sesame/ticket/foreign";
import type { MalformedReason, ScanContent, StewardMessage, Symbology } from "./scan.js";

/** RFC 9285 Base45 alphabet, which is also the QR alphanumeric-mode alphabet. */
export const BASE45_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
const BASE45 = /^[0-9A-Z $%*+\-./:]*$/;

/** The credential prefix: `SE` + format version + `:`. */
const SESAME_PREFIX = /^SE(\d{1,3}):/;
export const SUPPORTED_SESAME_VERSIONS: ReadonlySet<number> = new Set([1]);

/** A printed confirmation is ~190 characters, a phone credential ~320; far past both is not ours. */
export const MAX_SESAME_TEXT_LENGTH = 1024;
/** Shorter than a signature alone (64 bytes → 96 Base45 characters) cannot be a credential. */
export const MIN_SESAME_BODY_LENGTH = 96;

const NOT_A_TICKET: StewardMessage = {
  en: "This code is not a Sésame ticket.",
  fr: "Ce code n'est pas un billet Sésame.",
};

function malformed(reason: MalformedReason, en: string, fr: string): ScanContent {
  return { kind: "malformed", reason, message: { en, fr } };
}

/**
 * Says what a normalized text is, on its shape alone: a Sésame code to verify, a malformed one,
 * or a well-known foreign code. Pure; never throws.
 */
export function classifyContent(text: string, symbology?: Symbology): ScanContent {
  if (text.length === 0) {
    return {
      kind: "empty",
      message: { en: "Empty scan: scan the code again.", fr: "Lecture vide : scannez à nouveau." },
    };
  }
  const prefix = SESAME_PREFIX.exec(text);
  if (prefix) return classifySesame(text, Number(prefix[1]), prefix[0].length);
  if (SESAME_PREFIX.test(text.toUpperCase()) && BASE45.test(text.toUpperCase())) {
    return malformed(
      "bad-alphabet",
      "Ticket code arrived in lower case: check Caps Lock or the scanner's keyboard setting.",
      "Code reçu en minuscules : vérifiez le verrouillage majuscules ou le clavier du scanner.",
    );
  }
  const foreign = classifyForeign(text);
  if (foreign) {
    const { en, fr } = foreign.description;
    return {
      kind: "foreign",
      foreign: foreign.kind,
      message: { en: `Not a ticket: ${en}.`, fr: `Pas un billet : ${fr}.` },
    };
  }
  if (symbology !== undefined && !symbology.isQr) {
    return malformed(
      "not-a-qr-code",
      `Not a ticket: a ${symbology.name} barcode, Sésame tickets are QR codes.`,
      `Pas un billet : un code-barres ${symbology.name}, les billets Sésame sont des QR codes.`,
    );
  }
  if (text.includes("\ufffd")) {
    return malformed(
      "binary",
      "Not a ticket: the code holds binary data.",
      "Pas un billet : données binaires.",
    );
  }
  return { kind: "unknown", message: NOT_A_TICKET };
}

function classifySesame(text: string, version: number, prefixLength: number): ScanContent {
  if (!SUPPORTED_SESAME_VERSIONS.has(version)) {
    return malformed(
      "unsupported-version",
      `Sésame ticket format ${version} is not supported by this gate: update the gate software.`,
      `Format de billet Sésame ${version} non pris en charge : mettez à jour le logiciel de la porte.`,
    );
  }
  if (text.length > MAX_SESAME_TEXT_LENGTH) {
    return malformed("too-long", "Damaged ticket code (too long).", "Code de billet abîmé (trop long).");
  }
  const body = text.slice(prefixLength);
  const bad = /[^0-9A-Z $%*+\-./:]/.exec(body);
  if (bad) {
    const hint = /[a-z]/.test(bad[0]) ? " (lower-case letters: check Caps Lock)" : "";
    return malformed(
      "bad-alphabet",
      `Damaged ticket code: character ${JSON.stringify(bad[0])} at position ${prefixLength + bad.index}${hint}.`,
      `Code de billet abîmé : caractère ${JSON.stringify(bad[0])} en position ${prefixLength + bad.index}.`,
    );
  }
  // Base45 never has 3n+1 characters; a short body lost characters on the way.
  if (body.length < MIN_SESAME_BODY_LENGTH || body.length % 3 === 1) {
    return malformed(
      "truncated",
      "Incomplete ticket code: scan it again.",
      "Code de billet incomplet : scannez à nouveau.",
    );
  }
  return { kind: "sesame", version };
}

export function isBase45(text: string): boolean {
  return BASE45.test(text);
}
