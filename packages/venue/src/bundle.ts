import type { BundleTicket, GateBundle, Revocation } from "./model.js";
import { GATE_BUNDLE_FORMAT } from "./model.js";
import { checkVenueTimes, VenueTimeError } from "./session-times.js";

/*
 * The gate bundle's bytes (docs/venue-files.md): JSON, with tickets and revocations as rows of
 * values under a list of column names rather than as objects, and every character above U+007F
 * written as a \u escape. A gate reads 100,000 tickets faster that way (it stays JSON, readable by
 * any tool): the file is half the size, so there is half as much to hash for the signature, pure
 * ASCII, which is decoded without UTF-8 work, and rows of values parse faster than objects.
 */

/** The columns of a ticket row, in order: the fields of BundleTicket. */
export const TICKET_COLUMNS = [
  "id",
  "generation",
  "kind",
  "status",
  "sessions",
  "entrance",
  "zone",
  "seat",
  "categories",
  "holder",
  "orderReference",
  "issueSequence",
] as const satisfies ReadonlyArray<keyof BundleTicket>;

/** The columns of a revocation row, in order: the fields of Revocation. */
export const REVOCATION_COLUMNS = [
  "ticketId",
  "generation",
  "reason",
  "sequence",
] as const satisfies ReadonlyArray<keyof Revocation>;

/** The bundle as it is written: the GateBundle, its lists as rows. */
interface EncodedBundle {
  readonly format: typeof GATE_BUNDLE_FORMAT;
  readonly generatedAt: string;
  readonly feedSequence: number;
  readonly venue: GateBundle["venue"];
  readonly trustList: GateBundle["trustList"];
  readonly ticketColumns: typeof TICKET_COLUMNS;
  readonly tickets: ReadonlyArray<readonly unknown[]>;
  readonly revocationColumns: typeof REVOCATION_COLUMNS;
  readonly revocations: ReadonlyArray<readonly unknown[]>;
}

/** A bundle's bytes that cannot be read: not JSON, another format, or rows of the wrong shape. */
export class BundleFormatError extends Error {}

const NON_ASCII = /[\u0080-\uffff]/g;
const escapeChar = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;

/** The bytes of a gate bundle, as signed by the venue root key and served to gates. */
export function encodeGateBundle(bundle: GateBundle): Buffer {
  const encoded: EncodedBundle = {
    format: GATE_BUNDLE_FORMAT,
    generatedAt: bundle.generatedAt,
    feedSequence: bundle.feedSequence,
    venue: bundle.venue,
    trustList: bundle.trustList,
    ticketColumns: TICKET_COLUMNS,
    tickets: bundle.tickets.map((t) => TICKET_COLUMNS.map((c) => t[c])),
    revocationColumns: REVOCATION_COLUMNS,
    revocations: bundle.revocations.map((r) => REVOCATION_COLUMNS.map((c) => r[c])),
  };
  // JSON escapes only quotes, backslashes and control characters: a \u escape inside a string can
  // only come from here. Every escape stands for the same character, so the JSON value is unchanged.
  return Buffer.from(JSON.stringify(encoded).replace(NON_ASCII, escapeChar), "latin1");
}

function sameColumns(found: unknown, expected: readonly string[]): boolean {
  return Array.isArray(found) && found.length === expected.length && expected.every((c, i) => found[i] === c);
}

function rows(value: unknown, name: string, width: number): ReadonlyArray<readonly unknown[]> {
  if (!Array.isArray(value)) throw new BundleFormatError(`${name} is not a list of rows`);
  for (let i = 0; i < value.length; i++) {
    const row: unknown = value[i];
    if (!Array.isArray(row) || row.length !== width)
      throw new BundleFormatError(`${name}[${i}] is not a row of ${width} values`);
  }
  return value as ReadonlyArray<readonly unknown[]>;
}

/**
 * Reads a gate bundle's bytes (already checked against their signature). The values of each row
 * are put under their field names as they are: checking them is the reader's job (the gate cache
 * checks every ticket before it imports one).
 */
export function decodeGateBundle(bytes: Uint8Array): GateBundle {
  let value: unknown;
  try {
    // UTF-8 decoding of ASCII bytes (as written) takes its fast path.
    value = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8"));
  } catch (error) {
    throw new BundleFormatError(`is not valid JSON (${(error as Error).message})`);
  }
  const o = value as Partial<Record<keyof EncodedBundle, unknown>> | null;
  if (typeof o !== "object" || o === null || Array.isArray(o))
    throw new BundleFormatError("is not a gate bundle");
  if (o.format !== GATE_BUNDLE_FORMAT) {
    const found = typeof o.format === "string" ? o.format : "none";
    throw new BundleFormatError(
      found.startsWith("sesame-gate-bundle/")
        ? `is format ${found}; this software reads ${GATE_BUNDLE_FORMAT}: make the bundle again with it (sesame venue demo, or a new snapshot from the sync-server)`
        : `format is ${JSON.stringify(found).slice(0, 60)}, not ${GATE_BUNDLE_FORMAT}: not a Sésame gate bundle`,
    );
  }
  if (typeof o.venue !== "object" || o.venue === null || typeof (o.venue as { id?: unknown }).id !== "string")
    throw new BundleFormatError("has no venue");
  try {
    checkVenueTimes(o.venue as GateBundle["venue"]);
  } catch (error) {
    if (error instanceof VenueTimeError) throw new BundleFormatError(`venue: ${error.message}`);
    throw error;
  }
  if (typeof o.trustList !== "object" || o.trustList === null)
    throw new BundleFormatError("has no trust list");
  if (!sameColumns(o.ticketColumns, TICKET_COLUMNS))
    throw new BundleFormatError(`ticketColumns must be ${TICKET_COLUMNS.join(", ")}`);
  if (!sameColumns(o.revocationColumns, REVOCATION_COLUMNS))
    throw new BundleFormatError(`revocationColumns must be ${REVOCATION_COLUMNS.join(", ")}`);
  const ticketRows = rows(o.tickets, "tickets", TICKET_COLUMNS.length);
  const revocationRows = rows(o.revocations, "revocations", REVOCATION_COLUMNS.length);
  const tickets = new Array<BundleTicket>(ticketRows.length);
  for (let i = 0; i < ticketRows.length; i++) {
    const r = ticketRows[i] as readonly unknown[];
    tickets[i] = {
      id: r[0],
      generation: r[1],
      kind: r[2],
      status: r[3],
      sessions: r[4],
      entrance: r[5],
      zone: r[6],
      seat: r[7],
      categories: r[8],
      holder: r[9],
      orderReference: r[10],
      issueSequence: r[11],
    } as BundleTicket;
  }
  const revocations = revocationRows.map(
    (r) => ({ ticketId: r[0], generation: r[1], reason: r[2], sequence: r[3] }) as Revocation,
  );
  return {
    format: GATE_BUNDLE_FORMAT,
    generatedAt: o.generatedAt as string,
    feedSequence: o.feedSequence as number,
    venue: o.venue as GateBundle["venue"],
    trustList: o.trustList as GateBundle["trustList"],
    tickets,
    revocations,
  };
}
