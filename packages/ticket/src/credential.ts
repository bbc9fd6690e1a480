import { createHash } from "node:crypto";
import { BASE45_ALPHABET, decodeBase45, encodeBase45 } from "./base45.js";
import { ByteReader, ByteWriter, Truncated } from "./bytes.js";
import { type Ed25519Signer, type Ed25519Verifier, publicKeyProblem } from "./ed25519.js";
import { classifyForeign, type ForeignKind } from "./foreign.js";

/* The byte layouts here are specified in docs/credential.md; change both together. */

export const FORMAT_VERSION = 1;
export const TEXT_PREFIX = "SE1:";
/** The device proof's time step: a code shown on a phone changes every 15 s. */
export const STEP_SECONDS = 15;
/** Longest text we even look at; a real credential is ≤ 320 characters. */
export const MAX_TEXT_LENGTH = 1024;
export const MAX_SESSIONS = 4;
export const MAX_SEAT_LENGTH = 10;

const TICKET_DOMAIN = new TextEncoder().encode("SESAME-TICKET-1");
const PROOF_DOMAIN = new TextEncoder().encode("SESAME-PROOF-1");

export type TicketKind = "mobile" | "printed";
const KIND_CODE: Record<TicketKind, number> = { mobile: 1, printed: 2 };

/** Category flags carried in the signed body (bit values). */
export const Category = {
  ACCESSIBILITY: 1 << 0,
  CHILD: 1 << 1,
  STAFF: 1 << 2,
  ID_CHECK: 1 << 3,
  COMPANION: 1 << 4,
  PRESS: 1 << 5,
  HOSPITALITY: 1 << 6,
} as const;
export type CategoryName = keyof typeof Category;

export function categoryNames(flags: number): CategoryName[] {
  return (Object.keys(Category) as CategoryName[]).filter((name) => (flags & Category[name]) !== 0);
}

/** The issuer-signed facts of one ticket generation. */
export interface TicketBody {
  readonly kind: TicketKind;
  /** Issuer key id in the venue trust list (u16). */
  readonly keyId: number;
  /** Ticket id (u32), stable across resales and transfers. */
  readonly ticketId: number;
  /** Bumped at every resale or transfer (u16); older generations are revoked. */
  readonly generation: number;
  /** Position in the ticket feed when this generation was issued (u32). */
  readonly issueSequence: number;
  /** Session ids (u16 each, 1 to 4). */
  readonly sessions: readonly number[];
  /** Entrance id (u16); 0 means any entrance. */
  readonly entrance: number;
  /** Zone id (u16): the stand or sector the ticket admits to. */
  readonly zone: number;
  /** Row and seat label, printable ASCII, at most 10 characters; empty for standing. */
  readonly seat: string;
  /** Category flags (see Category). */
  readonly categories: number;
  /** Validity window, Unix seconds, inclusive. */
  readonly validFrom: number;
  readonly validUntil: number;
  /** Holder's device public key (32 bytes); absent on printed confirmations. */
  readonly devicePublicKey?: Uint8Array;
}

export interface DeviceProof {
  /** Low 16 bits of the time step; the verifier rebuilds the full step from its clock. */
  readonly stepLow: number;
  readonly signature: Uint8Array;
}

export interface Credential {
  readonly body: TicketBody;
  /** The exact signed bytes of the body. */
  readonly bodyBytes: Uint8Array;
  readonly issuerSignature: Uint8Array;
  readonly proof?: DeviceProof;
}

// ---------------------------------------------------------------------------------------------
// Encoding

function checkBody(body: TicketBody): string | undefined {
  const u16 = (v: number) => Number.isInteger(v) && v >= 0 && v <= 0xffff;
  const u32 = (v: number) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
  if (!u16(body.keyId)) return "keyId must be a u16";
  if (!u32(body.ticketId)) return "ticketId must be a u32";
  if (!u16(body.generation)) return "generation must be a u16";
  if (!u32(body.issueSequence)) return "issueSequence must be a u32";
  if (body.sessions.length < 1 || body.sessions.length > MAX_SESSIONS) return `1 to ${MAX_SESSIONS} sessions`;
  if (!body.sessions.every(u16)) return "session ids must be u16";
  if (!u16(body.entrance) || !u16(body.zone) || !u16(body.categories))
    return "entrance, zone, categories are u16";
  if (!/^[\x20-\x7e]{0,10}$/.test(body.seat))
    return `seat must be ≤ ${MAX_SEAT_LENGTH} printable ASCII characters`;
  if (!u32(body.validFrom) || !u32(body.validUntil) || body.validFrom > body.validUntil)
    return "bad validity window";
  if (body.kind === "mobile") {
    if (body.devicePublicKey?.length !== 32) return "a mobile ticket needs a 32-byte device key";
    // A proof under such a key can be made without the phone's private key: never issue one.
    const problem = publicKeyProblem(body.devicePublicKey);
    if (problem) return `the device public key ${problem}`;
  }
  if (body.kind === "printed" && body.devicePublicKey !== undefined)
    return "a printed ticket has no device key";
  return undefined;
}

export function encodeTicketBody(body: TicketBody): Uint8Array {
  const problem = checkBody(body);
  if (problem) throw new RangeError(`cannot encode ticket ${body.ticketId}: ${problem}`);
  const w = new ByteWriter()
    .u8(FORMAT_VERSION)
    .u8(KIND_CODE[body.kind])
    .u16(body.keyId)
    .u32(body.ticketId)
    .u16(body.generation)
    .u32(body.issueSequence)
    .u32(body.validFrom)
    .u32(body.validUntil)
    .u16(body.categories)
    .u16(body.entrance)
    .u16(body.zone)
    .u8(body.sessions.length);
  for (const s of body.sessions) w.u16(s);
  w.u8(body.seat.length).ascii(body.seat);
  if (body.devicePublicKey) w.bytes(body.devicePublicKey);
  return w.finish();
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The issuer side: signs a ticket body with the issuer key's 32-byte seed. */
export function issueCredential(body: TicketBody, issuerSeed: Uint8Array, signer: Ed25519Signer): Credential {
  const bodyBytes = encodeTicketBody(body);
  const issuerSignature = signer.sign(concat(TICKET_DOMAIN, bodyBytes), issuerSeed);
  return { body, bodyBytes, issuerSignature };
}

/** First 32 bytes of SHA-512 over the signed body and its signature: what a device proof binds to. */
export function ticketDigest(bodyBytes: Uint8Array, issuerSignature: Uint8Array): Uint8Array {
  return new Uint8Array(
    createHash("sha512").update(bodyBytes).update(issuerSignature).digest().subarray(0, 32),
  );
}

export function timeStep(unixMs: number): number {
  return Math.floor(unixMs / 1000 / STEP_SECONDS);
}

function proofMessage(digest: Uint8Array, step: number): Uint8Array {
  const message = new Uint8Array(PROOF_DOMAIN.length + digest.length + 4);
  message.set(PROOF_DOMAIN, 0);
  message.set(digest, PROOF_DOMAIN.length);
  new DataView(message.buffer).setUint32(PROOF_DOMAIN.length + digest.length, step >>> 0);
  return message;
}

/** The holder's phone: proves possession of the device key for the time step of `nowMs`. */
export function proveDevice(
  credential: Credential,
  deviceSeed: Uint8Array,
  nowMs: number,
  signer: Ed25519Signer,
): Credential {
  if (credential.body.kind !== "mobile") throw new TypeError("printed confirmations carry no device proof");
  const step = timeStep(nowMs);
  const digest = ticketDigest(credential.bodyBytes, credential.issuerSignature);
  const signature = signer.sign(proofMessage(digest, step), deviceSeed);
  return { ...credential, proof: { stepLow: step & 0xffff, signature } };
}

/** The QR text: prefix + Base45 of body ‖ issuer signature [‖ step ‖ device signature]. */
export function encodeCredentialText(credential: Credential): string {
  const parts = [credential.bodyBytes, credential.issuerSignature];
  if (credential.proof)
    parts.push(new ByteWriter().u16(credential.proof.stepLow).finish(), credential.proof.signature);
  return TEXT_PREFIX + encodeBase45(concat(...parts));
}

// ---------------------------------------------------------------------------------------------
// Parsing: text → Credential, every failure a typed reason

export type FormatReason =
  | "EMPTY"
  | "TOO_LONG"
  | "WRONG_PREFIX"
  | "LOWER_CASE"
  | "UNSUPPORTED_VERSION"
  | "FOREIGN_CODE"
  | "NOT_ASCII"
  | "BAD_ENCODING"
  | "TRUNCATED"
  | "MALFORMED";

export type ParseResult =
  | { ok: true; credential: Credential }
  | { ok: false; reason: FormatReason; detail: string; foreign?: ForeignKind };

function describeChar(text: string, i: number): string {
  const code = text.codePointAt(i) ?? 0;
  return `U+${code.toString(16).toUpperCase().padStart(4, "0")} at position ${i}`;
}

function firstNonPrintable(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return i;
  }
  return -1;
}

export function parseCredentialText(text: string): ParseResult {
  if (typeof text !== "string" || text.length === 0)
    return { ok: false, reason: "EMPTY", detail: "no text was scanned" };
  if (text.length > MAX_TEXT_LENGTH) {
    return {
      ok: false,
      reason: "TOO_LONG",
      detail: `${text.length} characters; a credential has at most 320`,
    };
  }
  if (!text.startsWith(TEXT_PREFIX)) {
    const versioned = /^SE([0-9A-Z]):/.exec(text);
    if (versioned) {
      return {
        ok: false,
        reason: "UNSUPPORTED_VERSION",
        detail: `credential format ${versioned[1]} is not supported by this gate (it reads ${TEXT_PREFIX})`,
      };
    }
    const foreign = classifyForeign(text);
    if (foreign) {
      return {
        ok: false,
        reason: "FOREIGN_CODE",
        detail: `not a ticket: ${foreign.description}`,
        foreign: foreign.kind,
      };
    }
    const bad = firstNonPrintable(text);
    if (bad >= 0) {
      return {
        ok: false,
        reason: "NOT_ASCII",
        detail: `control or non-ASCII character ${describeChar(text, bad)}`,
      };
    }
    // A scanner set to change letter case turns every ticket into this: the fix is its setting.
    if (text.toUpperCase().startsWith(TEXT_PREFIX)) {
      return {
        ok: false,
        reason: "LOWER_CASE",
        detail: `starts with ${JSON.stringify(text.slice(0, TEXT_PREFIX.length))}, not ${TEXT_PREFIX}: the scanner changes letter case (check its keyboard settings)`,
      };
    }
    return { ok: false, reason: "WRONG_PREFIX", detail: `does not start with ${TEXT_PREFIX}` };
  }
  const payload = text.slice(TEXT_PREFIX.length);
  const bad = firstNonPrintable(payload);
  if (bad >= 0) {
    return {
      ok: false,
      reason: "NOT_ASCII",
      detail: `control or non-ASCII character ${describeChar(payload, bad).replace(/\d+$/, (n) => String(Number(n) + TEXT_PREFIX.length))}`,
    };
  }
  const decoded = decodeBase45(payload);
  if (!decoded.ok) {
    return {
      ok: false,
      reason: "BAD_ENCODING",
      detail: `${decoded.detail} (position ${decoded.position + TEXT_PREFIX.length})`,
    };
  }
  return parseCredentialBytes(decoded.bytes);
}

const KINDS: Record<number, TicketKind> = { 1: "mobile", 2: "printed" };
const SEAT_DECODER = new TextDecoder();

export function parseCredentialBytes(bytes: Uint8Array): ParseResult {
  const r = new ByteReader(bytes);
  try {
    const version = r.u8("version");
    if (version !== FORMAT_VERSION) {
      return {
        ok: false,
        reason: "UNSUPPORTED_VERSION",
        detail: `body version ${version}, expected ${FORMAT_VERSION}`,
      };
    }
    const kind = KINDS[r.u8("kind")];
    if (!kind) return { ok: false, reason: "MALFORMED", detail: `unknown ticket kind ${bytes[1]}` };
    const keyId = r.u16("key id");
    const ticketId = r.u32("ticket id");
    const generation = r.u16("generation");
    const issueSequence = r.u32("issue sequence");
    const validFrom = r.u32("valid from");
    const validUntil = r.u32("valid until");
    const categories = r.u16("categories");
    const entrance = r.u16("entrance");
    const zone = r.u16("zone");
    const sessionCount = r.u8("session count");
    if (sessionCount < 1 || sessionCount > MAX_SESSIONS) {
      return {
        ok: false,
        reason: "MALFORMED",
        detail: `${sessionCount} sessions (1 to ${MAX_SESSIONS} allowed)`,
      };
    }
    const sessions: number[] = [];
    for (let i = 0; i < sessionCount; i++) sessions.push(r.u16("sessions"));
    const seatLength = r.u8("seat length");
    if (seatLength > MAX_SEAT_LENGTH) {
      return {
        ok: false,
        reason: "MALFORMED",
        detail: `seat label of ${seatLength} bytes (at most ${MAX_SEAT_LENGTH})`,
      };
    }
    const seatBytes = r.bytes(seatLength, "seat");
    if (!seatBytes.every((b) => b >= 0x20 && b <= 0x7e)) {
      return { ok: false, reason: "MALFORMED", detail: "seat label is not printable ASCII" };
    }
    if (validFrom > validUntil) {
      return { ok: false, reason: "MALFORMED", detail: "validity window ends before it starts" };
    }
    const devicePublicKey = kind === "mobile" ? Uint8Array.from(r.bytes(32, "device public key")) : undefined;
    const bodyBytes = Uint8Array.from(bytes.subarray(0, r.offset));
    const issuerSignature = Uint8Array.from(r.bytes(64, "issuer signature"));
    let proof: DeviceProof | undefined;
    if (kind === "mobile") {
      if (r.remaining === 0) {
        return {
          ok: false,
          reason: "TRUNCATED",
          detail: "device proof missing: the code was cut or copied without it",
        };
      }
      const stepLow = r.u16("device proof step");
      proof = { stepLow, signature: Uint8Array.from(r.bytes(64, "device proof signature")) };
    }
    if (r.remaining > 0) {
      return {
        ok: false,
        reason: "MALFORMED",
        detail: `${r.remaining} unexpected bytes after the credential`,
      };
    }
    const body: TicketBody = {
      kind,
      keyId,
      ticketId,
      generation,
      issueSequence,
      sessions,
      entrance,
      zone,
      seat: SEAT_DECODER.decode(seatBytes),
      categories,
      validFrom,
      validUntil,
      ...(devicePublicKey ? { devicePublicKey } : {}),
    };
    return { ok: true, credential: { body, bodyBytes, issuerSignature, ...(proof ? { proof } : {}) } };
  } catch (error) {
    if (error instanceof Truncated) {
      return { ok: false, reason: "TRUNCATED", detail: `the code ends in the middle of the ${error.field}` };
    }
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Verification

export interface IssuerKey {
  readonly keyId: number;
  readonly publicKey: Uint8Array;
  /** Unix seconds, inclusive. */
  readonly validFrom: number;
  readonly validUntil: number;
  readonly revoked: boolean;
}

export interface FreshnessPolicy {
  /** How many whole steps a code may lag the gate's clock (screenshots older than this die). */
  readonly maxPastSteps: number;
  /** How many steps a code may lead the gate's clock (phone clock ahead). */
  readonly maxFutureSteps: number;
}

/** Steps s-2..s+2 of the gate clock: a code is refused 30–45 s after its phone stopped showing it. */
export const DEFAULT_FRESHNESS: FreshnessPolicy = { maxPastSteps: 2, maxFutureSteps: 2 };

export interface VerifyOptions {
  readonly issuerKeys: ReadonlyMap<number, IssuerKey>;
  readonly nowMs: number;
  /** Verifies issuer signatures (keys are few: a caching verifier pays off). */
  readonly issuerVerifier: Ed25519Verifier;
  /** Verifies device proofs (a new key each scan). Defaults to issuerVerifier. */
  readonly deviceVerifier?: Ed25519Verifier;
  readonly freshness?: FreshnessPolicy;
}

export type CredentialReason =
  | FormatReason
  | "UNKNOWN_KEY"
  | "KEY_REVOKED"
  | "KEY_NOT_VALID"
  | "FORGED"
  | "FORGED_PROOF"
  | "EXPIRED_CODE"
  | "CODE_FROM_FUTURE"
  | "NOT_YET_VALID"
  | "TICKET_EXPIRED";

export type Verification =
  | {
      valid: true;
      credential: Credential;
      /** Full time step of the device proof (mobile tickets). */
      proofStep?: number;
      /** Gate clock minus proof step, in steps (positive: the code is older). */
      proofLagSteps?: number;
    }
  | {
      valid: false;
      reason: CredentialReason;
      detail: string;
      credential?: Credential;
      foreign?: ForeignKind;
      proofLagSteps?: number;
    };

/** Rebuilds the full step from its low 16 bits: the candidate nearest the verifier's step. */
export function reconstructStep(stepLow: number, nowStep: number): number {
  const base = nowStep - (nowStep & 0xffff) + stepLow;
  const candidates = [base - 0x10000, base, base + 0x10000];
  let best = base;
  for (const c of candidates) if (Math.abs(c - nowStep) < Math.abs(best - nowStep)) best = c;
  return best;
}

function iso(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString();
}

/**
 * Verifies a scanned text completely: format, trust list, issuer signature, device proof and its
 * freshness, validity window. Never throws; the first failing check names the outcome.
 */
export function verifyCredentialText(text: string, options: VerifyOptions): Verification {
  const parsed = parseCredentialText(text);
  if (!parsed.ok) {
    return {
      valid: false,
      reason: parsed.reason,
      detail: parsed.detail,
      ...(parsed.foreign ? { foreign: parsed.foreign } : {}),
    };
  }
  return verifyCredential(parsed.credential, options);
}

export function verifyCredential(credential: Credential, options: VerifyOptions): Verification {
  const { body } = credential;
  const refuse = (
    reason: CredentialReason,
    detail: string,
    extra: { proofLagSteps?: number } = {},
  ): Verification => ({
    valid: false,
    reason,
    detail,
    credential,
    ...extra,
  });
  const key = options.issuerKeys.get(body.keyId);
  if (!key) return refuse("UNKNOWN_KEY", `issuer key ${body.keyId} is not in this gate's trust list`);
  if (key.revoked) return refuse("KEY_REVOKED", `issuer key ${body.keyId} has been revoked`);
  const nowSeconds = Math.floor(options.nowMs / 1000);
  if (nowSeconds < key.validFrom || nowSeconds > key.validUntil) {
    return refuse(
      "KEY_NOT_VALID",
      `issuer key ${body.keyId} is valid ${iso(key.validFrom)} to ${iso(key.validUntil)}`,
    );
  }
  if (
    !options.issuerVerifier.verify(
      concat(TICKET_DOMAIN, credential.bodyBytes),
      credential.issuerSignature,
      key.publicKey,
    )
  ) {
    return refuse("FORGED", "the issuer signature does not match the ticket");
  }
  let proofStep: number | undefined;
  let proofLagSteps: number | undefined;
  if (body.kind === "mobile") {
    const { proof } = credential;
    if (!proof || !body.devicePublicKey) return refuse("TRUNCATED", "device proof missing");
    // The verifiers refuse such a key too; saying why here tells a forged device key from a bad proof.
    const keyProblem = publicKeyProblem(body.devicePublicKey);
    if (keyProblem)
      return refuse("FORGED_PROOF", `the ticket's device public key ${keyProblem}: no proof under it counts`);
    const nowStep = timeStep(options.nowMs);
    proofStep = reconstructStep(proof.stepLow, nowStep);
    const digest = ticketDigest(credential.bodyBytes, credential.issuerSignature);
    const deviceVerifier = options.deviceVerifier ?? options.issuerVerifier;
    if (!deviceVerifier.verify(proofMessage(digest, proofStep), proof.signature, body.devicePublicKey)) {
      return refuse("FORGED_PROOF", "the code was not produced by the ticket holder's phone");
    }
    proofLagSteps = nowStep - proofStep;
    const freshness = options.freshness ?? DEFAULT_FRESHNESS;
    if (proofLagSteps > freshness.maxPastSteps) {
      return refuse(
        "EXPIRED_CODE",
        `the code is ${proofLagSteps * STEP_SECONDS} s old: a screenshot or a frozen screen`,
        {
          proofLagSteps,
        },
      );
    }
    if (-proofLagSteps > freshness.maxFutureSteps) {
      return refuse(
        "CODE_FROM_FUTURE",
        `the code is ${-proofLagSteps * STEP_SECONDS} s ahead of the gate's clock`,
        {
          proofLagSteps,
        },
      );
    }
  }
  if (nowSeconds < body.validFrom)
    return refuse("NOT_YET_VALID", `the ticket is valid from ${iso(body.validFrom)}`);
  if (nowSeconds > body.validUntil)
    return refuse("TICKET_EXPIRED", `the ticket expired at ${iso(body.validUntil)}`);
  return {
    valid: true,
    credential,
    ...(proofStep !== undefined ? { proofStep, proofLagSteps: proofLagSteps ?? 0 } : {}),
  };
}

/** Characters allowed after the prefix; exported for scanners that validate the alphabet early. */
export const CREDENTIAL_ALPHABET = BASE45_ALPHABET;
