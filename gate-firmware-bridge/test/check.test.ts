import { describe, expect, it } from "vitest";
import { checksum8, crc16 } from "../src/index.js";

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));

/** Bit-by-bit CRC-16/AUG-CCITT, written straight from the definition, as an independent oracle. */
function referenceCrc(bytes: Uint8Array): number {
  let crc = 0x1d0f;
  for (const byte of bytes) {
    for (let bit = 7; bit >= 0; bit--) {
      const top = ((crc >> 15) ^ (byte >> bit)) & 1;
      crc = (crc << 1) & 0xffff;
      if (top) crc ^= 0x1021;
    }
  }
  return crc;
}

describe("OSDP check characters", () => {
  it("CRC-16/AUG-CCITT gives the catalogued check value 0xE5CC for ASCII 123456789", () => {
    expect(crc16(new TextEncoder().encode("123456789"))).toBe(0xe5cc);
  });

  // SIA OSDP v2.2 Annex E, CRC examples 1 and 2 (also in libosdp tests/unit-tests/test-sc-sia-vectors.c).
  it("matches the specification's CRC example 1 (osdp_COMSET broadcast): 6E 38, low byte first", () => {
    const crc = crc16(hex("53 7F 0D 00 04 6E 00 80 25 00 00"));
    expect([crc & 0xff, crc >> 8]).toEqual([0x6e, 0x38]);
  });

  it("matches the specification's CRC example 2 (osdp_ID): C0 66", () => {
    const crc = crc16(hex("53 00 09 00 04 61 00"));
    expect([crc & 0xff, crc >> 8]).toEqual([0xc0, 0x66]);
  });

  it("matches the specification's checksum examples: 0x0F and 0x44", () => {
    expect(checksum8(hex("53 7F 0C 00 00 6E 00 80 25 00 00"))).toBe(0x0f);
    expect(checksum8(hex("53 00 08 00 00 61 00"))).toBe(0x44);
  });

  it("agrees with the bit-by-bit reference on random data", () => {
    for (let n = 0; n < 200; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n * 101) & 0xff);
      expect(crc16(bytes)).toBe(referenceCrc(bytes));
    }
  });
});
