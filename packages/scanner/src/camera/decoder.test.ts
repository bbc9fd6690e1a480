import { phoneScreen, renderCameraFrame } from "@sesame/hardware-sim";
import { describe, expect, it } from "vitest";
import { credentialShapedText } from "../../test/fixtures.js";
import { QrFrameDecoder, rgbaToLuminance } from "./decoder.js";
import { candidateDimensions, fitHomography } from "./tolerant-detector.js";

const ticket = credentialShapedText(7, 186);
const rgba = (frame: { width: number; height: number; rgba: Uint8ClampedArray }) => ({
  width: frame.width,
  height: frame.height,
  data: frame.rgba,
});

describe("QrFrameDecoder", () => {
  it("reads a phone tilted 25° with a blurred, dimmed screen", () => {
    const frame = renderCameraFrame(phoneScreen(ticket), {
      rollDeg: 30,
      pitchDeg: 18,
      yawDeg: -17,
      blurPx: 1.2,
      contrast: 0.45,
      noise: 0.01,
    });
    expect(new QrFrameDecoder().decodeRgba(rgba(frame))?.text).toBe(ticket);
  });

  it("still runs the first attempt when the budget is spent, then stops", () => {
    let clock = 0;
    const decoder = new QrFrameDecoder({ budgetMs: 5, now: () => (clock += 100) });
    const codeFrame = renderCameraFrame(phoneScreen(ticket), { rollDeg: 8, noise: 0.01 });
    expect(decoder.decodeRgba(rgba(codeFrame))?.attempt).toBe("contrast-stretched");
    const blank = { width: 320, height: 240, data: new Uint8ClampedArray(320 * 240 * 4).fill(200) };
    expect(decoder.decodeRgba(blank)).toBeUndefined();
  });

  it("finds nothing in frames without a code, and says clearly what is wrong with bad input", () => {
    const decoder = new QrFrameDecoder();
    expect(decoder.decodeLuminance(new Uint8ClampedArray(10 * 10), 10, 10)).toBeUndefined();
    const noise = Uint8ClampedArray.from({ length: 200 * 150 }, (_, i) => (i * 7919) % 251);
    expect(decoder.decodeLuminance(noise, 200, 150)).toBeUndefined();
    expect(() => decoder.decodeLuminance(new Uint8ClampedArray(100), 20, 20)).toThrow(RangeError);
    expect(() => decoder.decodeLuminance(new Uint8ClampedArray(100), 2.5, 4)).toThrow(/bad frame size/);
    expect(() => rgbaToLuminance({ width: 4, height: 4, data: new Uint8Array(10) })).toThrow(RangeError);
    expect(() => decoder.decodeRgba({ width: -4, height: 4, data: new Uint8Array(64) })).toThrow(
      /bad frame size/,
    );
    for (const budgetMs of [0, -1, Number.NaN]) {
      expect(() => new QrFrameDecoder({ budgetMs })).toThrow(/budgetMs/);
    }
  });
});

describe("tolerant detector geometry", () => {
  it("fits a homography from module to pixel correspondences", () => {
    const truth = [1.2, 0.3, 40, -0.2, 1.1, 25, 0.001, -0.0005];
    const project = (u: number, v: number) => {
      const [a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, g = 0, h = 0] = truth;
      const w = g * u + h * v + 1;
      return { u, v, x: (a * u + b * v + c) / w, y: (d * u + e * v + f) / w };
    };
    const fitted = fitHomography([
      project(3.5, 3.5),
      project(53.5, 3.5),
      project(3.5, 53.5),
      project(50.5, 50.5),
      project(28.5, 28.5),
    ]);
    expect(fitted).toBeDefined();
    for (const [i, value] of truth.entries()) expect(fitted?.[i]).toBeCloseTo(value, 6);
    // Three points on a line do not make a plane.
    expect(fitHomography([project(0, 0), project(1, 1), project(2, 2), project(3, 3)])).toBeUndefined();
  });

  it("tries the valid symbol sizes nearest the estimate first", () => {
    expect(candidateDimensions(58)).toEqual([57, 61, 53, 65, 49]);
    expect(candidateDimensions(20)).toEqual([21, 25, 29]);
  });
});
