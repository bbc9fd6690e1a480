import { seededRandom } from "@sesame/ticket";
import { describe, expect, it } from "vitest";
import { demoFaceValue, generateDemoVenue } from "./demo.js";
import { faceValueOf, validateImportRow } from "./import-rows.js";

const { venue } = generateDemoVenue({
  spectators: 20,
  doorsOpenMs: Date.parse("2026-07-26T17:00:00Z"),
  entrances: 2,
  lanes: 4,
  random: seededRandom("import-rows"),
  signer: { name: "unused", sign: () => new Uint8Array(64) },
});
const row = { id: 7, holder: "Anaïs Leroy", orderReference: "P24-ABC", sessions: [1], zone: 1 };

describe("face value of an import row", () => {
  it("reads cents and an ISO currency, in JSON or CSV form, and leaves a row without one as it was", () => {
    expect(faceValueOf(12500, "EUR")).toEqual({ cents: 12500, currency: "EUR" });
    expect(faceValueOf("2400", " eur ")).toEqual({ cents: 2400, currency: "EUR" });
    expect(faceValueOf(undefined, undefined)).toBeUndefined();
    const parsed = validateImportRow({ ...row, face_value: "8500", currency: "EUR" }, venue);
    expect(parsed).toMatchObject({ faceValue: { cents: 8500, currency: "EUR" } });
    expect(validateImportRow(row, venue)).not.toHaveProperty("faceValue");
  });

  it("refuses each bad face value with its own reason", () => {
    expect(faceValueOf(-1, "EUR")).toEqual({
      problem: expect.stringMatching(/^face_value must be a whole number/),
    });
    expect(faceValueOf(12.5, "EUR")).toEqual({ problem: expect.stringMatching(/^face_value must be/) });
    expect(faceValueOf(1_000_000_001, "EUR")).toEqual({
      problem: expect.stringMatching(/^face_value must be/),
    });
    expect(faceValueOf(100, "euro")).toEqual({
      problem: expect.stringMatching(/^currency must be a three-letter/),
    });
    expect(faceValueOf(100, undefined)).toEqual({ problem: expect.stringMatching(/^currency must be/) });
    expect(faceValueOf(undefined, "EUR")).toEqual({
      problem: "currency is given without face_value (cents)",
    });
    expect(validateImportRow({ ...row, face_value: 100, currency: "E" }, venue)).toMatch(/^currency must be/);
  });

  it("prices the demo's seats from the seat alone: rings, standing, reduced and staff", () => {
    expect(demoFaceValue("N1", false, 0)).toEqual({ cents: 12500, currency: "EUR" });
    expect(demoFaceValue("N2", false, 0)).toEqual({ cents: 8500, currency: "EUR" });
    expect(demoFaceValue("N1", true, 0)).toEqual({ cents: 5000, currency: "EUR" });
    expect(demoFaceValue("N1", false, 1 << 1)).toEqual({ cents: 2400, currency: "EUR" });
    expect(demoFaceValue("N2", false, 1 << 2)).toEqual({ cents: 0, currency: "EUR" });
  });
});
