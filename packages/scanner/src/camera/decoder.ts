import {
  BarcodeFormat,
  type Binarizer,
  BinaryBitmap,
  ChecksumException,
  DecodeHintType,
  FormatException,
  GlobalHistogramBinarizer,
  HybridBinarizer,
  InvertedLuminanceSource,
  type LuminanceSource,
  NotFoundException,
  QRCodeReader,
  RGBLuminanceSource,
} from "@zxing/library";
import { decodeWithTolerantDetector } from "./tolerant-detector.js";

/** A still or a video frame: the shape of a browser ImageData and of a decoded PNG. */
export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray | Uint8Array;
}

export interface QrDecodeResult {
  readonly text: string;
  /** Which attempt found it (see QR_DECODE_ATTEMPTS), for tuning and the benchmark. */
  readonly attempt: string;
}

/** Luminance the way a camera sensor weighs it (Rec. 601), one byte per pixel. */
export function rgbaToLuminance(image: RgbaImage): Uint8ClampedArray {
  const { width, height, data } = image;
  if (data.length < width * height * 4) {
    throw new RangeError(
      `image data holds ${data.length} bytes, ${width}×${height} RGBA needs ${width * height * 4}`,
    );
  }
  const out = new Uint8ClampedArray(width * height);
  for (let i = 0, p = 0; i < out.length; i++, p += 4) {
    out[i] = ((data[p] ?? 0) * 77 + (data[p + 1] ?? 0) * 150 + (data[p + 2] ?? 0) * 29) >> 8;
  }
  return out;
}

/** Halves the resolution by averaging 2×2 blocks: evens out moiré and sensor noise on big codes. */
function halve(lum: Uint8ClampedArray, width: number, height: number) {
  const w = width >> 1;
  const h = height >> 1;
  const out = new Uint8ClampedArray(w * h);
  for (let y = 0; y < h; y++) {
    const r0 = 2 * y * width;
    const r1 = r0 + width;
    for (let x = 0; x < w; x++) {
      const c = 2 * x;
      out[y * w + x] =
        ((lum[r0 + c] ?? 0) + (lum[r0 + c + 1] ?? 0) + (lum[r1 + c] ?? 0) + (lum[r1 + c + 1] ?? 0)) >> 2;
    }
  }
  return { lum: out, width: w, height: h };
}

/** Stretches the 2nd–98th percentile range to full scale: a dim screen under floodlights. */
function stretchContrast(lum: Uint8ClampedArray): Uint8ClampedArray {
  const histogram = new Uint32Array(256);
  for (const v of lum) histogram[v] = (histogram[v] ?? 0) + 1;
  const cut = lum.length * 0.02;
  let low = 0;
  for (let seen = 0; low < 255 && seen + (histogram[low] ?? 0) < cut; low++) seen += histogram[low] ?? 0;
  let high = 255;
  for (let seen = 0; high > 0 && seen + (histogram[high] ?? 0) < cut; high--) seen += histogram[high] ?? 0;
  if (high - low < 8) return lum;
  const out = new Uint8ClampedArray(lum.length);
  const scale = 255 / (high - low);
  for (let i = 0; i < lum.length; i++) out[i] = ((lum[i] ?? 0) - low) * scale;
  return out;
}

/** Mean over a (2r+1)² box, by running sums in both directions. */
function boxMean(lum: Uint8ClampedArray, width: number, height: number, r: number): Float32Array {
  const rows = new Float32Array(lum.length);
  const span = 2 * r + 1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    let sum = 0;
    for (let k = -r; k <= r; k++) sum += lum[row + Math.min(width - 1, Math.max(0, k))] ?? 0;
    for (let x = 0; x < width; x++) {
      rows[row + x] = sum;
      sum += (lum[row + Math.min(width - 1, x + r + 1)] ?? 0) - (lum[row + Math.max(0, x - r)] ?? 0);
    }
  }
  const out = new Float32Array(lum.length);
  const area = span * span;
  for (let x = 0; x < width; x++) {
    let sum = 0;
    for (let k = -r; k <= r; k++) sum += rows[Math.min(height - 1, Math.max(0, k)) * width + x] ?? 0;
    for (let y = 0; y < height; y++) {
      out[y * width + x] = sum / area;
      sum +=
        (rows[Math.min(height - 1, y + r + 1) * width + x] ?? 0) -
        (rows[Math.max(0, y - r) * width + x] ?? 0);
    }
  }
  return out;
}

/** Unsharp mask over a 5×5 neighbourhood: gives a defocused code back some of its module edges. */
function sharpen(lum: Uint8ClampedArray, width: number, height: number): Uint8ClampedArray {
  const mean = boxMean(lum, width, height, 2);
  const out = new Uint8ClampedArray(lum.length);
  for (let i = 0; i < lum.length; i++) {
    const centre = lum[i] ?? 0;
    out[i] = 2 * centre - (mean[i] ?? 0);
  }
  return out;
}

type Attempt = {
  readonly name: string;
  readonly source: (lum: Uint8ClampedArray, width: number, height: number) => LuminanceSource;
  readonly binarizer: (source: LuminanceSource) => Binarizer;
  /** Also try the size-tolerant detector on the same binarized image (cached, so it costs no re-binarizing). */
  readonly tolerant: boolean;
};

const hybrid = (source: LuminanceSource) => new HybridBinarizer(source);
const global = (source: LuminanceSource) => new GlobalHistogramBinarizer(source);
const plain = (lum: Uint8ClampedArray, width: number, height: number) =>
  new RGBLuminanceSource(lum, width, height);

/**
 * What the decoder tries, most often right first (order and choice measured on the distorted
 * camera corpus). A frame with a code in view rarely needs more than the first two.
 */
export const QR_DECODE_ATTEMPTS: readonly Attempt[] = [
  {
    name: "contrast-stretched",
    source: (lum, width, height) => new RGBLuminanceSource(stretchContrast(lum), width, height),
    binarizer: global,
    tolerant: true,
  },
  { name: "hybrid", source: plain, binarizer: hybrid, tolerant: true },
  {
    name: "sharpened",
    source: (lum, width, height) => new RGBLuminanceSource(sharpen(lum, width, height), width, height),
    binarizer: global,
    tolerant: true,
  },
  // Holders centre the code: cutting away the surroundings removes finder-pattern look-alikes.
  {
    name: "centre-crop",
    source: (lum, width, height) => {
      const side = Math.floor(Math.min(width, height) * 0.92);
      return new RGBLuminanceSource(lum, width, height).crop(
        (width - side) >> 1,
        (height - side) >> 1,
        side,
        side,
      );
    },
    binarizer: hybrid,
    tolerant: true,
  },
  {
    name: "half-resolution",
    source: (lum, width, height) => {
      const half = halve(lum, width, height);
      return new RGBLuminanceSource(half.lum, half.width, half.height);
    },
    binarizer: hybrid,
    tolerant: true,
  },
  // Dark-mode apps show light modules on a dark screen.
  {
    name: "inverted",
    source: (lum, width, height) => new InvertedLuminanceSource(new RGBLuminanceSource(lum, width, height)),
    binarizer: hybrid,
    tolerant: false,
  },
];

function isNoCode(error: unknown): boolean {
  return (
    error instanceof NotFoundException ||
    error instanceof ChecksumException ||
    error instanceof FormatException
  );
}

/**
 * Finds and decodes the QR code in a frame, trying a few image treatments before giving up.
 * Returns undefined when no code can be read (the normal case for most video frames).
 */
export class QrFrameDecoder {
  readonly #reader = new QRCodeReader();
  readonly #hints = new Map<DecodeHintType, unknown>([
    [DecodeHintType.TRY_HARDER, true],
    [DecodeHintType.POSSIBLE_FORMATS, [BarcodeFormat.QR_CODE]],
  ]);
  readonly #attempts: readonly Attempt[];
  readonly #budgetMs: number;
  readonly #now: () => number;

  /**
   * `budgetMs` bounds the work on one frame: no further attempt starts once it is spent. A live
   * camera sets it (the next frame gets its own try); still images leave it unbounded.
   */
  constructor(options: { attempts?: readonly string[]; budgetMs?: number; now?: () => number } = {}) {
    const names = options.attempts ?? QR_DECODE_ATTEMPTS.map((a) => a.name);
    this.#attempts = QR_DECODE_ATTEMPTS.filter((a) => names.includes(a.name));
    this.#budgetMs = options.budgetMs ?? Number.POSITIVE_INFINITY;
    this.#now = options.now ?? (() => performance.now());
  }

  decodeRgba(image: RgbaImage): QrDecodeResult | undefined {
    return this.decodeLuminance(rgbaToLuminance(image), image.width, image.height);
  }

  decodeLuminance(lum: Uint8ClampedArray, width: number, height: number): QrDecodeResult | undefined {
    if (width < 21 || height < 21) return undefined;
    const started = this.#now();
    for (const attempt of this.#attempts) {
      if (this.#now() - started >= this.#budgetMs) break;
      try {
        const bitmap = new BinaryBitmap(attempt.binarizer(attempt.source(lum, width, height)));
        const text =
          this.#decodeBitmap(bitmap) ??
          (attempt.tolerant ? decodeWithTolerantDetector(bitmap.getBlackMatrix()) : undefined);
        if (text !== undefined) return { text, attempt: attempt.name };
      } catch (error) {
        if (!isNoCode(error)) throw error;
      }
    }
    return undefined;
  }

  #decodeBitmap(bitmap: BinaryBitmap): string | undefined {
    try {
      return this.#reader.decode(bitmap, this.#hints).getText();
    } catch (error) {
      if (isNoCode(error)) return undefined;
      throw error;
    } finally {
      this.#reader.reset();
    }
  }
}
