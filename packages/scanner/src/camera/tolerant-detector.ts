import { BitMatrix, DecodeHintType, QRCodeVersion, type ResultPoint } from "@zxing/library";
import * as decoderModule from "@zxing/library/cjs/core/qrcode/decoder/Decoder.js";
import * as detectorModule from "@zxing/library/cjs/core/qrcode/detector/Detector.js";
import * as finderModule from "@zxing/library/cjs/core/qrcode/detector/FinderPatternFinder.js";

// Why this exists: on a tilted phone (perspective), combined with blur, glare or a dim screen,
// zxing's detector fails in two ways, measured on our camera corpus:
// 1. its finder-pattern search keeps the three candidates seen most often, which are not always
//    three corners of one symbol (a glare blob or the phone's text can look like one);
// 2. given the right three finder patterns, it rounds the symbol size, looks for one alignment
//    pattern and samples with one homography: a rounding error of a module, or the wrong
//    alignment pattern out of the six a version 7–13 code has, and the grid is off.
// Here every finder-pattern candidate is kept, triples are ranked by geometry (a right angle,
// similar module sizes), the size is checked against the symbol's own version blocks when it has
// them, the homography is refined with every alignment pattern the version has, nearest first,
// and modules are sampled on the binarized image, then by grey level against their neighbours.
// Whatever is sampled goes through zxing's format-information and Reed–Solomon checks: a wrong
// grid gives no text, never a wrong one. The classes used are not in the package's public index,
// so they are reached by path (pinned version 0.21.3) and typed by the little we use.

interface FinderPoint extends ResultPoint {
  getEstimatedModuleSize(): number;
  getCount(): number;
}
interface FinderPatternFinderInstance {
  find(hints: Map<DecodeHintType, unknown>): unknown;
  getPossibleCenters(): FinderPoint[];
  selectBestPatterns: () => FinderPoint[];
  haveMultiplyConfirmedCenters: () => boolean;
}
type FinderPatternFinderClass = new (image: BitMatrix, callback: null) => FinderPatternFinderInstance;
type DetectorClass = new (
  image: BitMatrix,
) => {
  findAlignmentInRegion(moduleSize: number, x: number, y: number, allowance: number): ResultPoint;
};
type DecoderClass = new () => {
  decodeBitMatrix(bits: BitMatrix, hints?: Map<DecodeHintType, unknown>): { getText(): string };
};

/** CommonJS interop differs between Node, vite and esbuild: walk `.default` until the class. */
function classFrom<T>(namespace: unknown, name: string): T {
  let candidate: unknown = namespace;
  for (let depth = 0; depth < 3; depth++) {
    if (typeof candidate === "function") return candidate as T;
    candidate =
      candidate !== null && typeof candidate === "object" && "default" in candidate
        ? candidate.default
        : undefined;
  }
  throw new Error(`@zxing/library internals changed: ${name} is missing`);
}

const FinderPatternFinder = classFrom<FinderPatternFinderClass>(finderModule, "FinderPatternFinder");
const Detector = classFrom<DetectorClass>(detectorModule, "Detector");
const Decoder = classFrom<DecoderClass>(decoderModule, "Decoder");

const HINTS = new Map<DecodeHintType, unknown>([[DecodeHintType.TRY_HARDER, true]]);

/** Valid QR sizes (17 + 4·version) nearest to the estimate, best first. */
export function candidateDimensions(estimate: number, spread = 2): number[] {
  const version = Math.round((estimate - 17) / 4);
  const out: number[] = [];
  for (let v = version - spread; v <= version + spread; v++) if (v >= 1 && v <= 40) out.push(17 + 4 * v);
  return out.sort((a, b) => Math.abs(a - estimate) - Math.abs(b - estimate));
}

interface Point {
  readonly x: number;
  readonly y: number;
}
/** A candidate set of three finder patterns, in zxing's order. */
export interface FinderTriple {
  readonly topLeft: Point;
  readonly topRight: Point;
  readonly bottomLeft: Point;
  /** Module size at each pattern, in pixels. */
  readonly moduleSizes: readonly [number, number, number];
  /** Lower is more plausible. */
  readonly score: number;
}

/** The grey image the binarized one was made from (same size), for sampling modules by their level. */
export interface GrayImage {
  readonly lum: Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
}

export interface TolerantOptions {
  readonly gray?: GrayImage;
  /** performance.now()-style time after which no new attempt starts. */
  readonly deadline?: number;
  readonly now?: () => number;
  /** How many finder-pattern triples to try, most plausible first (default 3). */
  readonly maxTriples?: number;
}

/** Every finder-pattern candidate in the image (zxing keeps only three, and stops early). */
export function findFinderCandidates(image: BitMatrix): FinderPoint[] {
  const finder = new FinderPatternFinder(image, null);
  // Scan the whole image instead of stopping at the first three consistent candidates, and keep
  // them all: the selection is ours.
  finder.haveMultiplyConfirmedCenters = () => false;
  finder.selectBestPatterns = () => {
    const all = finder.getPossibleCenters();
    if (all.length < 3) throw new RangeError("fewer than three finder patterns");
    return all.slice(0, 3);
  };
  try {
    finder.find(HINTS);
  } catch {
    // fewer than three: still return what there is (nothing to decode)
  }
  return finder.getPossibleCenters().slice();
}

const dist = (a: Point, b: Point) => Math.hypot(a.x - b.x, a.y - b.y);
const toPoint = (p: ResultPoint): Point => ({ x: p.getX(), y: p.getY() });
const pointDist = (a: ResultPoint, b: ResultPoint) => Math.hypot(a.getX() - b.getX(), a.getY() - b.getY());

/** Ranks triples of finder candidates by how much they look like three corners of one symbol. */
export function rankFinderTriples(candidates: readonly FinderPoint[], max = 3): FinderTriple[] {
  // The most often confirmed candidates first; a handful is enough.
  const pool = candidates
    .slice()
    .sort((a, b) => b.getCount() - a.getCount())
    .slice(0, 12);
  const triples: FinderTriple[] = [];
  for (let i = 0; i < pool.length; i++) {
    for (let j = i + 1; j < pool.length; j++) {
      for (let k = j + 1; k < pool.length; k++) {
        const a = pool[i];
        const b = pool[j];
        const c = pool[k];
        if (a === undefined || b === undefined || c === undefined) continue;
        const triple = orderTriple(a, b, c);
        if (triple !== undefined) triples.push(triple);
      }
    }
  }
  return triples.sort((a, b) => a.score - b.score).slice(0, max);
}

function orderTriple(a: FinderPoint, b: FinderPoint, c: FinderPoint): FinderTriple | undefined {
  const ab = pointDist(a, b);
  const bc = pointDist(b, c);
  const ac = pointDist(a, c);
  // The top-left pattern is opposite the longest side (the diagonal).
  let tl: FinderPoint;
  let p: FinderPoint;
  let q: FinderPoint;
  if (bc >= ab && bc >= ac) [tl, p, q] = [a, b, c];
  else if (ac >= ab && ac >= bc) [tl, p, q] = [b, a, c];
  else [tl, p, q] = [c, a, b];
  // Clockwise in image coordinates (y down): top-right, then bottom-left.
  const cross =
    (p.getX() - tl.getX()) * (q.getY() - tl.getY()) - (p.getY() - tl.getY()) * (q.getX() - tl.getX());
  const [tr, bl] = cross > 0 ? [p, q] : [q, p];
  const sizes: [number, number, number] = [
    tl.getEstimatedModuleSize(),
    tr.getEstimatedModuleSize(),
    bl.getEstimatedModuleSize(),
  ];
  const minSize = Math.min(...sizes);
  const maxSize = Math.max(...sizes);
  if (minSize <= 0 || maxSize / minSize > 1.8) return undefined;
  const top = pointDist(tl, tr);
  const left = pointDist(tl, bl);
  const side = Math.max(top, left);
  const mean = (sizes[0] + sizes[1] + sizes[2]) / 3;
  // Centres are dimension − 7 modules apart: at least 14 (version 1), at most 170 (version 40).
  if (Math.min(top, left) / mean < 11 || side / mean > 175) return undefined;
  const sideRatio = Math.abs(Math.log(top / left));
  if (sideRatio > 0.5) return undefined;
  const cos =
    ((tr.getX() - tl.getX()) * (bl.getX() - tl.getX()) + (tr.getY() - tl.getY()) * (bl.getY() - tl.getY())) /
    (top * left);
  if (Math.abs(cos) > 0.45) return undefined;
  // The two sides should give the same symbol size.
  const dimTop = (2 * top) / (sizes[0] + sizes[1]);
  const dimLeft = (2 * left) / (sizes[0] + sizes[2]);
  const dimRatio = Math.abs(Math.log(dimTop / dimLeft));
  const score = Math.abs(cos) + sideRatio + Math.log(maxSize / minSize) + dimRatio;
  return { topLeft: toPoint(tl), topRight: toPoint(tr), bottomLeft: toPoint(bl), moduleSizes: sizes, score };
}

/** A plane homography, module coordinates → image pixels (h[8] = 1). */
type Homography = Float64Array;

function apply(h: Homography, u: number, v: number): Point {
  const w = (h[6] ?? 0) * u + (h[7] ?? 0) * v + 1;
  return {
    x: ((h[0] ?? 0) * u + (h[1] ?? 0) * v + (h[2] ?? 0)) / w,
    y: ((h[3] ?? 0) * u + (h[4] ?? 0) * v + (h[5] ?? 0)) / w,
  };
}

/** Least-squares homography from four or more correspondences (module → pixel); undefined if degenerate. */
export function fitHomography(
  pairs: ReadonlyArray<{ readonly u: number; readonly v: number; readonly x: number; readonly y: number }>,
): Homography | undefined {
  // Normal equations of the linearized problem, 8 unknowns.
  const ata = new Float64Array(64);
  const atb = new Float64Array(8);
  const row = new Float64Array(8);
  const add = (target: number) => {
    for (let r = 0; r < 8; r++) {
      const rr = row[r] ?? 0;
      if (rr === 0) continue;
      for (let c = 0; c < 8; c++) ata[r * 8 + c] = (ata[r * 8 + c] ?? 0) + rr * (row[c] ?? 0);
      atb[r] = (atb[r] ?? 0) + rr * target;
    }
  };
  for (const { u, v, x, y } of pairs) {
    row.set([u, v, 1, 0, 0, 0, -u * x, -v * x]);
    add(x);
    row.set([0, 0, 0, u, v, 1, -u * y, -v * y]);
    add(y);
  }
  return solve8(ata, atb);
}

/** Gaussian elimination with partial pivoting on an 8×8 system. */
function solve8(a: Float64Array, b: Float64Array): Homography | undefined {
  const n = 8;
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++)
      if (Math.abs(a[r * n + col] ?? 0) > Math.abs(a[pivot * n + col] ?? 0)) pivot = r;
    const p = a[pivot * n + col] ?? 0;
    if (Math.abs(p) < 1e-12) return undefined;
    if (pivot !== col) {
      for (let c = 0; c < n; c++) {
        const t = a[col * n + c] ?? 0;
        a[col * n + c] = a[pivot * n + c] ?? 0;
        a[pivot * n + c] = t;
      }
      const t = b[col] ?? 0;
      b[col] = b[pivot] ?? 0;
      b[pivot] = t;
    }
    for (let r = col + 1; r < n; r++) {
      const f = (a[r * n + col] ?? 0) / p;
      if (f === 0) continue;
      for (let c = col; c < n; c++) a[r * n + c] = (a[r * n + c] ?? 0) - f * (a[col * n + c] ?? 0);
      b[r] = (b[r] ?? 0) - f * (b[col] ?? 0);
    }
  }
  const x = new Float64Array(9);
  for (let r = n - 1; r >= 0; r--) {
    let s = b[r] ?? 0;
    for (let c = r + 1; c < n; c++) s -= (a[r * n + c] ?? 0) * (x[c] ?? 0);
    x[r] = s / (a[r * n + r] ?? 1);
  }
  x[8] = 1;
  return x.every(Number.isFinite) ? x : undefined;
}

/**
 * Reads the two 18-bit version blocks (next to the top-right and bottom-left finder patterns)
 * as if the symbol were `dimension` modules wide, on the affine grid the three finder centres
 * span (exact at those centres, close enough seven modules away). True when either block decodes
 * (BCH corrects up to 3 bits) to exactly that size: a strong check, garbage rarely does.
 */
function versionBlocksSay(image: BitMatrix, t: FinderTriple, dimension: number): boolean {
  const span = dimension - 7;
  const ax = (t.topRight.x - t.topLeft.x) / span;
  const ay = (t.topRight.y - t.topLeft.y) / span;
  const bx = (t.bottomLeft.x - t.topLeft.x) / span;
  const by = (t.bottomLeft.y - t.topLeft.y) / span;
  const width = image.getWidth();
  const height = image.getHeight();
  const bit = (col: number, row: number) => {
    const u = col + 0.5 - 3.5;
    const v = row + 0.5 - 3.5;
    const x = Math.floor(t.topLeft.x + u * ax + v * bx);
    const y = Math.floor(t.topLeft.y + u * ay + v * by);
    return x >= 0 && y >= 0 && x < width && y < height && image.get(x, y) ? 1 : 0;
  };
  // The bit orders of zxing's BitMatrixParser.readVersion.
  let right = 0;
  for (let j = 5; j >= 0; j--)
    for (let i = dimension - 9; i >= dimension - 11; i--) right = (right << 1) | bit(i, j);
  if (QRCodeVersion.decodeVersionInformation(right)?.getDimensionForVersion() === dimension) return true;
  let below = 0;
  for (let i = 5; i >= 0; i--)
    for (let j = dimension - 9; j >= dimension - 11; j--) below = (below << 1) | bit(i, j);
  return QRCodeVersion.decodeVersionInformation(below)?.getDimensionForVersion() === dimension;
}

/**
 * Symbol sizes to try for a triple. The size estimated from the finder patterns' module size is
 * often off by a version or two (blur and thresholding fatten or thin the patterns), so for
 * version 7 and up every plausible size is checked against the symbol's own version blocks.
 */
function dimensionsFor(image: BitMatrix, t: FinderTriple): number[] {
  const [sTl, sTr, sBl] = t.moduleSizes;
  const top = dist(t.topLeft, t.topRight);
  const left = dist(t.topLeft, t.bottomLeft);
  const estimate = (top / ((sTl + sTr) / 2) + left / ((sTl + sBl) / 2)) / 2 + 7;
  const mean = (sTl + sTr + sBl) / 3;
  const side = (top + left) / 2;
  const found: number[] = [];
  for (let dimension = 45; dimension <= 177; dimension += 4) {
    const moduleSize = side / (dimension - 7);
    if (moduleSize < 0.6 * mean || moduleSize > 1.4 * mean || moduleSize < 1) continue;
    if (versionBlocksSay(image, t, dimension)) found.push(dimension);
  }
  for (const d of candidateDimensions(estimate, 2)) if (!found.includes(d)) found.push(d);
  return found;
}

/**
 * Decodes the QR code in a binarized image with its own finder-pattern selection and a
 * homography refined on the alignment patterns. Undefined when it cannot (or time is up).
 */
export function decodeWithTolerantDetector(
  image: BitMatrix,
  options: TolerantOptions = {},
): string | undefined {
  const now = options.now ?? (() => performance.now());
  const deadline = options.deadline ?? Number.POSITIVE_INFINITY;
  const gray = options.gray;
  if (gray !== undefined && (gray.width !== image.getWidth() || gray.height !== image.getHeight())) {
    throw new RangeError("the grey image and the binarized one differ in size");
  }
  const triples = rankFinderTriples(findFinderCandidates(image), options.maxTriples ?? 3);
  if (triples.length === 0) return undefined;
  const detector = new Detector(image);
  const decoder = new Decoder();
  let tried = false;
  for (const triple of triples) {
    const dimensions = dimensionsFor(image, triple).slice(0, 4);
    for (const [rank, dimension] of dimensions.entries()) {
      // The most likely reading is always tried, so that a spent budget still reads easy codes.
      if (tried && now() >= deadline) return undefined;
      tried = true;
      // The far-corner search is the costly step: only for the most likely size.
      const search = rank === 0;
      const text = decodeAtDimension(
        image,
        detector,
        decoder,
        triple,
        dimension,
        gray,
        search,
        now,
        deadline,
      );
      if (text !== undefined) return text;
    }
  }
  return undefined;
}

function decodeAtDimension(
  image: BitMatrix,
  detector: InstanceType<DetectorClass>,
  decoder: InstanceType<DecoderClass>,
  t: FinderTriple,
  dimension: number,
  gray: GrayImage | undefined,
  search: boolean,
  now: () => number,
  deadline: number,
): string | undefined {
  const far = dimension - 3.5;
  const pairs: Array<{ u: number; v: number; x: number; y: number }> = [
    { u: 3.5, v: 3.5, ...t.topLeft },
    { u: far, v: 3.5, ...t.topRight },
    { u: 3.5, v: far, ...t.bottomLeft },
  ];
  // Start from the parallelogram the three patterns span: its fourth corner is a stand-in until an
  // alignment pattern inside the symbol is found (with only patterns along the edges, three of the
  // points are nearly on a line and the fit would be ill-conditioned).
  const parallelogram = {
    u: far,
    v: far,
    x: t.topRight.x - t.topLeft.x + t.bottomLeft.x,
    y: t.topRight.y - t.topLeft.y + t.bottomLeft.y,
  };
  let interior = false;
  let h = fitHomography([...pairs, parallelogram]);
  if (h === undefined) return undefined;
  const version = (dimension - 17) / 4;
  if (version >= 2) {
    const centres = Array.from(QRCodeVersion.getVersionForNumber(version).getAlignmentPatternCenters());
    const last = centres.length - 1;
    const spots: Array<[number, number]> = [];
    centres.forEach((r, ri) => {
      centres.forEach((c, ci) => {
        // No alignment pattern where the finder patterns are.
        if ((ri === 0 && ci === 0) || (ri === 0 && ci === last) || (ri === last && ci === 0)) return;
        spots.push([c + 0.5, r + 0.5]);
      });
    });
    // Nearest the known corners first: each found pattern improves the guess for the next.
    spots.sort((a, b) => Math.max(...a) - Math.max(...b) || a[0] + a[1] - (b[0] + b[1]));
    for (const [u, v] of spots) {
      const guess = apply(h, u, v);
      const right = apply(h, u + 1, v);
      const down = apply(h, u, v + 1);
      const moduleSize = (dist(guess, right) + dist(guess, down)) / 2;
      if (!(moduleSize >= 1)) continue;
      let found: Point | undefined;
      try {
        found = toPoint(
          detector.findAlignmentInRegion(moduleSize, Math.floor(guess.x), Math.floor(guess.y), 4),
        );
      } catch {
        found = undefined;
      }
      if (found === undefined || dist(found, guess) > 2.5 * moduleSize) continue;
      pairs.push({ u, v, ...found });
      if (u > 10 && v > 10) interior = true;
      h = fitHomography(interior ? pairs : [...pairs, parallelogram]) ?? h;
    }
  }
  const text =
    sampleAndDecode(image, decoder, h, dimension) ??
    (gray === undefined ? undefined : sampleGrayAndDecode(gray, decoder, h, dimension));
  if (text !== undefined || interior || !search) return text;
  // No alignment pattern inside the symbol was found (glare, blur, a thumb): perspective moves the
  // far corner away from where the parallelogram puts it. Look for it, a module at a time.
  const corner = apply(h, far, far);
  const moduleSize = dist(corner, apply(h, far + 1, far));
  for (const [dx, dy] of SPIRAL) {
    if (now() >= deadline) return undefined;
    const moved = fitHomography([
      ...pairs,
      { u: far, v: far, x: corner.x + dx * moduleSize, y: corner.y + dy * moduleSize },
    ]);
    if (moved === undefined) continue;
    const found = sampleAndDecode(image, decoder, moved, dimension);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Offsets around (0, 0) within a radius of 3, nearest first, without (0, 0) itself. */
const SPIRAL: ReadonlyArray<readonly [number, number]> = (() => {
  const out: Array<[number, number]> = [];
  for (let dy = -3; dy <= 3; dy++)
    for (let dx = -3; dx <= 3; dx++) if ((dx || dy) && dx * dx + dy * dy <= 9) out.push([dx, dy]);
  return out.sort((a, b) => Math.hypot(...a) - Math.hypot(...b));
})();

/**
 * Samples each module's grey level (five points over its middle) and calls it dark when darker
 * than the modules around it (7×7): survives glare and dim screens that fool a pixel threshold.
 */
function sampleGrayAndDecode(
  gray: GrayImage,
  decoder: InstanceType<DecoderClass>,
  h: Homography,
  dimension: number,
): string | undefined {
  const { lum, width, height } = gray;
  const n = dimension;
  const values = new Float64Array(n * n);
  const [h0 = 0, h1 = 0, h2 = 0, h3 = 0, h4 = 0, h5 = 0, h6 = 0, h7 = 0] = h;
  const at = (u: number, v: number) => {
    const w = h6 * u + h7 * v + 1;
    const x = Math.floor((h0 * u + h1 * v + h2) / w);
    const y = Math.floor((h3 * u + h4 * v + h5) / w);
    return x >= 0 && y >= 0 && x < width && y < height ? (lum[y * width + x] ?? 255) : 255;
  };
  for (let row = 0; row < n; row++) {
    for (let col = 0; col < n; col++) {
      const u = col + 0.5;
      const v = row + 0.5;
      values[row * n + col] =
        at(u, v) + at(u - 0.2, v - 0.2) + at(u + 0.2, v - 0.2) + at(u - 0.2, v + 0.2) + at(u + 0.2, v + 0.2);
    }
  }
  // Summed-area table for the local means.
  const stride = n + 1;
  const sums = new Float64Array(stride * stride);
  for (let row = 0; row < n; row++) {
    let line = 0;
    for (let col = 0; col < n; col++) {
      line += values[row * n + col] ?? 0;
      sums[(row + 1) * stride + col + 1] = (sums[row * stride + col + 1] ?? 0) + line;
    }
  }
  const bits = new BitMatrix(n, n);
  const r = 3;
  for (let row = 0; row < n; row++) {
    const top = Math.max(0, row - r);
    const bottom = Math.min(n, row + r + 1);
    for (let col = 0; col < n; col++) {
      const left = Math.max(0, col - r);
      const right = Math.min(n, col + r + 1);
      const total =
        (sums[bottom * stride + right] ?? 0) -
        (sums[top * stride + right] ?? 0) -
        (sums[bottom * stride + left] ?? 0) +
        (sums[top * stride + left] ?? 0);
      const mean = total / ((bottom - top) * (right - left));
      if ((values[row * n + col] ?? 0) < mean) bits.set(col, row);
    }
  }
  try {
    return decoder.decodeBitMatrix(bits, HINTS).getText();
  } catch {
    return undefined;
  }
}

/** Samples module centres through the homography (off-image modules read as light) and decodes. */
function sampleAndDecode(
  image: BitMatrix,
  decoder: InstanceType<DecoderClass>,
  h: Homography,
  dimension: number,
): string | undefined {
  const width = image.getWidth();
  const height = image.getHeight();
  const bits = new BitMatrix(dimension, dimension);
  const [h0 = 0, h1 = 0, h2 = 0, h3 = 0, h4 = 0, h5 = 0, h6 = 0, h7 = 0] = h;
  for (let row = 0; row < dimension; row++) {
    const v = row + 0.5;
    for (let col = 0; col < dimension; col++) {
      const u = col + 0.5;
      const w = h6 * u + h7 * v + 1;
      const x = Math.floor((h0 * u + h1 * v + h2) / w);
      const y = Math.floor((h3 * u + h4 * v + h5) / w);
      if (x >= 0 && y >= 0 && x < width && y < height && image.get(x, y)) bits.set(col, row);
    }
  }
  try {
    return decoder.decodeBitMatrix(bits, HINTS).getText();
  } catch {
    return undefined;
  }
}
