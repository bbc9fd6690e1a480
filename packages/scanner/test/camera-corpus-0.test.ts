import { describe, expect, it } from "vitest";
import { realCredentialTexts, runCorpusShard } from "./camera-corpus.js";

// The 1,000-image corpus runs as two files so that vitest spreads it over both cores.
describe("camera corpus, shard 1 of 2", () => {
  it("decodes distorted phone screens of real credentials, never to the wrong text", () => {
    const run = runCorpusShard(0, 2, 1000, realCredentialTexts(40));
    console.log(
      `camera corpus shard 1/2: ${run.decoded}/${run.images} decoded; missed: ${run.failures.join("; ") || "none"}`,
    );
    expect(run.images).toBe(500);
    expect(run.wrong).toBe(0);
    // Issue 5: at least 99 % decoded (measured 99.4 % over the 1,000 images, see docs/scanners.md).
    expect(run.decoded / run.images).toBeGreaterThanOrEqual(0.99);
    // 500 frames rendered and decoded: a few seconds, more on a loaded machine.
  }, 180_000);
});
