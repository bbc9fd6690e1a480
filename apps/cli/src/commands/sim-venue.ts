import { availableParallelism } from "node:os";
import { join, relative, resolve } from "node:path";
import { parse, parseInteger } from "../args.js";
import { CliError } from "../cli-error.js";
import type { Io } from "../io.js";
import { runRealtimeRehearsal } from "../rehearsal/realtime-run.js";
import { type RehearsalReport, writeReport } from "../rehearsal/report.js";
import { fmt } from "../rehearsal/report-html.js";
import { runVirtualRehearsal } from "../rehearsal/virtual-run.js";

export const SIM_VENUE_USAGE =
  "sesame sim venue [--spectators 80000] [--lanes 100] [--entrances N] [--lanes-per-gate N] [--minutes 90] [--seed S] [--out DIR] [--workers N] [--data-dir DIR] [--full-polling] [--keep-data] [--realtime [--rate PEOPLE_PER_S]]";

/** Worker threads by default only where cores are to spare (the main thread is the sync-server). */
function defaultWorkers(): number {
  const cores = availableParallelism();
  return cores >= 4 ? Math.min(4, cores - 1) : 0;
}

function summary(r: RehearsalReport, files: { json: string; html: string }): string {
  const t = r.truth;
  const l = r.latency.scanToUnlockMs;
  const lines = [
    "",
    `${r.ok ? "PASS" : "FAIL"} — ${r.mode} rehearsal: ${fmt(r.people.total)} people, ${fmt(r.people.admitted)} admitted, ${fmt(r.decisions.total)} decisions`,
    `  false accepts ${t.falseAccepts}, false refusals ${t.falseRefusals}, lost events ${t.lostEvents}, double entries ${t.doubleEntries}, wrong reasons ${t.wrongReasons}`,
    `  scan → unlock p50 ${fmt(l.p50, 3)} ms, p95 ${fmt(l.p95, 3)} ms, p99 ${fmt(l.p99, 3)} ms (${fmt(l.count)} unlocks)`,
    ...(r.latency.fanOutMs
      ? [
          `  admission fan-out to the other gates p50 ${fmt(r.latency.fanOutMs.p50)} ms, p99 ${fmt(r.latency.fanOutMs.p99)} ms`,
        ]
      : []),
    `  ${fmt(r.timing.simulatedMs / 60_000, 1)} simulated minutes in ${fmt(r.timing.wallMs / 1000, 1)} s of wall time (×${fmt(r.timing.speedup, 1)}), set-up ${fmt(r.timing.setupWallMs / 1000, 1)} s, ${fmt(r.timing.decisionsPerWallSecond)} decisions per wall second`,
    ...r.notes.slice(0, 5).map((n) => `  note: ${n.split("\n")[0]}`),
    `  report: ${files.html}`,
    `          ${files.json}`,
    "",
  ];
  return lines.join("\n");
}

/**
 * The match-day rehearsal (issue 8): a whole ingress in virtual time through the real admission
 * core, gate caches and sync-server store (default), or a smaller one in real time through the
 * whole stack (--realtime); writes report.json and report.html, and exits 1 unless false accepts,
 * false refusals and lost events are all zero.
 */
export async function simVenue(argv: string[], io: Io): Promise<number> {
  const { values } = parse(
    argv,
    {
      spectators: { type: "string" },
      lanes: { type: "string" },
      entrances: { type: "string" },
      "lanes-per-gate": { type: "string" },
      minutes: { type: "string" },
      seed: { type: "string" },
      out: { type: "string" },
      workers: { type: "string" },
      "data-dir": { type: "string" },
      "full-polling": { type: "boolean" },
      "keep-data": { type: "boolean" },
      realtime: { type: "boolean" },
      rate: { type: "string" },
    },
    SIM_VENUE_USAGE,
  );
  const realtime = values.realtime === true;
  const spectators =
    parseInteger(values.spectators, "--spectators", 100, realtime ? 20_000 : 200_000) ??
    (realtime ? 2_000 : 80_000);
  const lanes = parseInteger(values.lanes, "--lanes", 1, realtime ? 64 : 400) ?? (realtime ? 8 : 100);
  const entrances =
    parseInteger(values.entrances, "--entrances", 1, 20) ??
    Math.min(lanes, Math.max(2, Math.min(8, Math.round(lanes / 12))));
  if (lanes < entrances) throw new CliError(`--lanes (${lanes}) must be at least --entrances (${entrances})`);
  const lanesPerGate = parseInteger(values["lanes-per-gate"], "--lanes-per-gate", 1, 16);
  const minutes =
    parseInteger(values.minutes, "--minutes", realtime ? 1 : 5, realtime ? 30 : 90) ?? (realtime ? 3 : 90);
  const workers = parseInteger(values.workers, "--workers", 0, 16) ?? defaultWorkers();
  const seed = values.seed ?? "rehearsal";
  if (!/^[\w.-]{1,64}$/.test(seed))
    throw new CliError("--seed must be 1–64 letters, digits, '.', '_' or '-'");
  // Absolute: the gate processes take relative paths from their own configuration's folder.
  const out = resolve(values.out ?? join(process.cwd(), ".tmp", "rehearsal"));
  if (realtime && (values.workers || values["data-dir"] || values["full-polling"]))
    throw new CliError(
      "--workers, --data-dir and --full-polling apply to the virtual-time rehearsal, not --realtime",
    );
  if (!realtime && values.rate !== undefined) throw new CliError("--rate applies to --realtime only");
  let rate = Math.round(Math.max(0.5, lanes * 0.25) * 10) / 10;
  if (values.rate !== undefined) {
    rate = Number(values.rate);
    if (!/^\d+(\.\d+)?$/.test(values.rate) || !(rate > 0) || rate > 50)
      throw new CliError(
        `--rate must be a number of people per second above 0 and up to 50, got ${values.rate}`,
      );
  }
  const log = (line: string) => io.stdout.write(`${line}\n`);

  const report = realtime
    ? await runRealtimeRehearsal({
        spectators,
        lanes,
        entrances,
        ...(lanesPerGate ? { lanesPerGate } : {}),
        minutes,
        rate,
        seed,
        dir: join(out, "venue"),
        keepData: values["keep-data"] === true,
        log,
      })
    : await runVirtualRehearsal({
        spectators,
        lanes,
        entrances,
        ...(lanesPerGate ? { lanesPerGate } : {}),
        minutes,
        seed,
        workers,
        ...(values["data-dir"] ? { dataDir: values["data-dir"] } : {}),
        keepData: values["keep-data"] === true,
        fullPolling: values["full-polling"] === true,
        log,
      });
  const files = writeReport(out, report);
  const shown = (path: string) => (path.startsWith(process.cwd()) ? relative(process.cwd(), path) : path);
  io.stdout.write(summary(report, { json: shown(files.json), html: shown(files.html) }));
  return report.ok ? 0 : 1;
}
