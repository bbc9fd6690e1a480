import { describe, expect, it } from "vitest";
import {
  ADMIT_REASONS,
  ALARM_REASONS,
  ASSISTED_REASONS,
  MANUAL_REASONS,
  outcomeOf,
  REFUSE_REASONS,
  stewardMessages,
} from "./reasons.js";

describe("reason codes", () => {
  const all = [...ADMIT_REASONS, ...ASSISTED_REASONS, ...REFUSE_REASONS, ...ALARM_REASONS, ...MANUAL_REASONS];

  it("are unique, and each has a headline and words for the holder in French and English", () => {
    expect(new Set(all).size).toBe(all.length);
    for (const reason of all) {
      const m = stewardMessages(reason, {
        entrance: "K",
        holder: "Hélène Dubois",
        gate: "A1",
        time: "19:30",
      });
      for (const language of ["fr", "en"] as const) {
        expect(m[language].headline.length, `${reason} ${language}`).toBeGreaterThan(0);
        expect(m[language].tell.length, `${reason} ${language}`).toBeGreaterThan(0);
      }
    }
  });

  it("alarms (forced passage, tailgate) are never an admission", () => {
    for (const reason of ALARM_REASONS) expect(outcomeOf(reason)).toBe("REFUSE");
    expect(stewardMessages("FORCED_PASSAGE").en.headline).toBe("Forced passage");
    expect(stewardMessages("TAILGATE").fr.headline).toBe("Passage à deux");
  });
});
