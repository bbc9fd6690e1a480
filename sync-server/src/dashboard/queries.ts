import type { Venue } from "@sesame/venue";
import type Database from "better-sqlite3";
import type { EventRepository, EventRow, StoredEvent } from "../ingest/repository.js";
import { eventOfRow } from "../ingest/repository.js";

/* What the dashboard and the exports read: counts, capacities, throughput, the entry log by page. */

export interface Counts {
  readonly entered: number;
  readonly byGate: Record<string, number>;
  readonly byEntrance: Record<string, number>;
  readonly byZone: Record<string, number>;
  readonly bySession: Record<string, number>;
  readonly insideBySession: Record<string, number>;
  readonly refusalsByReason: Record<string, number>;
  /** Forced passages and tailgates (`alarm` events) by reason. */
  readonly alarmsByReason: Record<string, number>;
  /** Passages during free passage or a fire alarm: counted, not attributed to a ticket. */
  readonly freePassages: number;
  readonly events: number;
  /** The last event row these counts include: a live client adds only `entries` after it. */
  readonly lastRowId: number;
  readonly capacity: {
    readonly venue: number;
    readonly byZone: Record<string, number>;
    readonly byEntrance: Record<string, number>;
    readonly bySession: Record<string, number>;
  };
  /** Valid tickets (expected people). */
  readonly tickets: {
    readonly bySession: Record<string, number>;
    readonly byEntrance: Record<string, number>;
    readonly byZone: Record<string, number>;
  };
}

export interface ThroughputMinute {
  /** Start of the minute, Unix ms. */
  readonly at: number;
  entered: number;
  refused: number;
}

export class DashboardQueries {
  private ticketTotalsCache: { feedSequence: number; totals: Counts["tickets"] } | undefined;

  constructor(
    private readonly db: Database.Database,
    private readonly events: EventRepository,
    private readonly venue: () => Venue,
    private readonly feedSequence: () => number,
  ) {}

  counts(): Counts {
    const tally = <K extends string | number | null>(sql: string, key: (k: K) => string) =>
      Object.fromEntries(
        (this.db.prepare(sql).all() as Array<{ k: K; n: number }>).map((r) => [key(r.k), r.n]),
      );
    const group = (column: string) =>
      tally<string | number | null>(
        `SELECT ${column} AS k, COUNT(*) AS n FROM events WHERE kind = 'entered' GROUP BY ${column}`,
        (k) => String(k ?? "unknown"),
      );
    const count = (sql: string) => (this.db.prepare(sql).get() as { n: number }).n;
    return {
      entered: count("SELECT COUNT(*) AS n FROM events WHERE kind = 'entered'"),
      byGate: group("gate_id"),
      byEntrance: group("entrance"),
      byZone: group("zone"),
      bySession: group("session"),
      insideBySession: tally<number>(
        "SELECT session AS k, COUNT(*) AS n FROM presence WHERE state = 'inside' GROUP BY session",
        String,
      ),
      refusalsByReason: tally<string>(
        "SELECT reason AS k, COUNT(*) AS n FROM events WHERE kind = 'refused' GROUP BY reason",
        String,
      ),
      alarmsByReason: tally<string>(
        "SELECT reason AS k, COUNT(*) AS n FROM events WHERE kind = 'alarm' GROUP BY reason",
        String,
      ),
      freePassages: count("SELECT COUNT(*) AS n FROM events WHERE kind = 'free-passage'"),
      events: this.events.eventCount(),
      lastRowId: this.events.lastEventRowId(),
      capacity: this.capacity(),
      tickets: this.ticketTotals(),
    };
  }

  /**
   * Capacities from the venue model: zones have one; an entrance serves its zones, so its capacity
   * is theirs summed; a session can fill the whole venue.
   */
  capacity(): Counts["capacity"] {
    const venue = this.venue();
    const byZone = Object.fromEntries(venue.zones.map((z) => [String(z.id), z.capacity]));
    const total = venue.zones.reduce((sum, z) => sum + z.capacity, 0);
    const byEntrance = Object.fromEntries(
      venue.entrances.map((e) => [
        String(e.id),
        e.zones.reduce((sum, id) => sum + (venue.zones.find((z) => z.id === id)?.capacity ?? 0), 0),
      ]),
    );
    const bySession = Object.fromEntries(venue.sessions.map((s) => [String(s.id), total]));
    return { venue: total, byZone, byEntrance, bySession };
  }

  /** Valid tickets per session, entrance and zone: whom to expect. Recomputed when the feed moves. */
  ticketTotals(): Counts["tickets"] {
    const feedSequence = this.feedSequence();
    if (this.ticketTotalsCache?.feedSequence === feedSequence) return this.ticketTotalsCache.totals;
    const tally = (sql: string) =>
      Object.fromEntries(
        (this.db.prepare(sql).all() as Array<{ k: number; n: number }>).map((r) => [String(r.k), r.n]),
      );
    const totals = {
      bySession: tally(
        "SELECT CAST(j.value AS INTEGER) AS k, COUNT(*) AS n FROM tickets t, json_each(t.sessions) j WHERE t.status = 'valid' GROUP BY k",
      ),
      // Entrance 0 = any entrance: such tickets are nobody's in particular.
      byEntrance: tally(
        "SELECT entrance AS k, COUNT(*) AS n FROM tickets WHERE status = 'valid' AND entrance <> 0 GROUP BY entrance",
      ),
      byZone: tally("SELECT zone AS k, COUNT(*) AS n FROM tickets WHERE status = 'valid' GROUP BY zone"),
    };
    this.ticketTotalsCache = { feedSequence, totals };
    return totals;
  }

  /** The first event row stored at or after a server time (rows are stored in time order). */
  private firstRowReceivedSince(at: number): number {
    const probe = this.db.prepare<[number], { id: number; received_at: number }>(
      "SELECT id, received_at FROM events WHERE id >= ? ORDER BY id LIMIT 1",
    );
    let lo = 1;
    let hi = this.events.lastEventRowId() + 1;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const row = probe.get(mid);
      if (!row) hi = mid;
      else if (row.received_at >= at) hi = mid;
      else lo = row.id + 1;
    }
    return lo;
  }

  /**
   * Entries and refusals per minute of the gates' clocks between `from` and `to` (Unix ms).
   * Only rows received since `from` minus an hour are read (a binary search on the row id, which
   * grows with the receive time): no index on `at` to slow ingest down. Events a gate held back
   * longer than that hour before sending fall outside the chart, not outside the counts.
   */
  throughput(from: number, to: number): { lastRowId: number; minutes: ThroughputMinute[] } {
    const lastRowId = this.events.lastEventRowId();
    const firstRow = this.firstRowReceivedSince(from - 3_600_000);
    const rows = this.db
      .prepare<[number, number, number, number], { m: number; kind: string; n: number }>(
        `SELECT (at / 60000) * 60000 AS m, kind, COUNT(*) AS n FROM events
         WHERE id >= ? AND id <= ? AND at >= ? AND at < ? AND kind IN ('entered', 'refused')
         GROUP BY m, kind ORDER BY m`,
      )
      .all(firstRow, lastRowId, from, to);
    const minutes = new Map<number, ThroughputMinute>();
    for (const r of rows) {
      const minute = minutes.get(r.m) ?? { at: r.m, entered: 0, refused: 0 };
      if (r.kind === "entered") minute.entered += r.n;
      else minute.refused += r.n;
      minutes.set(r.m, minute);
    }
    return { lastRowId, minutes: [...minutes.values()] };
  }

  /** The entry log, newest first, a page at a time, optionally for one gate or kind. */
  recentEvents(options: { limit: number; before?: number; gate?: string; kind?: string }): StoredEvent[] {
    const where: string[] = [];
    const args: Array<string | number> = [];
    if (options.before !== undefined) {
      where.push("id < ?");
      args.push(options.before);
    }
    if (options.gate !== undefined) {
      where.push("gate_id = ?");
      args.push(options.gate);
    }
    if (options.kind !== undefined) {
      where.push("kind = ?");
      args.push(options.kind);
    }
    const sql = `SELECT * FROM events ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, options.limit) as EventRow[]).map(eventOfRow);
  }

  /** One page of a session's entry log, in storage order (the CSV export streams page by page). */
  sessionEvents(session: number, afterRowId: number, limit: number): StoredEvent[] {
    return this.db
      .prepare<[number, number, number], EventRow>(
        "SELECT * FROM events WHERE session = ? AND id > ? ORDER BY id LIMIT ?",
      )
      .all(session, afterRowId, limit)
      .map(eventOfRow);
  }
}
