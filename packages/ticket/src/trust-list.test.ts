import { describe, expect, it } from "vitest";
import {
  createNodeSigner,
  createNodeVerifier,
  keyPairFromSeed,
  tweetnaclSigner,
  tweetnaclVerifier,
} from "./ed25519.js";
import { type SignedTrustListJson, signTrustList, type TrustList, verifyTrustList } from "./trust-list.js";

const root = keyPairFromSeed(new Uint8Array(32).fill(1));
const issuerA = keyPairFromSeed(new Uint8Array(32).fill(2));
const issuerB = keyPairFromSeed(new Uint8Array(32).fill(3));
const list: TrustList = {
  venue: "Stade de France",
  version: 4,
  issuedAt: 1_780_000_000,
  keys: [
    {
      keyId: 2,
      publicKey: issuerB.publicKey,
      validFrom: 1_780_000_000,
      validUntil: 1_790_000_000,
      revoked: false,
    },
    {
      keyId: 1,
      publicKey: issuerA.publicKey,
      validFrom: 1_770_000_000,
      validUntil: 1_790_000_000,
      revoked: true,
    },
  ],
};
const verifier = createNodeVerifier();

describe("signed trust list", () => {
  const signed = signTrustList(list, root.seed, createNodeSigner());

  it("verifies, with keys in key-id order, and both signers agree", () => {
    const r = verifyTrustList(JSON.stringify(signed), root.publicKey, verifier, {
      venue: "Stade de France",
      currentVersion: 4,
    });
    expect(r.ok).toBe(true);
    if (r.ok)
      expect(r.list.keys.map((k) => [k.keyId, k.revoked])).toEqual([
        [1, true],
        [2, false],
      ]);
    expect(signTrustList(list, root.seed, tweetnaclSigner).signature).toBe(signed.signature);
    expect(verifyTrustList(signed, root.publicKey, tweetnaclVerifier).ok).toBe(true);
  });

  const tampered = (change: (j: SignedTrustListJson) => void): SignedTrustListJson => {
    const copy = structuredClone(signed);
    change(copy);
    return copy;
  };

  it.each([
    [
      "un-revoking a key",
      (j: SignedTrustListJson) => {
        const k = j.keys[0];
        if (k) k.revoked = false;
      },
    ],
    [
      "adding a key",
      (j: SignedTrustListJson) =>
        j.keys.push({
          keyId: 9,
          publicKey: "11".repeat(32),
          validFrom: j.issuedAt,
          validUntil: j.issuedAt,
          revoked: false,
        }),
    ],
    [
      "extending validity",
      (j: SignedTrustListJson) => {
        const k = j.keys[1];
        if (k) k.validUntil = "2099-01-01T00:00:00.000Z";
      },
    ],
    [
      "bumping the version",
      (j: SignedTrustListJson) => {
        j.version = 99;
      },
    ],
  ])("refuses a list tampered by %s", (_name, change) => {
    expect(verifyTrustList(tampered(change), root.publicKey, verifier)).toMatchObject({
      ok: false,
      reason: "BAD_SIGNATURE",
    });
  });

  it("refuses a list signed by another root", () => {
    const other = keyPairFromSeed(new Uint8Array(32).fill(7));
    expect(verifyTrustList(signed, other.publicKey, verifier)).toMatchObject({ reason: "BAD_SIGNATURE" });
  });

  it("refuses rollback to an older list and a list for another venue", () => {
    expect(verifyTrustList(signed, root.publicKey, verifier, { currentVersion: 5 })).toMatchObject({
      reason: "ROLLBACK",
    });
    expect(verifyTrustList(signed, root.publicKey, verifier, { venue: "Parc des Princes" })).toMatchObject({
      reason: "WRONG_VENUE",
    });
  });

  it.each([
    ["not JSON", "{"],
    ["null", "null"],
    ["wrong format", JSON.stringify({ ...signed, format: "x" })],
    [
      "short key",
      JSON.stringify(
        tampered((j) => {
          const k = j.keys[0];
          if (k) k.publicKey = "abcd";
        }),
      ),
    ],
    [
      "bad time",
      JSON.stringify(
        tampered((j) => {
          const k = j.keys[0];
          if (k) k.validFrom = "yesterday";
        }),
      ),
    ],
    [
      "duplicate key id",
      JSON.stringify(
        tampered((j) => {
          const k = j.keys[1];
          if (k) k.keyId = 1;
        }),
      ),
    ],
    ["missing signature", JSON.stringify({ ...signed, signature: undefined })],
  ])("reports a malformed list (%s) without throwing", (_name, input) => {
    const r = verifyTrustList(input, root.publicKey, verifier);
    expect(r).toMatchObject({ ok: false, reason: "MALFORMED" });
  });
});
