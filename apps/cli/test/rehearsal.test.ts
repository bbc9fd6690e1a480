import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../src/index.js";
import { PROFILES } from "../src/rehearsal/population.js";
import { REPORT_FORMAT, type RehearsalReport, writeReport } from "../src/rehearsal/report.js";
import { runVirtualRehearsal } from "../src/rehearsal/virtual-run.js";

// The match-day rehearsal on a small venue, in virtual time: the real admission core, gate caches
// and sync-server store must let nobody in wrongly, turn nobody away wrongly and lose no event.
// Figures about wall-clock time are reported, never asserted.

const out = mkdtempSync(join(tmpdir(), "sesame-rehearsal-test-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Every reason the crowd's credential mix must produce at least once. */
const REASONS = [
  "ADMITTED",
  "PRINTED_CONFIRMATION",
  "ID_CHECK_REQUIRED",
  "ACCESSIBILITY_ASSISTANCE",
  "EXPIRED_CODE",
  "REVOKED_RESOLD",
  "SUPERSEDED_TRANSFERRED",
  "CANCELLED",
  "WRONG_DAY",
  "WRONG_ENTRANCE",
  "ALREADY_ENTERED",
  "NOT_A_TICKET",
];

function io() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let text = "";
  let errors = "";
  stdout.on("data", (c: Buffer) => {
    text += c.toString();
  });
  stderr.on("data", (c: Buffer) => {
    errors += c.toString();
  });
  return {
    io: {
      stdout,
      stderr,
      stdin: new PassThrough(),
      now: () => Date.now(),
      interrupted: new Promise<void>(() => {}),
    },
    out: () => text,
    err: () => errors,
  };
}

describe("sesame sim venue (virtual time)", () => {
  let report: RehearsalReport;

  it("runs 1,500 people through 8 lanes with no false accept, no false refusal, no lost event", async () => {
    report = await runVirtualRehearsal({
      spectators: 1_500,
      lanes: 8,
      entrances: 2,
      minutes: 10,
      seed: "test",
      workers: 0,
    });
    expect(report.notes).toEqual([]);
    expect(report.truth).toMatchObject({
      falseAccepts: 0,
      falseRefusals: 0,
      lostEvents: 0,
      alteredEvents: 0,
      doubleEntries: 0,
      wrongReasons: 0,
      noDecision: 0,
    });
    expect(report.ok).toBe(true);
    expect(report.people.total).toBeGreaterThanOrEqual(1_500);
    expect(report.people.admitted).toBeGreaterThan(1_200);
    // Holders who turned back after the unlock: each authorization annulled, none consumed.
    expect(report.truth.expectedAnnulled).toBeGreaterThan(0);
    expect(report.truth.annulled).toBe(report.truth.expectedAnnulled);
    // Every event the gates recorded is on the server; every admission reached the other gates.
    expect(report.server?.events).toBe(report.sync?.gateEvents);
    // The server checks what each gate says (an entry closes an authorization of that gate, for a
    // ticket of its entrance): no honest gate's event is refused, nobody is alerted for it.
    expect(report.sync?.rejectedEvents).toBe(0);
    expect(report.server?.alerts["implausible-events"] ?? 0).toBe(0);
    expect(report.latency.fanOutMs?.count).toBeGreaterThan(1_000);
    expect(report.latency.scanToUnlockMs.count).toBeGreaterThan(1_000);
  }, 180_000);

  it("sees every credential of the mix, each with its reason", () => {
    for (const reason of REASONS) expect(report.decisions.byReason[reason], reason).toBeGreaterThan(0);
    const forged = ["FORGED", "FORGED_PROOF", "MALFORMED"].reduce(
      (n, r) => n + (report.decisions.byReason[r] ?? 0),
      0,
    );
    expect(forged).toBeGreaterThan(0);
    for (const profile of PROFILES)
      expect(report.people.byProfile[profile]?.presentations, profile).toBeGreaterThan(0);
    // A holder sent to the wrong entrance is refused there, then admitted at the right one.
    expect(report.people.byProfile["wrong-entrance"]).toMatchObject({
      passed: report.people.byProfile["wrong-entrance"]?.people,
    });
  });

  it("writes a well-formed JSON report and an offline HTML page with charts", () => {
    const files = writeReport(join(out, "virtual"), report);
    const json = JSON.parse(readFileSync(files.json, "utf8")) as RehearsalReport;
    expect(json.format).toBe(REPORT_FORMAT);
    expect(json.truth.falseAccepts).toBe(0);
    expect(json.throughput.perLane).toHaveLength(8);
    expect(json.throughput.perEntrance.map((e) => e.entrance)).toEqual(["A", "B"]);
    expect(json.queues.samples.length).toBeGreaterThan(10);
    expect(json.latency.scanToUnlockMs.p99).toBeGreaterThan(0);
    const html = readFileSync(files.html, "utf8");
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html).toContain("PASS");
    expect((html.match(/<svg /g) ?? []).length).toBeGreaterThanOrEqual(6);
    for (const title of [
      "Queue lengths over time",
      "Throughput per lane",
      "Scan-to-unlock latency",
      "Decisions by reason",
    ])
      expect(html).toContain(title);
    // Nothing fetched from anywhere: it must open offline.
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toContain("<script");
  });
});

describe("sesame sim venue (command line)", () => {
  it("refuses bad input with one line and exit code 2", async () => {
    for (const argv of [
      ["--lanes", "0"],
      ["--spectators", "lots"],
      ["--minutes", "120"],
      ["--rate", "3"],
      ["--entrances", "9", "--lanes", "4"],
    ]) {
      const t = io();
      expect(await runCli(["sim", "venue", ...argv], t.io)).toBe(2);
      expect(t.err().trim().split("\n"), argv.join(" ")).toHaveLength(1);
    }
  });

  it("runs a small venue across worker threads and exits 0 when the ground truth holds", async () => {
    const t = io();
    const dir = join(out, "cli");
    const code = await runCli(
      ["sim", "venue", "--spectators", "300", "--lanes", "4", "--entrances", "2", "--minutes", "5"].concat([
        "--workers",
        "2",
        "--seed",
        "threads",
        "--out",
        dir,
      ]),
      t.io,
    );
    expect(t.err()).toBe("");
    expect(t.out()).toContain("PASS");
    expect(code).toBe(0);
    const json = JSON.parse(readFileSync(join(dir, "report.json"), "utf8")) as RehearsalReport;
    expect(json.parameters.sectors).toBe(2);
    expect(json.truth).toMatchObject({ falseAccepts: 0, falseRefusals: 0, lostEvents: 0 });
  }, 180_000);
});
