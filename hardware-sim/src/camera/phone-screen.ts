import QRCode from "qrcode";

/**
 * The holder's phone as the camera sees it, in its own plane. Coordinates are in "QR widths":
 * the QR symbol (without quiet zone) spans [-0.5, 0.5] on both axes; the screen and body extend
 * around it like a ticket app's full-screen code view.
 */
export interface PhoneScreen {
  readonly modules: number;
  /**
   * The QR symbol itself, for renderers that look modules up directly (the hot path): `dark[row *
   * modules + col]` is 1 for a dark module; over the symbol, `sample` gives `darkValue` or `lightValue`.
   */
  readonly symbol: { readonly dark: Uint8Array; readonly darkValue: number; readonly lightValue: number };
  /**
   * Where the screen is plain `lightValue` (most of it): u in (left, right) and v inside one of the
   * open intervals `rows` = [v0, v1, v2, v3, …]. Elsewhere, ask `sample`.
   */
  readonly plain: { readonly left: number; readonly right: number; readonly rows: Float64Array };
  /** Luminance in [0, 1] at plane point (u, v); -1 when the point is off the phone. */
  sample(u: number, v: number): number;
  readonly bounds: {
    readonly left: number;
    readonly right: number;
    readonly top: number;
    readonly bottom: number;
  };
}

export type QrErrorCorrection = "L" | "M" | "Q" | "H";

export interface PhoneScreenOptions {
  readonly errorCorrection: QrErrorCorrection;
  /** Modules of white around the code; apps use 2–4 (the standard asks for 4). */
  readonly quietZoneModules: number;
  /** Brightness of the screen's white, 0.6 (dimmed) to 1. */
  readonly screenWhite: number;
  /** Seconds into the current 15 s code period, drives the app's "live" progress bar. */
  readonly periodProgress: number;
}

const SCREEN_HALF_WIDTH = 0.78;
const SCREEN_TOP = -1.45;
const SCREEN_BOTTOM = 1.35;
const BEZEL = 0.07;
const CORNER = 0.16;
const BODY = 0.06;
/** A dark module: an LCD's black is not black. */
const DARK = 0.04;

function insideRoundedRect(u: number, v: number, l: number, t: number, r: number, b: number, radius: number) {
  if (u < l || u > r || v < t || v > b) return false;
  const cu = Math.min(Math.max(u, l + radius), r - radius);
  const cv = Math.min(Math.max(v, t + radius), b - radius);
  const du = u - cu;
  const dv = v - cv;
  return du * du + dv * dv <= radius * radius;
}

/**
 * Encoding a version 10 code (choosing its mask) takes ~8 ms, more than rendering a small frame:
 * corpora cycle through a few texts, so the modules are kept for the most recent ones.
 */
const symbolCache = new Map<string, { size: number; data: Uint8Array }>();
const SYMBOL_CACHE_SIZE = 64;

function encodeSymbol(text: string, errorCorrection: QrErrorCorrection) {
  const key = `${errorCorrection}\u0000${text}`;
  const cached = symbolCache.get(key);
  if (cached !== undefined) return cached;
  const qr = QRCode.create(text, { errorCorrectionLevel: errorCorrection });
  const symbol = { size: qr.modules.size, data: Uint8Array.from(qr.modules.data, (bit) => (bit ? 1 : 0)) };
  if (symbolCache.size >= SYMBOL_CACHE_SIZE) {
    const oldest = symbolCache.keys().next();
    if (oldest.done !== true) symbolCache.delete(oldest.value);
  }
  symbolCache.set(key, symbol);
  return symbol;
}

/** Lays out the app's code screen around one QR text. */
export function phoneScreen(text: string, options: Partial<PhoneScreenOptions> = {}): PhoneScreen {
  const o: PhoneScreenOptions = {
    errorCorrection: "M",
    quietZoneModules: 3,
    screenWhite: 0.95,
    periodProgress: 0,
    ...options,
  };
  const { size, data } = encodeSymbol(text, o.errorCorrection);
  const white = o.screenWhite;
  const quiet = (o.quietZoneModules / size) * 1.0;
  const progress = Math.min(1, Math.max(0, o.periodProgress / 15));
  const left = -SCREEN_HALF_WIDTH - BEZEL - BODY;
  const right = SCREEN_HALF_WIDTH + BEZEL + BODY;
  const top = SCREEN_TOP - BEZEL - BODY;
  const bottom = SCREEN_BOTTOM + BEZEL + BODY;
  // Plain screen between the header and the text lines, away from the rounded corners.
  const base = 0.5 + quiet;
  const plainRows = Float64Array.from([
    SCREEN_TOP + 0.45,
    base + 0.1,
    base + 0.16,
    base + 0.3,
    base + 0.36,
    base + 0.45,
    base + 0.5,
    SCREEN_BOTTOM - CORNER,
  ]);
  const isPlain = (u: number, v: number) => {
    if (!(u > -SCREEN_HALF_WIDTH && u < SCREEN_HALF_WIDTH)) return false;
    for (let k = 0; k < plainRows.length; k += 2) {
      if (v > (plainRows[k] ?? 0) && v < (plainRows[k + 1] ?? 0)) return true;
    }
    return false;
  };
  return {
    modules: size,
    plain: { left: -SCREEN_HALF_WIDTH, right: SCREEN_HALF_WIDTH, rows: plainRows },
    symbol: { dark: data, darkValue: DARK, lightValue: white },
    bounds: { left, right, top, bottom },
    sample(u, v) {
      // QR modules first: the hot path.
      if (u >= -0.5 && u < 0.5 && v >= -0.5 && v < 0.5) {
        const col = Math.floor((u + 0.5) * size);
        const row = Math.floor((v + 0.5) * size);
        return data[row * size + col] ? DARK : white;
      }
      if (isPlain(u, v)) return white;
      if (!insideRoundedRect(u, v, left, top, right, bottom, CORNER + BEZEL)) return -1;
      if (
        !insideRoundedRect(u, v, -SCREEN_HALF_WIDTH, SCREEN_TOP, SCREEN_HALF_WIDTH, SCREEN_BOTTOM, CORNER)
      ) {
        // Body and bezel: dark glass with a lighter rim.
        return insideRoundedRect(u, v, left + BODY, top + BODY, right - BODY, bottom - BODY, CORNER + BEZEL)
          ? 0.06
          : 0.3;
      }
      // App header: a coloured band with the event name (white blocks).
      if (v < SCREEN_TOP + 0.45) {
        const inText =
          v > SCREEN_TOP + 0.25 && v < SCREEN_TOP + 0.33 && Math.abs(u) < 0.45 && Math.sin(u * 60) > -0.3;
        return inText ? white : 0.32;
      }
      // Holder name and seat under the code: grey text lines.
      const below = v - base;
      if (below > 0.1 && below < 0.16) {
        return u > -0.6 && u < -0.6 + 1.2 * progress ? 0.25 : 0.8 * white;
      }
      if (
        (below > 0.3 && below < 0.36 && Math.abs(u) < 0.5) ||
        (below > 0.45 && below < 0.5 && Math.abs(u) < 0.35)
      ) {
        return Math.sin(u * 90) > -0.2 ? 0.35 : white;
      }
      return white;
    },
  };
}
