import { randomBytes } from "node:crypto";
import { createNodeSigner, keyPairFromSeed, type SignedTrustListJson } from "@sesame/ticket";
import { readRootKeyFile } from "@sesame/venue";
import type { ServerStore } from "../store.js";
import { signNextTrustList } from "./root-signing.js";
import { demoRootKeyFile } from "./set-up.js";

/*
 * Issuer key rotation for tests, as it goes at a venue: the issuer makes a key (here: the venue
 * server's own issuer, until the issuer's stream replaces it), the root holder signs the trust list
 * that adds it offline (the demo's root key file), and the caller gives that list to the server.
 */

export function rotateIssuerKeyOffline(
  store: ServerStore,
  venueDir: string,
  options: { readonly now: number; readonly days?: number },
): {
  readonly keyId: number;
  readonly publicKey: string;
  /** The new key's seed, which stays at the issuer (a test's MemoryIssuer signs with it). */
  readonly seed: Uint8Array;
  readonly trustList: SignedTrustListJson;
} {
  const venue = store.venue();
  const keyId = Math.max(0, ...store.issuerKeys().map((k) => k.keyId)) + 1;
  const seed = randomBytes(32);
  const publicKey = Buffer.from(keyPairFromSeed(seed).publicKey).toString("hex");
  const nowS = Math.floor(options.now / 1000);
  const key = { keyId, publicKey, validFrom: nowS - 60, validUntil: nowS + (options.days ?? 30) * 86_400 };
  const trustList = signNextTrustList(
    readRootKeyFile(demoRootKeyFile(venueDir), venue.rootPublicKey),
    venue,
    store.trustList(),
    { add: [key] },
    { now: options.now, signer: createNodeSigner() },
  );
  return { keyId, publicKey, seed: Uint8Array.from(seed), trustList };
}

/** The trust list revoking an issuer key, signed by the demo's root as its holder would offline. */
export function revokeIssuerKeyOffline(
  store: ServerStore,
  venueDir: string,
  keyId: number,
  now: number,
): SignedTrustListJson {
  const venue = store.venue();
  return signNextTrustList(
    readRootKeyFile(demoRootKeyFile(venueDir), venue.rootPublicKey),
    venue,
    store.trustList(),
    { revoke: [keyId] },
    { now, signer: createNodeSigner() },
  );
}
