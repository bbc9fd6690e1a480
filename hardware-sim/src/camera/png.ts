import { PNG } from "pngjs";
import type { CameraFrame } from "./camera.js";

/** Encodes a frame as PNG bytes (for corpora on disk and `sesame decode-image`). */
export function encodePng(frame: CameraFrame): Uint8Array {
  const png = new PNG({ width: frame.width, height: frame.height });
  png.data = Buffer.from(frame.rgba.buffer, frame.rgba.byteOffset, frame.rgba.byteLength);
  return new Uint8Array(PNG.sync.write(png));
}
