import type { Ed25519Signer, Ed25519Verifier, IssuerKey } from "@sesame/ticket";
import type { SignedTicketChange, TicketChange } from "./model.js";

/*
 * Signatures of the ticket feed (docs/sync-protocol.md §5). The issuer signs each change on its own:
 * a gate checks one signature per change whatever message brings it (live feed, replay), and the
 * signed bytes hold the venue and the change's feed sequence, so that a genuine change cannot be
 * replayed at another venue or another position. Revoking an issuer key is a new root-signed trust
 * list, never a change of the feed.
 */

const DOMAIN = "sesame-ticket-change/1";
const SIGNATURE_HEX = /^[0-9a-f]{128}$/i;

/** JSON with sorted object keys: the same value gives the same text, whoever built the object. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === "object" && v !== null && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

/** The bytes an issuer key signs for one change: every field of the change but `sig`, with its key id. */
export function changeSigningBytes(
  venueId: string,
  change: TicketChange & { readonly keyId: number },
): Uint8Array {
  const { sig: _sig, ...body } = change as TicketChange & { keyId: number; sig?: string };
  return new TextEncoder().encode(`${DOMAIN}\n${venueId}\n${canonicalJson(body)}`);
}

/**
 * Signs the changes of one venue's feed where they are made: on the venue server today, in the
 * issuer component once the issuer key leaves the venue (only this object moves).
 */
export interface ChangeSigner {
  readonly keyId: number;
  sign(change: TicketChange): SignedTicketChange;
}

/** A ChangeSigner holding an issuer key's seed. */
export function issuerChangeSigner(
  venueId: string,
  key: { readonly keyId: number; readonly seed: Uint8Array },
  signer: Ed25519Signer,
): ChangeSigner {
  return {
    keyId: key.keyId,
    sign(change) {
      const unsigned = { ...change, keyId: key.keyId };
      const sig = signer.sign(changeSigningBytes(venueId, unsigned), key.seed);
      return { ...unsigned, sig: Buffer.from(sig).toString("hex") } as SignedTicketChange;
    },
  };
}

export type ChangeRefusal = "unknown-key" | "revoked-key" | "bad-signature";

export type ChangeVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: ChangeRefusal; readonly detail: string };

/**
 * Checks one change against the issuer keys of the trust list the gate holds: one Ed25519
 * verification. A key's validity window is not checked here (a change stays true after the key
 * that signed it expires); a revoked key signs nothing any more.
 */
export function verifyTicketChange(
  venueId: string,
  change: SignedTicketChange,
  issuerKeys: ReadonlyMap<number, IssuerKey>,
  verifier: Ed25519Verifier,
): ChangeVerdict {
  const what = `change ${change.sequence} (${change.type})`;
  const key = issuerKeys.get(change.keyId);
  if (!key)
    return {
      ok: false,
      reason: "unknown-key",
      detail: `${what} is signed by issuer key ${change.keyId}, which is not in the trust list`,
    };
  if (key.revoked)
    return {
      ok: false,
      reason: "revoked-key",
      detail: `${what} is signed by issuer key ${change.keyId}, which the trust list revokes`,
    };
  const signature = SIGNATURE_HEX.test(change.sig) ? Buffer.from(change.sig, "hex") : undefined;
  if (!signature || !verifier.verify(changeSigningBytes(venueId, change), signature, key.publicKey))
    return {
      ok: false,
      reason: "bad-signature",
      detail: `${what}: the signature does not verify against issuer key ${change.keyId}`,
    };
  return { ok: true };
}

/**
 * A change as the issuer serves it to a venue (its stream, docs/issuer.md): the change, the venue
 * it is for, the issuer key and the signature a gate checks (the feed's, changeSigningBytes).
 */
export interface IssuedTicketChange {
  readonly venue: string;
  readonly keyId: number;
  readonly change: TicketChange;
  /** Hex of the Ed25519 signature over changeSigningBytes(venue, change + keyId). */
  readonly signature: string;
}

/** Signs one ticket change of `venue` at the issuer, with the issuer key `keyId` (its 32-byte seed). */
export function signTicketChange(
  venue: string,
  change: TicketChange,
  key: { readonly keyId: number; readonly seed: Uint8Array },
  signer: Ed25519Signer,
): IssuedTicketChange {
  const signed = issuerChangeSigner(venue, key, signer).sign(change);
  return { venue, keyId: key.keyId, change, signature: signed.sig };
}

/** The change as a venue's feed carries it to the gates: the same signature, flattened. */
export function feedChangeOf(issued: IssuedTicketChange): SignedTicketChange {
  return { ...issued.change, keyId: issued.keyId, sig: issued.signature } as SignedTicketChange;
}

/** Checks a change the issuer served: meant for `venue`, and signed as a gate will check it. */
export function verifyIssuedChange(
  issued: IssuedTicketChange,
  venue: string,
  issuerKeys: ReadonlyMap<number, IssuerKey>,
  verifier: Ed25519Verifier,
): ChangeVerdict | { readonly ok: false; readonly reason: "wrong-venue"; readonly detail: string } {
  if (issued.venue !== venue)
    return { ok: false, reason: "wrong-venue", detail: `change for venue ${issued.venue}, not ${venue}` };
  return verifyTicketChange(venue, feedChangeOf(issued), issuerKeys, verifier);
}
