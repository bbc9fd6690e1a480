import { chmodSync, copyFileSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir } from "@sesame/testing";
import { createNodeVerifier, keyPairFromSeed } from "@sesame/ticket";
import { readVenue, SUPERVISOR_KEY_REQUEST_FORMAT, verifySupervisorCertificate } from "@sesame/venue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AT, DOORS, sesame } from "./run-cli.js";

/* `sesame supervisor-certificate`: the venue root, offline, certifies a key made in a supervisor's browser. */

describe("sesame supervisor-certificate", () => {
  const dir = makeTempDir();
  const venue = join(dir.path, "venue");
  const root = join(venue, "secrets", "root-key.json");
  const publicKey = Buffer.from(keyPairFromSeed(Buffer.alloc(32, 3)).publicKey).toString("hex");

  beforeAll(async () => {
    const r = await sesame(
      "venue",
      "demo",
      "--out",
      venue,
      "--seed",
      "cert",
      "--doors-open",
      DOORS,
      "--spectators",
      "50",
    );
    expect(r.code, r.err).toBe(0);
  });
  afterAll(() => dir.remove());

  it("writes the venue's root seed readable by its owner alone", () => {
    expect(statSync(root).mode & 0o777).toBe(0o600);
  });

  it("certifies a browser's key request with the root, for the venue and a bounded period", async () => {
    const request = join(dir.path, "request.json");
    writeFileSync(
      request,
      JSON.stringify({ format: SUPERVISOR_KEY_REQUEST_FORMAT, supervisor: "dupont", publicKey }),
    );
    const out = join(dir.path, "certificate.json");
    const r = await sesame(
      "supervisor-certificate",
      "--venue",
      venue,
      "--root",
      root,
      "--request",
      request,
      "--name",
      "Claire Dupont",
      "--days",
      "2",
      "--out",
      out,
    );
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/supervisor dupont .* certified for venue/);
    const v = readVenue(venue);
    const check = verifySupervisorCertificate(JSON.parse(readFileSync(out, "utf8")), {
      rootKey: Buffer.from(v.rootPublicKey, "hex"),
      verifier: createNodeVerifier(),
      venueId: v.id,
      now: Date.parse(AT) + 86_400_000,
    });
    expect(check.ok && check.value).toMatchObject({ supervisor: "dupont", name: "Claire Dupont", publicKey });
    if (check.ok) expect(check.value.notAfter - check.value.notBefore).toBe(2 * 86_400_000);
  });

  it("refuses a root file others can read, another venue's root, a bad key", async () => {
    const loose = join(dir.path, "loose.json");
    copyFileSync(root, loose);
    chmodSync(loose, 0o644);
    const args = ["supervisor-certificate", "--venue", venue, "--supervisor", "dupont"];
    const r1 = await sesame(...args, "--root", loose, "--public-key", publicKey);
    expect(r1.code).not.toBe(0);
    expect(r1.err).toMatch(/may be read by others than its owner: chmod 600 it/);
    const other = join(dir.path, "other.json");
    writeFileSync(other, JSON.stringify({ rootSeed: "11".repeat(32) }), { mode: 0o600 });
    expect((await sesame(...args, "--root", other, "--public-key", publicKey)).err).toMatch(
      /is not venue .*'s root/,
    );
    const identity = `01${"00".repeat(31)}`;
    expect((await sesame(...args, "--root", root, "--public-key", identity)).err).toMatch(/small order/);
    expect((await sesame(...args, "--root", root, "--public-key", "abc")).err).toMatch(/32 bytes of hex/);
  });
});
