import { describe, expect, it } from "vitest";
import { credentialShapedText } from "../test/fixtures.js";
import { parseOsdpRawPayload, scanFromOsdpRaw } from "./osdp.js";

const ticket = credentialShapedText(31);
const bytes = new TextEncoder().encode(ticket);

function rawPayload(reader: number, format: number, bitCount: number, data: Uint8Array): Uint8Array {
  return Uint8Array.from([reader, format, bitCount & 0xff, bitCount >> 8, ...data]);
}

describe("OSDP RAW reports", () => {
  it("turn a QR reader's raw bytes into a scan event", () => {
    const report = parseOsdpRawPayload(3, rawPayload(0, 0, bytes.length * 8, bytes));
    if ("error" in report) throw new Error(report.error);
    const result = scanFromOsdpRaw(report, "L4", 1234);
    expect(result).toMatchObject({
      kind: "scan",
      event: {
        source: "osdp",
        device: "osdp:3/reader 0",
        lane: "L4",
        text: ticket,
        at: 1234,
        content: { kind: "sesame" },
      },
    });
  });

  it("strip the AIM identifier and suffix a reader leaves in", () => {
    const data = new TextEncoder().encode(`]Q1${ticket}\r`);
    const report = parseOsdpRawPayload(1, rawPayload(0, 0, data.length * 8, data));
    if ("error" in report) throw new Error(report.error);
    const result = scanFromOsdpRaw(report, "L1", 0);
    expect(result.kind === "scan" && result.event.text).toBe(ticket);
  });

  it("say clearly when the report is a card, not a QR code", () => {
    const wiegand = parseOsdpRawPayload(1, rawPayload(0, 1, 26, Uint8Array.of(1, 2, 3, 0x40)));
    if ("error" in wiegand) throw new Error(wiegand.error);
    expect(scanFromOsdpRaw(wiegand, "L1", 0)).toMatchObject({
      kind: "problem",
      problem: { code: "unsupported-report", message: expect.stringMatching(/card/) },
    });
    const odd = parseOsdpRawPayload(1, rawPayload(0, 0, 26, Uint8Array.of(1, 2, 3, 0x40)));
    if ("error" in odd) throw new Error(odd.error);
    expect(scanFromOsdpRaw(odd, "L1", 0).kind).toBe("problem");
  });

  it("reject payloads whose bit count and length disagree", () => {
    expect(parseOsdpRawPayload(1, Uint8Array.of(0, 0))).toHaveProperty("error");
    expect(parseOsdpRawPayload(1, rawPayload(0, 0, 80, Uint8Array.of(1, 2)))).toHaveProperty("error");
  });
});
