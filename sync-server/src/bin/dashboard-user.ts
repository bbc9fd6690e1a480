#!/usr/bin/env node
// `sesame dashboard-user` on its own:
//   printf '%s\n' "$PASSWORD" | pnpm exec tsx sync-server/src/bin/dashboard-user.ts --venue DIR --name dupont --role supervisor
import { runDashboardUserCommand } from "../cli.js";

const code = await runDashboardUserCommand(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  now: () => Date.now(),
  interrupted: new Promise(() => {}),
});
process.exit(code);
