import { describe, expect, it } from "vitest";
import { realCredentialTexts, runCorpusShard } from "./camera-corpus.js";

// The 1,000-image corpus runs as four files so that vitest spreads it over both cores.
describe("camera corpus, shard 1 of 4", () => {
  it("decodes distorted phone screens of real credentials, never to the wrong text", () => {
    const run = runCorpusShard(0, 4, 1000, realCredentialTexts(40));
    console.log(
      `camera corpus shard 1/4: ${run.decoded}/${run.images} decoded; missed: ${run.failures.join("; ") || "none"}`,
    );
    expect(run.images).toBe(250);
    expect(run.wrong).toBe(0);
    // Target is 99% (issue 5); measured 96.2% over the 1,000 images (see docs/scanners.md), so the
    // floor here guards against regressions until the perspective cases are solved.
    expect(run.decoded / run.images).toBeGreaterThanOrEqual(0.93);
  });
});
