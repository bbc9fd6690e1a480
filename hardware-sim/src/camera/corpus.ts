import { between, type Random, randomInt, seededRandom } from "../scanner/random.js";
import { type CameraFrame, type CameraShot, renderCameraFrame } from "./camera.js";
import { phoneScreen } from "./phone-screen.js";

/** The troubles a phone screen meets in front of a gate camera. */
export type ShotTrouble =
  | "rotation"
  | "perspective"
  | "blur"
  | "glare"
  | "low-contrast"
  | "occlusion"
  | "moire"
  | "noise";

export const ALL_TROUBLES: readonly ShotTrouble[] = [
  "rotation",
  "perspective",
  "blur",
  "glare",
  "low-contrast",
  "occlusion",
  "moire",
  "noise",
];

export interface DistortedShot {
  readonly shot: CameraShot;
  readonly troubles: readonly ShotTrouble[];
  readonly screenWhite: number;
  /** Seconds into the code's 15 s period (the app's progress bar). */
  readonly periodProgress: number;
}

/**
 * Draws a realistic, readable-by-a-good-reader presentation: every frame has some rotation and
 * noise, and two or three of the other troubles at a strength seen at real gates (a tilted
 * phone, a defocused camera, a ceiling lamp on the glass, a dimmed screen, a thumb on the edge).
 */
export function drawDistortedShot(
  random: Random,
  width: number,
  height: number,
  seed: number,
  supersample = 2,
  codeFill: readonly [number, number] = [0.45, 0.7],
  focalPx?: number,
): DistortedShot {
  const troubles = new Set<ShotTrouble>(["rotation", "noise"]);
  const extra: ShotTrouble[] = ["perspective", "blur", "glare", "low-contrast", "occlusion", "moire"];
  const count = randomInt(random, 2, 3);
  while (troubles.size < 2 + count) {
    const pick = extra[Math.floor(random() * extra.length)];
    if (pick !== undefined) troubles.add(pick);
  }
  const short = Math.min(width, height);
  // Most holders present the phone roughly upright; some sideways or upside down.
  const rollDeg = random() < 0.7 ? between(random, -25, 25) : between(random, -180, 180);
  // Holders bring the phone close to the reader: the code fills half or more of the view,
  // but stays whole in the frame once rotated (a cut-off code is not a decoder problem).
  const fit = (0.9 * short) / (Math.abs(Math.cos(rad(rollDeg))) + Math.abs(Math.sin(rad(rollDeg))));
  const qrSizePx = Math.min(fit, short * between(random, codeFill[0], codeFill[1]));
  // Tilt away from facing the camera, in any direction.
  const tilt = troubles.has("perspective") ? between(random, 8, 25) : between(random, 0, 6);
  const tiltDirection = between(random, 0, 2 * Math.PI);
  const shot: CameraShot = {
    width,
    height,
    centerX: between(random, 0.44, 0.56),
    centerY: between(random, 0.44, 0.56),
    qrSizePx,
    rollDeg,
    pitchDeg: tilt * Math.cos(tiltDirection),
    yawDeg: tilt * Math.sin(tiltDirection),
    // Blur relative to the module size: beyond ~half a module no reader recovers the code.
    blurPx: troubles.has("blur") ? (qrSizePx / 61) * between(random, 0.2, 0.4) : between(random, 0, 0.4),
    contrast: troubles.has("low-contrast") ? between(random, 0.3, 0.55) : between(random, 0.8, 1),
    brightness: troubles.has("low-contrast") ? between(random, -0.12, 0.12) : between(random, -0.05, 0.05),
    glare: troubles.has("glare")
      ? {
          x: between(random, 0.3, 0.7),
          y: between(random, 0.3, 0.7),
          radiusPx: short * between(random, 0.06, 0.16),
          strength: between(random, 0.3, 0.6),
        }
      : undefined,
    occlusion: troubles.has("occlusion") ? thumb(random) : undefined,
    moire: troubles.has("moire")
      ? {
          strength: between(random, 0.15, 0.35),
          periodPx: between(random, 3, 9),
          angleDeg: between(random, 0, 180),
        }
      : undefined,
    noise: between(random, 0.005, 0.03),
    // The same lens as a 640×480 gate camera (1.4 × width), whatever the frame shape: same perspective.
    focalPx: focalPx ?? 1.87 * short,
    supersample,
    seed,
  };
  return {
    shot,
    troubles: [...troubles],
    screenWhite: between(random, 0.75, 1),
    periodProgress: between(random, 0, 15),
  };
}

const rad = (deg: number) => (deg * Math.PI) / 180;

/** A thumb over a side edge of the code, away from the three finder patterns. */
function thumb(random: Random): NonNullable<CameraShot["occlusion"]> {
  const side = randomInt(random, 0, 1);
  const along = between(random, -0.1, 0.15);
  const depth = between(random, 0.52, 0.6);
  // Right edge or bottom edge: the top-left, top-right and bottom-left corners hold finder patterns.
  return side === 0
    ? { u: depth, v: along, radiusU: 0.12, radiusV: 0.18 }
    : { u: along, v: depth, radiusU: 0.18, radiusV: 0.12 };
}

export interface CorpusImage {
  readonly index: number;
  /** The text the QR code holds: the ground truth for the decoder. */
  readonly text: string;
  readonly troubles: readonly ShotTrouble[];
  readonly frame: CameraFrame;
}

export interface CorpusOptions {
  /** The QR texts to show (real credentials); cycled when there are fewer than `count`. */
  readonly texts: readonly string[];
  readonly count: number;
  readonly width: number;
  readonly height: number;
  readonly seed: number;
  /**
   * Side of the code as a fraction of the frame's short side, before rotation (default 0.45–0.7,
   * a phone held close to a 640×480 camera). Smaller test frames crop closer to keep module sizes.
   */
  readonly codeFill?: readonly [number, number];
  /** Focal length in pixels (default: the lens of a 640×480 gate camera scaled to this frame). */
  readonly focalPx?: number;
  /** Renders only the images this accepts (the others are still drawn, so every image stays the same). */
  readonly select?: (index: number) => boolean;
  /** 2 (default) anti-aliases module edges like a lens; 1 renders four times faster for big test runs. */
  readonly supersample?: number;
}

/** Generates distorted phone-screen frames of the given texts, reproducibly from a seed. */
export function* generateCameraCorpus(options: CorpusOptions): Generator<CorpusImage> {
  if (options.texts.length === 0) throw new RangeError("the corpus needs at least one QR text");
  const random = seededRandom(options.seed);
  for (let index = 0; index < options.count; index++) {
    const text = options.texts[index % options.texts.length] ?? "";
    const drawn = drawDistortedShot(
      random,
      options.width,
      options.height,
      options.seed * 100_003 + index,
      options.supersample,
      options.codeFill,
      options.focalPx,
    );
    if (options.select !== undefined && !options.select(index)) continue;
    const screen = phoneScreen(text, {
      screenWhite: drawn.screenWhite,
      periodProgress: drawn.periodProgress,
    });
    yield { index, text, troubles: drawn.troubles, frame: renderCameraFrame(screen, drawn.shot) };
  }
}
