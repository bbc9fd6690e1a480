import { closeSync, openSync, readSync, writeSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { freePort } from "./ports.js";
import { openPtyPair } from "./pty.js";

describe("test helpers", () => {
  it("freePort returns distinct usable ports", async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(1023);
    expect(port).toBeLessThan(65536);
  });

  it("openPtyPair links two pseudo-terminals", async () => {
    const pair = await openPtyPair();
    try {
      expect(pair.a).toMatch(/^\/dev\/pts\//);
      const fa = openSync(pair.a, "r+");
      const fb = openSync(pair.b, "r+");
      writeSync(fa, Buffer.from("ping"));
      const buffer = Buffer.alloc(4);
      let got = 0;
      const deadline = Date.now() + 2000;
      while (got < 4 && Date.now() < deadline) got += readSync(fb, buffer, got, 4 - got, null);
      expect(buffer.toString()).toBe("ping");
      closeSync(fa);
      closeSync(fb);
    } finally {
      await pair.close();
    }
  });
});
