import type { Ed25519Verifier, IssuerKey } from "@sesame/ticket";
import { type SignedTicketChange, verifyTicketChange } from "@sesame/venue";
import type { RejectReason } from "./protocol.js";

/*
 * The gate's check of a ticket-feed message (live or replay), before anything of it is applied:
 * every change must verify against an issuer key of the root-signed trust list the gate holds,
 * one Ed25519 verification per change. One bad change refuses the whole message.
 */

export type FeedVerdict =
  | { readonly ok: true }
  /** `detail` names the issuer key the refused change claims: the sender, as far as a gate can tell. */
  | { readonly ok: false; readonly reason: RejectReason; readonly detail: string };

export function verifyFeedMessage(
  venueId: string,
  changes: readonly SignedTicketChange[],
  issuerKeys: ReadonlyMap<number, IssuerKey>,
  verifier: Ed25519Verifier,
): FeedVerdict {
  for (const change of changes) {
    const verdict = verifyTicketChange(venueId, change, issuerKeys, verifier);
    if (!verdict.ok) return { ok: false, reason: verdict.reason, detail: verdict.detail };
  }
  return { ok: true };
}
