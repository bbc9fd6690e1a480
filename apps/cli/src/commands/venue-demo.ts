import { randomBytes } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { setUpServer } from "@sesame/sync-server";
import { createNodeSigner, seededRandom } from "@sesame/ticket";
import { generateDemoVenue, VENUE_FILES, writeVenueDirectory } from "@sesame/venue";
import { parse, parseInteger, parseTime, requireString } from "../args.js";
import { CliError } from "../cli-error.js";
import type { Io } from "../io.js";

export const VENUE_DEMO_USAGE =
  "sesame venue demo --out DIR [--spectators N] [--seed S] [--doors-open ISO-TIME] [--entrances N] [--lanes N] [--force]";

/** Doors of the demo's first session opened at the last full hour before now, so codes verify at once. */
export function defaultDoorsOpen(nowMs: number): number {
  return Math.floor(nowMs / 3_600_000) * 3_600_000 - 3_600_000;
}

export async function venueDemo(argv: string[], io: Io): Promise<number> {
  const { values } = parse(
    argv,
    {
      out: { type: "string" },
      spectators: { type: "string" },
      seed: { type: "string" },
      "doors-open": { type: "string" },
      entrances: { type: "string" },
      lanes: { type: "string" },
      force: { type: "boolean" },
    },
    VENUE_DEMO_USAGE,
  );
  const out = requireString(values.out, "--out DIR", VENUE_DEMO_USAGE);
  const spectators = parseInteger(values.spectators, "--spectators", 1, 1_000_000) ?? 2000;
  const entrances = parseInteger(values.entrances, "--entrances", 1, 20) ?? 2;
  const lanes = parseInteger(values.lanes, "--lanes", 1, 500) ?? 8;
  if (lanes < entrances) throw new CliError(`--lanes (${lanes}) must be at least --entrances (${entrances})`);
  const doorsOpenMs = parseTime(values["doors-open"], "--doors-open") ?? defaultDoorsOpen(io.now());
  if (existsSync(out) && readdirSync(out).length > 0 && !values.force) {
    throw new CliError(`${out} is not empty; choose another --out or add --force to overwrite`, 1);
  }
  const seed = values.seed ?? randomBytes(8).toString("hex");
  const started = io.now();
  let lastReport = 0;
  const demo = generateDemoVenue({
    spectators,
    doorsOpenMs,
    entrances,
    lanes,
    random: seededRandom(seed),
    signer: createNodeSigner(),
    onProgress: (done, total) => {
      if (total >= 10_000 && (done - lastReport >= 10_000 || done === total)) {
        lastReport = done;
        io.stderr.write(`  tickets ${done.toLocaleString("en")} / ${total.toLocaleString("en")}\n`);
      }
    },
  });
  writeVenueDirectory(out, demo, createNodeSigner());
  // Set-up of the server's default data directory: the root certifies its operations key, the
  // offline step of a real venue (the demo keeps its root in secrets/root-key.json; no server opens it).
  setUpServer(out, join(out, "sync-data"), { now: io.now() });
  const count = (state: string) => demo.rows.filter((r) => r.state === state).length;
  const s1 = demo.venue.sessions[0];
  io.stdout.write(
    [
      `Demo venue written to ${out} (seed ${seed}, ${((io.now() - started) / 1000).toFixed(1)} s)`,
      `  ${demo.venue.name}: ${demo.venue.entrances.map((e) => e.name).join(", ")}; gates ${demo.venue.gates.map((g) => `${g.id}×${g.lanes}`).join(" ")}`,
      `  sessions: ${demo.venue.sessions.map((s) => `${s.id} ${s.code} doors ${s.doorsOpen}`).join("; ")}`,
      `  tickets: ${demo.bundle.tickets.length} in the gate bundle (feed sequence ${demo.bundle.feedSequence}), ${demo.changes.length} sold later;`,
      `           ${demo.rows.filter((r) => r.kind === "printed").length} printed, ${count("resold-old")} resold, ${count("transferred-old")} transferred, ${count("cancelled")} cancelled`,
      `  supervisors: ${(demo.venue.supervisors ?? []).map((v) => `${v.id} ${v.name}`).join(", ")} (override codes in ${out}/secrets/keys.json, demo only)`,
      `  venue root key: ${out}/${VENUE_FILES.rootKey} (demo only: a real venue keeps it offline; the sync-server never opens it)`,
      `  operations key of ${join(out, "sync-data")} certified by the root for 30 days (\`sesame operations-certificate\` renews it)`,
      `  try: pnpm sesame wallet code --venue ${out} --ticket ${demo.rows.find((r) => r.state === "valid" && r.kind === "mobile" && !r.late && r.session === 1)?.id ?? 100001}`,
      s1 ? `  (doors of session 1 open ${s1.doorsOpen})` : "",
      "",
    ].join("\n"),
  );
  return 0;
}
