#!/usr/bin/env node
// Runs `sesame sync-server` on its own: pnpm exec tsx sync-server/src/bin/sync-server.ts --venue DIR
// (serves a dashboard only with --dashboard DIR: the sync-server does not know where the app is built)
import { runSyncServerCommand } from "../cli.js";

const interrupted = new Promise<void>((resolve) => {
  process.once("SIGINT", () => resolve());
  process.once("SIGTERM", () => resolve());
});
const code = await runSyncServerCommand(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  now: () => Date.now(),
  interrupted,
});
process.exit(code);
