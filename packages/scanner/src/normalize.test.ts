import { describe, expect, it } from "vitest";
import { credentialShapedText } from "../test/fixtures.js";
import { classifyContent } from "./content.js";
import { makeScanEvent, normalizeScanBytes, normalizeScanText } from "./normalize.js";

const ticket = credentialShapedText(7);
const bytes = (text: string) => new TextEncoder().encode(text);
const latin1 = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

describe("normalizeScanBytes", () => {
  it("reads and strips the AIM identifier of a QR code", () => {
    const n = normalizeScanBytes(bytes(`]Q1${ticket}`));
    expect(n.text).toBe(ticket);
    expect(n.symbology).toMatchObject({ aim: "]Q1", isQr: true, eciProtocol: false, name: "QR Code" });
  });

  it.each(["]Q0", "]Q1", "]Q3", "]Q5"])("strips %s without ECI handling", (aim) => {
    expect(normalizeScanBytes(bytes(aim + ticket)).text).toBe(ticket);
  });

  it("applies ECI escapes when the AIM modifier announces the ECI protocol", () => {
    const n = normalizeScanBytes(bytes(`]Q2\\000026${ticket}`));
    expect(n.text).toBe(ticket);
    expect(n.notes).toContain("ECI 000026 applied");
  });

  it("undoubles data backslashes under the ECI protocol and switches character sets", () => {
    const raw = new Uint8Array([
      ...bytes("]Q2\\000003"),
      ...latin1("caf\u00e9 \\\\ "),
      ...bytes("\\000026"),
      ...bytes("\u00e9t\u00e9"),
    ]);
    expect(normalizeScanBytes(raw).text).toBe("café \\ été");
  });

  it("strips leading ECI escapes that scanners prepend without announcing them", () => {
    for (const eci of ["\\000001", "\\000003", "\\000026", "\\000027", "\\000026\\000003"]) {
      expect(normalizeScanBytes(bytes(eci + ticket)).text).toBe(ticket);
    }
  });

  it("removes control characters and says so", () => {
    const n = normalizeScanBytes(bytes(`\x02${ticket.slice(0, 50)}\x1d${ticket.slice(50)}\r\n\x7f`));
    expect(n.text).toBe(ticket);
    expect(n.notes).toContain("5 control characters removed");
  });

  it("reads bytes that are not UTF-8 as ISO-8859-1 instead of failing", () => {
    const n = normalizeScanBytes(new Uint8Array([0xff, 0xfe, 0x41]));
    expect(n.text).toBe("\u00ff\u00feA");
    expect(n.notes[0]).toMatch(/not UTF-8/);
  });

  it("keeps other symbologies' identifiers as symbology, not text", () => {
    const n = normalizeScanBytes(bytes("]C1123456789"));
    expect(n.text).toBe("123456789");
    expect(n.symbology?.name).toBe("Code 128");
  });

  it("never throws on arbitrary bytes", () => {
    let seed = 3;
    for (let round = 0; round < 500; round++) {
      const raw = new Uint8Array(round % 64);
      for (let i = 0; i < raw.length; i++) {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        raw[i] = seed >>> 24;
      }
      const event = makeScanEvent({ source: "serial", device: "x", lane: "L1" }, raw, 0);
      expect(event.content.kind).not.toBe("sesame");
    }
  });
});

describe("classifyContent", () => {
  it("accepts SE1: + Base45 of a plausible length", () => {
    expect(classifyContent(ticket)).toEqual({ kind: "sesame", version: 1 });
    expect(classifyContent(credentialShapedText(1, 186))).toEqual({ kind: "sesame", version: 1 });
  });

  it.each([
    ["https://example.org/ticket/123", "url"],
    ["HTTP://EXAMPLE.ORG", "url"],
    ["www.example.org", "url"],
    ["HC1:6BFOXN%TS3DH0YOJ58S S-W5HDC *M0II5XHC9B5G2+$N", "health-certificate"],
    ["BCD\n002\n1\nSCT\nBIC\nName\nIBAN", "payment"],
    ["00020101021229300012D156000000000510A93FO3230Q", "payment"],
    ["bitcoin:bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh", "payment"],
    ["https://pay.google.com/gp/v/save/eyJhbGciOi", "wallet-link"],
    ["WIFI:S:Stade;T:WPA;P:secret;;", "wifi"],
    ["BEGIN:VCARD\nVERSION:3.0", "contact"],
    ["mailto:someone@example.org", "email"],
    ["tel:+33100000000", "phone"],
    ["geo:48.9245,2.3601", "geo"],
    ["otpauth://totp/x?secret=ABC", "otp"],
    ["M1DESMARAIS/LUC       EABC123 YULFRAAC 0834 226F001A0025 100", "boarding-pass"],
    ["intent://scan/#Intent;scheme=zxing;end", "url"],
  ])("says %j is not a ticket (%s)", (text, foreign) => {
    const content = classifyContent(text);
    expect(content).toMatchObject({ kind: "foreign", foreign });
    if (content.kind === "foreign") {
      expect(content.message.en).toMatch(/^Not a ticket/);
      expect(content.message.fr).toMatch(/^Pas un billet/);
    }
  });

  it("names the damage in a Sésame code", () => {
    expect(classifyContent(`${ticket.slice(0, 40)}a${ticket.slice(41)}`)).toMatchObject({
      kind: "malformed",
      reason: "bad-alphabet",
    });
    expect(classifyContent(ticket.toLowerCase())).toMatchObject({
      kind: "malformed",
      reason: "bad-alphabet",
    });
    expect(classifyContent(ticket.slice(0, 90))).toMatchObject({ kind: "malformed", reason: "truncated" });
    expect(classifyContent(`SE1:${"A".repeat(2000)}`)).toMatchObject({
      kind: "malformed",
      reason: "too-long",
    });
    expect(classifyContent(`SE2:${ticket.slice(4)}`)).toMatchObject({
      kind: "malformed",
      reason: "unsupported-version",
    });
  });

  it("says a non-QR barcode is not a ticket", () => {
    const event = normalizeScanText("]E09780201379624");
    expect(classifyContent(event.text, event.symbology)).toMatchObject({
      kind: "malformed",
      reason: "not-a-qr-code",
    });
  });

  it("calls anything else unknown, and empty empty", () => {
    expect(classifyContent("hello")).toMatchObject({ kind: "unknown" });
    expect(classifyContent("")).toMatchObject({ kind: "empty" });
  });
});
