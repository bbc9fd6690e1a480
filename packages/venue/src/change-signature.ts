import type { Ed25519Signer, Ed25519Verifier, IssuerKey } from "@sesame/ticket";
import type { TicketChange } from "./model.js";

/*
 * The issuer's signature on a ticket change (issue, resale, transfer, cancel). The issuer signs
 * each change it commits with the issuer key that signs credentials, so a gate or venue server that
 * pins the issuer keys (through the root-signed trust list) can tell a change the issuer made from
 * one that only passed through a broker or server. What is signed: a domain tag, the venue, the key
 * id and the change as canonical JSON (keys sorted), so a change cannot be replayed to another
 * venue or read under another key.
 */

const CHANGE_DOMAIN = "SESAME-TICKET-CHANGE-1";

/** A ticket change as the issuer serves it: the change, the venue it is for, who signed it. */
export interface SignedTicketChange {
  readonly venue: string;
  readonly keyId: number;
  readonly change: TicketChange;
  /** Hex of the Ed25519 signature over ticketChangeBytes(venue, keyId, change). */
  readonly signature: string;
}

/** JSON with object keys in sorted order at every depth: one text for one value. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The bytes an issuer signature covers. */
export function ticketChangeBytes(venue: string, keyId: number, change: TicketChange): Uint8Array {
  return new TextEncoder().encode(`${CHANGE_DOMAIN}\n${venue}\n${keyId}\n${canonicalJson(change)}`);
}

/** Signs one ticket change of `venue` with the issuer key `keyId` (its 32-byte seed). */
export function signTicketChange(
  venue: string,
  change: TicketChange,
  key: { readonly keyId: number; readonly seed: Uint8Array },
  signer: Ed25519Signer,
): SignedTicketChange {
  const signature = signer.sign(ticketChangeBytes(venue, key.keyId, change), key.seed);
  return { venue, keyId: key.keyId, change, signature: Buffer.from(signature).toString("hex") };
}

export type TicketChangeVerification =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: "WRONG_VENUE" | "UNKNOWN_KEY" | "KEY_REVOKED" | "BAD_SIGNATURE" };

/**
 * Checks an issuer signature on a change meant for `venue` against the issuer keys a reader pins.
 * A revoked key's changes are refused: revocation is a trust-list change, and what the key signed
 * afterwards cannot be told from what it signed before.
 */
export function verifyTicketChange(
  signed: SignedTicketChange,
  venue: string,
  keys: ReadonlyMap<number, IssuerKey>,
  verifier: Ed25519Verifier,
): TicketChangeVerification {
  if (signed.venue !== venue) return { ok: false, reason: "WRONG_VENUE" };
  const key = keys.get(signed.keyId);
  if (key === undefined) return { ok: false, reason: "UNKNOWN_KEY" };
  if (key.revoked) return { ok: false, reason: "KEY_REVOKED" };
  const signature = /^[0-9a-f]{128}$/.test(signed.signature)
    ? Buffer.from(signed.signature, "hex")
    : undefined;
  if (
    signature === undefined ||
    !verifier.verify(ticketChangeBytes(venue, signed.keyId, signed.change), signature, key.publicKey)
  )
    return { ok: false, reason: "BAD_SIGNATURE" };
  return { ok: true };
}
