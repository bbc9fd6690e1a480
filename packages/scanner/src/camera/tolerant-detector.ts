import {
  type BitMatrix,
  DecodeHintType,
  GridSamplerInstance,
  PerspectiveTransform,
  type ResultPoint,
} from "@zxing/library";
import * as decoderModule from "@zxing/library/cjs/core/qrcode/decoder/Decoder.js";
import * as detectorModule from "@zxing/library/cjs/core/qrcode/detector/Detector.js";
import * as finderModule from "@zxing/library/cjs/core/qrcode/detector/FinderPatternFinder.js";

// Why this exists: zxing estimates the symbol's size from the finder patterns, rounds it, and gives
// up when the estimate is off by two modules, which a rotated or tilted large code (version 9–11,
// what a Sésame credential needs) often is. Measured on our camera corpus, that was most failures.
// Here the same finder patterns are tried against the nearest valid sizes, with the bottom-right
// alignment pattern for perspective. The classes used are not in the package's public index, so
// they are reached by path (pinned version 0.21.3) and typed by the little we use.

interface FinderPoint extends ResultPoint {
  getEstimatedModuleSize(): number;
}
interface FinderPatternInfo {
  getTopLeft(): FinderPoint;
  getTopRight(): FinderPoint;
  getBottomLeft(): FinderPoint;
}
type FinderPatternFinderClass = new (
  image: BitMatrix,
  callback: null,
) => { find(hints: Map<DecodeHintType, unknown>): FinderPatternInfo };
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

const distance = (a: ResultPoint, b: ResultPoint) => Math.hypot(a.getX() - b.getX(), a.getY() - b.getY());

/** Valid QR sizes (17 + 4·version) nearest to the estimate, best first. */
export function candidateDimensions(estimate: number, spread = 2): number[] {
  const version = Math.round((estimate - 17) / 4);
  const out: number[] = [];
  for (let v = version - spread; v <= version + spread; v++) if (v >= 1 && v <= 40) out.push(17 + 4 * v);
  return out.sort((a, b) => Math.abs(a - estimate) - Math.abs(b - estimate));
}

const HINTS = new Map<DecodeHintType, unknown>([[DecodeHintType.TRY_HARDER, true]]);

/** Decodes the QR code in a binarized image, tolerating a wrong size estimate. Undefined when it cannot. */
export function decodeWithTolerantDetector(image: BitMatrix): string | undefined {
  let info: FinderPatternInfo;
  try {
    info = new FinderPatternFinder(image, null).find(HINTS);
  } catch {
    return undefined;
  }
  const topLeft = info.getTopLeft();
  const topRight = info.getTopRight();
  const bottomLeft = info.getBottomLeft();
  const moduleSize =
    (topLeft.getEstimatedModuleSize() +
      topRight.getEstimatedModuleSize() +
      bottomLeft.getEstimatedModuleSize()) /
    3;
  if (moduleSize < 1) return undefined;
  const estimate = (distance(topLeft, topRight) + distance(topLeft, bottomLeft)) / (2 * moduleSize) + 7;
  const detector = new Detector(image);
  const decoder = new Decoder();
  const dimensions = candidateDimensions(estimate);
  for (const dimension of dimensions) {
    const text = tryDimension(image, detector, decoder, topLeft, topRight, bottomLeft, moduleSize, dimension);
    if (text !== undefined) return text;
  }
  // Strong perspective moves the fourth corner away from where a parallelogram puts it, and the
  // alignment pattern search can miss it: look for the corner around that guess, a module at a time.
  const nearest = dimensions[0];
  if (nearest === undefined) return undefined;
  const guessX = topRight.getX() - topLeft.getX() + bottomLeft.getX();
  const guessY = topRight.getY() - topLeft.getY() + bottomLeft.getY();
  for (const [dx, dy] of spiral(4)) {
    const corner = { x: guessX + dx * moduleSize, y: guessY + dy * moduleSize };
    const text = sampleAndDecode(
      image,
      decoder,
      topLeft,
      topRight,
      bottomLeft,
      corner,
      nearest - 3.5,
      nearest,
    );
    if (text !== undefined) return text;
  }
  return undefined;
}

/** Offsets around (0, 0) out to `radius`, nearest first, without (0, 0) itself. */
function spiral(radius: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let dy = -radius; dy <= radius; dy++)
    for (let dx = -radius; dx <= radius; dx++) if (dx || dy) out.push([dx, dy]);
  return out.sort((a, b) => Math.hypot(...a) - Math.hypot(...b));
}

function sampleAndDecode(
  image: BitMatrix,
  decoder: InstanceType<DecoderClass>,
  topLeft: ResultPoint,
  topRight: ResultPoint,
  bottomLeft: ResultPoint,
  corner: { x: number; y: number },
  sourceCorner: number,
  dimension: number,
): string | undefined {
  const farCorner = dimension - 3.5;
  try {
    const transform = PerspectiveTransform.quadrilateralToQuadrilateral(
      3.5,
      3.5,
      farCorner,
      3.5,
      sourceCorner,
      sourceCorner,
      3.5,
      farCorner,
      topLeft.getX(),
      topLeft.getY(),
      topRight.getX(),
      topRight.getY(),
      corner.x,
      corner.y,
      bottomLeft.getX(),
      bottomLeft.getY(),
    );
    const bits = GridSamplerInstance.getInstance().sampleGridWithTransform(
      image,
      dimension,
      dimension,
      transform,
    );
    return decoder.decodeBitMatrix(bits, HINTS).getText();
  } catch {
    return undefined;
  }
}

function tryDimension(
  image: BitMatrix,
  detector: InstanceType<DetectorClass>,
  decoder: InstanceType<DecoderClass>,
  topLeft: ResultPoint,
  topRight: ResultPoint,
  bottomLeft: ResultPoint,
  moduleSize: number,
  dimension: number,
): string | undefined {
  const farCorner = dimension - 3.5;
  // The bottom-right alignment pattern sits 3 modules in from where a fourth finder would be.
  let alignment: ResultPoint | undefined;
  if (dimension > 21) {
    const guessX = topRight.getX() - topLeft.getX() + bottomLeft.getX();
    const guessY = topRight.getY() - topLeft.getY() + bottomLeft.getY();
    const inward = 1 - 3 / (dimension - 7);
    const x = Math.floor(topLeft.getX() + inward * (guessX - topLeft.getX()));
    const y = Math.floor(topLeft.getY() + inward * (guessY - topLeft.getY()));
    for (const allowance of [4, 8, 16]) {
      try {
        alignment = detector.findAlignmentInRegion(moduleSize, x, y, allowance);
        break;
      } catch {
        // not in this radius: widen
      }
    }
  }
  const parallelogram = {
    x: topRight.getX() - topLeft.getX() + bottomLeft.getX(),
    y: topRight.getY() - topLeft.getY() + bottomLeft.getY(),
  };
  if (alignment !== undefined) {
    const found = { x: alignment.getX(), y: alignment.getY() };
    const text = sampleAndDecode(
      image,
      decoder,
      topLeft,
      topRight,
      bottomLeft,
      found,
      farCorner - 3,
      dimension,
    );
    if (text !== undefined) return text;
  }
  return sampleAndDecode(image, decoder, topLeft, topRight, bottomLeft, parallelogram, farCorner, dimension);
}
