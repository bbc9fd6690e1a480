import type Database from "better-sqlite3";
import type { Alert, AlertType, NewAlert } from "./policy.js";

/* The alerts table: raised alerts, open until someone acknowledges them. */

/** A grouped alert lists this many of its events at most (the rest are in its count). */
const MAX_GROUPED_EVENT_IDS = 50;

interface AlertRow {
  id: number;
  type: AlertType;
  at: number;
  ticket_id: number | null;
  session: number | null;
  gates: string;
  event_ids: string;
  detail: string;
  /** Absent in a read-only store opened on a data directory from before grouped alerts. */
  count?: number;
  last_at?: number | null;
  issuer_key?: number | null;
  /** Absent in a read-only store opened on a data directory from before acknowledgements. */
  acked_by?: string | null;
  acked_at?: number | null;
  acked_note?: string | null;
}

function alertOfRow(r: AlertRow): Alert {
  return {
    id: r.id,
    type: r.type,
    at: r.at,
    ticketId: r.ticket_id,
    session: r.session,
    gates: JSON.parse(r.gates) as string[],
    eventIds: JSON.parse(r.event_ids) as string[],
    detail: r.detail,
    count: r.count ?? 1,
    lastAt: r.last_at ?? r.at,
    issuerKeyId: r.issuer_key ?? null,
    acknowledgedBy: r.acked_by ?? null,
    acknowledgedAt: r.acked_at ?? null,
    acknowledgeNote: r.acked_note ?? null,
  };
}

export class AlertRepository {
  private readonly stmt;

  constructor(private readonly db: Database.Database) {
    this.stmt = {
      insert: db.prepare<
        [string, number, number | null, number | null, string, string, string, number, number, number | null]
      >(
        `INSERT INTO alerts (type, at, ticket_id, session, gates, event_ids, detail, count, last_at, issuer_key)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      after: db.prepare<[number, number], AlertRow>("SELECT * FROM alerts WHERE id > ? ORDER BY id LIMIT ?"),
      lastId: db.prepare<[], { id: number | null }>("SELECT MAX(id) AS id FROM alerts"),
    };
  }

  /** Stores a new alert (open until acknowledged). */
  raise(a: NewAlert): Alert {
    const info = this.stmt.insert.run(
      a.type,
      a.at,
      a.ticketId ?? null,
      a.session ?? null,
      JSON.stringify(a.gates),
      JSON.stringify(a.eventIds ?? []),
      a.detail,
      a.count ?? 1,
      a.at,
      a.issuerKeyId ?? null,
    );
    return {
      id: Number(info.lastInsertRowid),
      type: a.type,
      at: a.at,
      ticketId: a.ticketId ?? null,
      session: a.session ?? null,
      gates: [...a.gates],
      eventIds: [...(a.eventIds ?? [])],
      detail: a.detail,
      count: a.count ?? 1,
      lastAt: a.at,
      issuerKeyId: a.issuerKeyId ?? null,
      acknowledgedBy: null,
      acknowledgedAt: null,
      acknowledgeNote: null,
    };
  }

  /**
   * Raises the alert, or adds `count` to the open one of its type about its one gate: a burst is one
   * incident with a count, not one alert per event. `detailOf` says what it says for its new count
   * (`grouped`: added to an open one). Returns the alert as it now stands.
   */
  raiseGrouped(a: NewAlert, count: number, detailOf: (total: number, grouped: boolean) => string): Alert {
    const gateId = a.gates.length === 1 ? a.gates[0] : undefined;
    const open = gateId === undefined ? undefined : this.openAlertOf(a.type, gateId);
    if (!open) {
      const raised = this.raise({ ...a, detail: detailOf(count, false) });
      if (count === 1) return raised;
      this.db.prepare("UPDATE alerts SET count = ? WHERE id = ?").run(count, raised.id);
      return { ...raised, count };
    }
    const total = open.count + count;
    const eventIds = [...open.eventIds, ...(a.eventIds ?? [])].slice(0, MAX_GROUPED_EVENT_IDS);
    this.db
      .prepare<[number, number, string, string, number]>(
        "UPDATE alerts SET count = ?, last_at = ?, detail = ?, event_ids = ? WHERE id = ?",
      )
      .run(total, a.at, detailOf(total, true), JSON.stringify(eventIds), open.id);
    return this.alert(open.id) ?? open;
  }

  /** The open (unacknowledged) alert of a type about exactly one gate, if any: not raised twice. */
  openAlertOf(type: AlertType, gateId: string): Alert | undefined {
    const row = this.db
      .prepare<[string, string], AlertRow>(
        "SELECT * FROM alerts WHERE type = ? AND gates = ? AND acked_at IS NULL ORDER BY id DESC LIMIT 1",
      )
      .get(type, JSON.stringify([gateId]));
    return row ? alertOfRow(row) : undefined;
  }

  /** The open grouped key alert (revoked-key-scans…) of one issuer key at one gate, if any: its count grows instead. */
  openKeyAlertOf(type: AlertType, gateId: string, issuerKeyId: number | null): Alert | undefined {
    const row = this.db
      .prepare<[string, string, number | null], AlertRow>(
        `SELECT * FROM alerts WHERE type = ? AND gates = ? AND issuer_key IS ? AND acked_at IS NULL
         ORDER BY id DESC LIMIT 1`,
      )
      .get(type, JSON.stringify([gateId]), issuerKeyId);
    return row ? alertOfRow(row) : undefined;
  }

  /** More occurrences of an open grouped alert: its count, last-seen time, event ids and text. */
  addOccurrences(id: number, added: number, at: number, eventIds: readonly string[], detail: string): Alert {
    this.db
      .prepare<[number, number, string, string, number]>(
        "UPDATE alerts SET count = count + ?, last_at = ?, event_ids = ?, detail = ? WHERE id = ?",
      )
      .run(added, at, JSON.stringify(eventIds), detail, id);
    const updated = this.alert(id);
    if (!updated) throw new Error(`alert ${id} vanished while it was updated`);
    return updated;
  }

  alert(id: number): Alert | undefined {
    const row = this.db.prepare<[number], AlertRow>("SELECT * FROM alerts WHERE id = ?").get(id);
    return row ? alertOfRow(row) : undefined;
  }

  /** Records who acknowledged an alert; false when it was already acknowledged (the first one stands). */
  acknowledge(id: number, by: string, at: number, note?: string): boolean {
    const info = this.db
      .prepare<[string, number, string | null, number]>(
        "UPDATE alerts SET acked_by = ?, acked_at = ?, acked_note = ? WHERE id = ? AND acked_at IS NULL",
      )
      .run(by, at, note ?? null, id);
    return info.changes === 1;
  }

  /** Every open alert and the most recent acknowledged ones, newest first (the dashboard's list). */
  forDashboard(recent: number): Alert[] {
    return this.db
      .prepare<[number], AlertRow>(
        `SELECT * FROM (SELECT * FROM alerts WHERE acked_at IS NULL ORDER BY id DESC LIMIT 500)
         UNION SELECT * FROM (SELECT * FROM alerts ORDER BY id DESC LIMIT ?)
         ORDER BY id DESC`,
      )
      .all(recent)
      .map(alertOfRow);
  }

  recent(limit = 100): Alert[] {
    return this.db
      .prepare<[number], AlertRow>("SELECT * FROM alerts ORDER BY id DESC LIMIT ?")
      .all(limit)
      .map(alertOfRow);
  }

  openCount(): number {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM alerts WHERE acked_at IS NULL").get() as { n: number })
      .n;
  }

  after(id: number, limit: number): Alert[] {
    return this.stmt.after.all(id, limit).map(alertOfRow);
  }

  lastId(): number {
    return this.stmt.lastId.get()?.id ?? 0;
  }
}
