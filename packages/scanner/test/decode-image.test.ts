import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodePng, phoneScreen, renderCameraFrame } from "@sesame/hardware-sim";
import { captureOutput, makeTempDir } from "@sesame/testing";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { afterAll, describe, expect, it } from "vitest";
import { decodeImageBytes, ImageFileError, runDecodeImageCommand } from "../src/index.js";
import { credentialShapedText } from "./fixtures.js";

const dir = makeTempDir("sesame-decode-image-");
afterAll(() => dir.remove());

function capture() {
  const { stdout, stderr, out, err } = captureOutput();
  return { io: { stdout, stderr }, out, err };
}

const ticket = credentialShapedText(51);
const frame = renderCameraFrame(phoneScreen(ticket), {
  width: 640,
  height: 480,
  rollDeg: 12,
  pitchDeg: 8,
  noise: 0.01,
});

describe("sesame decode-image", () => {
  it("prints the text of each PNG and JPEG, one line each", async () => {
    const png = join(dir.path, "phone.png");
    writeFileSync(png, encodePng(frame));
    const jpg = join(dir.path, "phone.jpg");
    writeFileSync(jpg, jpeg.encode({ width: frame.width, height: frame.height, data: frame.rgba }, 85).data);
    const url = join(dir.path, "url.png");
    writeFileSync(
      url,
      encodePng(
        renderCameraFrame(phoneScreen("https://example.org/a\nb"), {
          width: 320,
          height: 240,
          qrSizePx: 150,
        }),
      ),
    );
    const c = capture();
    expect(await runDecodeImageCommand([png, jpg, url], c.io)).toBe(0);
    expect(c.out()).toBe(`${png}: ${ticket}\n${jpg}: ${ticket}\n${url}: https://example.org/a\\nb\n`);
    expect(c.err()).toBe("");
  });

  it("says clearly what is wrong with each file and exits 1", async () => {
    const blank = join(dir.path, "blank.png");
    const png = new PNG({ width: 64, height: 64 });
    png.data.fill(255);
    writeFileSync(blank, PNG.sync.write(png));
    const garbage = join(dir.path, "garbage.png");
    writeFileSync(garbage, Buffer.from("this is not an image at all"));
    const truncated = join(dir.path, "truncated.png");
    writeFileSync(truncated, encodePng(frame).subarray(0, 2000));
    const c = capture();
    const code = await runDecodeImageCommand(
      [blank, garbage, truncated, join(dir.path, "missing.png"), dir.path],
      c.io,
    );
    expect(code).toBe(1);
    expect(c.out()).toBe("");
    expect(c.err().split("\n")).toEqual([
      `${blank}: no code found`,
      `${garbage}: not a PNG or JPEG image`,
      expect.stringMatching(/truncated\.png: damaged PNG image/),
      `${join(dir.path, "missing.png")}: no such file`,
      `${dir.path}: not a file`,
      "",
    ]);
  });

  it("refuses a PNG that claims an enormous size before decoding it", () => {
    const bytes = encodePng({ width: 2, height: 2, rgba: new Uint8ClampedArray(16) });
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    view.setUint32(16, 100_000);
    view.setUint32(20, 100_000);
    expect(() => decodeImageBytes(bytes)).toThrow(ImageFileError);
    expect(() => decodeImageBytes(bytes)).toThrow(/megapixels/);
  });

  it("asks for files when given none", async () => {
    const c = capture();
    expect(await runDecodeImageCommand([], c.io)).toBe(2);
    expect(c.err()).toMatch(/usage: sesame decode-image/);
  });
});
