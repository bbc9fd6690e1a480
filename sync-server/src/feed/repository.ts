import type { SignedTrustListJson } from "@sesame/ticket";
import {
  type BundleTicket,
  GATE_BUNDLE_FORMAT,
  type GateBundle,
  type Revocation,
  type RevocationReason,
  type SignedTicketChange,
  type TicketChange,
  type Venue,
} from "@sesame/venue";
import type Database from "better-sqlite3";
import type { TicketPlace } from "../ingest/rules.js";

/*
 * Tickets, revocations and the ticket feed: every change gets the next feed sequence and is applied
 * to the ticket tables in the same transaction. The feed before `feed_base` (the venue directory's
 * bundle) is only in the snapshot.
 */

interface TicketRow {
  id: number;
  generation: number;
  kind: BundleTicket["kind"];
  status: BundleTicket["status"];
  sessions: string;
  entrance: number;
  zone: number;
  seat: string;
  categories: string;
  holder: string;
  order_reference: string;
  issue_sequence: number;
}

interface RevocationRow {
  ticket_id: number;
  generation: number;
  reason: RevocationReason;
  sequence: number;
}

function ticketOfRow(r: TicketRow): BundleTicket {
  return {
    id: r.id,
    generation: r.generation,
    kind: r.kind,
    status: r.status,
    sessions: JSON.parse(r.sessions) as number[],
    entrance: r.entrance,
    zone: r.zone,
    seat: r.seat,
    categories: JSON.parse(r.categories) as BundleTicket["categories"],
    holder: r.holder,
    orderReference: r.order_reference,
    issueSequence: r.issue_sequence,
  };
}

function revocationOfRow(r: RevocationRow): Revocation {
  return { ticketId: r.ticket_id, generation: r.generation, reason: r.reason, sequence: r.sequence };
}

export class FeedRepository {
  private readonly stmt;
  /** Ticket zones, cached: every entry event needs one and a ticket's zone never changes. */
  private readonly zones = new Map<number, number | null>();
  private readonly places = new Map<number, TicketPlace>();

  constructor(
    private readonly db: Database.Database,
    private readonly meta: { meta(key: string): string | undefined },
  ) {
    this.stmt = {
      ticket: db.prepare<[number], TicketRow>("SELECT * FROM tickets WHERE id = ?"),
      ticketZone: db.prepare<[number], { zone: number }>("SELECT zone FROM tickets WHERE id = ?"),
      insertTicket: db.prepare(
        `INSERT INTO tickets (id, generation, kind, status, sessions, entrance, zone, seat, categories, holder,
           order_reference, issue_sequence)
         VALUES (@id, @generation, @kind, @status, @sessions, @entrance, @zone, @seat, @categories, @holder,
           @orderReference, @issueSequence)`,
      ),
      updateHolder: db.prepare<[number, string, number]>(
        "UPDATE tickets SET generation = ?, holder = ? WHERE id = ?",
      ),
      cancelTicket: db.prepare<[number]>("UPDATE tickets SET status = 'cancelled' WHERE id = ?"),
      insertRevocation: db.prepare<[number, number, string, number]>(
        "INSERT OR REPLACE INTO revocations (ticket_id, generation, reason, sequence) VALUES (?, ?, ?, ?)",
      ),
      insertChange: db.prepare<[number, string, number]>(
        "INSERT INTO changes (sequence, json, at) VALUES (?, ?, ?)",
      ),
      changesFrom: db.prepare<[number, number], { json: string }>(
        "SELECT json FROM changes WHERE sequence >= ? ORDER BY sequence LIMIT ?",
      ),
    };
  }

  feedBase(): number {
    return Number(this.meta.meta("feed_base") ?? "0");
  }

  feedSequence(): number {
    const row = this.db.prepare("SELECT MAX(sequence) AS s FROM changes").get() as { s: number | null };
    return Math.max(this.feedBase(), row.s ?? 0);
  }

  /** The changes as the issuer signed them: the gates check each signature. */
  changesFrom(from: number, limit: number): SignedTicketChange[] {
    return this.stmt.changesFrom.all(from, limit).map((r) => JSON.parse(r.json) as SignedTicketChange);
  }

  ticket(id: number): BundleTicket | undefined {
    const row = this.stmt.ticket.get(id);
    return row ? ticketOfRow(row) : undefined;
  }

  /**
   * Where and when a ticket admits: its kind, sessions, entrance and zone, which no resale or
   * transfer changes (cached: the plausibility rules ask for every authorization).
   */
  ticketPlace(ticketId: number): TicketPlace | undefined {
    let place = this.places.get(ticketId);
    if (place === undefined) {
      const row = this.stmt.ticket.get(ticketId);
      if (!row) return undefined;
      place = {
        kind: row.kind,
        sessions: JSON.parse(row.sessions) as number[],
        entrance: row.entrance,
        zone: row.zone,
      };
      this.places.set(ticketId, place);
    }
    return place;
  }

  zoneOf(ticketId: number): number | null {
    let zone = this.zones.get(ticketId);
    if (zone === undefined) {
      zone = this.stmt.ticketZone.get(ticketId)?.zone ?? null;
      if (zone !== null) this.zones.set(ticketId, zone);
    }
    return zone;
  }

  revocationsOf(ticketId: number): Revocation[] {
    return (
      this.db
        .prepare("SELECT * FROM revocations WHERE ticket_id = ? ORDER BY generation")
        .all(ticketId) as RevocationRow[]
    ).map(revocationOfRow);
  }

  /** The venue directory's bundle: its tickets and revocations, before any change of the feed. */
  loadBundle(bundle: GateBundle): void {
    for (const t of bundle.tickets) this.insertTicketRow(t);
    for (const r of bundle.revocations)
      this.stmt.insertRevocation.run(r.ticketId, r.generation, r.reason, r.sequence);
  }

  /** Stores a change of the feed (already numbered and signed) and applies it to the ticket tables. */
  storeChange(c: SignedTicketChange, now: number): void {
    this.applyChangeToTables(c);
    this.stmt.insertChange.run(c.sequence, JSON.stringify(c), now);
  }

  private insertTicketRow(t: BundleTicket): void {
    this.stmt.insertTicket.run({
      ...t,
      sessions: JSON.stringify(t.sessions),
      categories: JSON.stringify(t.categories),
    });
  }

  private applyChangeToTables(c: TicketChange): void {
    switch (c.type) {
      case "issue":
        this.insertTicketRow(c.ticket);
        return;
      case "resale":
      case "transfer": {
        const row = this.stmt.ticket.get(c.ticketId);
        if (!row) throw new Error(`change ${c.sequence}: ticket ${c.ticketId} unknown`);
        this.stmt.insertRevocation.run(
          c.ticketId,
          row.generation,
          c.type === "resale" ? "resold" : "transferred",
          c.sequence,
        );
        this.stmt.updateHolder.run(c.generation, c.holder, c.ticketId);
        return;
      }
      case "cancel": {
        const row = this.stmt.ticket.get(c.ticketId);
        if (!row) throw new Error(`change ${c.sequence}: ticket ${c.ticketId} unknown`);
        this.stmt.cancelTicket.run(c.ticketId);
        this.stmt.insertRevocation.run(c.ticketId, row.generation, "cancelled", c.sequence);
        return;
      }
    }
  }

  /**
   * Appends changes to the feed, each with the next sequence, applying them to the ticket tables in
   * the same transaction. `build` receives the sequence numbers, signs each change it makes (the
   * signature covers the sequence) and may throw to refuse the lot.
   */
  appendChanges<T>(
    now: number,
    build: (nextSequence: () => number) => { changes: SignedTicketChange[]; result: T },
  ): { changes: SignedTicketChange[]; result: T } {
    return this.db.transaction(() => {
      let seq = this.feedSequence();
      const out = build(() => ++seq);
      for (const c of out.changes) this.storeChange(c, now);
      return out;
    })();
  }

  /**
   * Appends changes numbered and signed by the issuer, from the feed's next sequence on, in one
   * transaction: each in its own savepoint, so that the first that does not apply to the ticket
   * tables (a resale of an unknown ticket) stops the lot there and leaves it and the rest out.
   */
  appendIssued(changes: readonly SignedTicketChange[], now: number): { applied: number; failed?: string } {
    return this.db.transaction(() => {
      let applied = 0;
      for (const c of changes) {
        const due = this.feedSequence() + 1;
        if (c.sequence !== due) return { applied, failed: `change ${c.sequence} where ${due} was due` };
        try {
          this.db.transaction(() => this.storeChange(c, now))();
        } catch (error) {
          return {
            applied,
            failed: `change ${c.sequence} (${c.type}) does not apply: ${(error as Error).message}`,
          };
        }
        applied++;
      }
      return { applied };
    })();
  }

  bundle(venue: Venue, trustList: SignedTrustListJson, now: number): GateBundle {
    const tickets = (this.db.prepare("SELECT * FROM tickets ORDER BY id").all() as TicketRow[]).map(
      ticketOfRow,
    );
    const revocations = (
      this.db.prepare("SELECT * FROM revocations ORDER BY sequence").all() as RevocationRow[]
    ).map(revocationOfRow);
    return {
      format: GATE_BUNDLE_FORMAT,
      generatedAt: new Date(now).toISOString(),
      feedSequence: this.feedSequence(),
      venue,
      trustList,
      tickets,
      revocations,
    };
  }
}
