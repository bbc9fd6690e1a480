import { describe, expect, it } from "vitest";
import { corruptBytes, encodeScannerOutput, noiseBytes } from "./output.js";
import { seededRandom } from "./random.js";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe("simulated scanner output", () => {
  it("frames a code as a configured scanner does", () => {
    expect(text(encodeScannerOutput("SE1:AB"))).toBe("SE1:AB\r");
    expect(text(encodeScannerOutput("SE1:AB", { suffix: "CRLF", aimIdentifier: true }))).toBe(
      "]Q1SE1:AB\r\n",
    );
    expect(text(encodeScannerOutput("a\\b", { suffix: "LF", aimIdentifier: true, eci: 26 }))).toBe(
      "]Q2\\000026a\\\\b\n",
    );
    expect(text(encodeScannerOutput("SE1:AB", { suffix: "none", eci: 3 }))).toBe("\\000003SE1:AB");
    expect(encodeScannerOutput("X", { prefix: Uint8Array.of(2), suffix: Uint8Array.of(3) })).toEqual(
      Uint8Array.of(2, 0x58, 3),
    );
  });

  it("makes reproducible noise and bit errors", () => {
    expect(noiseBytes(seededRandom(9), 32)).toEqual(noiseBytes(seededRandom(9), 32));
    const clean = new Uint8Array(1000);
    const flipped = corruptBytes(clean, seededRandom(1), 0.1).filter((b) => b !== 0).length;
    expect(flipped).toBeGreaterThan(50);
    expect(flipped).toBeLessThan(150);
  });
});
