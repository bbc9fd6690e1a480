import { readFile, stat } from "node:fs/promises";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import type { RgbaImage } from "./decoder.js";

/** Larger files are not photos of a phone screen; refusing them keeps memory bounded. */
export const MAX_IMAGE_FILE_BYTES = 32 * 1024 * 1024;
/** 40 megapixels: any camera's still, and far below what would exhaust memory. */
export const MAX_IMAGE_PIXELS = 40_000_000;

export class ImageFileError extends Error {
  override readonly name = "ImageFileError";
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_MAGIC = [0xff, 0xd8, 0xff];

export type ImageFormat = "png" | "jpeg";

/** Tells PNG from JPEG by their first bytes, not by the file name. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (PNG_MAGIC.every((b, i) => bytes[i] === b)) return "png";
  if (JPEG_MAGIC.every((b, i) => bytes[i] === b)) return "jpeg";
  return undefined;
}

/** Decodes PNG or JPEG bytes to RGBA; every failure is an ImageFileError that says what is wrong. */
export function decodeImageBytes(bytes: Uint8Array): RgbaImage {
  const format = sniffImageFormat(bytes);
  if (format === undefined) throw new ImageFileError("not a PNG or JPEG image");
  try {
    if (format === "png") {
      // Read the header first: a PNG can claim a size that would take gigabytes to decode.
      const width = readUint32(bytes, 16);
      const height = readUint32(bytes, 20);
      checkSize(width, height);
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: png.width, height: png.height, data: new Uint8Array(png.data) };
    }
    const image = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      maxResolutionInMP: MAX_IMAGE_PIXELS / 1_000_000,
      maxMemoryUsageInMB: 512,
    });
    return { width: image.width, height: image.height, data: image.data };
  } catch (error) {
    if (error instanceof ImageFileError) throw error;
    const detail = error instanceof Error ? error.message : String(error);
    throw new ImageFileError(`damaged ${format === "png" ? "PNG" : "JPEG"} image (${detail})`);
  }
}

function readUint32(bytes: Uint8Array, offset: number): number {
  if (bytes.length < offset + 4) throw new ImageFileError("damaged PNG image (truncated header)");
  return new DataView(bytes.buffer, bytes.byteOffset + offset, 4).getUint32(0);
}

function checkSize(width: number, height: number): void {
  if (width === 0 || height === 0) throw new ImageFileError("image has no pixels");
  if (width * height > MAX_IMAGE_PIXELS) {
    throw new ImageFileError(
      `image is ${width}×${height}, more than ${MAX_IMAGE_PIXELS / 1_000_000} megapixels`,
    );
  }
}

/** Reads and decodes an image file, refusing directories, huge files and non-images clearly. */
export async function readImageFile(path: string): Promise<RgbaImage> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new ImageFileError("not a file");
    size = info.size;
  } catch (error) {
    if (error instanceof ImageFileError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new ImageFileError(code === "ENOENT" ? "no such file" : `cannot read (${code ?? String(error)})`);
  }
  if (size > MAX_IMAGE_FILE_BYTES) {
    throw new ImageFileError(`file is ${size} bytes, more than ${MAX_IMAGE_FILE_BYTES} allowed`);
  }
  return decodeImageBytes(new Uint8Array(await readFile(path)));
}
