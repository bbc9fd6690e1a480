import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { renderReportHtml } from "./report-html.js";

/*
 * The rehearsal's report: one JSON document (machine-readable, `format` versioned) and the same
 * figures as an HTML page with hand-drawn SVG charts that opens offline (report-html.ts).
 */

export const REPORT_FORMAT = "sesame-rehearsal/1";

export interface Percentiles {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

export interface LaneFigures {
  readonly gateId: string;
  readonly lane: number;
  readonly entrance: string;
  readonly scans: number;
  readonly admitted: number;
  readonly refused: number;
  readonly assisted: number;
}

export interface EntranceFigures {
  readonly entrance: string;
  readonly name: string;
  readonly lanes: number;
  readonly arrived: number;
  readonly admitted: number;
  readonly refused: number;
  /** Admissions per lane per hour over the busiest 15 minutes. */
  readonly peakPerLaneHour: number;
  readonly maxQueue: number;
}

export interface Mismatch {
  readonly person: number;
  readonly profile: string;
  readonly what: "false-accept" | "false-refusal" | "wrong-reason" | "no-decision";
  readonly expected: string;
  readonly got: string;
  readonly gate?: string;
  readonly lane?: number;
  readonly at: string;
}

export interface ProfileFigures {
  people: number;
  presentations: number;
  passed: number;
  notPassed: number;
  readonly reasons: Record<string, number>;
}

export interface RehearsalReport {
  readonly format: typeof REPORT_FORMAT;
  readonly mode: "virtual" | "realtime";
  readonly ok: boolean;
  readonly generatedAt: string;
  readonly machine: { cpu: string; cores: number; memoryGiB: number; node: string };
  readonly parameters: Record<string, string | number | boolean>;
  readonly timing: {
    /** Simulated time of the ingress (first arrival window start to the last person through). */
    readonly simulatedMs: number;
    /** Wall time of the ingress itself, and of the set-up before it (venue, caches, server). */
    readonly wallMs: number;
    readonly setupWallMs: number;
    /** simulatedMs / wallMs: how much faster than real time (≈1 in real-time mode). */
    readonly speedup: number;
    readonly decisionsPerWallSecond: number;
  };
  readonly truth: {
    /** Let through although the simulator's ground truth says refuse. Must be 0. */
    readonly falseAccepts: number;
    /** Not let through although the ground truth says admit (or admit after a steward). Must be 0. */
    readonly falseRefusals: number;
    /** Events in a gate's log that the sync-server's record lacks. Must be 0. */
    readonly lostEvents: number;
    /** Events the server holds differently from the gate (same id, other content). */
    readonly alteredEvents: number;
    /** A decision with another reason than the ground truth allows (outcome right or wrong). */
    readonly wrongReasons: number;
    /** Presentations the gate never answered (a scan lost between reader and backend). */
    readonly noDecision: number;
    /** Authorizations annulled (nobody walked through) against those the crowd caused. */
    readonly annulled: number;
    readonly expectedAnnulled: number;
    /** Tickets the server saw enter twice (double-entry alerts). */
    readonly doubleEntries: number;
    readonly mismatches: readonly Mismatch[];
  };
  readonly people: {
    readonly total: number;
    readonly admitted: number;
    readonly notAdmitted: number;
    readonly byProfile: Record<string, ProfileFigures>;
    /** Share of arrivals in the last 45 minutes before kick-off. */
    readonly lastHalfShare: number;
  };
  readonly decisions: {
    readonly total: number;
    readonly byReason: Record<string, number>;
    readonly byOutcome: Record<string, number>;
  };
  readonly latency: {
    /** Reader's report leaving the bus → unlock command at the lane controller (wall clock). */
    readonly scanToUnlockMs: Percentiles;
    /** Reader's report → the gate's decision returned (every scan, refusals too; wall clock). */
    readonly scanToDecisionMs: Percentiles;
    /** Virtual time from the code shown to the reader to the unlock (includes the OSDP poll wait). */
    readonly presentToUnlockMs?: Percentiles;
    /** Entry at one gate → in another gate's cache (virtual time: modeled network + real ingest). */
    readonly fanOutMs?: Percentiles;
    /** Histogram of scanToUnlockMs: upper bounds (ms) and counts. */
    readonly histogram: { readonly bounds: readonly number[]; readonly counts: readonly number[] };
  };
  readonly throughput: {
    readonly perLane: readonly LaneFigures[];
    readonly perEntrance: readonly EntranceFigures[];
    /** Per minute of simulated time, from the start of the window. */
    readonly perMinute: ReadonlyArray<{ minute: number; arrivals: number; admitted: number }>;
  };
  readonly queues: {
    readonly sampleEveryMs: number;
    /** Per sample: minute offset, people queuing per entrance (same order as perEntrance). */
    readonly samples: ReadonlyArray<{ minute: number; byEntrance: number[]; longestLane: number }>;
    readonly waitMs: Percentiles;
    readonly maxQueue: number;
  };
  readonly sync?: Record<string, number | Record<string, number>>;
  readonly server?: { events: number; entered: number; alerts: Record<string, number> };
  /** What ran as in production, and what the simulator stands in for. */
  readonly real: readonly string[];
  readonly modeled: readonly string[];
  readonly notes: readonly string[];
}

export function percentiles(values: readonly number[]): Percentiles {
  if (values.length === 0) return { count: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 };
  const sorted = Float64Array.from(values).sort();
  const at = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? 0;
  let sum = 0;
  for (const v of sorted) sum += v;
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    count: sorted.length,
    p50: round(at(0.5)),
    p95: round(at(0.95)),
    p99: round(at(0.99)),
    max: round(sorted[sorted.length - 1] ?? 0),
    mean: round(sum / sorted.length),
  };
}

/** Counts of `values` at or under each bound (the last bucket holds the rest). */
export function histogram(values: readonly number[], bounds: readonly number[]): number[] {
  const counts = new Array<number>(bounds.length + 1).fill(0);
  for (const v of values) {
    let i = 0;
    while (i < bounds.length && v > (bounds[i] ?? Number.POSITIVE_INFINITY)) i++;
    counts[i] = (counts[i] ?? 0) + 1;
  }
  return counts;
}

export const LATENCY_BOUNDS = [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 20, 50];

export function machine(): RehearsalReport["machine"] {
  return {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
}

/** Writes report.json and report.html into `dir`; returns their paths. */
export function writeReport(dir: string, report: RehearsalReport): { json: string; html: string } {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, "report.json");
  const html = join(dir, "report.html");
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(html, renderReportHtml(report));
  return { json, html };
}
