import { describe, expect, it } from "vitest";
import {
  createNodeSigner,
  createNodeVerifier,
  createScanVerifiers,
  createSodiumVerifier,
  type Ed25519Verifier,
  keyPairFromSeed,
  keyPairFromSeedPortable,
  nodeVerifierNoCache,
  tweetnaclSigner,
  tweetnaclVerifier,
} from "./ed25519.js";

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));
const toHex = (b: Uint8Array) => Buffer.from(b).toString("hex");

// RFC 8032 §7.1, TEST 1, TEST 2 and TEST 3.
const RFC8032 = [
  {
    name: "TEST 1 (empty message)",
    secret: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
    publicKey: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    message: "",
    signature:
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
  },
  {
    name: "TEST 2 (one byte)",
    secret: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
    publicKey: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
    message: "72",
    signature:
      "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
  },
  {
    name: "TEST 3 (two bytes)",
    secret: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
    publicKey: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
    message: "af82",
    signature:
      "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
  },
];

const signers = [tweetnaclSigner, createNodeSigner()];
// sodium-native ships a prebuilt binding for the platforms gates run on (linux-x64 among them).
const sodium = createSodiumVerifier();
const verifiers: Ed25519Verifier[] = [
  tweetnaclVerifier,
  createNodeVerifier(),
  nodeVerifierNoCache,
  ...(sodium ? [sodium] : []),
];

describe("the scan path's verifier", () => {
  it("is libsodium here (its prebuilt binding loads)", () => {
    expect(sodium?.name).toBe("libsodium");
    const scan = createScanVerifiers();
    expect(scan.issuerVerifier.name).toBe("libsodium");
    expect(scan.deviceVerifier.name).toBe("libsodium");
  });
});

describe("Ed25519 against RFC 8032 test vectors", () => {
  for (const v of RFC8032) {
    it(`${v.name}: public key derivation`, () => {
      expect(toHex(keyPairFromSeed(hex(v.secret)).publicKey)).toBe(v.publicKey);
      expect(toHex(keyPairFromSeedPortable(hex(v.secret)).publicKey)).toBe(v.publicKey);
    });
    for (const signer of signers) {
      it(`${v.name}: ${signer.name} signs the published signature`, () => {
        expect(toHex(signer.sign(hex(v.message), hex(v.secret)))).toBe(v.signature);
      });
    }
    for (const verifier of verifiers) {
      it(`${v.name}: ${verifier.name} accepts it and rejects a flipped bit`, () => {
        const sig = hex(v.signature);
        expect(verifier.verify(hex(v.message), sig, hex(v.publicKey))).toBe(true);
        const bad = Uint8Array.from(sig);
        bad[10] = (bad[10] ?? 0) ^ 0x01;
        expect(verifier.verify(hex(v.message), bad, hex(v.publicKey))).toBe(false);
      });
    }
  }

  it("every verifier refuses S >= L (non-canonical) and malformed sizes without throwing", () => {
    const v = RFC8032[0];
    if (!v) throw new Error("no vector");
    const sig = hex(v.signature);
    const highS = Uint8Array.from(sig);
    highS[63] = 0xff;
    for (const verifier of verifiers) {
      expect(verifier.verify(hex(v.message), highS, hex(v.publicKey))).toBe(false);
      expect(verifier.verify(hex(v.message), sig.subarray(0, 63), hex(v.publicKey))).toBe(false);
      expect(verifier.verify(hex(v.message), sig, new Uint8Array(31))).toBe(false);
      expect(verifier.verify(hex(v.message), sig, new Uint8Array(32).fill(0xff))).toBe(false);
    }
  });

  it("every verifier refuses a small-order public key, with which anyone can sign anything", () => {
    // Public key and R the identity point, S = 0: [S]B = R + [k]A holds for every message in the
    // cofactorless check of OpenSSL and tweetnacl. The differential test over the eight small-order
    // points and the non-canonical encodings is small-order.test.ts.
    const identity = new Uint8Array(32);
    identity[0] = 1;
    const signature = new Uint8Array(64);
    signature.set(identity, 0);
    const message = new Uint8Array([1, 2, 3]);
    for (const verifier of verifiers) expect(verifier.verify(message, signature, identity)).toBe(false);
  });

  it("rejects a seed that is not 32 bytes", () => {
    expect(() => keyPairFromSeed(new Uint8Array(31))).toThrow(/32 bytes/);
  });
});
