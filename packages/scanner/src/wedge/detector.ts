import { characterFor, type ScannerLayoutName } from "./layouts.js";

/** How to tell a scanner's burst of keys from a person typing. */
export interface WedgeTiming {
  /** A burst whose keys come this fast on average is a scanner (people type at 100–300 ms a key). */
  readonly maxAverageGapMs: number;
  /** A gap this long ends a burst (a scanner never pauses that long inside a code). */
  readonly maxGapMs: number;
  /** Shorter bursts are typing, however fast (a rollover of two or three keys can be quick). */
  readonly minLength: number;
  /** Keys that end a scan (the scanner's suffix). */
  readonly endCodes: readonly string[];
  /** Accept a fast burst that ends by going quiet, for scanners configured without Enter. */
  readonly acceptWithoutEndKey: boolean;
  /** A key the scanner sends before each code (programmed prefix): what follows is a scan whatever its pace. */
  readonly startCode: string | undefined;
  /** Longest scan kept; a stuck key or a flood is cut here (memory stays bounded). */
  readonly maxLength: number;
}

export const DEFAULT_WEDGE_TIMING: WedgeTiming = {
  maxAverageGapMs: 35,
  maxGapMs: 80,
  minLength: 8,
  endCodes: ["Enter", "NumpadEnter", "Tab"],
  acceptWithoutEndKey: true,
  startCode: undefined,
  maxLength: 4096,
};

/** One keydown as the detector needs it: position, modifiers, what the OS typed, and when. */
export interface WedgeKey {
  readonly code: string;
  /** `KeyboardEvent.key`: what the kiosk's layout typed, given back to the page when it was a person. */
  readonly key: string;
  readonly shift: boolean;
  readonly altGraph: boolean;
  /** Ctrl or Meta held (a shortcut, never part of a code). AltGr alone must not set this. */
  readonly command: boolean;
  /** Milliseconds, any monotonic origin (KeyboardEvent.timeStamp). */
  readonly time: number;
}

export type WedgeOutput =
  | {
      readonly kind: "scan";
      readonly text: string;
      /** Key positions that the scanner layout cannot type (dead keys): the scan is damaged. */
      readonly undecodable: readonly string[];
      readonly keyCount: number;
      readonly startedAt: number;
      readonly endedAt: number;
    }
  /** Held keys were a person typing: give them back to the page, in order. */
  | { readonly kind: "release"; readonly keys: readonly WedgeKey[] }
  | { readonly kind: "overflow"; readonly length: number };

/** What to do with the key just seen: keep it from the page for now, let it through, or eat it. */
export type KeyDisposition = "hold" | "pass" | "swallow";

const MODIFIER_CODES = new Set([
  "ShiftLeft",
  "ShiftRight",
  "ControlLeft",
  "ControlRight",
  "AltLeft",
  "AltRight",
  "MetaLeft",
  "MetaRight",
  "CapsLock",
  "NumLock",
]);

/**
 * Pure classifier of keyboard bursts. It holds every printable key until it knows whether the
 * burst is a scanner (fast, long enough, ends with the suffix or silence) or a person; the caller
 * keeps held keys from the page and gives them back on "release". Time comes from the key events
 * and from `tick`, never from a clock of its own.
 */
export class WedgeBurstDetector {
  readonly #timing: WedgeTiming;
  readonly #layout: ScannerLayoutName;
  #held: WedgeKey[] = [];
  #chars = "";
  #undecodable: string[] = [];
  #forced = false;
  #overflowed = false;
  /** Time of the last key of the burst, counting keys dropped after an overflow. */
  #lastTime = 0;

  constructor(layout: ScannerLayoutName, timing: Partial<WedgeTiming> = {}) {
    this.#layout = layout;
    this.#timing = { ...DEFAULT_WEDGE_TIMING, ...timing };
  }

  get timing(): WedgeTiming {
    return this.#timing;
  }

  /** When `tick` should next be called, or undefined when nothing is held. */
  nextDeadline(): number | undefined {
    return this.#held.length === 0 ? undefined : this.#lastTime + this.#timing.maxGapMs;
  }

  /** Closes a burst that has gone quiet. */
  tick(now: number): WedgeOutput[] {
    const deadline = this.nextDeadline();
    if (deadline === undefined || now < deadline) return [];
    return this.#close(false, now);
  }

  key(event: WedgeKey): { outputs: WedgeOutput[]; disposition: KeyDisposition } {
    if (MODIFIER_CODES.has(event.code)) return { outputs: [], disposition: "pass" };
    const outputs = this.tick(event.time);
    if (this.#timing.startCode !== undefined && event.code === this.#timing.startCode) {
      outputs.push(...this.#close(false, event.time));
      this.#forced = true;
      return { outputs, disposition: "swallow" };
    }
    if (this.#timing.endCodes.includes(event.code)) {
      const forced = this.#forced;
      if (this.#held.length === 0 && !forced) return { outputs, disposition: "pass" };
      const closed = this.#close(true, event.time);
      // After the programmed start key, the end key belongs to the scanner even for an empty code.
      const scanned = forced || closed.some((o) => o.kind === "scan");
      outputs.push(...closed);
      return { outputs, disposition: scanned ? "swallow" : "pass" };
    }
    // Dead keys ("Dead") are still the scanner typing: they stay in the burst, flagged undecodable.
    if (event.command || (event.key.length !== 1 && event.key !== "Dead")) {
      // A shortcut, an arrow, Backspace, Escape: a person at the keyboard. Give back what was held first.
      if (this.#held.length > 0) outputs.push(...this.#close(false, event.time, true));
      return { outputs, disposition: "pass" };
    }
    const char = characterFor(this.#layout, event);
    if (char === undefined) this.#undecodable.push(event.code);
    this.#lastTime = event.time;
    if (this.#chars.length >= this.#timing.maxLength) {
      if (!this.#overflowed) outputs.push({ kind: "overflow", length: this.#chars.length });
      this.#overflowed = true;
      return { outputs, disposition: "swallow" };
    }
    this.#chars += char ?? "\ufffd";
    this.#held.push(event);
    return { outputs, disposition: "hold" };
  }

  #close(byEndKey: boolean, now: number, forceRelease = false): WedgeOutput[] {
    const held = this.#held;
    const chars = this.#chars;
    const undecodable = this.#undecodable;
    const forced = this.#forced;
    const overflowed = this.#overflowed;
    const lastTime = this.#lastTime;
    this.#held = [];
    this.#chars = "";
    this.#undecodable = [];
    this.#forced = false;
    this.#overflowed = false;
    const first = held[0];
    const last = held.at(-1);
    if (first === undefined || last === undefined) return [];
    const end = byEndKey ? now : lastTime;
    const gaps = byEndKey ? held.length : held.length - 1;
    const averageGap = gaps > 0 ? (end - first.time) / gaps : Number.POSITIVE_INFINITY;
    const fast =
      averageGap <= this.#timing.maxAverageGapMs && (!byEndKey || now - lastTime <= this.#timing.maxGapMs);
    const isScan =
      !forceRelease &&
      (forced ||
        overflowed ||
        (held.length >= this.#timing.minLength && fast && (byEndKey || this.#timing.acceptWithoutEndKey)));
    if (!isScan) return [{ kind: "release", keys: held }];
    return [
      {
        kind: "scan",
        text: chars,
        undecodable,
        keyCount: held.length,
        startedAt: first.time,
        endedAt: end,
      },
    ];
  }
}
