import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNodeSigner, seededRandom } from "@sesame/ticket";
import { afterAll, describe, expect, it } from "vitest";
import { BundleFormatError, decodeGateBundle, encodeGateBundle } from "./bundle.js";
import { generateDemoVenue } from "./demo.js";
import { readGateBundle, signBundleBytes, writeVenueDirectory } from "./files.js";

const signer = createNodeSigner();
const demo = generateDemoVenue({
  spectators: 300,
  doorsOpenMs: Date.UTC(2026, 6, 26, 17),
  entrances: 2,
  lanes: 4,
  random: seededRandom("bundle-format"),
  signer,
});
const rootSeed = Buffer.from(demo.secrets.rootSeed, "hex");
const rootKey = Buffer.from(demo.venue.rootPublicKey, "hex");
const temp = mkdtempSync(join(tmpdir(), "sesame-bundle-"));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** A venue directory whose gate-bundle.json holds `bytes`, signed by the demo's root key. */
function venueWith(name: string, bytes: Uint8Array): string {
  const dir = join(temp, name);
  writeVenueDirectory(dir, demo, signer);
  writeFileSync(join(dir, "gate-bundle.json"), bytes);
  writeFileSync(join(dir, "gate-bundle.sig"), `${signBundleBytes(bytes, rootSeed, signer)}\n`);
  return dir;
}

describe("gate bundle bytes", () => {
  it("decode what they encode, names in any script included, as pure ASCII", () => {
    const [first, ...rest] = demo.bundle.tickets;
    if (!first) throw new Error("empty demo");
    const bundle = {
      ...demo.bundle,
      tickets: [{ ...first, holder: "Zoé Østergaard-N'Diaye 王小明 Σίσυφος 🎫" }, ...rest],
    };
    const bytes = encodeGateBundle(bundle);
    expect(bytes.every((b) => b < 0x80)).toBe(true);
    expect(decodeGateBundle(bytes)).toEqual(bundle);
    // Any JSON reader gets the same values.
    const parsed = JSON.parse(bytes.toString("utf8")) as { tickets: unknown[][] };
    expect(parsed.tickets[0]?.[9]).toBe("Zoé Østergaard-N'Diaye 王小明 Σίσυφος 🎫");
  });

  it("are what the venue directory holds and readGateBundle reads back", () => {
    const dir = join(temp, "demo");
    writeVenueDirectory(dir, demo, signer);
    const { bundle } = readGateBundle(dir, rootKey);
    expect(bundle).toEqual(demo.bundle);
  });

  it("of the old format (objects) are refused with what to do", () => {
    const old = Buffer.from(JSON.stringify({ ...demo.bundle, format: "sesame-gate-bundle/1" }));
    expect(() => decodeGateBundle(old)).toThrow(BundleFormatError);
    expect(() => decodeGateBundle(old)).toThrow(
      /format sesame-gate-bundle\/1; this software reads sesame-gate-bundle\/2: make the bundle again/,
    );
    expect(() => readGateBundle(venueWith("old", old), rootKey)).toThrow(
      /gate-bundle.json: is format sesame-gate-bundle\/1/,
    );
  });

  it("of another kind, or damaged inside their signature, are refused with the reason", () => {
    const good = JSON.parse(encodeGateBundle(demo.bundle).toString("utf8")) as Record<string, unknown>;
    const cases: Array<[unknown, RegExp]> = [
      [{ format: "acme-tickets/3" }, /format is "acme-tickets\/3", not sesame-gate-bundle\/2: not a Sésame/],
      [[1, 2, 3], /is not a gate bundle/],
      [{ ...good, venue: undefined }, /has no venue/],
      [{ ...good, trustList: null }, /has no trust list/],
      [{ ...good, ticketColumns: ["id", "holder"] }, /ticketColumns must be id, generation, kind/],
      [{ ...good, revocationColumns: undefined }, /revocationColumns must be ticketId, generation/],
      [{ ...good, tickets: { a: 1 } }, /tickets is not a list of rows/],
      [{ ...good, tickets: [[1, 2, 3]] }, /tickets\[0\] is not a row of 12 values/],
      [{ ...good, revocations: [null] }, /revocations\[0\] is not a row of 4 values/],
    ];
    for (const [value, message] of cases) {
      const bytes = Buffer.from(JSON.stringify(value));
      expect(() => decodeGateBundle(bytes)).toThrow(message);
    }
    expect(() => decodeGateBundle(Buffer.from('{"format":'))).toThrow(/is not valid JSON/);
    expect(() => readGateBundle(venueWith("foreign", Buffer.from("[]")), rootKey)).toThrow(
      /gate-bundle.json: is not a gate bundle/,
    );
  });
});
