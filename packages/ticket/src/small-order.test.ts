import { createPublicKey, verify as nodeVerify } from "node:crypto";
import { createRequire } from "node:module";
import nacl from "tweetnacl";
import { describe, expect, it } from "vitest";
import { type Credential, issueCredential, type TicketBody, verifyCredential } from "./credential.js";
import {
  createNodeSigner,
  createNodeVerifier,
  createSodiumVerifier,
  type Ed25519Verifier,
  keyPairFromSeed,
  nodeVerifierNoCache,
  publicKeyProblem,
  tweetnaclVerifier,
} from "./ed25519.js";
import { createTestIssuer, T0 } from "./fixtures.js";

/*
 * Small-order and non-canonical public keys, differentially: the raw implementations disagree on
 * them (OpenSSL and tweetnacl accept a proof anyone can compute, libsodium refuses it), and every
 * verifier the gate can use must refuse. Issuing a ticket under such a device key is refused too.
 */

const hex = (s: string) => Uint8Array.from(Buffer.from(s, "hex"));

/**
 * The eight points of order dividing 8 on edwards25519, canonically encoded (golden bytes). The y
 * values are those of libsodium's small-order blocklist (`ge25519_has_small_order`,
 * src/libsodium/crypto_core/ed25519/ref10/ed25519_ref10.c); each with the sign bits of its x values
 * as in "Taming the many EdDSAs" (Chalkias, Garillot, Nikolaenko, 2020), the x = 0 points (identity,
 * order 2) with sign 0 only.
 */
const SMALL_ORDER_POINTS: ReadonlyArray<{ name: string; key: string }> = [
  { name: "identity (order 1)", key: "0100000000000000000000000000000000000000000000000000000000000000" },
  { name: "(0, -1) (order 2)", key: "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f" },
  {
    name: "(+sqrt(-1), 0) (order 4)",
    key: "0000000000000000000000000000000000000000000000000000000000000000",
  },
  {
    name: "(-sqrt(-1), 0) (order 4)",
    key: "0000000000000000000000000000000000000000000000000000000000000080",
  },
  {
    name: "order 8, first y, x even",
    key: "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
  },
  {
    name: "order 8, first y, x odd",
    key: "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
  },
  {
    name: "order 8, second y, x even",
    key: "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
  },
  {
    name: "order 8, second y, x odd",
    key: "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
  },
];

/** Non-canonical spellings of small-order points: x = 0 with the sign bit set, and y = p, p + 1. */
const SMALL_ORDER_NON_CANONICAL: ReadonlyArray<{ name: string; key: string }> = [
  { name: "identity, sign bit set", key: "0100000000000000000000000000000000000000000000000000000000000080" },
  { name: "(0, -1), sign bit set", key: "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff" },
  { name: "y = p (that is 0)", key: "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f" },
  { name: "y = p + 1 (that is 1)", key: "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f" },
];

/** Every encoding with y ≥ p: y = p + j (j = 0..18, the largest 255-bit values), either sign bit. */
const NON_CANONICAL_Y: ReadonlyArray<{ name: string; key: Uint8Array }> = Array.from(
  { length: 38 },
  (_, i) => {
    const j = i >> 1;
    const negative = (i & 1) === 1;
    const key = new Uint8Array(32).fill(0xff);
    key[0] = 0xed + j;
    key[31] = negative ? 0xff : 0x7f;
    return { name: `y = p + ${j}${negative ? ", sign bit set" : ""}`, key };
  },
);

// The raw implementations, without the gate's check in front of them.
const sodiumNative = createRequire(import.meta.url)("sodium-native") as {
  crypto_sign_verify_detached(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
  crypto_core_ed25519_is_valid_point(point: Uint8Array): boolean;
};
const raw = {
  tweetnacl: (m: Uint8Array, s: Uint8Array, k: Uint8Array) => nacl.sign.detached.verify(m, s, k),
  "node:crypto": (m: Uint8Array, s: Uint8Array, k: Uint8Array) => {
    const x = Buffer.from(k).toString("base64url");
    return nodeVerify(null, m, createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" }), s);
  },
  libsodium: (m: Uint8Array, s: Uint8Array, k: Uint8Array) =>
    sodiumNative.crypto_sign_verify_detached(s, m, k),
};

const sodium = createSodiumVerifier();
const gateVerifiers: Ed25519Verifier[] = [
  tweetnaclVerifier,
  createNodeVerifier(),
  nodeVerifierNoCache,
  ...(sodium ? [sodium] : []),
];

/** R = the identity, S = 0: it "verifies" for key A and message M when H(R‖A‖M)·A is the identity. */
const FORGED_SIGNATURE = (() => {
  const s = new Uint8Array(64);
  s[0] = 1;
  return s;
})();

/**
 * A message under which the forged signature passes a cofactorless check (1 in 8 at worst; the
 * messages are fixed, so the outcome is too).
 */
function forgeableMessage(key: Uint8Array): Uint8Array | undefined {
  for (let i = 0; i < 64; i++) {
    const message = new TextEncoder().encode(`SESAME-PROOF-1 forged ${i}`);
    if (raw.tweetnacl(message, FORGED_SIGNATURE, key)) return message;
  }
  return undefined;
}

describe("the eight small-order points (golden bytes)", () => {
  it("are eight distinct canonical encodings that libsodium calls invalid points", () => {
    expect(new Set(SMALL_ORDER_POINTS.map((p) => p.key)).size).toBe(8);
    for (const p of SMALL_ORDER_POINTS)
      expect(sodiumNative.crypto_core_ed25519_is_valid_point(hex(p.key))).toBe(false);
    // …while a real key is valid: the cross-check can tell them apart.
    expect(
      sodiumNative.crypto_core_ed25519_is_valid_point(keyPairFromSeed(new Uint8Array(32)).publicKey),
    ).toBe(true);
  });

  for (const p of [...SMALL_ORDER_POINTS, ...SMALL_ORDER_NON_CANONICAL]) {
    it(`${p.name}: OpenSSL and tweetnacl accept a proof anyone can compute; every gate verifier refuses it`, () => {
      const key = hex(p.key);
      const message = forgeableMessage(key);
      // The danger is real (and the point is of small order): the raw cofactorless checks accept.
      expect(message).toBeDefined();
      if (!message) return;
      expect(raw.tweetnacl(message, FORGED_SIGNATURE, key)).toBe(true);
      expect(raw["node:crypto"](message, FORGED_SIGNATURE, key)).toBe(true);
      expect(raw.libsodium(message, FORGED_SIGNATURE, key)).toBe(false);
      for (const verifier of gateVerifiers)
        expect(verifier.verify(message, FORGED_SIGNATURE, key)).toBe(false);
      // y = p and p + 1 are named for their encoding, which is checked first.
      expect(publicKeyProblem(key)).toMatch(/small order|not a canonical encoding/);
    });
  }
});

describe("non-canonical encodings (y ≥ p)", () => {
  it("all 38 are refused by every gate verifier, and named non-canonical", () => {
    const message = new TextEncoder().encode("SESAME-PROOF-1 any");
    for (const { name, key } of NON_CANONICAL_Y) {
      expect(publicKeyProblem(key), name).toMatch(/not a canonical encoding/);
      // (y = p and p + 1 spell small-order points: the forged proofs they would take are tested above.)
      for (const verifier of gateVerifiers)
        expect(verifier.verify(message, FORGED_SIGNATURE, key), `${verifier.name}, ${name}`).toBe(false);
    }
  });

  it("honest keys pass the check; a key of the wrong length is named", () => {
    for (let i = 0; i < 200; i++) {
      const seed = new Uint8Array(32);
      seed[0] = i;
      seed[1] = 0x5e;
      expect(publicKeyProblem(keyPairFromSeed(seed).publicKey)).toBeUndefined();
    }
    expect(publicKeyProblem(new Uint8Array(31))).toBe("is 31 bytes, not 32");
  });
});

describe("issuing and scanning a ticket under such a device key", () => {
  const issuer = createTestIssuer("small-order");
  const bad = [
    ...SMALL_ORDER_POINTS.map((p) => ({ name: p.name, key: hex(p.key), problem: /small order/ })),
    ...SMALL_ORDER_NON_CANONICAL.map((p) => ({
      name: p.name,
      key: hex(p.key),
      problem: /small order|canonical/,
    })),
    ...NON_CANONICAL_Y.map((p) => ({ ...p, problem: /not a canonical encoding/ })),
  ];

  it("issuing is refused with the key's problem", () => {
    for (const { name, key, problem } of bad) {
      expect(() => issuer.issue({ devicePublicKey: key }), name).toThrow(problem);
      expect(() => issuer.issue({ devicePublicKey: key }), name).toThrow(/device public key/);
    }
  });

  it("a ticket an issuer signed anyway is refused FORGED_PROOF, whichever verifier the gate uses", () => {
    // Built past issueCredential's check: the body with an honest key, then the identity put in its
    // place (the device key is the body's last 32 bytes, docs/credential.md) and signed as issuers do.
    const { credential: honest } = issuer.issue();
    const identity = hex(SMALL_ORDER_POINTS[0]?.key ?? "");
    const bodyBytes = Uint8Array.from(honest.bodyBytes);
    bodyBytes.set(identity, bodyBytes.length - 32);
    const signed = new Uint8Array([...new TextEncoder().encode("SESAME-TICKET-1"), ...bodyBytes]);
    const body: TicketBody = { ...honest.body, devicePublicKey: identity };
    const credential: Credential = {
      body,
      bodyBytes,
      issuerSignature: createNodeSigner().sign(signed, issuer.issuerKey.seed),
      // Any proof "verifies" under the identity in a cofactorless check.
      proof: { stepLow: Math.floor(T0 / 15_000) & 0xffff, signature: FORGED_SIGNATURE },
    };
    for (const verifier of gateVerifiers) {
      const verdict = verifyCredential(credential, {
        issuerKeys: issuer.issuerKeys,
        nowMs: T0,
        issuerVerifier: verifier,
        deviceVerifier: verifier,
      });
      expect(verdict.valid, verifier.name).toBe(false);
      if (verdict.valid) continue;
      expect(verdict.reason).toBe("FORGED_PROOF");
      expect(verdict.detail).toMatch(/device public key is a point of small order/);
    }
    // The same credential and its issuer signature are otherwise sound: only the device key is refused.
    expect(() => issueCredential(body, issuer.issuerKey.seed, createNodeSigner())).toThrow(/small order/);
  });
});
