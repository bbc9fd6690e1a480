import type { EntryLogEvent } from "@sesame/gate-core";
import type {
  AckRejection,
  AdmissionEntry,
  Command,
  CommandAck,
  GateHeartbeat,
  RejectReason,
} from "@sesame/sync";
import { FieldError, validateEvent } from "@sesame/sync";
import type { SignedTrustListJson } from "@sesame/ticket";
import {
  type BundleTicket,
  GATE_BUNDLE_FORMAT,
  type GateBundle,
  type Revocation,
  type RevocationReason,
  type TicketChange,
  type Venue,
} from "@sesame/venue";
import Database from "better-sqlite3";

/*
 * The sync-server's SQLite store (WAL, synchronous=FULL: an ack is sent only after a commit that
 * survives a power cut). Every entry event is stored once (unique event id), in gateSeq order per
 * gate; every ticket change gets the next feed sequence; every stored admission the next admission
 * sequence (the fan-out order). Rejected input is kept with its reason, never silently dropped.
 */

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS gates (
  gate_id TEXT PRIMARY KEY,
  entrance INTEGER NOT NULL,
  public_key TEXT,
  mqtt_hash TEXT,
  http_token_hash TEXT,
  provisioned_at INTEGER,
  acked_seq INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT 'unknown',
  status_at INTEGER,
  heartbeat TEXT,
  heartbeat_at INTEGER
);
CREATE TABLE IF NOT EXISTS batches (
  id INTEGER PRIMARY KEY,
  gate_id TEXT NOT NULL,
  after_seq INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  signature TEXT NOT NULL,
  events_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY,
  event_id TEXT NOT NULL UNIQUE,
  gate_id TEXT NOT NULL,
  gate_seq INTEGER NOT NULL,
  lane INTEGER NOT NULL,
  kind TEXT NOT NULL,
  direction TEXT NOT NULL,
  reason TEXT NOT NULL,
  authorization_id TEXT,
  ticket_id INTEGER,
  generation INTEGER,
  session INTEGER,
  manual INTEGER NOT NULL,
  steward TEXT,
  at INTEGER NOT NULL,
  detail TEXT,
  entrance INTEGER,
  zone INTEGER,
  received_at INTEGER NOT NULL,
  batch_id INTEGER NOT NULL,
  UNIQUE (gate_id, gate_seq)
);
CREATE TABLE IF NOT EXISTS rejected_events (
  gate_id TEXT NOT NULL,
  gate_seq INTEGER NOT NULL,
  event_id TEXT,
  reason TEXT NOT NULL,
  detail TEXT NOT NULL,
  raw TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (gate_id, gate_seq)
);
CREATE TABLE IF NOT EXISTS admissions (seq INTEGER PRIMARY KEY, event_row INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS presence (
  ticket_id INTEGER NOT NULL,
  session INTEGER NOT NULL,
  state TEXT NOT NULL,
  first_gate TEXT NOT NULL,
  first_event TEXT NOT NULL,
  last_gate TEXT NOT NULL,
  last_event TEXT NOT NULL,
  entries INTEGER NOT NULL,
  PRIMARY KEY (ticket_id, session)
);
CREATE TABLE IF NOT EXISTS alerts (
  id INTEGER PRIMARY KEY,
  type TEXT NOT NULL,
  at INTEGER NOT NULL,
  ticket_id INTEGER,
  session INTEGER,
  gates TEXT NOT NULL,
  event_ids TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rejections (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  source TEXT NOT NULL,
  topic TEXT,
  reason TEXT NOT NULL,
  detail TEXT NOT NULL,
  raw TEXT
);
CREATE TABLE IF NOT EXISTS tickets (
  id INTEGER PRIMARY KEY,
  generation INTEGER NOT NULL,
  kind TEXT NOT NULL,
  status TEXT NOT NULL,
  sessions TEXT NOT NULL,
  entrance INTEGER NOT NULL,
  zone INTEGER NOT NULL,
  seat TEXT NOT NULL,
  categories TEXT NOT NULL,
  holder TEXT NOT NULL,
  order_reference TEXT NOT NULL,
  issue_sequence INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS revocations (
  ticket_id INTEGER NOT NULL,
  generation INTEGER NOT NULL,
  reason TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  PRIMARY KEY (ticket_id, generation)
);
CREATE TABLE IF NOT EXISTS changes (sequence INTEGER PRIMARY KEY, json TEXT NOT NULL, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS issuer_keys (
  key_id INTEGER PRIMARY KEY,
  seed TEXT NOT NULL,
  public_key TEXT NOT NULL,
  valid_from INTEGER NOT NULL,
  valid_until INTEGER NOT NULL,
  revoked INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS commands (
  id TEXT PRIMARY KEY,
  json TEXT NOT NULL,
  issued_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS command_acks (
  command_id TEXT NOT NULL,
  gate_id TEXT NOT NULL,
  status TEXT NOT NULL,
  detail TEXT,
  at INTEGER NOT NULL,
  PRIMARY KEY (command_id, gate_id)
);
`;

export interface StoredEvent extends EntryLogEvent {
  /** Server row id: the order events were stored in (SSE ids and pagination use it). */
  readonly rowId: number;
  readonly entrance: number | null;
  readonly zone: number | null;
  readonly receivedAt: number;
}

/**
 * What a supervisor must look at: a ticket used twice (double-entry), forged or forwarded codes
 * (forgery), someone through a lane without a ticket (forced-passage) or behind someone else's
 * (tailgate) — both from the gates' `alarm` events —, a gate gone offline or silent (gate-offline),
 * a gate clock off the server's (clock-skew).
 */
export type AlertType =
  | "double-entry"
  | "forgery"
  | "forced-passage"
  | "tailgate"
  | "gate-offline"
  | "clock-skew";
export const ALERT_TYPES: readonly AlertType[] = [
  "double-entry",
  "forgery",
  "forced-passage",
  "tailgate",
  "gate-offline",
  "clock-skew",
];
const ALARM_ALERTS: ReadonlyArray<{ reason: string; type: AlertType; what: [string, string] }> = [
  { reason: "FORCED_PASSAGE", type: "forced-passage", what: ["forced passage", "forced passages"] },
  { reason: "TAILGATE", type: "tailgate", what: ["tailgate", "tailgates"] },
];

export interface Alert {
  readonly id: number;
  readonly type: AlertType;
  readonly at: number;
  readonly ticketId: number | null;
  readonly session: number | null;
  readonly gates: readonly string[];
  readonly eventIds: readonly string[];
  readonly detail: string;
  /** Who acknowledged it and when (server clock); null while it is open. */
  readonly acknowledgedBy: string | null;
  readonly acknowledgedAt: number | null;
  readonly acknowledgeNote: string | null;
}

export interface NewAlert {
  readonly type: AlertType;
  readonly at: number;
  readonly ticketId?: number;
  readonly session?: number;
  readonly gates: readonly string[];
  readonly eventIds?: readonly string[];
  readonly detail: string;
}

/** Reasons that mean a forged, forwarded or foreign code (the kiosk raises its local alert on the same). */
export const FORGERY_REASONS: ReadonlySet<string> = new Set([
  "FORGED",
  "FORGED_PROOF",
  "KEY_REVOKED",
  "UNKNOWN_KEY",
]);

export interface RejectionRecord {
  readonly id: number;
  readonly at: number;
  /** Gate id, MQTT username or client address. */
  readonly source: string;
  readonly topic: string | null;
  readonly reason: string;
  readonly detail: string;
}

export interface GateRecord {
  readonly gateId: string;
  readonly entrance: number;
  readonly publicKey: string | null;
  readonly mqttHash: string | null;
  readonly httpTokenHash: string | null;
  readonly provisionedAt: number | null;
  readonly ackedSeq: number;
  readonly status: "online" | "offline" | "unknown";
  readonly statusAt: number | null;
  readonly heartbeat: (GateHeartbeat & { readonly receivedAt: number }) | null;
}

export type IngestResult =
  | { readonly kind: "resync"; readonly acked: number }
  | {
      readonly kind: "stored";
      readonly acked: number;
      readonly stored: readonly StoredEvent[];
      readonly admissions: readonly AdmissionEntry[];
      readonly alerts: readonly Alert[];
      readonly rejected: readonly AckRejection[];
    };

interface EventRow {
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
  at: number;
  detail: string | null;
  entrance: number | null;
  zone: number | null;
  received_at: number;
}

interface GateRow {
  gate_id: string;
  entrance: number;
  public_key: string | null;
  mqtt_hash: string | null;
  http_token_hash: string | null;
  provisioned_at: number | null;
  acked_seq: number;
  status: string;
  status_at: number | null;
  heartbeat: string | null;
  heartbeat_at: number | null;
}

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

export interface IssuerKeyRecord {
  readonly keyId: number;
  readonly seed: string;
  readonly publicKey: string;
  readonly validFrom: number;
  readonly validUntil: number;
  readonly revoked: boolean;
}

function eventOfRow(r: EventRow): StoredEvent {
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
  if (r.detail !== null) e.detail = r.detail;
  return e as unknown as StoredEvent;
}

/** The wire form of a stored event (what gates and the fan-out see). */
export function wireEvent(e: StoredEvent): EntryLogEvent {
  const { rowId: _r, entrance: _e, zone: _z, receivedAt: _t, ...event } = e;
  return event;
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

function gateOfRow(r: GateRow): GateRecord {
  return {
    gateId: r.gate_id,
    entrance: r.entrance,
    publicKey: r.public_key,
    mqttHash: r.mqtt_hash,
    httpTokenHash: r.http_token_hash,
    provisionedAt: r.provisioned_at,
    ackedSeq: r.acked_seq,
    status: r.status === "online" || r.status === "offline" ? r.status : "unknown",
    statusAt: r.status_at,
    heartbeat:
      r.heartbeat === null || r.heartbeat_at === null
        ? null
        : { ...(JSON.parse(r.heartbeat) as GateHeartbeat), receivedAt: r.heartbeat_at },
  };
}

const ADMISSION_KINDS: ReadonlySet<string> = new Set(["entered", "exited"]);
/**
 * An event time this far from the server's clock is no gate's clock, however skewed (the
 * clock-skew alert fires at 10 s): a day ahead, or older than any outbox a gate keeps. Refused,
 * kept in rejected_events with its raw text, so that it cannot skew counts, throughput or exports.
 */
export const MAX_EVENT_AHEAD_MS = 24 * 3_600_000;
export const MAX_EVENT_AGE_MS = 366 * 24 * 3_600_000;

export class ServerStore {
  readonly db: Database.Database;
  private readonly stmt;
  private sessionPolicy = new Map<number, "none" | "exit-scan">();
  private gateEntrance = new Map<string, number>();

  constructor(path: string, options: { readonly?: boolean } = {}) {
    this.db = new Database(path, options.readonly ? { readonly: true, fileMustExist: true } : {});
    this.db.pragma("busy_timeout = 5000");
    if (!options.readonly) {
      this.db.pragma("journal_mode = WAL");
      this.db.pragma("synchronous = FULL");
      // Ingest touches several indexes per event: keep them in memory, and checkpoint the WAL less often.
      this.db.pragma("cache_size = -65536");
      this.db.pragma("wal_autocheckpoint = 10000");
      this.db.exec(SCHEMA);
      this.migrate();
    }
    const db = this.db;
    this.stmt = {
      metaGet: db.prepare<[string], { value: string }>("SELECT value FROM meta WHERE key = ?"),
      metaSet: db.prepare<[string, string]>(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
      ),
      gate: db.prepare<[string], GateRow>("SELECT * FROM gates WHERE gate_id = ?"),
      gates: db.prepare<[], GateRow>("SELECT * FROM gates ORDER BY gate_id"),
      setAcked: db.prepare<[number, string]>("UPDATE gates SET acked_seq = ? WHERE gate_id = ?"),
      insertBatch: db.prepare<[string, number, number, string, string]>(
        "INSERT INTO batches (gate_id, after_seq, received_at, signature, events_json) VALUES (?, ?, ?, ?, ?)",
      ),
      insertEvent: db.prepare(
        `INSERT INTO events (event_id, gate_id, gate_seq, lane, kind, direction, reason, authorization_id,
           ticket_id, generation, session, manual, steward, at, detail, entrance, zone, received_at, batch_id)
         VALUES (@eventId, @gateId, @gateSeq, @lane, @kind, @direction, @reason, @authorizationId,
           @ticketId, @generation, @session, @manual, @steward, @at, @detail, @entrance, @zone, @receivedAt, @batchId)
         ON CONFLICT(event_id) DO NOTHING`,
      ),
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
      admissionsFrom: db.prepare<[number, number], EventRow & { seq: number }>(
        `SELECT a.seq AS seq, e.* FROM admissions a JOIN events e ON e.id = a.event_row
         WHERE a.seq >= ? ORDER BY a.seq LIMIT ?`,
      ),
      presence: db.prepare<
        [number, number],
        {
          state: string;
          first_gate: string;
          first_event: string;
          last_gate: string;
          last_event: string;
          entries: number;
        }
      >("SELECT * FROM presence WHERE ticket_id = ? AND session = ?"),
      presenceEnter: db.prepare<[number, number, string, string, string, string]>(
        `INSERT INTO presence (ticket_id, session, state, first_gate, first_event, last_gate, last_event, entries)
         VALUES (?, ?, 'inside', ?, ?, ?, ?, 1)
         ON CONFLICT(ticket_id, session) DO UPDATE SET state = 'inside', last_gate = excluded.last_gate,
           last_event = excluded.last_event, entries = entries + 1`,
      ),
      presenceExit: db.prepare<[string, string, number, number]>(
        "UPDATE presence SET state = 'outside', last_gate = ?, last_event = ? WHERE ticket_id = ? AND session = ?",
      ),
      insertAlert: db.prepare<[string, number, number | null, number | null, string, string, string]>(
        "INSERT INTO alerts (type, at, ticket_id, session, gates, event_ids, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
      ),
      insertRejection: db.prepare<[number, string, string | null, string, string, string | null]>(
        "INSERT INTO rejections (at, source, topic, reason, detail, raw) VALUES (?, ?, ?, ?, ?, ?)",
      ),
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
      eventsAfter: db.prepare<[number, number], EventRow>(
        "SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?",
      ),
      alertsAfter: db.prepare<[number, number], AlertRow>(
        "SELECT * FROM alerts WHERE id > ? ORDER BY id LIMIT ?",
      ),
      lastEventRow: db.prepare<[], { id: number | null }>("SELECT MAX(id) AS id FROM events"),
      lastAlertRow: db.prepare<[], { id: number | null }>("SELECT MAX(id) AS id FROM alerts"),
    };
    this.loadCaches();
  }

  /** Columns added after a data directory may have been created: added in place, data kept. */
  private migrate(): void {
    const columns = new Set(
      (this.db.prepare("PRAGMA table_info(alerts)").all() as Array<{ name: string }>).map((c) => c.name),
    );
    if (!columns.has("acked_by")) this.db.exec("ALTER TABLE alerts ADD COLUMN acked_by TEXT");
    if (!columns.has("acked_at")) this.db.exec("ALTER TABLE alerts ADD COLUMN acked_at INTEGER");
    if (!columns.has("acked_note")) this.db.exec("ALTER TABLE alerts ADD COLUMN acked_note TEXT");
  }

  private loadCaches(): void {
    const venue = this.venueOrUndefined();
    if (venue) for (const s of venue.sessions) this.sessionPolicy.set(s.id, s.reentry);
    for (const g of this.stmt.gates.all()) this.gateEntrance.set(g.gate_id, g.entrance);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  // -------------------------------------------------------------------------------------------
  // meta

  meta(key: string): string | undefined {
    return this.stmt.metaGet.get(key)?.value;
  }

  setMeta(key: string, value: string): void {
    this.stmt.metaSet.run(key, value);
  }

  venueOrUndefined(): Venue | undefined {
    const v = this.meta("venue");
    return v === undefined ? undefined : (JSON.parse(v) as Venue);
  }

  venue(): Venue {
    const v = this.venueOrUndefined();
    if (!v) throw new Error("the store holds no venue yet (not initialised from a venue directory)");
    return v;
  }

  /** First load from a venue directory: venue, tickets, revocations, feed base and later changes. */
  initialize(input: {
    venue: Venue;
    bundle: GateBundle;
    changes: readonly TicketChange[];
    trustList: SignedTrustListJson;
    issuerKeys: readonly IssuerKeyRecord[];
    now: number;
  }): void {
    this.db.transaction(() => {
      this.setMeta("venue", JSON.stringify(input.venue));
      this.setMeta("feed_base", String(input.bundle.feedSequence));
      this.setMeta("trust_list", JSON.stringify(input.trustList));
      for (const t of input.bundle.tickets) this.insertTicketRow(t);
      for (const r of input.bundle.revocations)
        this.stmt.insertRevocation.run(r.ticketId, r.generation, r.reason, r.sequence);
      for (const g of input.venue.gates)
        this.db
          .prepare("INSERT OR IGNORE INTO gates (gate_id, entrance) VALUES (?, ?)")
          .run(g.id, g.entrance);
      for (const k of input.issuerKeys) this.putIssuerKey(k);
      let seq = input.bundle.feedSequence;
      for (const c of input.changes) {
        if (c.sequence <= seq) continue;
        if (c.sequence !== seq + 1) throw new Error(`changes.jsonl: sequence ${c.sequence} after ${seq}`);
        this.applyChangeToTables(c);
        this.stmt.insertChange.run(c.sequence, JSON.stringify(c), input.now);
        seq = c.sequence;
      }
      this.setMeta("initialized", new Date(input.now).toISOString());
    })();
    this.loadCaches();
  }

  // -------------------------------------------------------------------------------------------
  // gates

  gate(gateId: string): GateRecord | undefined {
    const row = this.stmt.gate.get(gateId);
    return row ? gateOfRow(row) : undefined;
  }

  gates(): GateRecord[] {
    return this.stmt.gates.all().map(gateOfRow);
  }

  saveProvisioning(
    gateId: string,
    entrance: number,
    publicKey: string,
    mqttHash: string,
    httpTokenHash: string,
    now: number,
  ): void {
    this.db
      .prepare(
        `INSERT INTO gates (gate_id, entrance, public_key, mqtt_hash, http_token_hash, provisioned_at)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(gate_id) DO UPDATE SET entrance = excluded.entrance, public_key = excluded.public_key,
           mqtt_hash = excluded.mqtt_hash, http_token_hash = excluded.http_token_hash,
           provisioned_at = excluded.provisioned_at`,
      )
      .run(gateId, entrance, publicKey, mqttHash, httpTokenHash, now);
    this.gateEntrance.set(gateId, entrance);
  }

  setGateStatus(gateId: string, status: "online" | "offline", at: number): void {
    this.db.prepare("UPDATE gates SET status = ?, status_at = ? WHERE gate_id = ?").run(status, at, gateId);
  }

  setGateHeartbeat(gateId: string, heartbeat: GateHeartbeat, at: number): void {
    this.db
      .prepare("UPDATE gates SET heartbeat = ?, heartbeat_at = ? WHERE gate_id = ?")
      .run(JSON.stringify(heartbeat), at, gateId);
  }

  // -------------------------------------------------------------------------------------------
  // ingest

  /**
   * Stores one verified batch of a gate in one transaction. Events at or below the gate's ack are
   * duplicates (a reused gateSeq with another event id is rejected, not dropped); a batch whose
   * `after` is beyond the ack does not follow on and stores nothing (the gate resends).
   */
  ingest(
    gateId: string,
    batch: { after: number; sig: string; events: string },
    rawEvents: readonly unknown[],
    receivedAt: number,
  ): IngestResult {
    const gate = this.stmt.gate.get(gateId);
    if (!gate) throw new Error(`gate ${gateId} is not provisioned`);
    if (batch.after > gate.acked_seq) return { kind: "resync", acked: gate.acked_seq };
    return this.db.transaction((): IngestResult => {
      let acked = gate.acked_seq;
      const stored: StoredEvent[] = [];
      const admissions: AdmissionEntry[] = [];
      const alerts: Alert[] = [];
      const rejected: AckRejection[] = [];
      let batchId: number | undefined;
      const reject = (
        seq: number,
        eventId: string | undefined,
        reason: RejectReason,
        detail: string,
        raw: unknown,
      ) => {
        this.stmt.insertRejectedEvent.run(
          gateId,
          seq,
          eventId ?? null,
          reason,
          detail,
          JSON.stringify(raw).slice(0, 4096),
          receivedAt,
        );
        this.stmt.insertRejection.run(receivedAt, gateId, null, reason, `gateSeq ${seq}: ${detail}`, null);
        rejected.push({ gateSeq: seq, ...(eventId === undefined ? {} : { eventId }), reason, detail });
      };
      for (const raw of rawEvents) {
        const o = raw as { gateSeq: number; eventId?: unknown };
        const seq = o.gateSeq;
        const rawId = typeof o.eventId === "string" ? o.eventId : undefined;
        if (seq <= acked) {
          const known =
            this.stmt.eventIdAt.get(gateId, seq)?.event_id ??
            this.stmt.rejectedIdAt.get(gateId, seq)?.event_id;
          if (rawId !== undefined && known !== undefined && known !== null && known !== rawId) {
            // A gate whose cache was reset numbers from 1 again: keep its events visible, never drop them.
            this.stmt.insertRejection.run(
              receivedAt,
              gateId,
              null,
              "sequence-reused",
              `gateSeq ${seq} already holds event ${known}; event ${rawId} refused`,
              JSON.stringify(raw).slice(0, 4096),
            );
          }
          continue;
        }
        let event: EntryLogEvent;
        try {
          event = validateEvent(raw, `events[gateSeq ${seq}]`);
        } catch (error) {
          const detail = error instanceof FieldError ? error.message : String(error);
          reject(seq, rawId, "invalid", detail, raw);
          acked = seq;
          continue;
        }
        if (event.gateId !== gateId) {
          reject(
            seq,
            rawId,
            "gate-mismatch",
            `event claims gate ${event.gateId} in a batch signed by ${gateId}`,
            raw,
          );
          acked = seq;
          continue;
        }
        const drift = event.at - receivedAt;
        if (drift > MAX_EVENT_AHEAD_MS || drift < -MAX_EVENT_AGE_MS) {
          reject(
            seq,
            event.eventId,
            "implausible-time",
            `event time ${new Date(event.at).toISOString()} is ${Math.round(Math.abs(drift) / 3_600_000)} h ${drift > 0 ? "ahead of" : "behind"} the server's clock`,
            raw,
          );
          acked = seq;
          continue;
        }
        if (batchId === undefined)
          batchId = Number(
            this.stmt.insertBatch.run(gateId, batch.after, receivedAt, batch.sig, batch.events)
              .lastInsertRowid,
          );
        const zone = event.ticketId === undefined ? null : this.zoneOf(event.ticketId);
        const entrance = this.gateEntrance.get(gateId) ?? null;
        const info = this.stmt.insertEvent.run({
          eventId: event.eventId,
          gateId,
          gateSeq: seq,
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
          at: event.at,
          detail: event.detail ?? null,
          entrance,
          zone,
          receivedAt,
          batchId,
        });
        if (info.changes === 0) {
          reject(
            seq,
            event.eventId,
            "duplicate-event-id",
            `event id ${event.eventId} is already stored for another gate or sequence`,
            raw,
          );
          acked = seq;
          continue;
        }
        const rowId = Number(info.lastInsertRowid);
        const storedEvent: StoredEvent = { ...event, rowId, entrance, zone, receivedAt };
        stored.push(storedEvent);
        acked = seq;
        if (ADMISSION_KINDS.has(event.kind) && event.ticketId !== undefined) {
          const seqInfo = this.stmt.insertAdmission.run(rowId);
          admissions.push({ seq: Number(seqInfo.lastInsertRowid), event });
          const alert = this.trackPresence(event, receivedAt);
          if (alert) alerts.push(alert);
        }
      }
      this.stmt.setAcked.run(acked, gateId);
      alerts.push(...this.batchAlerts(gateId, stored, receivedAt));
      return { kind: "stored", acked, stored, admissions, alerts, rejected };
    })();
  }

  private readonly zones = new Map<number, number | null>();

  /** Zone of a ticket, cached: every entry event needs it and a ticket's zone never changes. */
  private zoneOf(ticketId: number): number | null {
    let zone = this.zones.get(ticketId);
    if (zone === undefined) {
      zone = this.stmt.ticketZone.get(ticketId)?.zone ?? null;
      if (zone !== null) this.zones.set(ticketId, zone);
    }
    return zone;
  }

  /** Presence per ticket and session; a second entry while inside (or ever, without re-entry) is an alert. */
  private trackPresence(event: EntryLogEvent, now: number): Alert | undefined {
    const ticketId = event.ticketId;
    const session = event.session;
    if (ticketId === undefined || session === undefined) return undefined;
    const p = this.stmt.presence.get(ticketId, session);
    if (event.kind === "exited") {
      if (p) this.stmt.presenceExit.run(event.gateId, event.eventId, ticketId, session);
      return undefined;
    }
    let alert: Alert | undefined;
    const reentry = this.sessionPolicy.get(session) ?? "none";
    if (p && (p.state === "inside" || reentry === "none")) {
      const gates = [p.last_gate, event.gateId];
      const eventIds = [p.last_event, event.eventId];
      const detail =
        p.last_gate === event.gateId
          ? `ticket ${ticketId} entered twice at gate ${event.gateId} for session ${session}`
          : `ticket ${ticketId} entered at gates ${p.last_gate} and ${event.gateId} for session ${session}`;
      alert = this.raiseAlert({ type: "double-entry", at: now, ticketId, session, gates, eventIds, detail });
    }
    this.stmt.presenceEnter.run(ticketId, session, event.gateId, event.eventId, event.gateId, event.eventId);
    return alert;
  }

  /**
   * Alerts from one batch's refusals and alarms, in the ingest transaction (an acknowledged batch
   * never loses its alerts): one forgery alert per batch listing its forged codes (a burst is one
   * incident to act on, not fifty), likewise for forced passages and tailgates, and a clock-skew
   * alert when the gate refused for its own clock — unless one is still open for that gate.
   */
  private batchAlerts(gateId: string, stored: readonly StoredEvent[], at: number): Alert[] {
    const out: Alert[] = [];
    for (const alarm of ALARM_ALERTS) {
      const events = stored.filter((e) => e.kind === "alarm" && e.reason === alarm.reason);
      if (events.length === 0) continue;
      const lanes = [...new Set(events.map((e) => e.lane))].sort((x, y) => x - y).join(", ");
      out.push(
        this.raiseAlert({
          type: alarm.type,
          at,
          gates: [gateId],
          eventIds: events.slice(0, 50).map((e) => e.eventId),
          detail:
            events.length === 1
              ? `${alarm.what[0]} at gate ${gateId} lane ${lanes}`
              : `${events.length} ${alarm.what[1]} at gate ${gateId} (lanes ${lanes})`,
        }),
      );
    }
    const forged = stored.filter((e) => e.kind === "refused" && FORGERY_REASONS.has(e.reason));
    const first = forged[0];
    if (first) {
      const byReason = new Map<string, number>();
      for (const e of forged) byReason.set(e.reason, (byReason.get(e.reason) ?? 0) + 1);
      const reasons = [...byReason].map(([r, n]) => (n > 1 ? `${r} ×${n}` : r)).join(", ");
      out.push(
        this.raiseAlert({
          type: "forgery",
          at,
          ...(forged.length === 1 && first.ticketId !== undefined ? { ticketId: first.ticketId } : {}),
          ...(forged.length === 1 && first.session !== undefined ? { session: first.session } : {}),
          gates: [gateId],
          eventIds: forged.slice(0, 50).map((e) => e.eventId),
          detail:
            forged.length === 1
              ? `forged or foreign code refused at gate ${gateId} lane ${first.lane} (${reasons})`
              : `${forged.length} forged or foreign codes refused at gate ${gateId} (${reasons})`,
        }),
      );
    }
    const skewed = stored.filter((e) => e.kind === "refused" && e.reason === "CLOCK_SKEW");
    if (skewed.length > 0 && this.openAlertOf("clock-skew", gateId) === undefined)
      out.push(
        this.raiseAlert({
          type: "clock-skew",
          at,
          gates: [gateId],
          eventIds: skewed.slice(0, 50).map((e) => e.eventId),
          detail: `gate ${gateId} refused ${skewed.length} code(s) because its own clock looks wrong`,
        }),
      );
    return out;
  }

  /** Stores a new alert (open until acknowledged). */
  raiseAlert(a: NewAlert): Alert {
    const info = this.stmt.insertAlert.run(
      a.type,
      a.at,
      a.ticketId ?? null,
      a.session ?? null,
      JSON.stringify(a.gates),
      JSON.stringify(a.eventIds ?? []),
      a.detail,
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
      acknowledgedBy: null,
      acknowledgedAt: null,
      acknowledgeNote: null,
    };
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

  alert(id: number): Alert | undefined {
    const row = this.db.prepare<[number], AlertRow>("SELECT * FROM alerts WHERE id = ?").get(id);
    return row ? alertOfRow(row) : undefined;
  }

  /** Records who acknowledged an alert; false when it was already acknowledged (the first one stands). */
  acknowledgeAlert(id: number, by: string, at: number, note?: string): boolean {
    const info = this.db
      .prepare<[string, number, string | null, number]>(
        "UPDATE alerts SET acked_by = ?, acked_at = ?, acked_note = ? WHERE id = ? AND acked_at IS NULL",
      )
      .run(by, at, note ?? null, id);
    return info.changes === 1;
  }

  /** Every open alert and the most recent acknowledged ones, newest first (the dashboard's list). */
  alertsForDashboard(recent: number): Alert[] {
    return this.db
      .prepare<[number], AlertRow>(
        `SELECT * FROM (SELECT * FROM alerts WHERE acked_at IS NULL ORDER BY id DESC LIMIT 500)
         UNION SELECT * FROM (SELECT * FROM alerts ORDER BY id DESC LIMIT ?)
         ORDER BY id DESC`,
      )
      .all(recent)
      .map(alertOfRow);
  }

  recordRejection(
    at: number,
    source: string,
    topic: string | undefined,
    reason: string,
    detail: string,
    raw?: string,
  ): RejectionRecord {
    const info = this.stmt.insertRejection.run(
      at,
      source,
      topic ?? null,
      reason,
      detail,
      raw === undefined ? null : raw.slice(0, 2048),
    );
    return { id: Number(info.lastInsertRowid), at, source, topic: topic ?? null, reason, detail };
  }

  rejections(limit = 100, source?: string): RejectionRecord[] {
    const rows = (
      source === undefined
        ? this.db
            .prepare("SELECT id, at, source, topic, reason, detail FROM rejections ORDER BY id DESC LIMIT ?")
            .all(limit)
        : this.db
            .prepare(
              "SELECT id, at, source, topic, reason, detail FROM rejections WHERE source = ? ORDER BY id DESC LIMIT ?",
            )
            .all(source, limit)
    ) as RejectionRecord[];
    return rows;
  }

  // -------------------------------------------------------------------------------------------
  // admissions, events, alerts (read side)

  admissionSeq(): number {
    return this.stmt.admissionSeq.get()?.seq ?? 0;
  }

  admissionsFrom(from: number, limit: number): AdmissionEntry[] {
    return this.stmt.admissionsFrom
      .all(from, limit)
      .map((r) => ({ seq: r.seq, event: wireEvent(eventOfRow(r)) }));
  }

  eventsAfter(rowId: number, limit: number): StoredEvent[] {
    return this.stmt.eventsAfter.all(rowId, limit).map(eventOfRow);
  }

  lastEventRowId(): number {
    return this.stmt.lastEventRow.get()?.id ?? 0;
  }

  lastAlertId(): number {
    return this.stmt.lastAlertRow.get()?.id ?? 0;
  }

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

  alerts(limit = 100): Alert[] {
    return this.db
      .prepare<[number], AlertRow>("SELECT * FROM alerts ORDER BY id DESC LIMIT ?")
      .all(limit)
      .map(alertOfRow);
  }

  openAlertCount(): number {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM alerts WHERE acked_at IS NULL").get() as { n: number })
      .n;
  }

  alertsAfter(id: number, limit: number): Alert[] {
    return this.stmt.alertsAfter.all(id, limit).map(alertOfRow);
  }

  counts(): Counts {
    const group = (column: string) =>
      Object.fromEntries(
        (
          this.db
            .prepare(
              `SELECT ${column} AS k, COUNT(*) AS n FROM events WHERE kind = 'entered' GROUP BY ${column}`,
            )
            .all() as Array<{ k: string | number | null; n: number }>
        ).map((r) => [String(r.k ?? "unknown"), r.n]),
      );
    const refusals = Object.fromEntries(
      (
        this.db
          .prepare("SELECT reason AS k, COUNT(*) AS n FROM events WHERE kind = 'refused' GROUP BY reason")
          .all() as Array<{
          k: string;
          n: number;
        }>
      ).map((r) => [r.k, r.n]),
    );
    const inside = Object.fromEntries(
      (
        this.db
          .prepare("SELECT session AS k, COUNT(*) AS n FROM presence WHERE state = 'inside' GROUP BY session")
          .all() as Array<{
          k: number;
          n: number;
        }>
      ).map((r) => [String(r.k), r.n]),
    );
    const entered = (
      this.db.prepare("SELECT COUNT(*) AS n FROM events WHERE kind = 'entered'").get() as { n: number }
    ).n;
    const alarms = Object.fromEntries(
      (
        this.db
          .prepare("SELECT reason AS k, COUNT(*) AS n FROM events WHERE kind = 'alarm' GROUP BY reason")
          .all() as Array<{ k: string; n: number }>
      ).map((r) => [r.k, r.n]),
    );
    const freePassages = (
      this.db.prepare("SELECT COUNT(*) AS n FROM events WHERE kind = 'free-passage'").get() as { n: number }
    ).n;
    return {
      entered,
      byGate: group("gate_id"),
      byEntrance: group("entrance"),
      byZone: group("zone"),
      bySession: group("session"),
      insideBySession: inside,
      refusalsByReason: refusals,
      alarmsByReason: alarms,
      freePassages,
      events: this.eventCount(),
      lastRowId: this.lastEventRowId(),
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

  private ticketTotalsCache: { feedSequence: number; totals: Counts["tickets"] } | undefined;

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
    let hi = this.lastEventRowId() + 1;
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
    const lastRowId = this.lastEventRowId();
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

  /** One page of a session's entry log, in storage order (the CSV export streams page by page). */
  sessionEvents(session: number, afterRowId: number, limit: number): StoredEvent[] {
    return this.db
      .prepare<[number, number, number], EventRow>(
        "SELECT * FROM events WHERE session = ? AND id > ? ORDER BY id LIMIT ?",
      )
      .all(session, afterRowId, limit)
      .map(eventOfRow);
  }

  // -------------------------------------------------------------------------------------------
  // tickets and the feed

  feedBase(): number {
    return Number(this.meta("feed_base") ?? "0");
  }

  feedSequence(): number {
    const row = this.db.prepare("SELECT MAX(sequence) AS s FROM changes").get() as { s: number | null };
    return Math.max(this.feedBase(), row.s ?? 0);
  }

  changesFrom(from: number, limit: number): TicketChange[] {
    return this.stmt.changesFrom.all(from, limit).map((r) => JSON.parse(r.json) as TicketChange);
  }

  ticket(id: number): BundleTicket | undefined {
    const row = this.stmt.ticket.get(id);
    return row ? ticketOfRow(row) : undefined;
  }

  revocationsOf(ticketId: number): Revocation[] {
    return (
      this.db
        .prepare("SELECT * FROM revocations WHERE ticket_id = ? ORDER BY generation")
        .all(ticketId) as Array<{
        ticket_id: number;
        generation: number;
        reason: RevocationReason;
        sequence: number;
      }>
    ).map((r) => ({
      ticketId: r.ticket_id,
      generation: r.generation,
      reason: r.reason,
      sequence: r.sequence,
    }));
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
      case "revoke-key":
        return;
    }
  }

  /**
   * Appends changes to the feed, each with the next sequence, applying them to the ticket tables in
   * the same transaction. `build` receives the sequence numbers and may throw to refuse the lot.
   */
  appendChanges<T>(
    now: number,
    build: (nextSequence: () => number) => { changes: TicketChange[]; result: T },
  ): { changes: TicketChange[]; result: T } {
    return this.db.transaction(() => {
      let seq = this.feedSequence();
      const out = build(() => ++seq);
      for (const c of out.changes) {
        this.applyChangeToTables(c);
        this.stmt.insertChange.run(c.sequence, JSON.stringify(c), now);
      }
      return out;
    })();
  }

  bundle(trustList: SignedTrustListJson, now: number): GateBundle {
    const tickets = (this.db.prepare("SELECT * FROM tickets ORDER BY id").all() as TicketRow[]).map(
      ticketOfRow,
    );
    const revocations = (
      this.db.prepare("SELECT * FROM revocations ORDER BY sequence").all() as Array<{
        ticket_id: number;
        generation: number;
        reason: RevocationReason;
        sequence: number;
      }>
    ).map((r) => ({
      ticketId: r.ticket_id,
      generation: r.generation,
      reason: r.reason,
      sequence: r.sequence,
    }));
    return {
      format: GATE_BUNDLE_FORMAT,
      generatedAt: new Date(now).toISOString(),
      feedSequence: this.feedSequence(),
      venue: this.venue(),
      trustList,
      tickets,
      revocations,
    };
  }

  // -------------------------------------------------------------------------------------------
  // keys

  issuerKeys(): IssuerKeyRecord[] {
    return (
      this.db.prepare("SELECT * FROM issuer_keys ORDER BY key_id").all() as Array<{
        key_id: number;
        seed: string;
        public_key: string;
        valid_from: number;
        valid_until: number;
        revoked: number;
      }>
    ).map((r) => ({
      keyId: r.key_id,
      seed: r.seed,
      publicKey: r.public_key,
      validFrom: r.valid_from,
      validUntil: r.valid_until,
      revoked: r.revoked === 1,
    }));
  }

  putIssuerKey(k: IssuerKeyRecord): void {
    this.db
      .prepare(
        `INSERT INTO issuer_keys (key_id, seed, public_key, valid_from, valid_until, revoked) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(key_id) DO UPDATE SET valid_from = excluded.valid_from, valid_until = excluded.valid_until,
           revoked = excluded.revoked`,
      )
      .run(k.keyId, k.seed, k.publicKey, k.validFrom, k.validUntil, k.revoked ? 1 : 0);
  }

  trustList(): SignedTrustListJson {
    const json = this.meta("trust_list");
    if (!json) throw new Error("no trust list stored");
    return JSON.parse(json) as SignedTrustListJson;
  }

  setTrustList(list: SignedTrustListJson): void {
    this.setMeta("trust_list", JSON.stringify(list));
  }

  // -------------------------------------------------------------------------------------------
  // commands

  insertCommand(command: Command): void {
    this.db
      .prepare("INSERT INTO commands (id, json, issued_at) VALUES (?, ?, ?)")
      .run(command.id, JSON.stringify(command), command.issuedAt);
  }

  recordCommandAck(gateId: string, ack: CommandAck): boolean {
    const known = this.db.prepare("SELECT 1 FROM commands WHERE id = ?").get(ack.commandId);
    if (!known) return false;
    this.db
      .prepare(
        `INSERT INTO command_acks (command_id, gate_id, status, detail, at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(command_id, gate_id) DO UPDATE SET status = excluded.status, detail = excluded.detail, at = excluded.at`,
      )
      .run(ack.commandId, gateId, ack.status, ack.detail ?? null, ack.at);
    return true;
  }

  /** The most recent commands, newest first, with their acknowledgements. */
  recentCommands(limit: number): NonNullable<ReturnType<ServerStore["command"]>>[] {
    const ids = this.db
      .prepare<[number], { id: string }>(
        "SELECT id FROM commands ORDER BY issued_at DESC, rowid DESC LIMIT ?",
      )
      .all(limit);
    return ids.flatMap((r) => {
      const c = this.command(r.id);
      return c ? [c] : [];
    });
  }

  command(
    id: string,
  ):
    | { command: Command; acks: Array<{ gateId: string; status: string; detail: string | null; at: number }> }
    | undefined {
    const row = this.db.prepare("SELECT json FROM commands WHERE id = ?").get(id) as
      | { json: string }
      | undefined;
    if (!row) return undefined;
    const acks = (
      this.db
        .prepare("SELECT gate_id, status, detail, at FROM command_acks WHERE command_id = ? ORDER BY gate_id")
        .all(id) as Array<{
        gate_id: string;
        status: string;
        detail: string | null;
        at: number;
      }>
    ).map((a) => ({ gateId: a.gate_id, status: a.status, detail: a.detail, at: a.at }));
    return { command: JSON.parse(row.json) as Command, acks };
  }
}

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

interface AlertRow {
  id: number;
  type: AlertType;
  at: number;
  ticket_id: number | null;
  session: number | null;
  gates: string;
  event_ids: string;
  detail: string;
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
    acknowledgedBy: r.acked_by ?? null,
    acknowledgedAt: r.acked_at ?? null,
    acknowledgeNote: r.acked_note ?? null,
  };
}
