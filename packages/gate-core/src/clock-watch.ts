import type { Decision } from "./decide.js";

/**
 * Watches device-proof lags: when the last few codes of different holders are all stale (or all
 * early) by more than the freshness window, the gate's clock is the likelier culprit than every
 * phone at once, and refusals become CLOCK_SKEW (call a supervisor) instead of blaming holders.
 */
export class ClockWatch {
  private readonly lags: Array<{ ticketId: number; lag: number }> = [];

  constructor(
    private readonly threshold = 5,
    private readonly windowSteps = 2,
  ) {}

  observe(decision: Decision): void {
    if (decision.proofLagSteps === undefined || decision.ticketId === undefined) return;
    const ticketId = decision.ticketId;
    const existing = this.lags.findIndex((l) => l.ticketId === ticketId);
    if (existing >= 0) this.lags.splice(existing, 1);
    this.lags.push({ ticketId, lag: decision.proofLagSteps });
    while (this.lags.length > this.threshold) this.lags.shift();
  }

  get suspect(): boolean {
    if (this.lags.length < this.threshold) return false;
    const behind = this.lags.every((l) => l.lag > this.windowSteps);
    const ahead = this.lags.every((l) => l.lag < -this.windowSteps);
    return behind || ahead;
  }

  /** Median lag of the recent codes, in seconds (positive: codes older than the gate's clock). */
  get medianLagSeconds(): number | undefined {
    if (this.lags.length === 0) return undefined;
    const sorted = this.lags.map((l) => l.lag).sort((a, b) => a - b);
    return (sorted[Math.floor(sorted.length / 2)] ?? 0) * 15;
  }
}
