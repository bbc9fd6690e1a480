import type { EntryLogEvent, SupervisorOverride } from "@sesame/gate-core";
import type { EventBatchMessage, FannedOutAdmission } from "@sesame/sync";
import type Database from "better-sqlite3";
import type { TicketPresence } from "../alerts/policy.js";
import type { AuthorizationStep } from "./rules.js";

/*
 * The entry log as the server stores it: batches as signed, events once each (unique event id, in
 * gateSeq order per gate), refused events with their raw text, the admission sequence (the fan-out
 * order) and each ticket's presence per session.
 */

export interface StoredEvent extends EntryLogEvent {
  /** Server row id: the order events were stored in (SSE ids and pagination use it). */
  readonly rowId: number;
  readonly entrance: number | null;
  readonly zone: number | null;
  readonly receivedAt: number;
}

export interface EventRow {
  id: number;
  event_id: string;
  gate_id: string;
  gate_seq: number;
  lane: number;
  kind: EntryLogEvent["kind"];
  direction: EntryLogEvent["direction"];
  reason: EntryLogEvent["reason"];
  authorization_id: string | null;
  ticket_id: number | null;
  generation: number | null;
  session: number | null;
  manual: number;
  steward: string | null;
  override: string | null;
  at: number;
  detail: string | null;
  entrance: number | null;
  zone: number | null;
  received_at: number;
  batch_id: number;
}

interface AuthorizationStepRow {
  kind: EntryLogEvent["kind"];
  direction: EntryLogEvent["direction"];
  ticket_id: number | null;
  session: number | null;
  detail: string | null;
}

export function eventOfRow(r: EventRow): StoredEvent {
  const e: Record<string, unknown> = {
    rowId: r.id,
    eventId: r.event_id,
    gateId: r.gate_id,
    gateSeq: r.gate_seq,
    lane: r.lane,
    kind: r.kind,
    direction: r.direction,
    reason: r.reason,
    manual: r.manual === 1,
    at: r.at,
    entrance: r.entrance,
    zone: r.zone,
    receivedAt: r.received_at,
  };
  if (r.authorization_id !== null) e.authorizationId = r.authorization_id;
  if (r.ticket_id !== null) e.ticketId = r.ticket_id;
  if (r.generation !== null) e.generation = r.generation;
  if (r.session !== null) e.session = r.session;
  if (r.steward !== null) e.steward = r.steward;
  if (r.override !== null) e.override = JSON.parse(r.override) as SupervisorOverride;
  if (r.detail !== null) e.detail = r.detail;
  return e as unknown as StoredEvent;
}

/** The wire form of a stored event (what gates and the fan-out see). */
export function wireEvent(e: StoredEvent): EntryLogEvent {
  const { rowId: _r, entrance: _e, zone: _z, receivedAt: _t, ...event } = e;
  return event;
}

export class EventRepository {
  private readonly stmt;

  constructor(private readonly db: Database.Database) {
    this.stmt = {
      insertBatch: db.prepare<[string, number, number, string, string]>(
        "INSERT INTO batches (gate_id, after_seq, received_at, signature, events_json) VALUES (?, ?, ?, ?, ?)",
      ),
      insertEvent: db.prepare(
        `INSERT INTO events (event_id, gate_id, gate_seq, lane, kind, direction, reason, authorization_id,
           ticket_id, generation, session, manual, steward, override, at, detail, entrance, zone, received_at,
           batch_id)
         VALUES (@eventId, @gateId, @gateSeq, @lane, @kind, @direction, @reason, @authorizationId,
           @ticketId, @generation, @session, @manual, @steward, @override, @at, @detail, @entrance, @zone,
           @receivedAt, @batchId)
         ON CONFLICT(event_id) DO NOTHING`,
      ),
      authorizationSteps: db.prepare<[string, string], AuthorizationStepRow>(
        `SELECT kind, direction, ticket_id, session, detail FROM events
         WHERE authorization_id = ? AND gate_id = ? ORDER BY id`,
      ),
      eventIdStored: db.prepare<[string], { id: number }>("SELECT id FROM events WHERE event_id = ?"),
      eventIdAt: db.prepare<[string, number], { event_id: string }>(
        "SELECT event_id FROM events WHERE gate_id = ? AND gate_seq = ?",
      ),
      rejectedIdAt: db.prepare<[string, number], { event_id: string | null }>(
        "SELECT event_id FROM rejected_events WHERE gate_id = ? AND gate_seq = ?",
      ),
      insertRejectedEvent: db.prepare<[string, number, string | null, string, string, string, number]>(
        `INSERT INTO rejected_events (gate_id, gate_seq, event_id, reason, detail, raw, at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT DO NOTHING`,
      ),
      insertAdmission: db.prepare<[number]>("INSERT INTO admissions (event_row) VALUES (?)"),
      admissionSeq: db.prepare<[], { seq: number | null }>("SELECT MAX(seq) AS seq FROM admissions"),
      batchById: db.prepare<
        [number],
        { gate_id: string; after_seq: number; signature: string; events_json: string }
      >("SELECT gate_id, after_seq, signature, events_json FROM batches WHERE id = ?"),
      admissionsFrom: db.prepare<[number, number], EventRow & { seq: number }>(
        `SELECT a.seq AS seq, e.* FROM admissions a JOIN events e ON e.id = a.event_row
         WHERE a.seq >= ? ORDER BY a.seq LIMIT ?`,
      ),
      presence: db.prepare<[number, number], { state: string; last_gate: string; last_event: string }>(
        "SELECT state, last_gate, last_event FROM presence WHERE ticket_id = ? AND session = ?",
      ),
      presenceEnter: db.prepare<[number, number, string, string, string, string]>(
        `INSERT INTO presence (ticket_id, session, state, first_gate, first_event, last_gate, last_event, entries)
         VALUES (?, ?, 'inside', ?, ?, ?, ?, 1)
         ON CONFLICT(ticket_id, session) DO UPDATE SET state = 'inside', last_gate = excluded.last_gate,
           last_event = excluded.last_event, entries = entries + 1`,
      ),
      presenceExit: db.prepare<[string, string, number, number]>(
        "UPDATE presence SET state = 'outside', last_gate = ?, last_event = ? WHERE ticket_id = ? AND session = ?",
      ),
      eventsAfter: db.prepare<[number, number], EventRow>(
        "SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?",
      ),
      lastEventRow: db.prepare<[], { id: number | null }>("SELECT MAX(id) AS id FROM events"),
    };
  }

  /** Stores the batch a gate signed (kept for audit); returns its row id. */
  insertBatch(
    gateId: string,
    after: number,
    receivedAt: number,
    signature: string,
    eventsJson: string,
  ): number {
    return Number(
      this.stmt.insertBatch.run(gateId, after, receivedAt, signature, eventsJson).lastInsertRowid,
    );
  }

  /** The new event's row id; undefined when its event id is already stored (for another gate or sequence). */
  insertEvent(
    event: EntryLogEvent,
    where: { entrance: number | null; zone: number | null; receivedAt: number; batchId: number },
  ): number | undefined {
    const info = this.stmt.insertEvent.run({
      eventId: event.eventId,
      gateId: event.gateId,
      gateSeq: event.gateSeq,
      lane: event.lane,
      kind: event.kind,
      direction: event.direction,
      reason: event.reason,
      authorizationId: event.authorizationId ?? null,
      ticketId: event.ticketId ?? null,
      generation: event.generation ?? null,
      session: event.session ?? null,
      manual: event.manual ? 1 : 0,
      steward: event.steward ?? null,
      override: event.override !== undefined ? JSON.stringify(event.override) : null,
      at: event.at,
      detail: event.detail ?? null,
      entrance: where.entrance,
      zone: where.zone,
      receivedAt: where.receivedAt,
      batchId: where.batchId,
    });
    return info.changes === 0 ? undefined : Number(info.lastInsertRowid);
  }

  /** What a gate stored for one of its authorizations (authorized, annulled, entered…), in order. */
  authorizationSteps(gateId: string, authorizationId: string): AuthorizationStep[] {
    return this.stmt.authorizationSteps.all(authorizationId, gateId).map((r) => ({
      kind: r.kind,
      direction: r.direction,
      ticketId: r.ticket_id,
      session: r.session,
      detail: r.detail,
    }));
  }

  /** Whether an event with this id is stored (for any gate). */
  eventIdStored(eventId: string): boolean {
    return this.stmt.eventIdStored.get(eventId) !== undefined;
  }

  /** The event id stored (or refused) at a gate's sequence number, if any. */
  eventIdAt(gateId: string, gateSeq: number): string | undefined {
    return (
      this.stmt.eventIdAt.get(gateId, gateSeq)?.event_id ??
      this.stmt.rejectedIdAt.get(gateId, gateSeq)?.event_id ??
      undefined
    );
  }

  insertRejectedEvent(
    gateId: string,
    gateSeq: number,
    eventId: string | null,
    reason: string,
    detail: string,
    raw: string,
    at: number,
  ): void {
    this.stmt.insertRejectedEvent.run(gateId, gateSeq, eventId, reason, detail, raw, at);
  }

  /** The next admission sequence number, for an event row. */
  insertAdmission(eventRow: number): number {
    return Number(this.stmt.insertAdmission.run(eventRow).lastInsertRowid);
  }

  admissionSeq(): number {
    return this.stmt.admissionSeq.get()?.seq ?? 0;
  }

  /**
   * Admissions from `from` on, each with the batch its gate signed (what a gate verifies), at most
   * `limit`, and no more batches than fit in `maxBatchBytes` of signed text (at least one admission).
   */
  admissionsFrom(
    from: number,
    limit: number,
    maxBatchBytes = Number.POSITIVE_INFINITY,
  ): FannedOutAdmission[] {
    const batches = new Map<number, EventBatchMessage>();
    let bytes = 0;
    const out: FannedOutAdmission[] = [];
    for (const r of this.stmt.admissionsFrom.all(from, limit)) {
      let batch = batches.get(r.batch_id);
      if (!batch) {
        const b = this.stmt.batchById.get(r.batch_id);
        if (!b) throw new Error(`admission ${r.seq}: its batch ${r.batch_id} is not stored`);
        if (out.length > 0 && bytes + b.events_json.length > maxBatchBytes) break;
        bytes += b.events_json.length;
        batch = { gateId: b.gate_id, after: b.after_seq, events: b.events_json, sig: b.signature };
        batches.set(r.batch_id, batch);
      }
      out.push({ seq: r.seq, event: wireEvent(eventOfRow(r)), batch });
    }
    return out;
  }

  presence(ticketId: number, session: number): TicketPresence | undefined {
    const p = this.stmt.presence.get(ticketId, session);
    return p
      ? { state: p.state === "inside" ? "inside" : "outside", lastGate: p.last_gate, lastEvent: p.last_event }
      : undefined;
  }

  enter(ticketId: number, session: number, gateId: string, eventId: string): void {
    this.stmt.presenceEnter.run(ticketId, session, gateId, eventId, gateId, eventId);
  }

  exit(ticketId: number, session: number, gateId: string, eventId: string): void {
    this.stmt.presenceExit.run(gateId, eventId, ticketId, session);
  }

  eventsAfter(rowId: number, limit: number): StoredEvent[] {
    return this.stmt.eventsAfter.all(rowId, limit).map(eventOfRow);
  }

  lastEventRowId(): number {
    return this.stmt.lastEventRow.get()?.id ?? 0;
  }

  eventsOfGate(gateId: string): StoredEvent[] {
    return (
      this.db.prepare("SELECT * FROM events WHERE gate_id = ? ORDER BY id").all(gateId) as EventRow[]
    ).map(eventOfRow);
  }

  eventCount(gateId?: string): number {
    const row = (
      gateId === undefined
        ? this.db.prepare("SELECT COUNT(*) AS n FROM events").get()
        : this.db.prepare("SELECT COUNT(*) AS n FROM events WHERE gate_id = ?").get(gateId)
    ) as { n: number };
    return row.n;
  }
}
