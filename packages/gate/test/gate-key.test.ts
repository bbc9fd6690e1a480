import { statSync, writeFileSync } from "node:fs";
import { keyRequestProblem } from "@sesame/sync";
import { makeTempDir } from "@sesame/testing";
import { nodeVerifierNoCache } from "@sesame/ticket";
import { afterAll, describe, expect, it } from "vitest";
import { gateKeyFile, loadOrCreateGateKey, provisioningRequestOf } from "../src/gate-key.js";

/* The gate's own key: made once in its data directory (0600), kept, and proved in its key request. */

describe("the gate's key pair", () => {
  const dir = makeTempDir("sesame-gate-key-");
  afterAll(() => dir.remove());

  it("is made at first use in a 0600 file, then read back the same", () => {
    const made = loadOrCreateGateKey(dir.path);
    expect(made.created).toBe(true);
    expect(statSync(gateKeyFile(dir.path)).mode & 0o777).toBe(0o600);
    const again = loadOrCreateGateKey(dir.path);
    expect(again.created).toBe(false);
    expect(Buffer.from(again.publicKey)).toEqual(Buffer.from(made.publicKey));
  });

  it("proves possession for its venue and gate only", () => {
    const key = loadOrCreateGateKey(dir.path);
    const request = provisioningRequestOf("SDF", "A1", key);
    expect(request.publicKey).toBe(Buffer.from(key.publicKey).toString("hex"));
    expect(keyRequestProblem(request, "SDF", "A1", nodeVerifierNoCache)).toBeUndefined();
    expect(keyRequestProblem(request, "SDF", "B1", nodeVerifierNoCache)).toMatch(
      /not a signature by that key of gate B1's request/,
    );
    expect(keyRequestProblem(request, "XYZ", "A1", nodeVerifierNoCache)).toMatch(/in venue XYZ/);
  });

  it("refuses a key file that is not a key, never replacing it", () => {
    const other = makeTempDir("sesame-gate-key-bad-");
    try {
      writeFileSync(gateKeyFile(other.path), "not a key\n", { mode: 0o644 });
      expect(() => loadOrCreateGateKey(other.path)).toThrow(/not a gate key \(64 hex digits\)/);
      // Its mode tightened all the same: it was meant to hold a secret.
      expect(statSync(gateKeyFile(other.path)).mode & 0o777).toBe(0o600);
    } finally {
      other.remove();
    }
  });
});
