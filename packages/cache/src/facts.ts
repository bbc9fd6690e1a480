import type { GateFacts, PendingAuthorization, Presence, TicketFacts } from "@sesame/gate-core";
import type { IssuerKey } from "@sesame/ticket";
import type { Entrance, Gate, RevocationReason, Session, Supervisor, Zone } from "@sesame/venue";
import type Database from "better-sqlite3";
import { isCategoryName } from "./validate.js";

/*
 * GateFacts read from the cache: the small venue tables live in memory (reloaded after every import
 * or feed change), tickets, revocations, presence and pending authorizations are one indexed
 * SELECT each. Synchronous, as the admission core requires.
 */

/** The venue-wide facts kept in memory. */
export interface VenueState {
  readonly venueId: string;
  readonly venueName: string;
  readonly timezone: string;
  readonly sessions: readonly Session[];
  readonly entrances: readonly Entrance[];
  readonly zones: readonly Zone[];
  readonly gates: readonly Gate[];
  readonly issuerKeys: ReadonlyMap<number, IssuerKey>;
  readonly trustListVersion: number;
  readonly feedSequence: number;
  readonly bundleGeneratedAt: string;
  /** Who may override a manual admission, with their code hashes (from the signed bundle). */
  readonly supervisors: readonly Supervisor[];
}

export interface TicketRow {
  id: number;
  generation: number;
  kind: "mobile" | "printed";
  status: "valid" | "cancelled";
  sessions: string;
  entrance: number;
  zone: number;
  seat: string;
  categories: string;
  holder: string;
  order_ref: string;
}

export interface SeenRow {
  state: "inside" | "outside";
  first_entry_at: number;
  first_entry_gate: string;
  last_at: number;
  last_gate: string;
}

export function ticketFromRow(r: TicketRow): TicketFacts {
  return {
    id: r.id,
    generation: r.generation,
    kind: r.kind,
    status: r.status,
    sessions: r.sessions === "" ? [] : r.sessions.split(",").map(Number),
    entrance: r.entrance,
    zone: r.zone,
    seat: r.seat,
    categories: r.categories === "" ? [] : r.categories.split(",").filter(isCategoryName),
    holder: r.holder,
    orderReference: r.order_ref,
  };
}

/** A ticket row read as an array (`raw`), in the column order of TICKET_SELECT. */
type RawTicketRow = [
  number,
  number,
  TicketRow["kind"],
  TicketRow["status"],
  string,
  number,
  number,
  string,
  string,
  string,
  string,
];

const TICKET_SELECT =
  "SELECT id, generation, kind, status, sessions, entrance, zone, seat, categories, holder, order_ref FROM tickets WHERE id = ?";

function ticketFromRaw(r: RawTicketRow): TicketFacts {
  return {
    id: r[0],
    generation: r[1],
    kind: r[2],
    status: r[3],
    sessions: r[4] === "" ? [] : r[4].split(",").map(Number),
    entrance: r[5],
    zone: r[6],
    seat: r[7],
    categories: r[8] === "" ? [] : r[8].split(",").filter(isCategoryName),
    holder: r[9],
    orderReference: r[10],
  };
}

export function presenceFromRow(r: SeenRow): Presence {
  return {
    state: r.state,
    firstEntryAt: r.first_entry_at,
    firstEntryGate: r.first_entry_gate,
    lastAt: r.last_at,
    lastGate: r.last_gate,
  };
}

export class CacheFacts implements GateFacts {
  private readonly ticketStmt: Database.Statement;
  private readonly revocationStmt: Database.Statement;
  private readonly seenStmt: Database.Statement;
  private readonly pendingStmt: Database.Statement;
  private readonly generationStmt: Database.Statement;

  constructor(
    db: Database.Database,
    public venue: VenueState,
  ) {
    // Read on every scan: as an array, which costs about half as much as a row object.
    this.ticketStmt = db.prepare(TICKET_SELECT).raw(true);
    // The revocation that covers a generation is the first one at or above it.
    this.revocationStmt = db.prepare(
      "SELECT reason FROM revocations WHERE ticket = ? AND generation >= ? ORDER BY generation LIMIT 1",
    );
    this.seenStmt = db.prepare(
      "SELECT state, first_entry_at, first_entry_gate, last_at, last_gate FROM seen WHERE ticket = ? AND session = ?",
    );
    this.generationStmt = db.prepare("SELECT generation FROM generations_seen WHERE ticket = ?").pluck();
    this.pendingStmt = db.prepare(
      "SELECT id, gate, lane, at FROM authorizations WHERE ticket = ? AND session = ? AND state = 'open'",
    );
  }

  get issuerKeys(): ReadonlyMap<number, IssuerKey> {
    return this.venue.issuerKeys;
  }
  get feedSequence(): number {
    return this.venue.feedSequence;
  }
  get timezone(): string {
    return this.venue.timezone;
  }
  session(id: number): Session | undefined {
    return this.venue.sessions.find((s) => s.id === id);
  }
  sessions(): readonly Session[] {
    return this.venue.sessions;
  }
  entrance(id: number): Entrance | undefined {
    return this.venue.entrances.find((e) => e.id === id);
  }
  entrances(): readonly Entrance[] {
    return this.venue.entrances;
  }
  zone(id: number): Zone | undefined {
    return this.venue.zones.find((z) => z.id === id);
  }
  ticket(id: number): TicketFacts | undefined {
    const row = this.ticketStmt.get(id) as RawTicketRow | undefined;
    return row ? ticketFromRaw(row) : undefined;
  }
  newestGenerationSeen(ticketId: number): number | undefined {
    return this.generationStmt.get(ticketId) as number | undefined;
  }
  revocationReason(ticketId: number, generation: number): RevocationReason | undefined {
    const row = this.revocationStmt.get(ticketId, generation) as { reason: RevocationReason } | undefined;
    return row?.reason;
  }
  presence(ticketId: number, session: number): Presence | undefined {
    const row = this.seenStmt.get(ticketId, session) as SeenRow | undefined;
    return row ? presenceFromRow(row) : undefined;
  }
  pendingAuthorization(ticketId: number, session: number): PendingAuthorization | undefined {
    const row = this.pendingStmt.get(ticketId, session) as
      | { id: string; gate: string; lane: number; at: number }
      | undefined;
    return row ? { authorizationId: row.id, gateId: row.gate, lane: row.lane, at: row.at } : undefined;
  }
}
