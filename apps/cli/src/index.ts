import { dashboardDir } from "@sesame/supervisor";
import {
  DASHBOARD_USER_USAGE,
  MIGRATE_ROOT_USAGE,
  MOSQUITTO_CONFIG_USAGE,
  OPERATIONS_CERTIFICATE_USAGE,
  ROOT_OPERATIONS_CERTIFICATE_USAGE,
  ROOT_TRUST_LIST_USAGE,
  runDashboardUserCommand,
  runMigrateRootCommand,
  runMosquittoConfigCommand,
  runOperationsCertificateCommand,
  runRootOperationsCertificateCommand,
  runRootTrustListCommand,
  runSyncServerCommand,
  SYNC_SERVER_USAGE,
} from "@sesame/sync-server";
import { CliError } from "./cli-error.js";
import { CREDENTIAL_INSPECT_USAGE, credentialInspect } from "./commands/credential-inspect.js";
import { GATE_LOOKUP_USAGE, gateLookup } from "./commands/gate-lookup.js";
import { GATE_VERIFY_USAGE, gateVerify } from "./commands/gate-verify.js";
import { DECODE_IMAGE_USAGE, decodeImage, SIM_LANE_USAGE, simLane } from "./commands/hardware.js";
import { ISSUER_USAGE, issuerCommand } from "./commands/issuer.js";
import { SIM_VENUE_USAGE, simVenue } from "./commands/sim-venue.js";
import { SUPERVISOR_CERTIFICATE_USAGE, supervisorCertificate } from "./commands/supervisor-certificate.js";
import { UP_USAGE, up } from "./commands/up.js";
import { VENUE_DEMO_USAGE, venueDemo } from "./commands/venue-demo.js";
import { VENUE_SUPERVISOR_USAGE, venueSupervisor } from "./commands/venue-supervisor.js";
import { WALLET_CODE_USAGE, walletCodeCommand } from "./commands/wallet-code.js";
import type { Io } from "./io.js";

export { CliError } from "./cli-error.js";
export type { Io } from "./io.js";

type Command = { usage: string; run: (argv: string[], io: Io) => Promise<number> };

const COMMANDS: Record<string, Command> = {
  up: { usage: UP_USAGE, run: up },
  "venue demo": { usage: VENUE_DEMO_USAGE, run: venueDemo },
  "venue supervisor": { usage: VENUE_SUPERVISOR_USAGE, run: venueSupervisor },
  "wallet code": { usage: WALLET_CODE_USAGE, run: walletCodeCommand },
  "credential inspect": { usage: CREDENTIAL_INSPECT_USAGE, run: credentialInspect },
  "gate verify": { usage: GATE_VERIFY_USAGE, run: gateVerify },
  "gate lookup": { usage: GATE_LOOKUP_USAGE, run: gateLookup },
  "sim lane": { usage: SIM_LANE_USAGE, run: simLane },
  "sim venue": { usage: SIM_VENUE_USAGE, run: simVenue },
  "decode-image": { usage: DECODE_IMAGE_USAGE, run: decodeImage },
  // The sync-server knows no app: `sesame` tells it where the built dashboard is.
  "sync-server": {
    usage: SYNC_SERVER_USAGE,
    run: (argv, io) => runSyncServerCommand(argv, io, { defaultDashboardDir: dashboardDir }),
  },
  issuer: { usage: ISSUER_USAGE, run: issuerCommand },
  "dashboard-user": { usage: DASHBOARD_USER_USAGE, run: runDashboardUserCommand },
  "mosquitto-config": {
    usage: MOSQUITTO_CONFIG_USAGE,
    run: runMosquittoConfigCommand,
  },
  "operations-certificate": { usage: OPERATIONS_CERTIFICATE_USAGE, run: runOperationsCertificateCommand },
  // What the venue root key signs, offline (docs/design.md §9).
  "root trust-list": { usage: ROOT_TRUST_LIST_USAGE, run: runRootTrustListCommand },
  "root operations-certificate": {
    usage: ROOT_OPERATIONS_CERTIFICATE_USAGE,
    run: runRootOperationsCertificateCommand,
  },
  "venue migrate-root": { usage: MIGRATE_ROOT_USAGE, run: runMigrateRootCommand },
  "supervisor-certificate": { usage: SUPERVISOR_CERTIFICATE_USAGE, run: supervisorCertificate },
};

function help(): string {
  return `Sésame — venue access control\n\nusage:\n${Object.values(COMMANDS)
    .map((c) => `  ${c.usage}`)
    .join("\n")}\n`;
}

/** Runs one `sesame` command; never throws: errors become a message and an exit code. */
export async function runCli(argv: string[], io: Io): Promise<number> {
  const [first, second] = argv;
  if (first === undefined || first === "help" || first === "--help" || first === "-h") {
    io.stdout.write(help());
    return first === undefined ? 2 : 0;
  }
  const two = `${first} ${second ?? ""}`;
  const command = COMMANDS[two] ?? COMMANDS[first];
  const rest = COMMANDS[two] ? argv.slice(2) : argv.slice(1);
  if (!command) {
    io.stderr.write(`sesame: unknown command '${argv.slice(0, 2).join(" ")}'\n\n${help()}`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stdout.write(`usage: ${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof CliError) {
      io.stderr.write(`sesame: ${error.message}\n`);
      return error.exitCode;
    }
    io.stderr.write(
      `sesame: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return 1;
  }
}
export { type CrowdMix, DEFAULT_MIX, spectatorsOf } from "./venue/spectators.js";
export {
  DEMO_STEWARDS,
  DEMO_TOKENS,
  type RunningGate,
  type RunningVenue,
  startVenue,
  type VenueUpOptions,
} from "./venue/venue-up.js";
