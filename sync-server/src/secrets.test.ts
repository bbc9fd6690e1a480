import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mosquittoHash, verifyMosquittoHash } from "./secrets.js";

describe("Mosquitto $7$ password hashes", () => {
  it("verifies its own hashes", () => {
    const h = mosquittoHash("s3cret");
    expect(h).toMatch(/^\$7\$1000\$[A-Za-z0-9+/=]{16}\$[A-Za-z0-9+/=]{88}$/);
    expect(verifyMosquittoHash("s3cret", h)).toBe(true);
    expect(verifyMosquittoHash("other", h)).toBe(false);
    expect(verifyMosquittoHash("s3cret", "$6$abc$def")).toBe(false);
    expect(verifyMosquittoHash("s3cret", "garbage")).toBe(false);
  });

  it.skipIf(!existsSync("/usr/bin/mosquitto_passwd"))("reads what Debian's mosquitto_passwd writes", () => {
    const dir = mkdtempSync(join(tmpdir(), "sesame-passwd-"));
    try {
      const file = join(dir, "passwd");
      execFileSync("/usr/bin/mosquitto_passwd", ["-c", "-b", file, "gate-A1", "pa55"]);
      const hash = readFileSync(file, "utf8").trim().split(":")[1] ?? "";
      expect(verifyMosquittoHash("pa55", hash)).toBe(true);
      expect(verifyMosquittoHash("pa56", hash)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
