import type { Ed25519Signer, Ed25519Verifier } from "@sesame/ticket";
import { arr, FieldError, HEX_32, HEX_64, int, obj, str } from "./validate.js";

/*
 * The venue server's operations key and what it signs (docs/design.md §9). The venue root key,
 * offline, certifies the operations key for a bounded period; gates pin the root and check the
 * certificate, so a new operations key needs no visit to the gates and an old one dies by itself.
 * The operations key signs the venue gate list (which gate key may sign admissions) and commands.
 * Pure: no clock (the caller says what time it is), no storage.
 */

const CERTIFICATE_DOMAIN = Buffer.from("SESAME-OPERATIONS-CERT-1\0");
const GATE_LIST_DOMAIN = Buffer.from("SESAME-GATE-LIST-1\0");
const GATE_ID = /^[A-Za-z0-9_-]{1,32}$/;

export const OPERATIONS_CERTIFICATE_FORMAT = "sesame-operations-certificate/1";

export interface OperationsCertificate {
  readonly venue: string;
  /** Hex Ed25519 public key of the operations key. */
  readonly publicKey: string;
  /** Unix ms: the certificate is valid from notBefore to notAfter, both included. */
  readonly notBefore: number;
  readonly notAfter: number;
}

export interface SignedOperationsCertificate extends OperationsCertificate {
  readonly format: typeof OPERATIONS_CERTIFICATE_FORMAT;
  /** Hex signature by the venue root key. */
  readonly sig: string;
}

export type SignedCheck<T> =
  | { readonly ok: true; readonly value: T }
  | {
      readonly ok: false;
      readonly reason: "invalid" | "bad-signature" | "wrong-target";
      readonly detail: string;
    };

function certificateBytes(c: OperationsCertificate): Buffer {
  const text = JSON.stringify({
    venue: c.venue,
    publicKey: c.publicKey,
    notBefore: c.notBefore,
    notAfter: c.notAfter,
  });
  return Buffer.concat([CERTIFICATE_DOMAIN, Buffer.from(text)]);
}

/** Made at set-up by `sesame operations-certificate`, the only holder of the root seed. */
export function signOperationsCertificate(
  certificate: OperationsCertificate,
  rootSeed: Uint8Array,
  signer: Ed25519Signer,
): SignedOperationsCertificate {
  if (certificate.notAfter <= certificate.notBefore)
    throw new RangeError("an operations certificate must end after it begins");
  const sig = Buffer.from(signer.sign(certificateBytes(certificate), rootSeed)).toString("hex");
  return {
    format: OPERATIONS_CERTIFICATE_FORMAT,
    venue: certificate.venue,
    publicKey: certificate.publicKey,
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
    sig,
  };
}

function guarded<T>(fn: () => T): SignedCheck<T> {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    if (error instanceof FieldError) return { ok: false, reason: "invalid", detail: error.message };
    throw error;
  }
}

/** The certificate's form (throws a FieldError naming the bad field); its signature is not checked. */
export function parseOperationsCertificate(
  value: unknown,
  field = "operationsCertificate",
): SignedOperationsCertificate {
  const o = obj(value, field);
  if (o.format !== OPERATIONS_CERTIFICATE_FORMAT)
    throw new FieldError(`${field}.format`, `must be ${OPERATIONS_CERTIFICATE_FORMAT}`);
  return {
    format: OPERATIONS_CERTIFICATE_FORMAT,
    venue: str(o.venue, `${field}.venue`, 32),
    publicKey: str(o.publicKey, `${field}.publicKey`, 64, HEX_32),
    notBefore: int(o.notBefore, `${field}.notBefore`),
    notAfter: int(o.notAfter, `${field}.notAfter`),
    sig: str(o.sig, `${field}.sig`, 128, HEX_64),
  };
}

/** Checks form, venue and the root's signature; whether it is valid *now* is operationsKeyAt's. */
export function verifyOperationsCertificate(
  value: unknown,
  rootKey: Uint8Array,
  verifier: Ed25519Verifier,
  venueId: string,
): SignedCheck<SignedOperationsCertificate> {
  const parsed = guarded(() => parseOperationsCertificate(value));
  if (!parsed.ok) return parsed;
  const c = parsed.value;
  if (!verifier.verify(certificateBytes(c), Buffer.from(c.sig, "hex"), rootKey))
    return {
      ok: false,
      reason: "bad-signature",
      detail: "operations certificate not signed by the venue root key",
    };
  if (c.venue !== venueId)
    return { ok: false, reason: "wrong-target", detail: `operations certificate is for venue ${c.venue}` };
  return parsed;
}

/** The certified operations key at `now`, or why it may not be used. */
export function operationsKeyAt(
  certificate: OperationsCertificate,
  now: number,
): { readonly ok: true; readonly key: Uint8Array } | { readonly ok: false; readonly detail: string } {
  if (now < certificate.notBefore)
    return {
      ok: false,
      detail: `operations certificate valid only from ${new Date(certificate.notBefore).toISOString()}`,
    };
  if (now > certificate.notAfter)
    return {
      ok: false,
      detail: `operations certificate expired ${new Date(certificate.notAfter).toISOString()}`,
    };
  let key = decodedKeys.get(certificate);
  if (!key) {
    key = Buffer.from(certificate.publicKey, "hex");
    decodedKeys.set(certificate, key);
  }
  return { ok: true, key };
}

/** A certificate's key decoded once: gates ask for it at every admissions message. */
const decodedKeys = new WeakMap<OperationsCertificate, Uint8Array>();

// ---------------------------------------------------------------------------------------------
// The venue gate list

export interface GateListEntry {
  readonly gateId: string;
  readonly entranceId: number;
  /** Hex: the key the gate signs its event batches (and so its admissions) with. */
  readonly publicKey: string;
}

/** A key that no longer speaks for its gate: the gate was re-provisioned or quarantined. */
export interface RevokedGateKey {
  readonly gateId: string;
  readonly publicKey: string;
  /** Unix ms. */
  readonly at: number;
  /** Who revoked it (an account, or "set-up" for a key replaced when the venue was set up). */
  readonly by: string;
  readonly reason: string;
}

export interface GateList {
  readonly venue: string;
  /** Grows by one with every change; a gate never goes back to a lower version. */
  readonly version: number;
  /** Unix ms. */
  readonly issuedAt: number;
  readonly gates: readonly GateListEntry[];
  readonly revoked: readonly RevokedGateKey[];
}

export interface SignedGateList extends GateList {
  /** Hex signature by the operations key. */
  readonly sig: string;
}

function gateListBytes(list: GateList): Buffer {
  const text = JSON.stringify({
    venue: list.venue,
    version: list.version,
    issuedAt: list.issuedAt,
    gates: list.gates.map((g) => ({ gateId: g.gateId, entranceId: g.entranceId, publicKey: g.publicKey })),
    revoked: list.revoked.map((r) => ({
      gateId: r.gateId,
      publicKey: r.publicKey,
      at: r.at,
      by: r.by,
      reason: r.reason,
    })),
  });
  return Buffer.concat([GATE_LIST_DOMAIN, Buffer.from(text)]);
}

export function signGateList(
  list: GateList,
  operationsSeed: Uint8Array,
  signer: Ed25519Signer,
): SignedGateList {
  const sig = Buffer.from(signer.sign(gateListBytes(list), operationsSeed)).toString("hex");
  return { ...list, sig };
}

/** Largest gate list a gate accepts (gates plus revoked keys). */
export const MAX_GATE_LIST_ENTRIES = 4096;

/** The gate list's form (throws a FieldError naming the bad field); its signature is not checked. */
export function parseGateList(value: unknown): SignedGateList {
  const o = obj(value, "gateList");
  return {
    venue: str(o.venue, "gateList.venue", 32),
    version: int(o.version, "gateList.version", 1),
    issuedAt: int(o.issuedAt, "gateList.issuedAt"),
    gates: arr(o.gates, "gateList.gates", MAX_GATE_LIST_ENTRIES).map((g, i) => {
      const x = obj(g, `gateList.gates[${i}]`);
      return {
        gateId: str(x.gateId, `gateList.gates[${i}].gateId`, 32, GATE_ID),
        entranceId: int(x.entranceId, `gateList.gates[${i}].entranceId`, 0, 0xffff),
        publicKey: str(x.publicKey, `gateList.gates[${i}].publicKey`, 64, HEX_32),
      };
    }),
    revoked: arr(o.revoked, "gateList.revoked", MAX_GATE_LIST_ENTRIES).map((r, i) => {
      const x = obj(r, `gateList.revoked[${i}]`);
      return {
        gateId: str(x.gateId, `gateList.revoked[${i}].gateId`, 32, GATE_ID),
        publicKey: str(x.publicKey, `gateList.revoked[${i}].publicKey`, 64, HEX_32),
        at: int(x.at, `gateList.revoked[${i}].at`),
        by: str(x.by, `gateList.revoked[${i}].by`, 64),
        reason: str(x.reason, `gateList.revoked[${i}].reason`, 200),
      };
    }),
    sig: str(o.sig, "gateList.sig", 128, HEX_64),
  };
}

/** Checks form, venue and the operations key's signature. */
export function verifyGateList(
  value: unknown,
  operationsKey: Uint8Array,
  verifier: Ed25519Verifier,
  venueId: string,
): SignedCheck<SignedGateList> {
  const parsed = guarded(() => parseGateList(value));
  if (!parsed.ok) return parsed;
  const list = parsed.value;
  if (!verifier.verify(gateListBytes(list), Buffer.from(list.sig, "hex"), operationsKey))
    return {
      ok: false,
      reason: "bad-signature",
      detail: `gate list version ${list.version} not signed by the operations key`,
    };
  if (list.venue !== venueId)
    return { ok: false, reason: "wrong-target", detail: `gate list is for venue ${list.venue}` };
  return parsed;
}

/** A verified gate list, indexed for the admissions check. */
export class GateKeys {
  private readonly byGate = new Map<string, { readonly key: Uint8Array; readonly entranceId: number }>();
  private readonly revokedKeys = new Map<string, RevokedGateKey>();

  constructor(readonly list: SignedGateList) {
    for (const r of list.revoked) this.revokedKeys.set(r.publicKey.toLowerCase(), r);
    for (const g of list.gates)
      if (!this.revokedKeys.has(g.publicKey.toLowerCase()))
        this.byGate.set(g.gateId, { key: Buffer.from(g.publicKey, "hex"), entranceId: g.entranceId });
  }

  get version(): number {
    return this.list.version;
  }

  /** The gate's current key and entrance; undefined for a gate not in the list (or revoked). */
  gate(gateId: string): { readonly key: Uint8Array; readonly entranceId: number } | undefined {
    return this.byGate.get(gateId);
  }

  /** Why a gate not in the list is not: its last revocation, if any. */
  revocationOf(gateId: string): RevokedGateKey | undefined {
    let last: RevokedGateKey | undefined;
    for (const r of this.revokedKeys.values())
      if (r.gateId === gateId && (!last || r.at >= last.at)) last = r;
    return last;
  }
}
