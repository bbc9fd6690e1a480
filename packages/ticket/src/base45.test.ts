import { describe, expect, it } from "vitest";
import { decodeBase45, encodeBase45 } from "./base45.js";

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

// Examples from RFC 9285 §4.3 and §4.4.
describe("Base45 against RFC 9285", () => {
  it.each([
    ["AB", "BB8"],
    ["Hello!!", "%69 VD92EX0"],
    ["base-45", "UJCLQE7W581"],
  ])("encodes %j as %j", (input, expected) => {
    expect(encodeBase45(text(input))).toBe(expected);
  });

  it("decodes 'QED8WEX0' to 'ietf!'", () => {
    const r = decodeBase45("QED8WEX0");
    expect(r.ok && str(r.bytes)).toBe("ietf!");
  });

  it("rejects 'GGW', which encodes 65536 (RFC 9285 §6)", () => {
    const r = decodeBase45("GGW");
    expect(r).toMatchObject({ ok: false, position: 0 });
  });

  it.each([
    ["A", "length"],
    ["ab", "alphabet"],
    ["BB8é", "length"],
    ["BB8éé", "alphabet"],
    [":::", "above 65535"],
    ["::", "above 255"],
  ])("rejects %j with a reason mentioning %s", (input, word) => {
    const r = decodeBase45(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.detail).toContain(word);
  });

  it("round-trips every length from 0 to 300", () => {
    for (let n = 0; n <= 300; n++) {
      const bytes = new Uint8Array(n).map((_, i) => (i * 7919 + n) & 0xff);
      const r = decodeBase45(encodeBase45(bytes));
      expect(r.ok && Buffer.from(r.bytes).equals(Buffer.from(bytes))).toBe(true);
    }
  });
});
