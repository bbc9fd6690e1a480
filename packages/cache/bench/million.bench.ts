import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BenchFigure } from "@sesame/testing/bench";
import { createNodeSigner, createNodeVerifier, seededRandom } from "@sesame/ticket";
import {
  encodeGateBundle,
  generateDemoVenue,
  readGateBundle,
  signBundleBytes,
  writeVenueDirectory,
} from "@sesame/venue";
import { GateStore } from "../src/index.js";

/*
 * The size the docs promise (`sesame venue demo --spectators 1000000`): each step from a venue's
 * tickets to a gate that holds them, with its time, the size of what it makes and the process's
 * memory after it (resident, and the JS heap in use) and at its peak so far. Nothing here has a
 * target: it shows that a million tickets work, and what they cost. SESAME_BENCH_TICKETS changes
 * the size (default 1,000,000). One run of each step: at this size a step takes seconds.
 */

const DOORS = Date.UTC(2026, 6, 26, 17, 0, 0);
const MB = 1024 * 1024;

function ticketsWanted(): number {
  const text = process.env.SESAME_BENCH_TICKETS;
  if (text === undefined || text === "") return 1_000_000;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 1_000_000)
    throw new Error(`SESAME_BENCH_TICKETS must be a whole number from 1 to 1,000,000, got ${text}`);
  return n;
}

function directoryBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (entry.isFile()) total += statSync(join(entry.parentPath, entry.name)).size;
  return total;
}

export async function run(): Promise<BenchFigure[]> {
  const count = ticketsWanted();
  const dir = mkdtempSync(join(tmpdir(), "sesame-million-bench-"));
  const figures: BenchFigure[] = [];
  const n = count.toLocaleString("en");
  /** Times `step`, then adds its figures: time, what it made, and memory after it and at peak. */
  const step = <T>(name: string, make: () => T, size: (made: T) => { value: number; unit: string }): T => {
    const t = performance.now();
    const made = make();
    const seconds = (performance.now() - t) / 1000;
    const memory = process.memoryUsage();
    const what = size(made);
    figures.push(
      { name, value: seconds, unit: "s" },
      { name: "  size", ...what },
      { name: "  memory after it: resident", value: memory.rss / MB, unit: "MiB" },
      { name: "  memory after it: JS heap in use", value: memory.heapUsed / MB, unit: "MiB" },
      { name: "  peak resident so far", value: process.resourceUsage().maxRSS / 1024, unit: "MiB" },
    );
    return made;
  };
  try {
    const signer = createNodeSigner();
    const demo = step(
      `venue generation: ${n} tickets, signed late sales`,
      () =>
        generateDemoVenue({
          spectators: count,
          doorsOpenMs: DOORS,
          entrances: 2,
          lanes: 8,
          random: seededRandom("million-bench"),
          signer,
        }),
      (d) => ({ value: d.bundle.tickets.length + d.changes.length, unit: "tickets" }),
    );
    const rootSeed = Buffer.from(demo.secrets.rootSeed, "hex");
    const bytes = step(
      "gate bundle: encoded",
      () => encodeGateBundle(demo.bundle),
      (b) => ({ value: b.length / MB, unit: "MiB" }),
    );
    step(
      "gate bundle: signed by the venue root key",
      () => signBundleBytes(bytes, rootSeed, signer),
      (sig) => ({ value: sig.length / 2, unit: "bytes" }),
    );
    const venueDir = join(dir, "venue");
    step(
      "venue directory written (bundle again, CSV, wallets)",
      () => writeVenueDirectory(venueDir, demo, signer),
      () => ({ value: directoryBytes(venueDir) / MB, unit: "MiB" }),
    );
    const rootPublicKey = Uint8Array.from(Buffer.from(demo.venue.rootPublicKey, "hex"));
    step(
      "gate: bundle read, signature checked, decoded",
      () => readGateBundle(venueDir, rootPublicKey, createNodeVerifier()),
      (v) => ({ value: v.bundle.tickets.length, unit: "tickets" }),
    );
    const dbFile = join(dir, "gate.db");
    step(
      "gate: import into a fresh cache (read, check, SQLite)",
      () => {
        const store = GateStore.open(dbFile, { rootPublicKey, gateId: "A1" });
        try {
          return store.importBundle(venueDir);
        } finally {
          store.close();
        }
      },
      () => ({ value: statSync(dbFile).size / MB, unit: "MiB" }),
    );
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
