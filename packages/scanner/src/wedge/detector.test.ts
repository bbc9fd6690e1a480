import { describe, expect, it } from "vitest";
import { credentialShapedText } from "../../test/fixtures.js";
import { WedgeBurstDetector, type WedgeKey, type WedgeOutput } from "./detector.js";
import { characterFor, type ScannerLayoutName, strokesFor, typedBy } from "./layouts.js";

/** Keydowns as a scanner configured for `scanner` sends them, as a kiosk with layout `kiosk` reports them. */
function scannerKeys(
  text: string,
  scanner: ScannerLayoutName,
  kiosk: ScannerLayoutName,
  start: number,
  gapMs: number,
) {
  return strokesFor(scanner, text).map(
    (stroke, i): WedgeKey => ({
      ...stroke,
      key: typedBy(kiosk, stroke) ?? "Dead",
      command: false,
      time: start + i * gapMs,
    }),
  );
}

function enter(time: number): WedgeKey {
  return { code: "Enter", key: "Enter", shift: false, altGraph: false, command: false, time };
}

function feed(detector: WedgeBurstDetector, keys: WedgeKey[]) {
  const outputs: WedgeOutput[] = [];
  const dispositions: string[] = [];
  for (const key of keys) {
    const result = detector.key(key);
    outputs.push(...result.outputs);
    dispositions.push(result.disposition);
  }
  return { outputs, dispositions };
}

const ticket = credentialShapedText(21);

describe("keyboard layouts", () => {
  it.each(["us", "fr"] as const)("types every Base45 character and the ticket prefix on %s", (layout) => {
    const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    const decoded = strokesFor(layout, alphabet)
      .map((s) => characterFor(layout, s))
      .join("");
    expect(decoded).toBe(alphabet);
  });

  it("shows the AZERTY mix-up a US scanner causes when the kiosk decodes by character", () => {
    const typed = strokesFor("us", "12345")
      .map((s) => typedBy("fr", s))
      .join("");
    expect(typed).toBe("&é\"'(");
  });
});

describe("WedgeBurstDetector", () => {
  it.each([
    ["us", "fr"],
    ["fr", "us"],
    ["us", "us"],
    ["fr", "fr"],
  ] as const)("reads a %s scanner on a %s kiosk by key position", (scanner, kiosk) => {
    const detector = new WedgeBurstDetector(scanner);
    const keys = scannerKeys(ticket, scanner, kiosk, 1000, 2);
    const { outputs, dispositions } = feed(detector, [...keys, enter(1000 + keys.length * 2)]);
    expect(outputs).toEqual([expect.objectContaining({ kind: "scan", text: ticket, undecodable: [] })]);
    expect(dispositions.slice(0, -1).every((d) => d === "hold")).toBe(true);
    expect(dispositions.at(-1)).toBe("swallow");
  });

  it("gives a person's typing back, and lets their Enter through", () => {
    const detector = new WedgeBurstDetector("us");
    const keys = scannerKeys("DUPONT", "us", "us", 0, 180);
    const outputs: WedgeOutput[] = [];
    for (const key of keys) outputs.push(...detector.key(key).outputs);
    outputs.push(...detector.tick(5 * 180 + 80));
    expect(outputs.flatMap((o) => (o.kind === "release" ? o.keys.map((k) => k.key) : []))).toEqual([
      ..."DUPONT",
    ]);
    expect(outputs.some((o) => o.kind === "scan")).toBe(false);
    expect(detector.key(enter(2000)).disposition).toBe("pass");
  });

  it("releases a short fast rollover instead of taking it for a scan", () => {
    const detector = new WedgeBurstDetector("us");
    const { outputs } = feed(detector, [...scannerKeys("AB", "us", "us", 0, 10), enter(25)]);
    expect(outputs).toEqual([expect.objectContaining({ kind: "release" })]);
  });

  it("accepts a scanner that sends no Enter once the line goes quiet", () => {
    const detector = new WedgeBurstDetector("us");
    const keys = scannerKeys(ticket, "us", "fr", 0, 3);
    feed(detector, keys);
    const deadline = detector.nextDeadline() ?? 0;
    expect(detector.tick(deadline - 1)).toEqual([]);
    expect(detector.tick(deadline)).toEqual([expect.objectContaining({ kind: "scan", text: ticket })]);
  });

  it("does not accept a quiet-ended burst when told the scanner always sends Enter", () => {
    const detector = new WedgeBurstDetector("us", { acceptWithoutEndKey: false });
    feed(detector, scannerKeys(ticket, "us", "us", 0, 3));
    expect(detector.tick(10_000)).toEqual([expect.objectContaining({ kind: "release" })]);
  });

  it("treats everything after the programmed start key as a scan, whatever its pace", () => {
    const detector = new WedgeBurstDetector("us", { startCode: "F12" });
    const start: WedgeKey = {
      code: "F12",
      key: "F12",
      shift: false,
      altGraph: false,
      command: false,
      time: 0,
    };
    const { outputs, dispositions } = feed(detector, [
      start,
      ...scannerKeys("SLOWCODE", "us", "us", 10, 60),
      enter(600),
    ]);
    expect(outputs).toEqual([expect.objectContaining({ kind: "scan", text: "SLOWCODE" })]);
    expect(dispositions[0]).toBe("swallow");
  });

  it("splits two scans separated by a pause", () => {
    const detector = new WedgeBurstDetector("us");
    const first = scannerKeys("SE1:FIRSTCODE", "us", "us", 0, 2);
    const second = scannerKeys("SE1:SECONDCODE", "us", "us", 500, 2);
    const { outputs } = feed(detector, [...first, ...second]);
    outputs.push(...detector.tick(10_000));
    expect(outputs.map((o) => (o.kind === "scan" ? o.text : o.kind))).toEqual([
      "SE1:FIRSTCODE",
      "SE1:SECONDCODE",
    ]);
  });

  it("lets shortcuts through and gives back what was held before them", () => {
    const detector = new WedgeBurstDetector("us");
    feed(detector, scannerKeys("ab", "us", "us", 0, 50));
    const copy: WedgeKey = {
      code: "KeyC",
      key: "c",
      shift: false,
      altGraph: false,
      command: true,
      time: 120,
    };
    const result = detector.key(copy);
    expect(result.disposition).toBe("pass");
    expect(result.outputs).toEqual([expect.objectContaining({ kind: "release" })]);
  });

  it("flags keys the scanner layout cannot type", () => {
    const detector = new WedgeBurstDetector("fr");
    const keys = scannerKeys("SE1:ABCDEFGH", "fr", "fr", 0, 2);
    keys.splice(5, 0, {
      code: "BracketLeft",
      key: "Dead",
      shift: false,
      altGraph: false,
      command: false,
      time: 9,
    });
    for (const [i, k] of keys.entries()) Object.assign(k, { time: i * 2 });
    const { outputs } = feed(detector, [...keys, enter(keys.length * 2)]);
    expect(outputs).toEqual([expect.objectContaining({ kind: "scan", undecodable: ["BracketLeft"] })]);
  });

  it("bounds a flood of keys", () => {
    const detector = new WedgeBurstDetector("us", { maxLength: 1000 });
    const keys = scannerKeys("A".repeat(20_000), "us", "us", 0, 1);
    const { outputs } = feed(detector, [...keys, enter(20_001)]);
    expect(outputs.filter((o) => o.kind === "overflow")).toHaveLength(1);
    const scan = outputs.find((o) => o.kind === "scan");
    expect(scan?.kind === "scan" ? scan.text.length : 0).toBe(1000);
  });
});
