import { describe, expect, it } from "vitest";
import {
  decodeCommand,
  decodeReply,
  encodeCommand,
  encodeReply,
  NakCode,
  OutputAction,
} from "../src/index.js";

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));

describe("command payloads", () => {
  it("osdp_OUT: output, control code, timer in 100 ms units little-endian", () => {
    // Output 0, temporary on for 5 s (50 × 100 ms): the grant a turnstile controller expects.
    const { code, data } = encodeCommand({
      kind: "out",
      outputs: [{ output: 0, action: OutputAction.TEMPORARY_ON, timer: 50 }],
    });
    expect(code).toBe(0x68);
    expect(data).toEqual(hex("00 05 32 00"));
    expect(decodeCommand(code, data)).toEqual({
      kind: "out",
      outputs: [{ output: 0, action: 5, timer: 50 }],
    });
  });

  it("osdp_KEYSET: key type 1, length 16, key", () => {
    const key = hex("000102030405060708090A0B0C0D0E0F");
    const { code, data } = encodeCommand({ kind: "keyset", key });
    expect(code).toBe(0x75);
    expect(data).toEqual(hex("01 10 000102030405060708090A0B0C0D0E0F"));
  });

  it("osdp_LED and osdp_BUZ round-trip", () => {
    const led = {
      kind: "led" as const,
      leds: [
        {
          reader: 0,
          led: 0,
          temporary: { code: 2, onTime: 3, offTime: 2, onColor: 1, offColor: 0, timer: 300 },
          permanent: { code: 1, onTime: 1, offTime: 0, onColor: 2, offColor: 0 },
        },
      ],
    };
    const encoded = encodeCommand(led);
    expect(encoded.data.length).toBe(14);
    expect(decodeCommand(encoded.code, encoded.data)).toEqual(led);
    const buz = { kind: "buz" as const, buzzer: { reader: 0, tone: 2, onTime: 2, offTime: 2, count: 3 } };
    expect(encodeCommand(buz).data).toEqual(hex("00 02 02 02 03"));
  });

  it("says which NAK a bad command deserves", () => {
    expect(() => decodeCommand(0x68, hex("00 05 32"))).toThrow(
      expect.objectContaining({ nak: NakCode.COMMAND_LENGTH }),
    );
    expect(() => decodeCommand(0x99, hex(""))).toThrow(
      expect.objectContaining({ nak: NakCode.UNKNOWN_COMMAND }),
    );
    expect(() => encodeCommand({ kind: "out", outputs: [{ output: 0, action: 9, timer: 0 }] })).toThrow(
      /control code/,
    );
  });
});

describe("reply payloads", () => {
  it("osdp_PDID: vendor code, model, version, serial (LE), firmware", () => {
    const data = hex("5C 26 23 19 02 4D 9E 01 00 03 05 01");
    const reply = decodeReply(0x45, data);
    expect(reply).toEqual({
      kind: "pdid",
      identity: {
        vendorCode: 0x23265c,
        model: 0x19,
        version: 0x02,
        serialNumber: 0x019e4d,
        firmware: { major: 3, minor: 5, build: 1 },
      },
    });
    expect(encodeReply(reply).data).toEqual(data);
  });

  it("osdp_RAW: bit count must match the data", () => {
    expect(decodeReply(0x50, hex("00 00 10 00 41 42"))).toMatchObject({ kind: "raw", bitCount: 16 });
    expect(() => decodeReply(0x50, hex("00 00 18 00 41 42"))).toThrow(/24 bits but carries 2 bytes/);
    expect(() => decodeReply(0x50, hex("00 00"))).toThrow(/at least 4 bytes, got 2/);
  });

  it("osdp_RAW from a QR reader: format 0, 8 bits a byte, the code's bytes as read (AIM prefix and all)", () => {
    const code = new TextEncoder().encode("]Q1HC1:NCFOXN%TS3DH\r");
    expect(decodeReply(0x50, Uint8Array.of(1, 0, code.length * 8, 0, ...code))).toEqual({
      kind: "raw",
      reader: 1,
      format: 0,
      bitCount: code.length * 8,
      data: code,
    });
  });

  it("osdp_NAK carries its reason; osdp_ISTATR one byte per input", () => {
    expect(decodeReply(0x41, hex("04"))).toMatchObject({
      kind: "nak",
      code: 4,
      reason: "sequence number error",
    });
    expect(decodeReply(0x49, hex("00 01 00 01"))).toEqual({
      kind: "istatr",
      inputs: [false, true, false, true],
    });
    expect(() => decodeReply(0x41, hex(""))).toThrow(/without an error code/);
  });
});
