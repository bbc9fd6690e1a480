import type { ScannerLayoutName } from "./types.js";

/*
 * Settings of this kiosk's screen, kept in its browser storage: they belong to the hardware at this
 * desk (which scanner is plugged in), not to the gate's configuration.
 */

export interface KioskSettings {
  /** The keyboard country the wedge scanner is configured for. */
  readonly scannerLayout: ScannerLayoutName;
  /** Overrides the gate's wedge lane for this screen. */
  readonly wedgeLane?: number;
  readonly sound: boolean;
  /** Camera scanner: the lane it serves, or none. */
  readonly cameraLane?: number;
  /** Scanners behind slow USB hubs pause longer inside a code (see WedgeTiming.maxGapMs). */
  readonly wedgeMaxGapMs?: number;
}

const KEY = "sesame.kiosk.settings";
export const DEFAULT_SETTINGS: KioskSettings = { scannerLayout: "us", sound: true };

const lane = (value: unknown): number | undefined =>
  typeof value === "number" && Number.isInteger(value) && value > 0 && value < 1000 ? value : undefined;

/** Reads the stored settings, keeping only well-formed fields (storage is anyone's to edit). */
export function loadSettings(storage: Pick<Storage, "getItem"> = localStorage): KioskSettings {
  let raw: unknown;
  try {
    raw = JSON.parse(storage.getItem(KEY) ?? "{}");
  } catch {
    return DEFAULT_SETTINGS;
  }
  if (typeof raw !== "object" || raw === null) return DEFAULT_SETTINGS;
  const r = raw as Record<string, unknown>;
  const wedgeLane = lane(r.wedgeLane);
  const cameraLane = lane(r.cameraLane);
  const gap = r.wedgeMaxGapMs;
  return {
    scannerLayout: r.scannerLayout === "fr" ? "fr" : "us",
    sound: r.sound !== false,
    ...(wedgeLane !== undefined ? { wedgeLane } : {}),
    ...(cameraLane !== undefined ? { cameraLane } : {}),
    ...(typeof gap === "number" && gap >= 20 && gap <= 1000 ? { wedgeMaxGapMs: gap } : {}),
  };
}

export function saveSettings(
  settings: KioskSettings,
  storage: Pick<Storage, "setItem"> = localStorage,
): void {
  storage.setItem(KEY, JSON.stringify(settings));
}
