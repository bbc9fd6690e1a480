// `sesame sync-server` for the drills: the same command (runSyncServerCommand, what
// sync-server/src/bin/sync-server.ts and the `sesame` CLI run), in a process that also stops when
// its end of stdin closes — so that a drill harness that dies never leaves a server behind.
import { runSyncServerCommand } from "@sesame/sync-server";

const interrupted = new Promise<void>((resolve) => {
  process.once("SIGINT", () => resolve());
  process.once("SIGTERM", () => resolve());
  process.stdin.on("end", () => resolve());
  process.stdin.on("close", () => resolve());
  process.stdin.resume();
});
const code = await runSyncServerCommand(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  now: () => Date.now(),
  interrupted,
});
process.exit(code);
