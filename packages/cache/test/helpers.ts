import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ScanContext } from "@sesame/gate-core";
import { createNodeSigner, createScanVerifiers, seededRandom } from "@sesame/ticket";
import {
  type DemoTicketRow,
  type DemoVenue,
  generateDemoVenue,
  type WalletEntry,
  walletCode,
  writeVenueDirectory,
} from "@sesame/venue";

/** Doors of the demo's first session; scans in tests happen an hour later. */
export const DOORS = Date.UTC(2026, 6, 26, 17, 0, 0);
export const DURING = DOORS + 3_600_000;

export interface DemoDir {
  readonly dir: string;
  readonly demo: DemoVenue;
  readonly rootPublicKey: Uint8Array;
  readonly issuerSeed: Uint8Array;
  readonly temp: string;
  remove(): void;
}

/** A fresh directory under the system temp dir (as @sesame/testing's makeTempDir, without its PTY helpers). */
export function tempDir(prefix = "sesame-cache-"): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A generated demo venue written to a fresh temp directory (as `sesame venue demo` does). */
export function demoVenueDir(spectators: number, seed: string | number = "cache-test"): DemoDir {
  const temp = tempDir();
  const dir = join(temp.path, "venue");
  const signer = createNodeSigner();
  const demo = generateDemoVenue({
    spectators,
    doorsOpenMs: DOORS,
    entrances: 2,
    lanes: 8,
    random: seededRandom(seed),
    signer,
  });
  writeVenueDirectory(dir, demo, signer);
  const issuerSeed = Object.values(demo.secrets.issuerSeeds)[0] ?? "";
  return {
    dir,
    demo,
    rootPublicKey: Uint8Array.from(Buffer.from(demo.venue.rootPublicKey, "hex")),
    issuerSeed: Uint8Array.from(Buffer.from(issuerSeed, "hex")),
    temp: temp.path,
    remove: temp.remove,
  };
}

/** Codes as holders' phones show them, and the tickets of the demo by state. */
export function holders(v: DemoDir) {
  const signer = createNodeSigner();
  return {
    /** The code of a ticket (its latest generation unless given) shown at `at`. */
    code(ticketId: number, at: number, generation?: number): string {
      const entries = v.demo.wallets.filter((w) => w.body.ticketId === ticketId);
      const entry =
        generation === undefined
          ? entries.reduce<WalletEntry | undefined>(
              (a, b) => (a === undefined || b.body.generation > a.body.generation ? b : a),
              undefined,
            )
          : entries.find((w) => w.body.generation === generation);
      if (!entry) throw new Error(`no wallet for ticket ${ticketId} generation ${generation ?? "latest"}`);
      return walletCode(entry, v.issuerSeed, at, signer);
    },
    /** Demo ticket rows matching `filter` (one row per generation). */
    rows(filter: (r: DemoTicketRow) => boolean): DemoTicketRow[] {
      return v.demo.rows.filter(filter);
    },
    row(filter: (r: DemoTicketRow) => boolean): DemoTicketRow {
      const r = v.demo.rows.find(filter);
      if (!r) throw new Error("the demo venue lacks such a ticket");
      return r;
    },
  };
}

export const VERIFIERS = createScanVerifiers();

/** A scan at gate `gateId` (its entrance from the venue), lane 1, entry, at `nowMs`. */
export function scanAt(
  v: DemoDir,
  gateId: string,
  nowMs: number,
  overrides: Partial<ScanContext> = {},
): ScanContext {
  const gate = v.demo.venue.gates.find((g) => g.id === gateId);
  if (!gate) throw new Error(`no gate ${gateId}`);
  return {
    gateId,
    lane: 1,
    entrance: gate.entrance,
    direction: "entry",
    nowMs,
    mode: "normal",
    clockSuspect: false,
    ...overrides,
  };
}
