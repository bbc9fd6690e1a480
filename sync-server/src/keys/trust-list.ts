import { randomBytes } from "node:crypto";
import { type Ed25519Signer, keyPairFromSeed, type SignedTrustListJson, signTrustList } from "@sesame/ticket";
import type { Venue } from "@sesame/venue";
import { ApiError } from "../errors.js";
import type { IssuerKeyRecord, KeyRepository } from "./repository.js";

/*
 * Issuer key rotation and revocation: each signs a new trust list with the venue root key (gates
 * pin the root, so they accept it, and refuse an older version). A revocation is that new list and
 * nothing else: the ticket feed carries ticket changes only, so that whoever can put a message on
 * the feed cannot make the gates refuse every ticket of a key.
 */

export interface KeyDeskDeps {
  readonly keys: KeyRepository;
  readonly venue: Venue;
  readonly rootSeed: Uint8Array;
  readonly signer: Ed25519Signer;
  now(): number;
  publishTrustList(list: SignedTrustListJson): void;
}

export class KeyDesk {
  constructor(private readonly deps: KeyDeskDeps) {}

  private signAndStoreTrustList(keys: readonly IssuerKeyRecord[]): SignedTrustListJson {
    const current = this.deps.keys.trustList();
    const signed = signTrustList(
      {
        venue: this.deps.venue.id,
        version: current.version + 1,
        issuedAt: Math.floor(this.deps.now() / 1000),
        keys: keys.map((k) => ({
          keyId: k.keyId,
          publicKey: Uint8Array.from(Buffer.from(k.publicKey, "hex")),
          validFrom: k.validFrom,
          validUntil: k.validUntil,
          revoked: k.revoked,
        })),
      },
      this.deps.rootSeed,
      this.deps.signer,
    );
    this.deps.keys.setTrustList(signed);
    this.deps.publishTrustList(signed);
    return signed;
  }

  rotateKey(validDays: unknown) {
    const days = validDays === undefined ? 90 : validDays;
    if (typeof days !== "number" || !Number.isInteger(days) || days < 1 || days > 3650)
      throw new ApiError(400, "validDays must be a whole number of days between 1 and 3650");
    const keys = this.deps.keys.issuerKeys();
    const keyId = Math.max(0, ...keys.map((k) => k.keyId)) + 1;
    if (keyId > 0xffff) throw new ApiError(409, "no key id left");
    const seed = randomBytes(32);
    const nowS = Math.floor(this.deps.now() / 1000);
    const key: IssuerKeyRecord = {
      keyId,
      seed: seed.toString("hex"),
      publicKey: Buffer.from(keyPairFromSeed(seed).publicKey).toString("hex"),
      validFrom: nowS - 60,
      validUntil: nowS + days * 86_400,
      revoked: false,
    };
    this.deps.keys.putIssuerKey(key);
    const trustList = this.signAndStoreTrustList(this.deps.keys.issuerKeys());
    return { keyId, publicKey: key.publicKey, trustList };
  }

  revokeKey(keyId: number) {
    const keys = this.deps.keys.issuerKeys();
    const key = keys.find((k) => k.keyId === keyId);
    if (!key) throw new ApiError(404, `issuer key ${keyId} does not exist`);
    if (key.revoked) throw new ApiError(409, `issuer key ${keyId} is already revoked`);
    this.deps.keys.putIssuerKey({ ...key, revoked: true });
    const trustList = this.signAndStoreTrustList(this.deps.keys.issuerKeys());
    return { keyId, trustList };
  }
}
