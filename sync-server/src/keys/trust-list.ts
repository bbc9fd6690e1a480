import { type Ed25519Signer, type SignedTrustListJson, signTrustList } from "@sesame/ticket";
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

  /**
   * Adds an issuer key made at the issuer (its `GET /keys`): only its public half comes here, the
   * seed never leaves the issuer.
   */
  rotateKey(validDays: unknown, keyIdInput: unknown, publicKey: unknown) {
    const days = validDays === undefined ? 90 : validDays;
    if (typeof days !== "number" || !Number.isInteger(days) || days < 1 || days > 3650)
      throw new ApiError(400, "validDays must be a whole number of days between 1 and 3650");
    if (typeof publicKey !== "string" || !/^[0-9a-f]{64}$/i.test(publicKey))
      throw new ApiError(
        400,
        "publicKey must be the issuer key's 32-byte public key in hex (the issuer's GET /keys)",
      );
    const keys = this.deps.keys.issuerKeys();
    if (
      typeof keyIdInput !== "number" ||
      !Number.isInteger(keyIdInput) ||
      keyIdInput < 1 ||
      keyIdInput > 0xffff
    )
      throw new ApiError(400, "keyId must be the issuer key's id, a whole number from 1 to 65535");
    const keyId = keyIdInput;
    if (keys.some((k) => k.keyId === keyId))
      throw new ApiError(409, `issuer key ${keyId} is already in the trust list`);
    const nowS = Math.floor(this.deps.now() / 1000);
    const key: IssuerKeyRecord = {
      keyId,
      publicKey: publicKey.toLowerCase(),
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
