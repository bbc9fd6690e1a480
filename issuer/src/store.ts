import type { FaceValue, IssuedTicketChange, TicketChange, Venue } from "@sesame/venue";
import type { SqlClient, SqlQueries } from "./sql.js";

/*
 * The issuer's store over PostgreSQL (PGlite or a server): venues and their sessions, ticket rows
 * keyed by venue with their face value, every generation (issue, resale, transfer) and each
 * venue's change log of signed changes, numbered without holes.
 */

/** A ticket as the issuer holds it: the gate's view plus its price. */
export interface IssuedTicket {
  readonly venue: string;
  readonly id: number;
  readonly generation: number;
  readonly kind: "mobile" | "printed";
  readonly status: "valid" | "cancelled";
  readonly sessions: readonly number[];
  readonly entrance: number;
  readonly zone: number;
  readonly seat: string;
  readonly categories: readonly string[];
  readonly holder: string;
  readonly orderReference: string;
  readonly issueSequence: number;
  readonly faceValue: FaceValue;
}

export interface GenerationRecord {
  readonly generation: number;
  readonly how: "issue" | "resale" | "transfer";
  readonly holder: string;
  /** What the new holder paid (resale only). */
  readonly price?: FaceValue;
  readonly sequence: number;
}

/** Inside one store transaction: reads and writes that commit together. */
export interface IssuerTransaction {
  ticket(venue: string, id: number): Promise<IssuedTicket | undefined>;
  existingTicketIds(venue: string, ids: readonly number[]): Promise<Set<number>>;
  /**
   * The venue's next sequence number, taken under the venue row's lock (gap-free). The lock is
   * held to the end of the transaction: every write of the venue's tickets takes it first, so a
   * ticket read after it is the latest.
   */
  nextSequence(venue: string): Promise<number>;
  /** Takes the venue row's lock without a sequence number (an import checks ids under it). */
  lockVenue(venue: string): Promise<void>;
  /** A resale or transfer in one statement: its signed change, the new generation, the ticket row. */
  recordReassignment(
    ticket: IssuedTicket,
    generation: GenerationRecord,
    signed: IssuedTicketChange,
    committedAt: Date,
  ): Promise<void>;
  putTicket(ticket: IssuedTicket): Promise<void>;
  addGeneration(venue: string, ticketId: number, g: GenerationRecord): Promise<void>;
  appendChange(signed: IssuedTicketChange, committedAt: Date): Promise<void>;
}

interface TicketRow {
  venue: string;
  id: string | number;
  generation: number;
  kind: "mobile" | "printed";
  status: "valid" | "cancelled";
  sessions: number[];
  entrance: number;
  zone: number;
  seat: string;
  categories: string[];
  holder: string;
  order_reference: string;
  issue_sequence: number;
  face_value: number;
  currency: string;
}

const ticketOf = (r: TicketRow): IssuedTicket => ({
  venue: r.venue,
  id: Number(r.id),
  generation: r.generation,
  kind: r.kind,
  status: r.status,
  sessions: r.sessions.map(Number),
  entrance: r.entrance,
  zone: r.zone,
  seat: r.seat,
  categories: r.categories,
  holder: r.holder,
  orderReference: r.order_reference,
  issueSequence: r.issue_sequence,
  faceValue: { cents: r.face_value, currency: r.currency },
});

function transactionOf(tx: SqlQueries): IssuerTransaction {
  return {
    async ticket(venue, id) {
      const rows = await tx.query<TicketRow>("SELECT * FROM tickets WHERE venue = $1 AND id = $2", [
        venue,
        id,
      ]);
      return rows[0] === undefined ? undefined : ticketOf(rows[0]);
    },
    async existingTicketIds(venue, ids) {
      if (ids.length === 0) return new Set();
      const rows = await tx.query<{ id: string | number }>(
        "SELECT id FROM tickets WHERE venue = $1 AND id = ANY($2::bigint[])",
        [venue, ids.map(String)],
      );
      return new Set(rows.map((r) => Number(r.id)));
    },
    async nextSequence(venue) {
      const rows = await tx.query<{ last_sequence: number }>(
        "UPDATE venues SET last_sequence = last_sequence + 1 WHERE id = $1 RETURNING last_sequence",
        [venue],
      );
      const row = rows[0];
      if (row === undefined) throw new Error(`venue ${venue} is not registered`);
      return row.last_sequence;
    },
    async lockVenue(venue) {
      const rows = await tx.query("SELECT 1 FROM venues WHERE id = $1 FOR UPDATE", [venue]);
      if (rows.length === 0) throw new Error(`venue ${venue} is not registered`);
    },
    async recordReassignment(t, g, signed, committedAt) {
      await tx.query(
        `WITH change AS (
           INSERT INTO changes (venue, sequence, type, change, key_id, signature, committed_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
         ), generation AS (
           INSERT INTO generations (venue, ticket_id, generation, how, holder, price_cents, currency, sequence)
           VALUES ($1, $8, $9, $3, $10, $11, $12, $2)
         )
         UPDATE tickets SET generation = $9, holder = $10, issue_sequence = $2 WHERE venue = $1 AND id = $8`,
        [
          t.venue,
          signed.change.sequence,
          g.how,
          JSON.stringify(signed.change),
          signed.keyId,
          signed.signature,
          committedAt.toISOString(),
          t.id,
          g.generation,
          g.holder,
          g.price?.cents ?? null,
          g.price?.currency ?? null,
        ],
      );
    },
    async putTicket(t) {
      await tx.query(
        `INSERT INTO tickets (venue, id, generation, kind, status, sessions, entrance, zone, seat, categories,
           holder, order_reference, issue_sequence, face_value, currency)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
         ON CONFLICT (venue, id) DO UPDATE SET generation = excluded.generation, status = excluded.status,
           holder = excluded.holder, issue_sequence = excluded.issue_sequence`,
        [
          t.venue,
          t.id,
          t.generation,
          t.kind,
          t.status,
          t.sessions,
          t.entrance,
          t.zone,
          t.seat,
          t.categories,
          t.holder,
          t.orderReference,
          t.issueSequence,
          t.faceValue.cents,
          t.faceValue.currency,
        ],
      );
    },
    async addGeneration(venue, ticketId, g) {
      await tx.query(
        `INSERT INTO generations (venue, ticket_id, generation, how, holder, price_cents, currency, sequence)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          venue,
          ticketId,
          g.generation,
          g.how,
          g.holder,
          g.price?.cents ?? null,
          g.price?.currency ?? null,
          g.sequence,
        ],
      );
    },
    async appendChange(signed, committedAt) {
      await tx.query(
        `INSERT INTO changes (venue, sequence, type, change, key_id, signature, committed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [
          signed.venue,
          signed.change.sequence,
          signed.change.type,
          JSON.stringify(signed.change),
          signed.keyId,
          signed.signature,
          committedAt.toISOString(),
        ],
      );
    },
  };
}

export class IssuerStore {
  constructor(readonly db: SqlClient) {}

  /** Registers a venue or updates its description (sessions included); its change log stays. */
  async putVenue(venue: Venue): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO venues (id, name, timezone, model) VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, timezone = excluded.timezone, model = excluded.model`,
        [venue.id, venue.name, venue.timezone, JSON.stringify(venue)],
      );
      for (const s of venue.sessions)
        await tx.query(
          `INSERT INTO sessions (venue, id, code, name, doors_open, starts_at, ends_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (venue, id) DO UPDATE SET code = excluded.code, name = excluded.name,
             doors_open = excluded.doors_open, starts_at = excluded.starts_at, ends_at = excluded.ends_at`,
          [venue.id, s.id, s.code, s.name, s.doorsOpen, s.start, s.end],
        );
    });
  }

  async venue(id: string): Promise<Venue | undefined> {
    const rows = await this.db.query<{ model: Venue | string }>("SELECT model FROM venues WHERE id = $1", [
      id,
    ]);
    const model = rows[0]?.model;
    return model === undefined ? undefined : typeof model === "string" ? (JSON.parse(model) as Venue) : model;
  }

  async venues(): Promise<Array<{ id: string; name: string; lastSequence: number }>> {
    const rows = await this.db.query<{ id: string; name: string; last_sequence: number }>(
      "SELECT id, name, last_sequence FROM venues ORDER BY id",
    );
    return rows.map((r) => ({ id: r.id, name: r.name, lastSequence: r.last_sequence }));
  }

  async ticket(venue: string, id: number): Promise<IssuedTicket | undefined> {
    return transactionOf(this.db).ticket(venue, id);
  }

  async generations(venue: string, ticketId: number): Promise<GenerationRecord[]> {
    const rows = await this.db.query<{
      generation: number;
      how: GenerationRecord["how"];
      holder: string;
      price_cents: number | null;
      currency: string | null;
      sequence: number;
    }>("SELECT * FROM generations WHERE venue = $1 AND ticket_id = $2 ORDER BY generation", [
      venue,
      ticketId,
    ]);
    return rows.map((r) => ({
      generation: r.generation,
      how: r.how,
      holder: r.holder,
      ...(r.price_cents !== null && r.currency !== null
        ? { price: { cents: r.price_cents, currency: r.currency } }
        : {}),
      sequence: r.sequence,
    }));
  }

  /** The venue's signed changes after `after`, in order, at most `limit`; and its last sequence. */
  async changes(
    venue: string,
    after: number,
    limit: number,
  ): Promise<{ changes: IssuedTicketChange[]; lastSequence: number } | undefined> {
    const head = await this.db.query<{ last_sequence: number }>(
      "SELECT last_sequence FROM venues WHERE id = $1",
      [venue],
    );
    if (head[0] === undefined) return undefined;
    const rows = await this.db.query<{ change: TicketChange | string; key_id: number; signature: string }>(
      "SELECT change, key_id, signature FROM changes WHERE venue = $1 AND sequence > $2 ORDER BY sequence LIMIT $3",
      [venue, after, limit],
    );
    return {
      lastSequence: head[0].last_sequence,
      changes: rows.map((r) => ({
        venue,
        keyId: r.key_id,
        change: typeof r.change === "string" ? (JSON.parse(r.change) as TicketChange) : r.change,
        signature: r.signature,
      })),
    };
  }

  /**
   * Takes over a venue's tickets as its venue server holds them at feed position `feedSequence`
   * (a venue that sold before the issuer ran): the rows go in as they are and the venue's stream
   * goes on from `feedSequence + 1`, so that the issuer's numbers are the venue feed's. Only into a
   * venue with no change yet; again with the same position, nothing happens (a restart).
   */
  async adoptTickets(
    venue: string,
    tickets: readonly Omit<IssuedTicket, "venue">[],
    feedSequence: number,
  ): Promise<{ adopted: number }> {
    return this.db.transaction(async (tx) => {
      const head = await tx.query<{ last_sequence: number }>(
        "SELECT last_sequence FROM venues WHERE id = $1 FOR UPDATE",
        [venue],
      );
      const last = head[0]?.last_sequence;
      if (last === undefined) throw new Error(`venue ${venue} is not registered`);
      if (last === feedSequence) return { adopted: 0 };
      if (last !== 0)
        throw new Error(
          `venue ${venue} already has changes up to ${last} at the issuer: its tickets cannot be taken over at ${feedSequence}`,
        );
      // In slices, one statement each: 80,000 rows one by one take PGlite tens of seconds.
      for (let i = 0; i < tickets.length; i += 2000) {
        const slice = tickets.slice(i, i + 2000).map((t) => ({
          id: t.id,
          generation: t.generation,
          kind: t.kind,
          status: t.status,
          sessions: t.sessions,
          entrance: t.entrance,
          zone: t.zone,
          seat: t.seat,
          categories: t.categories,
          holder: t.holder,
          order_reference: t.orderReference,
          issue_sequence: t.issueSequence,
          face_value: t.faceValue.cents,
          currency: t.faceValue.currency,
        }));
        await tx.query(
          `INSERT INTO tickets (venue, id, generation, kind, status, sessions, entrance, zone, seat, categories,
             holder, order_reference, issue_sequence, face_value, currency)
           SELECT $1, r.id, r.generation, r.kind, r.status,
             ARRAY(SELECT jsonb_array_elements_text(r.sessions)::int), r.entrance, r.zone, r.seat,
             ARRAY(SELECT jsonb_array_elements_text(r.categories)), r.holder, r.order_reference,
             r.issue_sequence, r.face_value, r.currency
           FROM jsonb_to_recordset($2::jsonb) AS r(id bigint, generation int, kind text, status text,
             sessions jsonb, entrance int, zone int, seat text, categories jsonb, holder text,
             order_reference text, issue_sequence int, face_value int, currency text)`,
          [venue, JSON.stringify(slice)],
        );
      }
      await tx.query("UPDATE venues SET last_sequence = $2 WHERE id = $1", [venue, feedSequence]);
      return { adopted: tickets.length };
    });
  }

  /** Runs `work` in one transaction of the store. */
  transaction<T>(work: (tx: IssuerTransaction) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => work(transactionOf(tx)));
  }
}
