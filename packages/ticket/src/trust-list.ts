import { ByteWriter } from "./bytes.js";
import type { IssuerKey } from "./credential.js";
import type { Ed25519Signer, Ed25519Verifier } from "./ed25519.js";

/*
 * The trust list: the issuer keys a gate accepts, signed by the venue root key that is pinned in
 * the gate's configuration (as the EU DCC trust lists are). Rotation and revocation work offline
 * from the last list received; a list older than the one a gate holds is refused (no rollback).
 */

export const TRUST_LIST_FORMAT = "sesame-trust-list/1";
const TRUST_DOMAIN = new TextEncoder().encode("SESAME-TRUST-1");

export interface TrustList {
  readonly venue: string;
  /** Increases with every new list; gates refuse a lower one. */
  readonly version: number;
  /** Unix seconds. */
  readonly issuedAt: number;
  readonly keys: readonly IssuerKey[];
}

/** The JSON form a gate receives (hex keys, ISO times). */
export interface SignedTrustListJson {
  format: typeof TRUST_LIST_FORMAT;
  venue: string;
  version: number;
  issuedAt: string;
  keys: Array<{ keyId: number; publicKey: string; validFrom: string; validUntil: string; revoked: boolean }>;
  signature: string;
}

export function trustListBytes(list: TrustList): Uint8Array {
  const venue = new TextEncoder().encode(list.venue);
  const w = new ByteWriter()
    .bytes(TRUST_DOMAIN)
    .u32(list.version)
    .u32(list.issuedAt)
    .u8(venue.length)
    .bytes(venue);
  const keys = [...list.keys].sort((a, b) => a.keyId - b.keyId);
  w.u16(keys.length);
  for (const k of keys)
    w.u16(k.keyId)
      .bytes(k.publicKey)
      .u32(k.validFrom)
      .u32(k.validUntil)
      .u8(k.revoked ? 1 : 0);
  return w.finish();
}

const isoOf = (s: number) => new Date(s * 1000).toISOString();
const hexOf = (b: Uint8Array) => Buffer.from(b).toString("hex");

export function signTrustList(
  list: TrustList,
  rootSeed: Uint8Array,
  signer: Ed25519Signer,
): SignedTrustListJson {
  const problem = checkList(list);
  if (problem) throw new RangeError(`cannot sign trust list: ${problem}`);
  return trustListJson(list, hexOf(signer.sign(trustListBytes(list), rootSeed)));
}

/** A list in its JSON form with its signature (hex): keys by id, times in ISO form, signed fields only. */
export function trustListJson(list: TrustList, signatureHex: string): SignedTrustListJson {
  return {
    format: TRUST_LIST_FORMAT,
    venue: list.venue,
    version: list.version,
    issuedAt: isoOf(list.issuedAt),
    keys: [...list.keys]
      .sort((a, b) => a.keyId - b.keyId)
      .map((k) => ({
        keyId: k.keyId,
        publicKey: hexOf(k.publicKey),
        validFrom: isoOf(k.validFrom),
        validUntil: isoOf(k.validUntil),
        revoked: k.revoked,
      })),
    signature: signatureHex.toLowerCase(),
  };
}

function checkList(list: TrustList): string | undefined {
  if (!Number.isInteger(list.version) || list.version < 0 || list.version > 0xffffffff)
    return "version must be a u32";
  if (new TextEncoder().encode(list.venue).length > 255) return "venue name longer than 255 bytes";
  const ids = new Set<number>();
  for (const k of list.keys) {
    if (!Number.isInteger(k.keyId) || k.keyId < 0 || k.keyId > 0xffff)
      return `key id ${k.keyId} is not a u16`;
    if (ids.has(k.keyId)) return `key id ${k.keyId} appears twice`;
    ids.add(k.keyId);
    if (k.publicKey.length !== 32) return `key ${k.keyId} is not 32 bytes`;
    if (k.validFrom > k.validUntil) return `key ${k.keyId} validity ends before it starts`;
  }
  return undefined;
}

export type TrustListResult =
  | { ok: true; list: TrustList }
  | { ok: false; reason: "MALFORMED" | "BAD_SIGNATURE" | "WRONG_VENUE" | "ROLLBACK"; detail: string };

function parseIso(value: unknown, field: string): number {
  if (typeof value !== "string") throw new TypeError(`${field} must be an ISO time string`);
  const ms = Date.parse(value);
  if (!Number.isFinite(ms))
    throw new TypeError(`${field} is not a valid time: ${JSON.stringify(value).slice(0, 40)}`);
  return Math.floor(ms / 1000);
}

function parseHex(value: unknown, bytes: number, field: string): Uint8Array {
  if (typeof value !== "string" || !new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`).test(value)) {
    throw new TypeError(`${field} must be ${bytes} bytes of hex`);
  }
  return Uint8Array.from(Buffer.from(value, "hex"));
}

/**
 * Checks a received trust list: shape, the venue root key's signature, the venue it is for and,
 * when the gate already holds one, that it is not older. Never throws.
 */
export function verifyTrustList(
  input: unknown,
  rootPublicKey: Uint8Array,
  verifier: Ed25519Verifier,
  expect: { venue?: string; currentVersion?: number } = {},
): TrustListResult {
  let list: TrustList;
  let signature: Uint8Array;
  try {
    const json = typeof input === "string" ? (JSON.parse(input) as unknown) : input;
    if (typeof json !== "object" || json === null) throw new TypeError("a trust list is a JSON object");
    const o = json as Record<string, unknown>;
    if (o.format !== TRUST_LIST_FORMAT) throw new TypeError(`format must be ${TRUST_LIST_FORMAT}`);
    if (typeof o.venue !== "string") throw new TypeError("venue must be a string");
    if (typeof o.version !== "number") throw new TypeError("version must be a number");
    if (!Array.isArray(o.keys)) throw new TypeError("keys must be an array");
    const keys: IssuerKey[] = o.keys.map((k: unknown, i: number) => {
      if (typeof k !== "object" || k === null) throw new TypeError(`keys[${i}] must be an object`);
      const e = k as Record<string, unknown>;
      if (typeof e.keyId !== "number") throw new TypeError(`keys[${i}].keyId must be a number`);
      if (typeof e.revoked !== "boolean") throw new TypeError(`keys[${i}].revoked must be a boolean`);
      return {
        keyId: e.keyId,
        publicKey: parseHex(e.publicKey, 32, `keys[${i}].publicKey`),
        validFrom: parseIso(e.validFrom, `keys[${i}].validFrom`),
        validUntil: parseIso(e.validUntil, `keys[${i}].validUntil`),
        revoked: e.revoked,
      };
    });
    list = { venue: o.venue, version: o.version, issuedAt: parseIso(o.issuedAt, "issuedAt"), keys };
    signature = parseHex(o.signature, 64, "signature");
    const problem = checkList(list);
    if (problem) throw new TypeError(problem);
  } catch (error) {
    return { ok: false, reason: "MALFORMED", detail: error instanceof Error ? error.message : String(error) };
  }
  if (!verifier.verify(trustListBytes(list), signature, rootPublicKey)) {
    return {
      ok: false,
      reason: "BAD_SIGNATURE",
      detail: "the trust list is not signed by this venue's root key",
    };
  }
  if (expect.venue !== undefined && list.venue !== expect.venue) {
    return {
      ok: false,
      reason: "WRONG_VENUE",
      detail: `trust list is for ${list.venue}, not ${expect.venue}`,
    };
  }
  if (expect.currentVersion !== undefined && list.version < expect.currentVersion) {
    return {
      ok: false,
      reason: "ROLLBACK",
      detail: `trust list version ${list.version} is older than the one held (${expect.currentVersion})`,
    };
  }
  return { ok: true, list };
}

export function issuerKeyMap(list: TrustList): Map<number, IssuerKey> {
  return new Map(list.keys.map((k) => [k.keyId, k]));
}
