import {
  BarcodeFormat,
  type Binarizer,
  BinaryBitmap,
  ChecksumException,
  DecodeHintType,
  FormatException,
  GlobalHistogramBinarizer,
  HybridBinarizer,
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

function checkFrameSize(width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
    throw new RangeError(`bad frame size ${width}×${height}`);
  }
}

/** Luminance the way a camera sensor weighs it (Rec. 601), one byte per pixel. */
export function rgbaToLuminance(image: RgbaImage): Uint8ClampedArray {
  const { width, height, data } = image;
  checkFrameSize(width, height);
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
  const n = lum.length;
  for (let i = 0; i < n; i++) {
    const v = lum[i] ?? 0;
    histogram[v] = (histogram[v] ?? 0) + 1;
  }
  const cut = n * 0.02;
  let low = 0;
  for (let seen = 0; low < 255 && seen + (histogram[low] ?? 0) < cut; low++) seen += histogram[low] ?? 0;
  let high = 255;
  for (let seen = 0; high > 0 && seen + (histogram[high] ?? 0) < cut; high--) seen += histogram[high] ?? 0;
  if (high - low < 8) return lum;
  // One table lookup per pixel (the same rounding as computing it: a clamped array rounds).
  const table = new Uint8ClampedArray(256);
  const scale = 255 / (high - low);
  for (let v = 0; v < 256; v++) table[v] = (v - low) * scale;
  const out = new Uint8ClampedArray(n);
  for (let i = 0; i < n; i++) out[i] = table[lum[i] ?? 0] ?? 0;
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

/** A grey image: one luminance byte per pixel. */
interface Gray {
  readonly lum: Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
}

type Attempt = {
  readonly name: string;
  /** The treated grey image (the frame's own when there is no treatment). */
  readonly prepare: (frame: Gray) => Gray;
  readonly binarizer: (source: LuminanceSource) => Binarizer;
  /** Also try the tolerant detector on the same binarized image (cached, so it costs no re-binarizing). */
  readonly tolerant: boolean;
};

const hybrid = (source: LuminanceSource) => new HybridBinarizer(source);
const global = (source: LuminanceSource) => new GlobalHistogramBinarizer(source);

/** The middle square of the frame (92 % of its short side). */
function centreCrop({ lum, width, height }: Gray): Gray {
  const side = Math.floor(Math.min(width, height) * 0.92);
  const left = (width - side) >> 1;
  const top = (height - side) >> 1;
  const out = new Uint8ClampedArray(side * side);
  for (let y = 0; y < side; y++)
    out.set(lum.subarray((top + y) * width + left, (top + y) * width + left + side), y * side);
  return { lum: out, width: side, height: side };
}

function invert({ lum, width, height }: Gray): Gray {
  const out = new Uint8ClampedArray(lum.length);
  for (let i = 0; i < lum.length; i++) out[i] = 255 - (lum[i] ?? 0);
  return { lum: out, width, height };
}

/**
 * What the decoder tries, in order: the most often right first, then the cheapest (order and
 * choice measured on the distorted camera corpus). A frame with a code in view rarely needs more
 * than the first one.
 */
export const QR_DECODE_ATTEMPTS: readonly Attempt[] = [
  {
    name: "contrast-stretched",
    prepare: (g) => ({ ...g, lum: stretchContrast(g.lum) }),
    binarizer: global,
    tolerant: true,
  },
  // A quarter of the pixels: cheap, and blur, moiré and noise average out on big codes.
  {
    name: "half-resolution",
    prepare: (g) => halve(g.lum, g.width, g.height),
    binarizer: hybrid,
    tolerant: true,
  },
  // Local thresholds: glare and uneven light.
  { name: "hybrid", prepare: (g) => g, binarizer: hybrid, tolerant: true },
  {
    name: "sharpened",
    prepare: (g) => ({ ...g, lum: sharpen(g.lum, g.width, g.height) }),
    binarizer: global,
    tolerant: true,
  },
  // Holders centre the code: cutting away the surroundings removes finder-pattern look-alikes.
  { name: "centre-crop", prepare: centreCrop, binarizer: hybrid, tolerant: true },
  // Dark-mode apps show light modules on a dark screen.
  { name: "inverted", prepare: invert, binarizer: hybrid, tolerant: false },
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
  /** Recent cost of each attempt per pixel (learnt as frames go by), for the per-frame budget. */
  readonly #costPerPixel = new Map<string, number>();

  /**
   * `budgetMs` bounds the work on one frame: the first attempt always runs, a later one only when
   * its recent cost fits in what is left. A live camera sets it (the next frame gets its own try);
   * still images leave it unbounded.
   */
  constructor(options: { attempts?: readonly string[]; budgetMs?: number; now?: () => number } = {}) {
    const names = options.attempts ?? QR_DECODE_ATTEMPTS.map((a) => a.name);
    this.#attempts = QR_DECODE_ATTEMPTS.filter((a) => names.includes(a.name));
    const budget = options.budgetMs ?? Number.POSITIVE_INFINITY;
    if (!(budget > 0))
      throw new RangeError(`budgetMs must be a positive number of milliseconds, not ${budget}`);
    this.#budgetMs = budget;
    this.#now = options.now ?? (() => performance.now());
  }

  decodeRgba(image: RgbaImage): QrDecodeResult | undefined {
    return this.decodeLuminance(rgbaToLuminance(image), image.width, image.height);
  }

  decodeLuminance(lum: Uint8ClampedArray, width: number, height: number): QrDecodeResult | undefined {
    checkFrameSize(width, height);
    if (lum.length < width * height) {
      throw new RangeError(`luminance holds ${lum.length} bytes, ${width}×${height} needs ${width * height}`);
    }
    if (width < 21 || height < 21) return undefined;
    const started = this.#now();
    const deadline = started + this.#budgetMs;
    const pixels = width * height;
    let first = true;
    for (const attempt of this.#attempts) {
      // Start an attempt only when what it usually costs on a frame this size fits in what is left
      // (an attempt cannot be interrupted inside zxing); a cheaper one further down may still fit.
      // The first always runs. A skipped attempt's cost is forgotten little by little, so that
      // one slow frame (a busy machine, the first frames before the JIT) does not bar it for good.
      const known = this.#costPerPixel.get(attempt.name);
      const left = deadline - this.#now();
      if (!first && (left <= 0 || (known !== undefined && known * pixels > left))) {
        if (known !== undefined) this.#costPerPixel.set(attempt.name, known * 0.9);
        continue;
      }
      first = false;
      const begun = this.#now();
      let text: string | undefined;
      try {
        const gray = attempt.prepare({ lum, width, height });
        const bitmap = new BinaryBitmap(
          attempt.binarizer(new RGBLuminanceSource(gray.lum, gray.width, gray.height)),
        );
        // Our detector first (it sees what zxing's does, and more), then zxing's own reader,
        // which still reads a few codes ours misses.
        text =
          (attempt.tolerant
            ? decodeWithTolerantDetector(bitmap.getBlackMatrix(), { deadline, now: this.#now, gray })
            : undefined) ?? (this.#now() < deadline ? this.#decodeBitmap(bitmap) : undefined);
      } catch (error) {
        if (!isNoCode(error)) throw error;
      }
      const spent = (this.#now() - begun) / pixels;
      // A cautious estimate: the recent worst, fading (a busy machine makes attempts slower).
      this.#costPerPixel.set(attempt.name, known === undefined ? spent : Math.max(spent, 0.9 * known));
      if (text !== undefined) return { text, attempt: attempt.name };
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
