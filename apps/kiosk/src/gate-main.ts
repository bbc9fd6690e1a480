import { readGateConfig } from "./gate/config.js";
import { startGateNode } from "./gate/gate-node.js";

/*
 * The gate backend process: `node --import tsx apps/kiosk/src/gate-main.ts --config gate.json`.
 * Prints `kiosk <url>` once the steward UI is served (the Electron shell and `sesame up` wait for
 * that line), stops cleanly on SIGINT/SIGTERM, and exits non-zero with one clear line on bad setup.
 */

const args = process.argv.slice(2);
const at = args.indexOf("--config");
const file = at >= 0 ? args[at + 1] : process.env.SESAME_GATE_CONFIG;
if (!file) {
  console.error("usage: gate-main --config gate.json (or SESAME_GATE_CONFIG)");
  process.exit(2);
}

try {
  const config = readGateConfig(file);
  const gate = await startGateNode(config);
  console.log(`kiosk ${gate.url}`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`[${gate.gateId}] ${signal}: stopping`);
    await gate.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  // Started by a supervisor process (`sesame up`, the Electron shell): when it dies, so do we.
  if (process.env.SESAME_STOP_ON_STDIN_EOF === "1") {
    process.stdin.on("end", () => void stop("supervisor gone"));
    process.stdin.resume();
  }
} catch (error) {
  console.error(`gate: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
