import { describe, expect, it } from "vitest";
import { ClockWatch } from "./clock-watch.js";
import type { Decision } from "./decide.js";
import { stewardMessages } from "./reasons.js";

const seen = (ticketId: number, proofLagSteps: number): Decision => ({
  outcome: proofLagSteps > 2 ? "REFUSE" : "ADMIT",
  reason: proofLagSteps > 2 ? "EXPIRED_CODE" : "ADMITTED",
  messages: stewardMessages("ADMITTED"),
  ticketId,
  proofLagSteps,
});

describe("gate clock watch", () => {
  it("suspects the gate's clock when five different holders' codes are all 10 minutes stale", () => {
    const watch = new ClockWatch();
    for (let t = 1; t <= 4; t++) watch.observe(seen(t, 40));
    expect(watch.suspect).toBe(false);
    watch.observe(seen(5, 40));
    expect(watch.suspect).toBe(true);
    expect(watch.medianLagSeconds).toBe(600);
  });

  it("does not blame the clock for one person's screenshot shown five times", () => {
    const watch = new ClockWatch();
    for (let i = 0; i < 5; i++) watch.observe(seen(1, 40));
    for (let t = 2; t <= 5; t++) watch.observe(seen(t, 0));
    expect(watch.suspect).toBe(false);
  });

  it("clears as soon as a fresh code arrives, and ignores decisions without a proof", () => {
    const watch = new ClockWatch();
    for (let t = 1; t <= 5; t++) watch.observe(seen(t, -40));
    expect(watch.suspect).toBe(true);
    watch.observe({ outcome: "REFUSE", reason: "MALFORMED", messages: stewardMessages("MALFORMED") });
    expect(watch.suspect).toBe(true);
    watch.observe(seen(6, 0));
    expect(watch.suspect).toBe(false);
  });
});
