import type { KioskDiagnostics, LaneView } from "./types.js";

/*
 * What each lane panel shows, derived from the backend's lane view. Pure functions, so the rules
 * a steward relies on (what wins over what, how long a refusal stays) are tested without a browser.
 */

export type DisplayScreen =
  | "ready"
  | "checking"
  | "admit"
  | "refuse"
  | "assisted"
  | "awaiting-passage"
  | "out-of-order"
  | "fire-alarm"
  | "free-passage"
  | "locked";

/** A refusal stays this long, then the lane looks ready again (the next holder is already there). */
export const REFUSE_HOLD_MS = 10_000;

export interface DisplayContext {
  /** A scan from this window is on its way to the backend. */
  readonly checking: boolean;
  /** How long the backend's current screen has been shown, on the kiosk's clock. */
  readonly shownForMs: number;
}

export function displayScreen(view: LaneView, context: DisplayContext): DisplayScreen {
  // The fire alarm frees the lane whatever else is going on: it must be the one thing on screen.
  if (view.fireAlarm) return "fire-alarm";
  if (view.screen === "out-of-order" || view.controllerOnline === false) return "out-of-order";
  if (view.screen === "locked") return "locked";
  if (view.screen === "free-passage") return "free-passage";
  if (view.screen === "assisted") return "assisted";
  if (context.checking) return "checking";
  switch (view.screen) {
    case "admit":
      return "admit";
    case "awaiting-passage":
      // With a turnstile the holder just walks through: it is still the ADMIT screen. A lane without
      // a controller needs the steward to confirm the passage.
      return view.controllerOnline === undefined ? "awaiting-passage" : "admit";
    case "refuse":
      return context.shownForMs < REFUSE_HOLD_MS ? "refuse" : "ready";
    default:
      return "ready";
  }
}

export type Sound = "admit" | "refuse" | "assisted";

/**
 * The sounds due between two successive states: one per new decision on a lane. Computed from
 * every state the backend sends (not from what React happens to render), so a quick ADMIT →
 * awaiting-passage still sounds once.
 */
export function soundsFor(previous: readonly LaneView[] | undefined, next: readonly LaneView[]): Sound[] {
  if (previous === undefined) return [];
  const sounds: Sound[] = [];
  for (const lane of next) {
    const before = previous.find((p) => p.lane === lane.lane);
    if (before && before.screen === lane.screen && before.since === lane.since) continue;
    if (lane.screen === "admit") sounds.push("admit");
    else if (lane.screen === "refuse") sounds.push("refuse");
    else if (lane.screen === "assisted") sounds.push("assisted");
    else if (
      lane.screen === "awaiting-passage" &&
      before?.screen !== "admit" &&
      before?.screen !== "awaiting-passage" &&
      lane.decision?.outcome === "ADMIT"
    ) {
      sounds.push("admit");
    }
  }
  return sounds;
}

/** How old the gate's ticket data is: since the last server contact, else since the bundle was cut. */
export function dataAgeMs(diagnostics: KioskDiagnostics, now: number): number | undefined {
  const last = diagnostics.sync?.lastServerContactAt;
  if (typeof last === "number") return Math.max(0, now - last);
  const bundle = Date.parse(diagnostics.bundleGeneratedAt);
  return Number.isNaN(bundle) ? undefined : Math.max(0, now - bundle);
}

/** The sync layer is known and says it is disconnected (no sync at all is not "offline"). */
export function isOffline(diagnostics: KioskDiagnostics): boolean {
  return diagnostics.sync !== undefined && diagnostics.sync.connected === false;
}
