import { describe, expect, it } from "vitest";
import { HEAD_ON_SHOT, projectedQrCorners, renderCameraFrame } from "./camera.js";
import { generateCameraCorpus } from "./corpus.js";
import { phoneScreen } from "./phone-screen.js";

describe("simulated camera", () => {
  it("puts a head-on code where asked, at the asked size", () => {
    const corners = projectedQrCorners({ ...HEAD_ON_SHOT, qrSizePx: 200 });
    expect(corners[0]?.x).toBeCloseTo(220, 0);
    expect(corners[2]?.y).toBeCloseTo(340, 0);
  });

  it("renders dark modules and a light screen", () => {
    const frame = renderCameraFrame(phoneScreen("SE1:TEST"), {
      width: 160,
      height: 120,
      qrSizePx: 80,
      supersample: 1,
    });
    expect(frame.rgba.length).toBe(160 * 120 * 4);
    const greens = Array.from({ length: 160 * 120 }, (_, i) => frame.rgba[i * 4 + 1] ?? 0);
    expect(Math.min(...greens)).toBeLessThan(40);
    expect(Math.max(...greens)).toBeGreaterThan(200);
  });

  it("draws the same corpus from the same seed", () => {
    const draw = () =>
      [
        ...generateCameraCorpus({
          texts: ["SE1:A", "SE1:B"],
          count: 3,
          width: 64,
          height: 64,
          seed: 3,
          supersample: 1,
        }),
      ].map((image) => [image.text, image.troubles.join(","), image.frame.rgba.reduce((a, b) => a + b, 0)]);
    expect(draw()).toEqual(draw());
  });
});
