import type { LaneView } from "@sesame/gate";
import { stewardMessages } from "@sesame/gate-core";
import { describe, expect, it } from "vitest";
import type { KioskDiagnostics } from "../src/backend/http.js";
import { formatAge, formatOffset, STRINGS, translator } from "../ui/src/i18n.js";
import { dataAgeMs, displayScreen, isOffline, REFUSE_HOLD_MS, soundsFor } from "../ui/src/screens.js";
import { DEFAULT_SETTINGS, loadSettings } from "../ui/src/settings.js";

// The steward UI's rules that need no browser: what a lane panel shows, when it sounds, data age,
// stored settings, and the two languages.

const view = (overrides: Partial<LaneView> = {}): LaneView => ({
  lane: 1,
  direction: "entry",
  mode: "normal",
  screen: "ready",
  controllerOnline: true,
  fireAlarm: false,
  since: 1_000,
  ...overrides,
});
const admitted = { outcome: "ADMIT", reason: "ADMITTED", messages: stewardMessages("ADMITTED") } as const;
const idle = { checking: false, shownForMs: 0 };

describe("lane panel screen", () => {
  it("the fire alarm wins over everything, then a lost controller", () => {
    expect(displayScreen(view({ fireAlarm: true, screen: "admit", controllerOnline: false }), idle)).toBe(
      "fire-alarm",
    );
    expect(displayScreen(view({ screen: "assisted", controllerOnline: false }), idle)).toBe("out-of-order");
    expect(displayScreen(view({ screen: "out-of-order" }), { checking: true, shownForMs: 0 })).toBe(
      "out-of-order",
    );
  });

  it("a scan on its way shows CHECKING, except over a steward's check or a locked lane", () => {
    const checking = { checking: true, shownForMs: 0 };
    expect(displayScreen(view(), checking)).toBe("checking");
    expect(displayScreen(view({ screen: "refuse" }), checking)).toBe("checking");
    expect(displayScreen(view({ screen: "assisted" }), checking)).toBe("assisted");
    expect(displayScreen(view({ screen: "locked" }), checking)).toBe("locked");
  });

  it("awaiting the passage is still ADMIT at a turnstile, a steward's job at a manual lane", () => {
    expect(displayScreen(view({ screen: "awaiting-passage", decision: admitted }), idle)).toBe("admit");
    expect(
      displayScreen(
        view({ screen: "awaiting-passage", controllerOnline: undefined, decision: admitted }),
        idle,
      ),
    ).toBe("awaiting-passage");
  });

  it("a refusal stays for its hold time, then the lane looks ready for the next holder", () => {
    expect(
      displayScreen(view({ screen: "refuse" }), { checking: false, shownForMs: REFUSE_HOLD_MS - 1 }),
    ).toBe("refuse");
    expect(displayScreen(view({ screen: "refuse" }), { checking: false, shownForMs: REFUSE_HOLD_MS })).toBe(
      "ready",
    );
    // An ID check never times out: the holder is waiting for the steward.
    expect(
      displayScreen(view({ screen: "assisted" }), { checking: false, shownForMs: 10 * REFUSE_HOLD_MS }),
    ).toBe("assisted");
  });
});

describe("sounds", () => {
  it("one sound per new decision, none for the first state or a repeat of the same state", () => {
    const ready = [view(), view({ lane: 2 })];
    expect(soundsFor(undefined, [view({ screen: "admit" })])).toEqual([]);
    expect(soundsFor(ready, ready)).toEqual([]);
    const admit = [
      view({ screen: "admit", since: 2_000 }),
      view({ lane: 2, screen: "refuse", since: 2_000 }),
    ];
    expect(soundsFor(ready, admit)).toEqual(["admit", "refuse"]);
    // ADMIT → awaiting passage is the same admission: no second chime.
    const awaiting = [
      view({ screen: "awaiting-passage", since: 2_010, decision: admitted }),
      admit[1] as LaneView,
    ];
    expect(soundsFor(admit, awaiting)).toEqual([]);
    // A manual lane goes straight to awaiting passage: that is the admission.
    const manual = [
      view({ screen: "awaiting-passage", controllerOnline: undefined, since: 3_000, decision: admitted }),
    ];
    expect(soundsFor([view({ controllerOnline: undefined })], manual)).toEqual(["admit"]);
    // The same refusal reason twice in a row still sounds twice (a new scan, a new `since`).
    expect(soundsFor([view({ screen: "refuse", since: 1 })], [view({ screen: "refuse", since: 2 })])).toEqual(
      ["refuse"],
    );
    expect(soundsFor(ready, [view({ screen: "assisted", since: 5 })])).toEqual(["assisted"]);
  });
});

describe("data age and offline", () => {
  const base: KioskDiagnostics = {
    feedSequence: 10,
    bundleGeneratedAt: "2026-07-27T10:00:00.000Z",
    trustListVersion: 1,
    outboxDepth: 0,
    clockSuspect: false,
  };
  const now = Date.parse("2026-07-27T12:00:00.000Z");
  it("counts from the last server contact, else from the bundle", () => {
    expect(dataAgeMs(base, now)).toBe(2 * 3_600_000);
    const sync = {
      connected: false,
      brokerUrl: "mqtt://x",
      outboxDepth: 0,
      feedSequence: 10,
      inFlightEvents: 0,
    };
    expect(dataAgeMs({ ...base, sync: { ...sync, lastServerContactAt: now - 90_000 } }, now)).toBe(90_000);
    expect(dataAgeMs({ ...base, bundleGeneratedAt: "" }, now)).toBeUndefined();
    expect(isOffline({ ...base, sync })).toBe(true);
    expect(isOffline({ ...base, sync: { ...sync, connected: true } })).toBe(false);
    // A gate without sync is stand-alone, not offline.
    expect(isOffline(base)).toBe(false);
  });

  it("formats ages and clock offsets short", () => {
    expect(formatAge(44_600, "fr")).toBe("45 s");
    expect(formatAge(12 * 60_000 + 5_000, "en")).toBe("12 min");
    expect(formatAge(3 * 3_600_000 + 5 * 60_000, "fr")).toBe("3 h 05");
    expect(formatAge(3 * 86_400_000, "fr")).toBe("3 j");
    expect(formatAge(3 * 86_400_000, "en")).toBe("3 d");
    expect(formatAge(-5_000, "en")).toBe("0 s");
    expect(formatOffset(420)).toBe("+420 ms");
    expect(formatOffset(-1_250)).toBe("−1.3 s");
  });
});

describe("kiosk settings in browser storage", () => {
  const stored = (value: string | null) => ({ getItem: () => value });
  it("keeps well-formed fields and drops the rest", () => {
    expect(loadSettings(stored(null))).toEqual(DEFAULT_SETTINGS);
    expect(loadSettings(stored("{not json"))).toEqual(DEFAULT_SETTINGS);
    expect(loadSettings(stored('"fr"'))).toEqual(DEFAULT_SETTINGS);
    expect(
      loadSettings(
        stored(
          JSON.stringify({
            scannerLayout: "fr",
            sound: false,
            wedgeLane: 2,
            cameraLane: 1,
            wedgeMaxGapMs: 200,
          }),
        ),
      ),
    ).toEqual({ scannerLayout: "fr", sound: false, wedgeLane: 2, cameraLane: 1, wedgeMaxGapMs: 200 });
    expect(
      loadSettings(
        stored(JSON.stringify({ scannerLayout: "dvorak", wedgeLane: 1.5, cameraLane: -1, wedgeMaxGapMs: 5 })),
      ),
    ).toEqual(DEFAULT_SETTINGS);
  });
});

describe("UI strings", () => {
  it("every string exists in both languages, with the same placeholders", () => {
    const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const [key, fr] of Object.entries(STRINGS.fr)) {
      const en = STRINGS.en[key as keyof typeof STRINGS.en];
      expect(fr.trim(), key).not.toBe("");
      expect(en.trim(), key).not.toBe("");
      expect(placeholders(en), key).toEqual(placeholders(fr));
    }
  });

  it("fills placeholders and leaves unknown ones visible", () => {
    expect(translator("fr")("pinWrong", { left: 3 })).toBe("Code PIN incorrect (3 essai(s) restant(s))");
    expect(translator("en")("lookupAdmit", { count: 2 })).toBe("Admit (2)");
    expect(translator("en")("lane")).toBe("Lane {lane}");
  });
});
