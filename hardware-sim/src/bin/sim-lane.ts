#!/usr/bin/env node
// Runs `sesame sim lane` on its own: pnpm exec tsx hardware-sim/src/bin/sim-lane.ts --listen tcp://127.0.0.1:4001
import { runSimLaneCommand } from "../cli/simLane.js";

const code = await runSimLaneCommand(process.argv.slice(2), { stdout: process.stdout, stdin: process.stdin });
process.exit(code);
