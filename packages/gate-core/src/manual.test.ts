import { createTestIssuer, T0 } from "@sesame/ticket/fixtures";
import { demoLayout } from "@sesame/venue";
import { describe, expect, it } from "vitest";
import type { TicketFacts } from "./facts.js";
import { checkManualAdmission, type ManualContext, OverrideLockout, overrideNoteProblem } from "./manual.js";
import { MemoryFacts } from "./memory-facts.js";
import { outcomeOf } from "./reasons.js";

const MIN = 60_000;
const HOUR = 60 * MIN;
const layout = demoLayout({ doorsOpenMs: T0, entrances: 2, lanes: 4, spectators: 100 });
const issuer = createTestIssuer("gate-core-manual", 7);
// Gate A1 stands at entrance 1 (A), session 1's doors are open.
const here: ManualContext = { entrance: 1, nowMs: T0 + 30 * MIN };

function facts(): MemoryFacts {
  return new MemoryFacts(layout, issuer.issuerKeys);
}

function put(f: MemoryFacts, id: number, changes: Partial<TicketFacts> = {}): TicketFacts {
  const t: TicketFacts = {
    id,
    generation: 0,
    kind: "printed",
    status: "valid",
    sessions: [1],
    entrance: 1,
    zone: 1,
    seat: "A-1-1",
    categories: [],
    holder: "Hélène Dupré",
    orderReference: "P24-ABCDEF",
    ...changes,
  };
  f.tickets.set(id, t);
  return t;
}

describe("manual admission rules", () => {
  it("a steward alone admits a valid printed ticket of this entrance for an open session", () => {
    const f = facts();
    put(f, 1);
    expect(checkManualAdmission(1, 1, here, f).kind).toBe("steward");
  });

  it.each([
    ["a mobile ticket", { kind: "mobile" as const }, "MOBILE_TICKET"],
    ["another entrance's ticket", { entrance: 2, zone: 2 }, "WRONG_ENTRANCE"],
    ["a ticket of another session", { sessions: [2] }, "WRONG_SESSION"],
    ["a cancelled ticket", { status: "cancelled" as const }, "CANCELLED"],
  ])("%s needs a supervisor, and says why (%s → %s)", (_what, changes, state) => {
    const f = facts();
    put(f, 1, changes);
    const verdict = checkManualAdmission(1, 1, here, f);
    expect(verdict.kind).toBe("supervisor");
    if (verdict.kind !== "supervisor") return;
    expect(verdict.state).toBe(state);
    expect(verdict.messages.en.headline.length).toBeGreaterThan(0);
  });

  it("names the holder's own entrance, and the doors' times", () => {
    const f = facts();
    put(f, 1, { entrance: 2, zone: 2 });
    const wrong = checkManualAdmission(1, 1, here, f);
    expect(wrong.kind === "supervisor" && wrong.messages.en.headline).toBe("Use gate B");
    put(f, 2);
    const early = checkManualAdmission(2, 1, { ...here, nowMs: T0 - HOUR }, f);
    expect(early.kind === "supervisor" && early.state).toBe("NOT_YET_OPEN");
    const late = checkManualAdmission(2, 1, { ...here, nowMs: T0 + 30 * HOUR }, f);
    expect(late.kind === "supervisor" && late.state).toBe("CLOSED");
  });

  it("never admits a ticket inside or passing at a lane, not even on a supervisor's word", () => {
    const f = facts();
    put(f, 1);
    f.recordMovement(1, 1, "entry", T0 + 5 * MIN, "B1");
    const inside = checkManualAdmission(1, 1, here, f);
    expect(inside.kind).toBe("refused");
    expect(inside.kind === "refused" && inside.reason).toBe("ALREADY_ENTERED");
    put(f, 2);
    f.pending.set("2/1", { authorizationId: "x", gateId: "A2", lane: 1, at: T0 });
    const passing = checkManualAdmission(2, 1, here, f);
    expect(passing.kind === "refused" && passing.reason).toBe("PASSAGE_PENDING");
    expect(checkManualAdmission(99, 1, here, f).kind).toBe("refused");
  });

  it("out after a final exit: back in only on a supervisor's word", () => {
    const f = facts();
    put(f, 1);
    f.recordMovement(1, 1, "entry", T0 + 5 * MIN, "A1");
    f.recordMovement(1, 1, "exit", T0 + 10 * MIN, "A1");
    const verdict = checkManualAdmission(1, 1, here, f);
    expect(verdict.kind === "supervisor" && verdict.state).toBe("ALREADY_ENTERED");
  });

  it("an override is an assisted admission, not a refusal", () => {
    expect(outcomeOf("SUPERVISOR_OVERRIDE")).toBe("ASSISTED");
    expect(outcomeOf("OVERRIDE_REFUSED")).toBe("REFUSE");
  });

  it("an override needs a note", () => {
    expect(overrideNoteProblem("")).toMatch(/note is empty/);
    expect(overrideNoteProblem("   ")).toMatch(/note is empty/);
    expect(overrideNoteProblem(42)).toMatch(/note is empty/);
    expect(overrideNoteProblem("x".repeat(201))).toMatch(/at most 200/);
    expect(overrideNoteProblem("phone battery dead, ID checked")).toBeUndefined();
  });
});

describe("override lockout", () => {
  it("locks after repeated wrong codes, for its period, whatever the code", () => {
    const lock = new OverrideLockout({ maxFailures: 3, lockMs: 5 * MIN });
    expect(lock.failed(T0)).toBe(2);
    expect(lock.failed(T0)).toBe(1);
    expect(lock.lockedAt(T0)).toBeUndefined();
    expect(lock.failed(T0)).toBe(0);
    expect(lock.lockedAt(T0 + MIN)).toBe(T0 + 5 * MIN);
    expect(lock.lockedAt(T0 + 5 * MIN)).toBeUndefined();
  });

  it("a right code starts the count again", () => {
    const lock = new OverrideLockout({ maxFailures: 3 });
    lock.failed(T0);
    lock.failed(T0);
    lock.succeeded();
    expect(lock.failed(T0)).toBe(2);
  });
});
