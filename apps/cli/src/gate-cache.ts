import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CacheError, GateStore } from "@sesame/cache";
import { createScanVerifiers } from "@sesame/ticket";
import { type Gate, readChanges, VENUE_FILES, type Venue, verifyTicketChange } from "@sesame/venue";
import { CliError } from "./cli-error.js";
import { loadVenue, rootKeyOf, withVenueErrors } from "./venue-context.js";

export interface GateCache {
  readonly store: GateStore;
  readonly venue: Venue;
  readonly gate: Gate;
  /** The database file, or undefined for a temporary cache. */
  readonly path?: string;
  /** Closes the cache (and removes it when temporary). */
  close(): void;
}

function cacheErrors<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof CacheError) throw new CliError(error.message, 1);
    throw error;
  }
}

/**
 * The cache of one gate of a venue directory: with `dbPath`, created from the venue on first use
 * and reused after (so it remembers entries); without, a temporary one made for this command.
 * Either way the venue's ticket feed (changes.jsonl) is applied, idempotently.
 */
export function openGateCache(
  venueDir: string,
  gateId: string,
  dbPath: string | undefined,
  /** Told, one line each, of the feed changes the cache refused (a resale of a cancelled ticket…). */
  warn: (line: string) => void,
): GateCache {
  const venue = loadVenue(venueDir);
  const gate = venue.gates.find((g) => g.id === gateId);
  if (!gate)
    throw new CliError(
      `gate ${JSON.stringify(gateId)} is not a gate of venue ${venue.id} (its gates: ${venue.gates.map((g) => g.id).join(", ")})`,
      2,
    );
  const temp = dbPath === undefined ? mkdtempSync(join(tmpdir(), "sesame-gate-")) : undefined;
  const path = dbPath ?? join(temp ?? "", "gate.db");
  const removeTemp = () => {
    if (temp) rmSync(temp, { recursive: true, force: true });
  };
  let store: GateStore | undefined;
  try {
    store = cacheErrors(() => GateStore.open(path, { rootPublicKey: rootKeyOf(venue), gateId }));
    const opened = store;
    if (!opened.imported) cacheErrors(() => opened.importBundle(venueDir));
    if (existsSync(join(venueDir, VENUE_FILES.changes))) {
      const changes = withVenueErrors(venueDir, () => readChanges(venueDir));
      // The same check as a gate's sync: every change signed by an issuer key of the trust list held.
      const verifier = createScanVerifiers().issuerVerifier;
      for (const change of changes) {
        const verdict = verifyTicketChange(venue.id, change, opened.venue.issuerKeys, verifier);
        if (!verdict.ok)
          throw new CliError(`${venueDir}/${VENUE_FILES.changes}: ${verdict.reason}: ${verdict.detail}`, 1);
      }
      const applied = cacheErrors(() => opened.applyChanges(changes));
      for (const r of applied.refused) warn(`${venueDir}/${VENUE_FILES.changes}: ${r.detail}`);
    }
    return {
      store: opened,
      venue,
      gate,
      ...(dbPath !== undefined ? { path: dbPath } : {}),
      close() {
        opened.close();
        removeTemp();
      },
    };
  } catch (error) {
    store?.close();
    removeTemp();
    throw error;
  }
}
