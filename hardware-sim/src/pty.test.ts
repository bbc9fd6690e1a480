import { closeSync, openSync, readSync, realpathSync, writeSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir } from "@sesame/testing";
import { describe, expect, it } from "vitest";
import { startSocatPair, stopSocat } from "./pty.js";

describe("socat PTY pair", () => {
  it("links two pseudo-terminals at the chosen paths, and hangs up on stop", async () => {
    const dir = makeTempDir();
    const host = join(dir.path, "host");
    const device = join(dir.path, "device");
    const socat = await startSocatPair(host, device);
    try {
      expect(realpathSync(host)).toMatch(/^\/dev\/pts\//);
      const fa = openSync(host, "r+");
      const fb = openSync(device, "r+");
      writeSync(fa, Buffer.from("ping"));
      const buffer = Buffer.alloc(4);
      let got = 0;
      while (got < 4) got += readSync(fb, buffer, got, 4 - got, null);
      expect(buffer.toString()).toBe("ping");
      closeSync(fa);
      closeSync(fb);
    } finally {
      await stopSocat(socat);
      dir.remove();
    }
    expect(socat.exitCode !== null || socat.signalCode !== null).toBe(true);
  });

  it("says clearly when the paths cannot be made", async () => {
    await expect(startSocatPair("/nonexistent-dir/a", "/nonexistent-dir/b", 2000)).rejects.toThrow(/socat/);
  });
});
