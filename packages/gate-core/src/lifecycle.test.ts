import { describe, expect, it } from "vitest";
import type { Decision } from "./decide.js";
import { type EntryState, type LifecycleEvent, TERMINAL_STATES, transition } from "./lifecycle.js";
import { stewardMessages } from "./reasons.js";

const decided = (
  outcome: Decision["outcome"],
  reason: Decision["reason"],
  direction: "entry" | "exit" = "entry",
): LifecycleEvent => ({
  type: "decided",
  decision: { outcome, reason, messages: stewardMessages(reason) },
  direction,
});

const EVENTS: Record<string, LifecycleEvent> = {
  admit: decided("ADMIT", "ADMITTED"),
  exit: decided("ADMIT", "EXIT_RECORDED", "exit"),
  free: decided("ADMIT", "FREE_PASSAGE"),
  assisted: decided("ASSISTED", "PRINTED_CONFIRMATION"),
  refuse: decided("REFUSE", "EXPIRED_CODE"),
  confirm: { type: "steward-confirmed", steward: "S-042" },
  decline: { type: "steward-declined", steward: "S-042" },
  stewardTimeout: { type: "steward-timeout" },
  passage: { type: "passage" },
  expired: { type: "window-expired" },
  fire: { type: "fire-alarm" },
  late: { type: "late-passage", direction: "entry", annulledBy: "window-expired" },
  lateAfterRestart: { type: "late-passage", direction: "entry", annulledBy: "recovery" },
  lateExit: { type: "late-passage", direction: "exit", annulledBy: "window-expired" },
  lateAfterFire: { type: "late-passage", direction: "entry", annulledBy: "fire-alarm" },
};

// Every (state, event) pair: the next state and the record that must be durable, or "invalid".
const TABLE: Record<EntryState, Partial<Record<keyof typeof EVENTS, string>>> = {
  scanned: {
    admit: "authorized/authorized+unlock",
    exit: "exit-authorized/authorized+unlock",
    free: "refused/-",
    assisted: "awaiting-steward/-",
    refuse: "refused/refused",
  },
  "awaiting-steward": {
    confirm: "authorized/authorized+unlock+manual",
    decline: "refused/refused",
    stewardTimeout: "refused/refused",
    fire: "refused/refused",
  },
  authorized: { passage: "entered/entered", expired: "annulled/annulled", fire: "annulled/annulled" },
  "exit-authorized": { passage: "exited/exited", expired: "annulled/annulled", fire: "annulled/annulled" },
  entered: {},
  exited: {},
  // A passage the controller kept while the gate could not hear it; never after a fire alarm.
  annulled: { late: "entered/entered", lateAfterRestart: "entered/entered", lateExit: "exited/exited" },
  refused: {},
};

describe("entry lifecycle state machine", () => {
  for (const [state, row] of Object.entries(TABLE) as Array<[EntryState, (typeof TABLE)[EntryState]]>) {
    for (const [name, event] of Object.entries(EVENTS)) {
      const expected = row[name as keyof typeof EVENTS] ?? "invalid";
      it(`${state} + ${name} → ${expected}`, () => {
        const t = transition(state, event);
        if (!t.ok) {
          expect(expected).toBe("invalid");
          expect(t.error).toContain(state);
          return;
        }
        const effects = [t.record ?? "-", t.unlock ? "unlock" : "", t.manual ? "manual" : ""]
          .filter(Boolean)
          .join("+");
        expect(`${t.state}/${effects}`).toBe(expected);
      });
    }
  }

  it("leaves no terminal state", () => {
    for (const state of TERMINAL_STATES) {
      for (const event of Object.values(EVENTS)) expect(transition(state, event).ok).toBe(false);
    }
  });

  it("never unlocks a lane without first recording an authorization", () => {
    for (const state of Object.keys(TABLE) as EntryState[]) {
      for (const event of Object.values(EVENTS)) {
        const t = transition(state, event);
        if (t.ok && t.unlock) expect(t.record).toBe("authorized");
      }
    }
  });
});
