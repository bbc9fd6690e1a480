import { type SignedOperationsCertificate, signOperationsCertificate } from "@sesame/sync";
import {
  createNodeVerifier,
  type Ed25519Signer,
  type IssuerKey,
  keyPairFromSeed,
  type SignedTrustListJson,
  signTrustList,
  verifyTrustList,
} from "@sesame/ticket";
import type { Venue } from "@sesame/venue";

/*
 * What the venue root key signs, in one place (docs/design.md §9): the trust list (issuer keys and
 * their revocations) and the venue server's operations certificate. Run offline by the root holder
 * (`sesame root …`) and by the demo's and the tests' set-up; no server calls these.
 */

/** How long an operations certificate is valid by default. */
export const DEFAULT_OPERATIONS_DAYS = 30;
/** Longest validity: the operations key is online, its certificate must end by itself. */
export const MAX_OPERATIONS_DAYS = 366;

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

function checkRoot(rootSeed: Uint8Array, venue: Venue): void {
  if (hex(keyPairFromSeed(rootSeed).publicKey) !== venue.rootPublicKey.toLowerCase())
    throw new RangeError(`the root seed given is not venue ${venue.id}'s root key`);
}

/**
 * Certifies an operations public key (hex) from `now` for `days` days (an hour back: a gate whose
 * clock is behind is alerted for its skew, not cut off from commands and gate lists).
 */
export function certifyOperationsKey(
  rootSeed: Uint8Array,
  venue: Venue,
  publicKey: string,
  options: { readonly now: number; readonly days?: number; readonly signer: Ed25519Signer },
): SignedOperationsCertificate {
  checkRoot(rootSeed, venue);
  if (!/^[0-9a-f]{64}$/i.test(publicKey))
    throw new RangeError("an operations public key is 32 bytes of hex (64 digits)");
  const days = options.days ?? DEFAULT_OPERATIONS_DAYS;
  if (!Number.isInteger(days) || days < 1 || days > MAX_OPERATIONS_DAYS)
    throw new RangeError(`an operations certificate is valid for 1 to ${MAX_OPERATIONS_DAYS} days`);
  return signOperationsCertificate(
    {
      venue: venue.id,
      publicKey: publicKey.toLowerCase(),
      notBefore: options.now - 3_600_000,
      notAfter: options.now + days * 86_400_000,
    },
    rootSeed,
    options.signer,
  );
}

/** An issuer key to add to the trust list (the issuer made it and gives its public key). */
export interface NewIssuerKey {
  readonly keyId: number;
  /** Hex, 32 bytes. */
  readonly publicKey: string;
  /** Unix seconds. */
  readonly validFrom: number;
  readonly validUntil: number;
}

export interface TrustListChange {
  readonly add?: readonly NewIssuerKey[];
  readonly revoke?: readonly number[];
}

/**
 * The next trust list after `current` (which must be the root's own, for this venue): keys added
 * or revoked, the version one higher. Throws a specific error for a change that makes no sense.
 */
export function signNextTrustList(
  rootSeed: Uint8Array,
  venue: Venue,
  current: unknown,
  change: TrustListChange,
  options: { readonly now: number; readonly signer: Ed25519Signer },
): SignedTrustListJson {
  checkRoot(rootSeed, venue);
  const held = verifyTrustList(current, Buffer.from(venue.rootPublicKey, "hex"), createNodeVerifier(), {
    venue: venue.id,
  });
  if (!held.ok) throw new RangeError(`the current trust list is refused (${held.reason}): ${held.detail}`);
  const keys = new Map<number, IssuerKey>(held.list.keys.map((k) => [k.keyId, k]));
  for (const k of change.add ?? []) {
    if (keys.has(k.keyId)) throw new RangeError(`issuer key ${k.keyId} is already in the trust list`);
    if (!/^[0-9a-f]{64}$/i.test(k.publicKey))
      throw new RangeError(`issuer key ${k.keyId}: its public key is 32 bytes of hex (64 digits)`);
    keys.set(k.keyId, {
      keyId: k.keyId,
      publicKey: Uint8Array.from(Buffer.from(k.publicKey, "hex")),
      validFrom: k.validFrom,
      validUntil: k.validUntil,
      revoked: false,
    });
  }
  for (const keyId of change.revoke ?? []) {
    const key = keys.get(keyId);
    if (!key) throw new RangeError(`issuer key ${keyId} is not in the trust list`);
    if (key.revoked) throw new RangeError(`issuer key ${keyId} is already revoked`);
    keys.set(keyId, { ...key, revoked: true });
  }
  return signTrustList(
    {
      venue: venue.id,
      version: held.list.version + 1,
      issuedAt: Math.floor(options.now / 1000),
      keys: [...keys.values()],
    },
    rootSeed,
    options.signer,
  );
}
