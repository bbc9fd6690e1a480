import { describe, expect, it } from "vitest";
import {
  clientCryptogram,
  computeMac,
  decryptData,
  deriveSessionKeys,
  encryptData,
  initialRmac,
  parseKeyHex,
  SCBK_D,
  serverCryptogram,
} from "../src/index.js";

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));
const toHex = (b: Uint8Array) => Buffer.from(b).toString("hex").toUpperCase();

// SIA OSDP v2.2 Annex E secure-channel example, as reproduced in libosdp
// tests/unit-tests/test-sc-sia-vectors.c: SCBK-D, RND.A (the CP's) = B0..B7, RND.B (the PD's) = A0..A7.
const RND_A = hex("B0B1B2B3B4B5B6B7");
const RND_B = hex("A0A1A2A3A4A5A6A7");

describe("Secure Channel (Annex E vectors)", () => {
  const keys = deriveSessionKeys(SCBK_D, RND_A);

  it("SCBK-D is 0x30..0x3F", () => {
    expect(toHex(SCBK_D)).toBe("303132333435363738393A3B3C3D3E3F");
  });

  it("derives S-ENC, S-MAC1 and S-MAC2 from RND.A", () => {
    expect(toHex(keys.enc)).toBe("BF8DC2A8329ACB8C67C6D0CD9A451682");
    expect(toHex(keys.mac1)).toBe("5E86C676603BDEE2D8BEAFE178637332");
    expect(toHex(keys.mac2)).toBe("6FDA86E857777E81132035758239172E");
  });

  it("computes the client (PD) and server (CP) cryptograms", () => {
    expect(toHex(clientCryptogram(keys, RND_A, RND_B))).toBe("FDE5D2F428EC16312471EA3C02BD7796");
    expect(toHex(serverCryptogram(keys, RND_A, RND_B))).toBe("26D3356E07762D262801FC8E6665A891");
  });

  it("computes the initial R-MAC", () => {
    expect(toHex(initialRmac(keys, serverCryptogram(keys, RND_A, RND_B)))).toBe(
      "B2A30057EB98BA2229EC1F875662B524",
    );
  });
});

describe("Secure Channel MAC and data blocks", () => {
  const keys = deriveSessionKeys(SCBK_D, RND_A);
  const iv = initialRmac(keys, serverCryptogram(keys, RND_A, RND_B));

  it("pads a MAC'd message only when it is not block-aligned", () => {
    const aligned = new Uint8Array(16).fill(7);
    const explicitPad = new Uint8Array(32);
    explicitPad.set(aligned);
    explicitPad[16] = 0x80;
    // An aligned message is MAC'd as is: padding it by hand gives a different MAC.
    expect(computeMac(keys, iv, aligned)).not.toEqual(computeMac(keys, iv, explicitPad));
    const short = hex("53 01 0E 00 0D 02 15 60");
    const padded = new Uint8Array(16);
    padded.set(short);
    padded[short.length] = 0x80;
    expect(computeMac(keys, iv, short)).toEqual(computeMac(keys, iv, padded));
  });

  it("always pads encrypted data, so 16 plain bytes become 32", () => {
    const plain = new Uint8Array(16).fill(0x42);
    const cipher = encryptData(keys, iv, plain);
    expect(cipher.length).toBe(32);
    expect(decryptData(keys, iv, cipher)).toEqual(plain);
    expect(encryptData(keys, iv, hex("00 05 32 00")).length).toBe(16);
  });

  it("refuses data that is not whole blocks or has no end marker", () => {
    expect(() => decryptData(keys, iv, new Uint8Array(15))).toThrow(/whole AES blocks/);
    const wrongIv = new Uint8Array(16).fill(1);
    const cipher = encryptData(keys, iv, hex("01 02 03"));
    expect(() => decryptData(keys, wrongIv, cipher)).toThrow(/end marker/);
  });

  it("reads keys written as hex and explains a bad one", () => {
    expect(parseKeyHex("30:31:32:33:34:35:36:37:38:39:3a:3b:3c:3d:3e:3f")).toEqual(SCBK_D);
    expect(() => parseKeyHex("abc")).toThrow(/32 hex digits/);
  });
});

// NIST SP 800-38A F.2.1 (CBC-AES128.Encrypt). With S-MAC1 = S-MAC2 the OSDP MAC of block-aligned
// data is plain CBC-MAC, and with the last MAC = ~IV the data encryption is plain CBC: both must
// reproduce the published ciphertext.
describe("Secure Channel MAC and encryption against NIST SP 800-38A", () => {
  const key = hex("2b7e151628aed2a6abf7158809cf4f3c");
  const iv = hex("000102030405060708090a0b0c0d0e0f");
  const plain = hex(
    "6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51" +
      "30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710",
  );
  const cipher = hex(
    "7649abac8119b246cee98e9b12e9197d 5086cb9b507219ee95db113a917678b2" +
      "73bed6b8e3c1743b7116e69e22229516 3ff1caa1681fac09120eca307586e1a7",
  );
  const keys = { enc: key, mac1: key, mac2: key };

  it("MACs one block and four blocks as CBC does", () => {
    expect(computeMac(keys, iv, plain.subarray(0, 16))).toEqual(cipher.subarray(0, 16));
    expect(computeMac(keys, iv, plain)).toEqual(cipher.subarray(48, 64));
  });

  it("encrypts data as CBC with IV = ~(last MAC), then one block of padding, and decrypts it back", () => {
    const lastMac = iv.map((byte) => ~byte & 0xff);
    const sealed = encryptData(keys, lastMac, plain);
    expect(sealed.length).toBe(80);
    expect(sealed.subarray(0, 64)).toEqual(cipher);
    expect(decryptData(keys, lastMac, sealed)).toEqual(plain);
  });
});
