import { seededRandom } from "../scanner/random.js";
import type { PhoneScreen } from "./phone-screen.js";

/** An RGBA frame, as a browser's ImageData or a decoded PNG holds it. */
export interface CameraFrame {
  readonly width: number;
  readonly height: number;
  readonly rgba: Uint8ClampedArray;
}

/** How the holder presents the phone, and what the light and the lens do to the picture. */
export interface CameraShot {
  readonly width: number;
  readonly height: number;
  /** Where the code's centre lands, as fractions of the frame. */
  readonly centerX: number;
  readonly centerY: number;
  /** Side of the QR symbol in pixels if the phone faced the camera squarely. */
  readonly qrSizePx: number;
  /** In-plane rotation of the phone. */
  readonly rollDeg: number;
  /** Tilt towards or away from the camera (perspective), about the horizontal and vertical axes. */
  readonly pitchDeg: number;
  readonly yawDeg: number;
  /** Defocus, as a radius in pixels (0: sharp). */
  readonly blurPx: number;
  /** 1 keeps the screen's contrast; 0.3 is a dim screen under floodlights. */
  readonly contrast: number;
  readonly brightness: number;
  /** A reflection of a lamp on the screen glass. */
  readonly glare:
    | { readonly x: number; readonly y: number; readonly radiusPx: number; readonly strength: number }
    | undefined;
  /** A thumb over part of the code, in the phone's plane (QR widths, code centre at 0,0). */
  readonly occlusion:
    | { readonly u: number; readonly v: number; readonly radiusU: number; readonly radiusV: number }
    | undefined;
  /** Interference between the screen's pixel grid and the sensor's. */
  readonly moire:
    | { readonly strength: number; readonly periodPx: number; readonly angleDeg: number }
    | undefined;
  /** Sensor noise, standard deviation in [0, 1] luminance units. */
  readonly noise: number;
  /**
   * Focal length in pixels. Gate cameras and scan engines see ~40° across: about 1.4 × the width.
   * A wider lens (smaller value) exaggerates perspective.
   */
  readonly focalPx: number | undefined;
  /** Samples per pixel side: 2 gives anti-aliased module edges, like a real lens. */
  readonly supersample: number;
  readonly seed: number;
}

export const HEAD_ON_SHOT: CameraShot = {
  width: 640,
  height: 480,
  centerX: 0.5,
  centerY: 0.5,
  qrSizePx: 260,
  rollDeg: 0,
  pitchDeg: 0,
  yawDeg: 0,
  blurPx: 0,
  contrast: 1,
  brightness: 0,
  glare: undefined,
  occlusion: undefined,
  moire: undefined,
  noise: 0,
  focalPx: undefined,
  supersample: 2,
  seed: 1,
};

type Matrix3 = [number, number, number, number, number, number, number, number, number];

function multiply(a: Matrix3, b: Matrix3): Matrix3 {
  const out: Matrix3 = [0, 0, 0, 0, 0, 0, 0, 0, 0];
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      let sum = 0;
      for (let k = 0; k < 3; k++) sum += (a[r * 3 + k] ?? 0) * (b[k * 3 + c] ?? 0);
      out[r * 3 + c] = sum;
    }
  }
  return out;
}

function invert(m: Matrix3): Matrix3 {
  const [a, b, c, d, e, f, g, h, i] = m;
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  if (Math.abs(det) < 1e-12) throw new RangeError("degenerate camera pose");
  return [
    A / det,
    -(b * i - c * h) / det,
    (b * f - c * e) / det,
    B / det,
    (a * i - c * g) / det,
    -(a * f - c * d) / det,
    C / det,
    -(a * h - b * g) / det,
    (a * e - b * d) / det,
  ];
}

const rad = (deg: number) => (deg * Math.PI) / 180;

/** Plane (u, v, 1) → image (x, y, w) for a pinhole camera looking at the posed phone. */
function planeToImage(shot: CameraShot): Matrix3 {
  const f = shot.focalPx ?? shot.width * 1.4;
  const cx = shot.width / 2;
  const cy = shot.height / 2;
  const depth = f / shot.qrSizePx;
  const [cr, sr] = [Math.cos(rad(shot.rollDeg)), Math.sin(rad(shot.rollDeg))];
  const [cp, sp] = [Math.cos(rad(shot.pitchDeg)), Math.sin(rad(shot.pitchDeg))];
  const [cyaw, syaw] = [Math.cos(rad(shot.yawDeg)), Math.sin(rad(shot.yawDeg))];
  const roll: Matrix3 = [cr, -sr, 0, sr, cr, 0, 0, 0, 1];
  const pitch: Matrix3 = [1, 0, 0, 0, cp, -sp, 0, sp, cp];
  const yaw: Matrix3 = [cyaw, 0, syaw, 0, 1, 0, -syaw, 0, cyaw];
  const rotation = multiply(yaw, multiply(pitch, roll));
  const tx = ((shot.centerX * shot.width - cx) * depth) / f;
  const ty = ((shot.centerY * shot.height - cy) * depth) / f;
  // Columns r1, r2 of the rotation and the translation: the plane's homography.
  const extrinsic: Matrix3 = [
    rotation[0],
    rotation[1],
    tx,
    rotation[3],
    rotation[4],
    ty,
    rotation[6],
    rotation[7],
    depth,
  ];
  const intrinsic: Matrix3 = [f, 0, cx, 0, f, cy, 0, 0, 1];
  return multiply(intrinsic, extrinsic);
}

/** Where the four corners of the QR symbol land in the image (for tests and debugging). */
export function projectedQrCorners(shot: CameraShot): Array<{ x: number; y: number }> {
  const h = planeToImage(shot);
  return [
    [-0.5, -0.5],
    [0.5, -0.5],
    [0.5, 0.5],
    [-0.5, 0.5],
  ].map(([u = 0, v = 0]) => {
    const w = h[6] * u + h[7] * v + h[8];
    return { x: (h[0] * u + h[1] * v + h[2]) / w, y: (h[3] * u + h[4] * v + h[5]) / w };
  });
}

/**
 * Busy surroundings (a stadium concourse is not a white wall): smooth sinusoidal clutter,
 * written as sums of products of per-column and per-row terms so each pixel costs a few multiplies.
 */
function backdropTables(width: number, height: number) {
  const column = (f: (x: number) => number) => Float32Array.from({ length: width }, (_, x) => f(x + 0.5));
  const row = (f: (y: number) => number) => Float32Array.from({ length: height }, (_, y) => f(y + 0.5));
  return {
    // 0.14·sin(0.031x + 0.012y) = 0.14·(sin a·cos b + cos a·sin b)
    sx: column((x) => 0.14 * Math.sin(x * 0.031)),
    cx: column((x) => 0.14 * Math.cos(x * 0.031)),
    cy: row((y) => Math.cos(y * 0.012)),
    sy: row((y) => Math.sin(y * 0.012)),
    // 0.08·sin(0.13x − 0.09y)·cos(0.05y)
    sx2: column((x) => 0.08 * Math.sin(x * 0.13)),
    cx2: column((x) => 0.08 * Math.cos(x * 0.13)),
    cy2: row((y) => Math.cos(y * 0.09) * Math.cos(y * 0.05)),
    sy2: row((y) => Math.sin(y * 0.09) * Math.cos(y * 0.05)),
  };
}

/** Mean over a (2·radius+1) window along rows then columns (edges clamp), by running sums. */
function boxBlur(src: Float32Array, width: number, height: number, radius: number): Float32Array {
  const tmp = new Float32Array(src.length);
  const out = new Float32Array(src.length);
  const span = 2 * radius + 1;
  const inv = 1 / span;
  const lastX = width - 1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    let sum = 0;
    for (let k = -radius; k <= radius; k++) sum += src[row + (k < 0 ? 0 : Math.min(k, lastX))] ?? 0;
    for (let x = 0; x < width; x++) {
      tmp[row + x] = sum * inv;
      const add = x + radius + 1;
      const drop = x - radius;
      sum += (src[row + Math.min(add, lastX)] ?? 0) - (src[row + Math.max(drop, 0)] ?? 0);
    }
  }
  // Columns, a whole row at a time (sequential memory access).
  const sums = new Float64Array(width);
  const lastY = height - 1;
  for (let k = -radius; k <= radius; k++) {
    const r = (k < 0 ? 0 : Math.min(k, lastY)) * width;
    for (let x = 0; x < width; x++) sums[x] = (sums[x] ?? 0) + (tmp[r + x] ?? 0);
  }
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const add = y + radius + 1;
    const drop = y - radius;
    const addRow = Math.min(add, lastY) * width;
    const dropRow = Math.max(drop, 0) * width;
    for (let x = 0; x < width; x++) {
      const s = sums[x] ?? 0;
      out[row + x] = s * inv;
      sums[x] = s + (tmp[addRow + x] ?? 0) - (tmp[dropRow + x] ?? 0);
    }
  }
  return out;
}

/** Approximates a Gaussian defocus of the given radius with repeated box blurs. */
function defocus(lum: Float32Array, width: number, height: number, radiusPx: number): Float32Array {
  if (radiusPx < 0.5) return lum;
  const box = Math.max(1, Math.round(radiusPx / 1.5));
  let out = lum;
  for (let pass = 0; pass < 2; pass++) out = boxBlur(out, width, height, box);
  return out;
}

/** Unit-variance normal samples, drawn once and reused: per-pixel random draws were the slowest part. */
const NOISE_TABLE_SIZE = 1 << 16;
const NOISE_TABLE = (() => {
  const random = seededRandom(0x5e5a3e);
  return Float32Array.from({ length: NOISE_TABLE_SIZE }, () => (random() + random() + random() - 1.5) * 2);
})();

/** Photographs the phone screen: perspective, defocus, glare, contrast, thumb, moiré, sensor noise. */
export function renderCameraFrame(screen: PhoneScreen, partial: Partial<CameraShot> = {}): CameraFrame {
  const shot: CameraShot = { ...HEAD_ON_SHOT, ...partial };
  const { width, height } = shot;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`bad frame size ${width}×${height}`);
  }
  const noiseStart = Math.floor(seededRandom(shot.seed)() * NOISE_TABLE_SIZE);
  const bg = backdropTables(width, height);
  const [i0, i1, i2, i3, i4, i5, i6, i7, i8] = invert(planeToImage(shot));
  const ss = Math.max(1, Math.floor(shot.supersample));
  const lum = new Float32Array(width * height);
  const onScreen = new Uint8Array(width * height);
  const occ = shot.occlusion;
  const occU = occ?.u ?? 0;
  const occV = occ?.v ?? 0;
  const occInvRu = occ === undefined ? 0 : 1 / occ.radiusU;
  const occInvRv = occ === undefined ? 0 : 1 / occ.radiusV;
  const hasThumb = occ !== undefined;
  const sample = screen.sample;
  // The QR symbol is most of what is on screen: its modules are looked up here, not through `sample`.
  const modules = screen.modules;
  const dark = screen.symbol.dark;
  const darkValue = screen.symbol.darkValue;
  const lightValue = screen.symbol.lightValue;
  // Outside its bounds the phone is not there (`sample` would say -1): no call needed.
  const { left: phoneLeft, right: phoneRight, top: phoneTop, bottom: phoneBottom } = screen.bounds;
  const plainLeft = screen.plain.left;
  const plainRight = screen.plain.right;
  const plainRows = screen.plain.rows;
  const isPlainRow = (v: number) => {
    for (let k = 0; k < plainRows.length; k += 2) {
      if (v > (plainRows[k] ?? 0) && v < (plainRows[k + 1] ?? 0)) return true;
    }
    return false;
  };
  const sampleCount = ss * ss;
  const invSamples = 1 / sampleCount;
  // Sub-sample offsets within a pixel.
  const offsets = Float64Array.from({ length: ss }, (_, k) => (k + 0.5) / ss);
  // The projective map is linear in x before the division: per row, numerators and w are
  // `start + x · step` (x an integer pixel), so each sample costs a division and a few adds.
  const { sx: bgSx, cx: bgCx, sx2: bgSx2, cx2: bgCx2 } = bg;
  for (let y = 0; y < height; y++) {
    const bgCy = bg.cy[y] ?? 0;
    const bgSy = bg.sy[y] ?? 0;
    const bgCy2 = bg.cy2[y] ?? 0;
    const bgSy2 = bg.sy2[y] ?? 0;
    for (let sy = 0; sy < ss; sy++) {
      const py = y + (offsets[sy] ?? 0);
      for (let sx = 0; sx < ss; sx++) {
        const ox = offsets[sx] ?? 0;
        const uRow = i1 * py + i2 + i0 * ox;
        const vRow = i4 * py + i5 + i3 * ox;
        const wRow = i7 * py + i8 + i6 * ox;
        for (let x = 0, index = y * width; x < width; x++, index++) {
          const w = wRow + i6 * x;
          const invW = 1 / w;
          const u = (uRow + i0 * x) * invW;
          const v = (vRow + i3 * x) * invW;
          let value: number;
          if (w <= 0) value = -1;
          else if (u >= -0.5 && u < 0.5 && v >= -0.5 && v < 0.5) {
            value = dark[Math.floor((v + 0.5) * modules) * modules + Math.floor((u + 0.5) * modules)]
              ? darkValue
              : lightValue;
          } else if (u > plainLeft && u < plainRight && isPlainRow(v)) value = lightValue;
          else if (u < phoneLeft || u > phoneRight || v < phoneTop || v > phoneBottom) value = -1;
          else value = sample(u, v);
          if (value >= 0 && hasThumb) {
            const du = (u - occU) * occInvRu;
            const dv = (v - occV) * occInvRv;
            const d = du * du + dv * dv;
            // A thumb: skin tone, darker towards its edge.
            if (d < 1) value = 0.62 - 0.25 * d;
          }
          if (value < 0) {
            // Off the phone: the backdrop, smooth enough to evaluate at the pixel centre.
            lum[index] =
              (lum[index] ?? 0) +
              0.38 +
              (bgSx[x] ?? 0) * bgCy +
              (bgCx[x] ?? 0) * bgSy +
              (bgSx2[x] ?? 0) * bgCy2 -
              (bgCx2[x] ?? 0) * bgSy2;
          } else {
            lum[index] = (lum[index] ?? 0) + value;
            onScreen[index] = 1;
          }
        }
      }
    }
  }
  if (sampleCount > 1) for (let i = 0; i < lum.length; i++) lum[i] = (lum[i] ?? 0) * invSamples;
  if (shot.moire !== undefined && shot.moire.strength > 0) {
    const { strength, periodPx, angleDeg } = shot.moire;
    const kx = (Math.cos(rad(angleDeg)) * 2 * Math.PI) / periodPx;
    const ky = (Math.sin(rad(angleDeg)) * 2 * Math.PI) / periodPx;
    // cos(kx·x + ky·y) = cos(kx·x)·cos(ky·y) − sin(kx·x)·sin(ky·y): tables per column and row.
    const cosX = Float64Array.from({ length: width }, (_, x) => Math.cos(kx * x));
    const sinX = Float64Array.from({ length: width }, (_, x) => Math.sin(kx * x));
    for (let y = 0; y < height; y++) {
      const cosY = Math.cos(ky * y);
      const sinY = Math.sin(ky * y);
      for (let x = 0, index = y * width; x < width; x++, index++) {
        if (onScreen[index]) {
          const wave = (cosX[x] ?? 0) * cosY - (sinX[x] ?? 0) * sinY;
          lum[index] = (lum[index] ?? 0) * (1 - strength * (0.5 + 0.5 * wave));
        }
      }
    }
  }
  const blurred = defocus(lum, width, height, shot.blurPx);
  const out = new Uint8ClampedArray(width * height * 4);
  const glare = shot.glare;
  const glareStrength = glare?.strength ?? 0;
  // exp(−(dx² + dy²)/r²) = exp(−dx²/r²)·exp(−dy²/r²): a table per column, one exp per row.
  const glareX = new Float64Array(width);
  let glareY: (y: number) => number = () => 0;
  if (glare !== undefined && glareStrength > 0) {
    const cx = glare.x * width;
    const cy = glare.y * height;
    const invR2 = 1 / (glare.radiusPx * glare.radiusPx);
    for (let x = 0; x < width; x++) glareX[x] = glareStrength * Math.exp(-(x - cx) * (x - cx) * invR2);
    glareY = (y) => Math.exp(-(y - cy) * (y - cy) * invR2);
  }
  const contrast = shot.contrast;
  const offset = 0.5 - 0.5 * contrast + shot.brightness;
  const noise = shot.noise;
  // Stadium light is warm: a slight colour cast on every pixel.
  const red = 255;
  const green = 255 * 0.96;
  const blue = 255 * 0.88;
  for (let y = 0, index = 0; y < height; y++) {
    const rowGlare = glareY(y);
    for (let x = 0; x < width; x++, index++) {
      let value = (blurred[index] ?? 0) + (glareX[x] ?? 0) * rowGlare;
      value = value * contrast + offset;
      // A stride that is odd and not a divisor keeps neighbouring pixels' noise unrelated.
      if (noise > 0)
        value += noise * (NOISE_TABLE[(noiseStart + index * 7919) & (NOISE_TABLE_SIZE - 1)] ?? 0);
      const o = index * 4;
      out[o] = value * red;
      out[o + 1] = value * green;
      out[o + 2] = value * blue;
      out[o + 3] = 255;
    }
  }
  return { width, height, rgba: out };
}
