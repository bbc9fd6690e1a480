import type { RejectReason } from "@sesame/sync";
import {
  type Ed25519Verifier,
  type SignedTrustListJson,
  trustListJson,
  verifyTrustList,
} from "@sesame/ticket";
import type { Venue } from "@sesame/venue";
import type { KeyRepository } from "./repository.js";

/*
 * The trust list the server publishes: signed offline by the venue root (`sesame root trust-list`),
 * never by the server, which holds no root key. The server takes a new one from an admin (HTTP) or
 * from the venue directory at start, checks the root's signature and that its version rises, then
 * stores and publishes it. Rotating or revoking an issuer key is such a new list; the ticket feed
 * carries ticket changes only, so that whoever can put a message on the feed cannot make the gates
 * refuse every ticket of a key.
 */

export type TrustListVerdict =
  | { readonly ok: true; readonly trustList: SignedTrustListJson }
  | { readonly ok: false; readonly reason: RejectReason; readonly detail: string };

const REASONS = {
  MALFORMED: "invalid",
  BAD_SIGNATURE: "bad-signature",
  WRONG_VENUE: "wrong-target",
  ROLLBACK: "rollback",
} as const satisfies Record<string, RejectReason>;

export interface TrustListDeskDeps {
  readonly keys: KeyRepository;
  readonly venue: Venue;
  readonly verifier: Ed25519Verifier;
  publishTrustList(list: SignedTrustListJson): void;
}

export class TrustListDesk {
  constructor(private readonly deps: TrustListDeskDeps) {}

  /**
   * Checks a signed trust list against the root and the one held; stores and publishes it if its
   * version is higher. Changes nothing otherwise (the caller logs and alerts the refusal).
   */
  accept(value: unknown): TrustListVerdict {
    const held = this.deps.keys.trustList();
    const check = verifyTrustList(
      value,
      Buffer.from(this.deps.venue.rootPublicKey, "hex"),
      this.deps.verifier,
      {
        venue: this.deps.venue.id,
        currentVersion: held.version,
      },
    );
    if (!check.ok) return { ok: false, reason: REASONS[check.reason], detail: check.detail };
    // verifyTrustList lets the same version through (a gate may hear it twice); a new list must rise.
    if (check.list.version <= held.version)
      return {
        ok: false,
        reason: "rollback",
        detail: `trust list version ${check.list.version} does not rise above the one held (${held.version})`,
      };
    // Stored and published in its canonical form: only the fields the root signed.
    const received = (typeof value === "string" ? JSON.parse(value) : value) as SignedTrustListJson;
    const trustList = trustListJson(check.list, received.signature);
    this.deps.keys.setTrustList(trustList);
    this.markRevoked(check.list.keys.filter((k) => k.revoked).map((k) => k.keyId));
    this.deps.publishTrustList(trustList);
    return { ok: true, trustList };
  }

  /** A key the root revoked is marked so in the server's list of issuer keys (public halves). */
  private markRevoked(keyIds: readonly number[]): void {
    for (const key of this.deps.keys.issuerKeys())
      if (keyIds.includes(key.keyId) && !key.revoked) this.deps.keys.putIssuerKey({ ...key, revoked: true });
  }
}
