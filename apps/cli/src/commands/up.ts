import { rmSync } from "node:fs";
import { join } from "node:path";
import { VENUE_FILES } from "@sesame/venue";
import { parse, parseInteger } from "../args.js";
import { CliError } from "../cli-error.js";
import type { Io } from "../io.js";
import { DEMO_STEWARDS, type RunningVenue, startVenue } from "../venue/venue-up.js";

export const UP_USAGE =
  "sesame up [--dir DIR] [--port 4800|0] [--spectators N] [--entrances N] [--lanes N] [--lanes-per-gate N] [--rate PEOPLE_PER_S] [--seed S] [--in-process]";

function isPortInUse(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === "EADDRINUSE";
}

/**
 * The README's start command: the whole simulated venue on this machine — the issuer, the
 * sync-server following it with its embedded broker and the supervisor dashboard, simulated lane controllers and QR readers (OSDP
 * over TCP), one kiosk per gate, and a crowd with good and bad codes — until Ctrl-C.
 */
export async function up(argv: string[], io: Io): Promise<number> {
  const { values } = parse(
    argv,
    {
      dir: { type: "string" },
      port: { type: "string" },
      spectators: { type: "string" },
      entrances: { type: "string" },
      lanes: { type: "string" },
      "lanes-per-gate": { type: "string" },
      rate: { type: "string" },
      seed: { type: "string" },
      "in-process": { type: "boolean" },
    },
    UP_USAGE,
  );
  const dir = values.dir ?? join(process.cwd(), ".tmp", "venue-up");
  const basePort = parseInteger(values.port, "--port", 0, 65_000) ?? 4800;
  const spectators = parseInteger(values.spectators, "--spectators", 10, 200_000) ?? 3000;
  const entrances = parseInteger(values.entrances, "--entrances", 1, 20) ?? 2;
  const lanes = parseInteger(values.lanes, "--lanes", 1, 64) ?? 8;
  const lanesPerGate = parseInteger(values["lanes-per-gate"], "--lanes-per-gate", 1, 8) ?? 2;
  if (lanes < entrances) throw new CliError(`--lanes (${lanes}) must be at least --entrances (${entrances})`);
  const rateText = values.rate ?? "1";
  const rate = Number(rateText);
  if (!/^\d+(\.\d+)?$/.test(rateText) || rate > 50)
    throw new CliError(`--rate must be a number of people per second from 0 to 50, got ${rateText}`);

  // Each run is a fresh venue: yesterday's records belong to yesterday's (simulated) match.
  rmSync(dir, { recursive: true, force: true });
  io.stdout.write(`Starting the simulated venue in ${dir} …\n`);
  const log = (line: string) => io.stdout.write(`${line}\n`);
  const start = (port: number) =>
    startVenue({
      dir,
      spectators,
      entrances,
      lanes,
      lanesPerGate,
      basePort: port,
      arrivalsPerSecond: rate,
      gates: values["in-process"] ? "in-process" : "process",
      issuer: true,
      ...(values.seed ? { seed: values.seed } : {}),
      log,
      now: io.now,
    });
  let venue: RunningVenue;
  try {
    venue = await start(basePort);
  } catch (error) {
    if (!isPortInUse(error) || basePort === 0) throw error;
    io.stdout.write(`Port ${basePort} is taken: using free ports instead.\n`);
    rmSync(dir, { recursive: true, force: true });
    venue = await start(0);
  }

  const v = venue.demo.venue;
  const session = v.sessions[0];
  const lines = [
    "",
    `Sésame — ${v.name}${session ? `, ${session.name}, doors opened ${session.doorsOpen}` : ""}`,
    "",
    `  Supervisor dashboard  ${venue.dashboardUrl}${venue.dashboardServed ? "" : "   (not built: pnpm build:ui — the API answers meanwhile)"}`,
    ...venue.users.map((u) => `      sign in as ${u.role.padEnd(10)} name ${u.name}  password ${u.password}`),
    // Opening lanes takes the supervisor's own key, made in their browser and certified by the root.
    "      free passage: on Commands, create your key and download its request, then certify it with",
    `      sesame supervisor-certificate --venue ${venue.venueDir} --root ${join(venue.venueDir, "secrets", "keys.json")} --request REQUEST.json --out cert.json`,
    "      and paste cert.json into the dashboard (the demo keeps the root seed there; a real venue keeps it offline)",
    "",
    "  Gate kiosks (steward UI)",
    ...venue.gates.map((g) => {
      const entrance = v.entrances.find((e) => e.id === g.entrance);
      return `      ${g.gateId.padEnd(4)} ${g.url}   ${entrance?.name ?? ""}, lanes ${g.lanes.map((l) => l.lane).join(", ")}`;
    }),
    `      steward PINs: ${DEMO_STEWARDS.map((s) => `${s.pin} (${s.name})`).join(", ")}`,
    "",
    venue.issuer
      ? `  Issuer (ticketing platform: import, resale, transfer, cancel)  ${venue.issuer.url}   platform token in ${join(dir, "issuer", "platform-token")}`
      : "  Issuer: not running",
    `  Lane controllers and QR readers: simulated OSDP over TCP (${venue.gates.flatMap((g) => g.lanes.map((l) => l.sim.where)).join(" ")})`,
    venue.crowd
      ? `  Crowd: ${rate} person/s arriving, ${spectators.toLocaleString("en")} tickets; mostly good codes, some screenshots, resold, forged, wrong entrance, used twice`
      : "  Crowd: none (--rate 0)",
    `  Venue root key: ${join(venue.venueDir, VENUE_FILES.rootKey)} (demo only: set-up signed the trust list and the`,
    "      server's operations certificate with it; the sync-server never opens it, a real venue keeps it offline)",
    "",
    "Ctrl-C stops everything.",
    "",
  ];
  io.stdout.write(lines.join("\n"));
  venue.crowd?.start();

  const report = setInterval(() => {
    const c = venue.crowd?.counters;
    const counts = venue.server.store.counts();
    const refusals = Object.values(counts.refusalsByReason).reduce((a, b) => a + b, 0);
    io.stdout.write(
      `${new Date(io.now()).toISOString().slice(11, 19)}  ${
        c
          ? `crowd: ${c.arrived} arrived, ${c.passed} through, ${c.notOpened} not let through, ${c.waiting} queuing; false accepts ${c.falseAccepts}, false refusals ${c.falseRefusals}${c.errors > 0 ? `, simulator errors ${c.errors}` : ""}  `
          : ""
      }venue record: ${counts.entered} entered, ${refusals} refusals, ${counts.freePassages} free passages\n`,
    );
  }, 15_000);
  await io.interrupted;
  clearInterval(report);
  io.stdout.write("\nStopping the crowd, the gates, the lanes and the sync-server …\n");
  await venue.stop();
  io.stdout.write("Stopped.\n");
  return 0;
}
