import { randomUUID } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import {
  type AnnulCause,
  checkManualAdmission,
  type Decision,
  type Direction,
  type EntryLogEvent,
  type GateFacts,
  type ReasonCode,
  type RecordKind,
  type SupervisorOverride,
  type Transition,
  transition,
} from "@sesame/gate-core";
import {
  createNodeVerifier,
  type Ed25519Verifier,
  type IssuerKey,
  issuerKeyMap,
  type TrustList,
  verifyTrustList,
} from "@sesame/ticket";
import {
  type BundleTicket,
  canonicalJson,
  checkSupervisors,
  type Entrance,
  type Gate,
  type GateBundle,
  type Revocation,
  readGateBundle,
  type Session,
  type Supervisor,
  SupervisorCodeError,
  type TicketChange,
  VenueFileError,
  type Zone,
} from "@sesame/venue";
import { sessionTimes } from "@sesame/venue/session-times";
import Database from "better-sqlite3";
import {
  BundleError,
  CacheError,
  CacheFileError,
  FeedError,
  FeedGapError,
  JournalError,
  ManualAdmissionError,
} from "./errors.js";
import { CacheFacts, type SeenRow, type TicketRow, ticketFromRow, type VenueState } from "./facts.js";
import { uuidv7 } from "./ids.js";
import { Lookup, type LookupOptions, type LookupResult } from "./lookup.js";
import { APPLICATION_ID, LATEST_VERSION, migrate, schemaVersion, searchSessions } from "./migrations.js";
import { HolderKeyCache, type HolderKeys, holderKeys } from "./normalize.js";
import { checkChange, checkRevocation, checkTicket, isValidTicket, ShapeError } from "./validate.js";

/*
 * The gate's local store (docs/design.md §2): the venue-day, the permanent seen table, the entry-event
 * log and its outbox, in one SQLite file (WAL, synchronous=FULL). Every method that records
 * something is one IMMEDIATE transaction that has committed — and so reached the disk — when it
 * returns: the caller tells the turnstile only after `authorize` returns.
 */

export interface OpenOptions {
  /** The venue root public key pinned in the gate's configuration. */
  readonly rootPublicKey: Uint8Array;
  /** The gate this cache belongs to: its events are numbered per gate. */
  readonly gateId: string;
  /** Verifies bundle and trust-list signatures (default: node:crypto). */
  readonly verifier?: Ed25519Verifier;
  /** Event and authorization ids (default: time-ordered UUIDv7). */
  readonly newId?: () => string;
  /** Doors close this long after a session's end (default 1 h, as the admission core). */
  readonly doorsCloseAfterMs?: number;
  /** Run SQLite's quick_check when opening (default true): a damaged file is refused at once. */
  readonly checkIntegrity?: boolean;
  /**
   * After this many commits, checkpoint the WAL as soon as the event loop is free (default 128;
   * 0: never on its own, the owner calls `checkpoint()`). See "Checkpoints" in docs/gate-cache.md.
   */
  readonly checkpointEvery?: number;
}

/** Where and when a scan happened at this gate. */
export interface ScanPlace {
  readonly lane: number;
  readonly direction: Direction;
  /** Unix ms on the gate's clock. */
  readonly at: number;
}

export type AuthorizationState = "open" | "entered" | "exited" | "annulled";

export interface Authorization {
  readonly authorizationId: string;
  readonly ticketId: number;
  readonly generation?: number;
  readonly session: number;
  readonly gateId: string;
  readonly lane: number;
  readonly direction: Direction;
  readonly at: number;
  readonly reason: ReasonCode;
  readonly manual: boolean;
  readonly steward?: string;
  readonly override?: SupervisorOverride;
  readonly state: AuthorizationState;
  /** gateSeq of the `authorized` event. */
  readonly openedSeq: number;
  readonly closedAt?: number;
  /** gateSeq of the event that ended it (entered, exited, annulled). */
  readonly closedSeq?: number;
}

export interface Recorded {
  readonly event: EntryLogEvent;
}

export interface AuthorizationRecorded extends Recorded {
  readonly authorization: Authorization;
}

export interface PassageRecorded {
  readonly authorization: Authorization;
  /** The new event, or undefined when this passage had already been recorded (a repeated report). */
  readonly event?: EntryLogEvent;
}

export type { AnnulCause };

/** The detail of an `entered`/`exited` event recorded for a passage reported after its authorization was annulled. */
export const LATE_PASSAGE = "late-passage";

export interface ImportSummary {
  readonly venueId: string;
  readonly tickets: number;
  readonly revocations: number;
  readonly feedSequence: number;
  readonly trustListVersion: number;
  readonly generatedAt: string;
}

export interface ApplySummary {
  readonly applied: number;
  /** Changes at or below the sequence already applied, identical to what was applied (repeats). */
  readonly repeated: number;
  /**
   * Changes the issuer could not have made (a resale or transfer of a ticket that is not valid, a
   * revocation of a revoked generation): they changed nothing, the feed position moved past them.
   * The caller logs and reports each (the sync: a refusal report the server alerts on).
   */
  readonly refused: readonly RefusedChange[];
  readonly feedSequence: number;
}

export interface RefusedChange {
  readonly sequence: number;
  readonly type: TicketChange["type"];
  readonly ticketId: number;
  /** One line: the change and why it was refused. */
  readonly detail: string;
}

export type RemoteEntryOutcome = "recorded" | "duplicate" | "own";

export interface ManualAdmission {
  readonly ticketId: number;
  readonly session: number;
  readonly lane: number;
  readonly at: number;
  readonly steward: string;
  /** The entrance this gate stands at (default: the venue's entry for this gate). */
  readonly entrance?: number;
  /**
   * A supervisor's override, already checked by the caller (their code against the venue's signed
   * list): used only when the rules need one; the ticket's real state is added here.
   */
  readonly override?: Omit<SupervisorOverride, "state">;
}

interface AuthorizationRow {
  id: string;
  ticket: number;
  generation: number | null;
  session: number;
  gate: string;
  lane: number;
  direction: Direction;
  at: number;
  reason: ReasonCode;
  manual: number;
  steward: string | null;
  override: string | null;
  state: AuthorizationState;
  opened_seq: number;
  closed_at: number | null;
  closed_seq: number | null;
}

interface LogRow {
  gate_seq: number;
  event_id: string;
  gate: string;
  lane: number;
  kind: EntryLogEvent["kind"];
  direction: Direction;
  reason: ReasonCode;
  authorization_id: string | null;
  ticket: number | null;
  generation: number | null;
  session: number | null;
  manual: number;
  steward: string | null;
  override: string | null;
  at: number;
  detail: string | null;
  issuer_key: number | null;
}

type NewEvent = Omit<EntryLogEvent, "eventId" | "gateSeq" | "gateId">;

const APPLICATION = "sesame-gate-cache";

const TICKET_COLUMNS = 15;
const BATCH = 32;

/** The column values of a ticket row, in the order of the INSERT statements. */
function ticketValues(t: BundleTicket, keys: HolderKeys): Array<string | number> {
  return [
    t.id,
    t.generation,
    t.kind,
    t.status,
    t.sessions.join(","),
    t.entrance,
    t.zone,
    t.seat,
    t.categories.join(","),
    t.holder,
    keys.folded,
    t.orderReference,
    t.issueSequence,
    keys.names,
    searchSessions(t.sessions),
  ];
}
/**
 * Ticket rows for the bulk import, with the derived texts computed once per distinct word of the
 * holders' names (a crowd's names differ, their words repeat) and per distinct session list.
 */
class TicketKeys {
  private readonly holders = new HolderKeyCache();
  private readonly sessions = new Map<string, string>();

  /** Writes the row of `t` into `out` at `at`, in the column order of the INSERT; returns the next index. */
  fill(out: Array<string | number>, at: number, t: BundleTicket): number {
    const keys = this.holders.keys(t.holder);
    const sessions = t.sessions.length === 1 ? String(t.sessions[0]) : t.sessions.join(",");
    let search = this.sessions.get(sessions);
    if (search === undefined) {
      search = searchSessions(t.sessions);
      this.sessions.set(sessions, search);
    }
    let i = at;
    out[i++] = t.id;
    out[i++] = t.generation;
    out[i++] = t.kind;
    out[i++] = t.status;
    out[i++] = sessions;
    out[i++] = t.entrance;
    out[i++] = t.zone;
    out[i++] = t.seat;
    out[i++] = t.categories.length === 0 ? "" : t.categories.join(",");
    out[i++] = t.holder;
    out[i++] = keys.folded;
    out[i++] = t.orderReference;
    out[i++] = t.issueSequence;
    out[i++] = keys.names;
    out[i++] = search;
    return i;
  }
}

const DEFAULT_CLOSE_AFTER_MS = 60 * 60_000;
const DEFAULT_CHECKPOINT_EVERY = 128;
/**
 * Checkpoints start the WAL over rather than truncate it, so the WAL file keeps its size and later
 * commits overwrite it: a commit that overwrites frames of an existing file costs an fsync of data
 * alone, one that extends the file also commits the file system's journal (its size changed),
 * measured here 0.24 ms against 0.39 ms per durable commit back to back, 0.67 against 0.82 ms
 * for a lone one. A WAL grown past this (16 MiB, ~4,000 frames: an import, a backstop checkpoint)
 * is cut back to it when it restarts.
 */
const WAL_SIZE_LIMIT = 16 * 1024 * 1024;

interface OpenRequest {
  readonly ticketId: number;
  readonly generation?: number;
  readonly session: number;
  readonly reason: ReasonCode;
  readonly place: ScanPlace;
  readonly steward?: string;
  readonly override?: SupervisorOverride;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

function sqliteCode(error: unknown): string | undefined {
  return error instanceof Database.SqliteError ? error.code : undefined;
}

function eventFromRow(r: LogRow): EntryLogEvent {
  return {
    eventId: r.event_id,
    gateId: r.gate,
    gateSeq: r.gate_seq,
    lane: r.lane,
    kind: r.kind,
    direction: r.direction,
    reason: r.reason,
    ...(r.authorization_id !== null ? { authorizationId: r.authorization_id } : {}),
    ...(r.ticket !== null ? { ticketId: r.ticket } : {}),
    ...(r.generation !== null ? { generation: r.generation } : {}),
    ...(r.session !== null ? { session: r.session } : {}),
    manual: r.manual === 1,
    ...(r.steward !== null ? { steward: r.steward } : {}),
    ...(r.override !== null ? { override: JSON.parse(r.override) as SupervisorOverride } : {}),
    at: r.at,
    ...(r.detail !== null ? { detail: r.detail } : {}),
    ...(r.issuer_key !== null ? { issuerKeyId: r.issuer_key } : {}),
  };
}

function authorizationFromRow(r: AuthorizationRow): Authorization {
  return {
    authorizationId: r.id,
    ticketId: r.ticket,
    ...(r.generation !== null ? { generation: r.generation } : {}),
    session: r.session,
    gateId: r.gate,
    lane: r.lane,
    direction: r.direction,
    at: r.at,
    reason: r.reason,
    manual: r.manual === 1,
    ...(r.steward !== null ? { steward: r.steward } : {}),
    ...(r.override !== null ? { override: JSON.parse(r.override) as SupervisorOverride } : {}),
    state: r.state,
    openedSeq: r.opened_seq,
    ...(r.closed_at !== null ? { closedAt: r.closed_at } : {}),
    ...(r.closed_seq !== null ? { closedSeq: r.closed_seq } : {}),
  };
}

/** Reads a file's identity before anything is written to it. */
function identify(db: Database.Database, path: string): "new" | "ours" {
  const appId = Number(db.pragma("application_id", { simple: true }));
  const version = schemaVersion(db);
  const tables = (
    db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{
      name: string;
    }>
  ).map((t) => t.name);
  if (appId === APPLICATION_ID) {
    if (version > LATEST_VERSION) {
      throw new CacheFileError(
        path,
        `was written by a newer Sésame (schema ${version}; this one knows up to ${LATEST_VERSION}); upgrade the gate software or start a new cache`,
      );
    }
    return "ours";
  }
  if (appId === 0 && version === 0 && tables.length === 0) return "new";
  const listed = tables.slice(0, 5).join(", ") + (tables.length > 5 ? ", …" : "");
  throw new CacheFileError(
    path,
    `is a SQLite database but not a Sésame gate cache (application_id 0x${(appId >>> 0).toString(16)}${tables.length ? `, tables: ${listed}` : ""}); refusing to touch it`,
  );
}

function prepareStatements(db: Database.Database) {
  const prepare = (sql: string) => db.prepare(sql);
  return {
    meta: prepare("SELECT value FROM meta WHERE key = ?"),
    setMeta: prepare(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    ),
    nextSeq: prepare("SELECT COALESCE(MAX(gate_seq), 0) + 1 AS seq FROM entry_log"),
    // Positional parameters: binding an object by names costs more than the row itself.
    insertEvent: prepare(
      `INSERT INTO entry_log (gate_seq, event_id, gate, lane, kind, direction, reason, authorization_id,
         ticket, generation, session, manual, steward, override, at, detail, issuer_key)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    eventAt: prepare("SELECT event_id FROM entry_log WHERE gate_seq = ?"),
    insertAuthorization: prepare(
      `INSERT INTO authorizations (id, ticket, generation, session, gate, lane, direction, at, reason, manual,
         steward, override, state, opened_seq)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?)`,
    ),
    authorization: prepare("SELECT * FROM authorizations WHERE id = ?"),
    openFor: prepare(
      "SELECT id, gate, lane FROM authorizations WHERE ticket = ? AND session = ? AND state = 'open'",
    ),
    closeAuthorization: prepare(
      "UPDATE authorizations SET state = ?, closed_at = ?, closed_seq = ? WHERE id = ? AND state = ?",
    ),
    eventDetail: prepare("SELECT detail FROM entry_log WHERE gate_seq = ?"),
    openAuthorizations: prepare("SELECT * FROM authorizations WHERE state = 'open' ORDER BY opened_seq"),
    seen: prepare(
      "SELECT state, first_entry_at, first_entry_gate, last_at, last_gate FROM seen WHERE ticket = ? AND session = ?",
    ),
    // A ticket's state follows the order of its movements (docs/gate-cache.md, "Movements and their
    // order"), never their clocks. This gate's own passage comes after everything it knew: it sets
    // the state at once, unplaced (last_order NULL) until the admissions fan-out brings it back.
    ownMovement: prepare(
      `INSERT INTO seen (ticket, session, state, first_entry_at, first_entry_gate, last_at, last_gate,
         last_order, last_gate_seq)
       VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?)
       ON CONFLICT (ticket, session) DO UPDATE SET state = excluded.state, last_at = excluded.last_at,
         last_gate = excluded.last_gate, last_order = NULL, last_gate_seq = excluded.last_gate_seq`,
    ),
    // Another gate's movement sets the state if it comes later in the venue's order: after the
    // movement held by its place in the fan-out (placed = 1), or, unplaced, after an older movement
    // of its own gate (its gateSeq) or one of another gate (arrival). Never over an own movement
    // the fan-out has not placed yet: what the fan-out brings before it came before it.
    remoteMovement: prepare(
      `INSERT INTO seen (ticket, session, state, first_entry_at, first_entry_gate, last_at, last_gate,
         last_order, last_gate_seq)
       VALUES (@ticket, @session, @state, @at, @gate, @at, @gate, @order, @gateSeq)
       ON CONFLICT (ticket, session) DO UPDATE SET state = excluded.state, last_at = excluded.last_at,
         last_gate = excluded.last_gate, last_gate_seq = excluded.last_gate_seq,
         last_order = CASE WHEN @placed = 1 THEN excluded.last_order ELSE seen.last_order END
       WHERE seen.last_order IS NOT NULL AND CASE
         WHEN @placed = 1 THEN excluded.last_order > seen.last_order
         WHEN seen.last_gate = excluded.last_gate THEN excluded.last_gate_seq > seen.last_gate_seq
         ELSE 1 END`,
    ),
    // The fan-out brought back this gate's own movement: it takes its place in the venue's order.
    placeOwnMovement: prepare(
      `UPDATE seen SET last_order = ? WHERE ticket = ? AND session = ? AND last_gate = ? AND last_gate_seq = ?
         AND last_order IS NULL`,
    ),
    // A generation admitted (here or elsewhere) newer than the ticket's row: the feed is behind.
    // Positional (ticket, generation, generation, ticket): it runs in every authorization.
    generationSeen: prepare(
      `INSERT INTO generations_seen (ticket, generation)
       SELECT ?, ? WHERE ? > COALESCE((SELECT generation FROM tickets WHERE id = ?), -1)
       ON CONFLICT (ticket) DO UPDATE SET generation = excluded.generation
         WHERE excluded.generation > generations_seen.generation`,
    ),
    ticketEntrance: prepare("SELECT entrance FROM tickets WHERE id = ?").pluck(),
    ticket: prepare(
      "SELECT id, generation, kind, status, sessions, entrance, zone, seat, categories, holder, order_ref FROM tickets WHERE id = ?",
    ),
    upsertTicket: prepare(
      `INSERT INTO tickets (id, generation, kind, status, sessions, entrance, zone, seat, categories, holder,
         holder_key, order_ref, issue_sequence, search_names, search_sessions)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET generation = excluded.generation, kind = excluded.kind,
         status = excluded.status, sessions = excluded.sessions, entrance = excluded.entrance,
         zone = excluded.zone, seat = excluded.seat, categories = excluded.categories,
         holder = excluded.holder, holder_key = excluded.holder_key, order_ref = excluded.order_ref,
         issue_sequence = excluded.issue_sequence, search_names = excluded.search_names,
         search_sessions = excluded.search_sessions`,
    ),
    searchRow: prepare("SELECT search_names, search_sessions FROM tickets WHERE id = ?"),
    // The full-text index has external content: it is told what to forget and what to index.
    unindex: prepare(
      "INSERT INTO ticket_search (ticket_search, rowid, search_names, search_sessions) VALUES ('delete', ?, ?, ?)",
    ),
    index: prepare("INSERT INTO ticket_search (rowid, search_names, search_sessions) VALUES (?, ?, ?)"),
    upsertRevocation: prepare(
      `INSERT INTO revocations (ticket, generation, reason, sequence) VALUES (?, ?, ?, ?)
       ON CONFLICT (ticket, generation) DO UPDATE SET reason = excluded.reason, sequence = excluded.sequence`,
    ),
    feedApplied: prepare("SELECT applied FROM feed_state WHERE id = 1"),
    setFeedApplied: prepare("UPDATE feed_state SET applied = ? WHERE id = 1"),
    feedChange: prepare("SELECT change FROM feed_changes WHERE sequence = ?"),
    insertFeedChange: prepare(
      "INSERT INTO feed_changes (sequence, type, change, refused) VALUES (?, ?, ?, ?)",
    ),
    revocation: prepare("SELECT reason FROM revocations WHERE ticket = ? AND generation = ?").pluck(),
    trustList: prepare("SELECT version, json FROM trust_list WHERE id = 1"),
    setTrustList: prepare(
      `INSERT INTO trust_list (id, version, json) VALUES (1, ?, ?)
       ON CONFLICT (id) DO UPDATE SET version = excluded.version, json = excluded.json`,
    ),
    acknowledged: prepare("SELECT acknowledged FROM outbox WHERE id = 1"),
    setAcknowledged: prepare("UPDATE outbox SET acknowledged = ? WHERE id = 1"),
    pending: prepare(
      "SELECT * FROM entry_log WHERE gate_seq > max(?, (SELECT acknowledged FROM outbox WHERE id = 1)) ORDER BY gate_seq LIMIT ?",
    ),
    events: prepare("SELECT * FROM entry_log WHERE gate_seq >= ? ORDER BY gate_seq LIMIT ?"),
    insertRemote: prepare(
      `INSERT OR IGNORE INTO remote_events (event_id, gate, gate_seq, kind, ticket, session, at, event)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
  };
}

export class GateStore {
  readonly gateId: string;
  /** Random id of this log: a new cache file starts a new log, even for the same gate. */
  readonly logEpoch: string;
  private readonly rootKey: Uint8Array;
  private readonly verifier: Ed25519Verifier;
  private readonly newId: () => string;
  private readonly closeAfterMs: number;
  private venueState: VenueState | undefined;
  private factsView: CacheFacts | undefined;
  private lookupView: Lookup | undefined;
  private readonly stmt: ReturnType<typeof prepareStatements>;
  /** The recording transactions, built once (a transaction function per call costs ~20 µs). */
  private readonly tx: ReturnType<GateStore["transactions"]>;
  private readonly walMode: boolean;
  private readonly checkpointEvery: number;
  private commitsSinceCheckpoint = 0;
  private checkpointSoon: NodeJS.Immediate | undefined;

  private constructor(
    private readonly db: Database.Database,
    readonly path: string,
    options: OpenOptions,
  ) {
    this.gateId = options.gateId;
    this.rootKey = options.rootPublicKey;
    this.verifier = options.verifier ?? createNodeVerifier();
    this.newId = options.newId ?? (() => uuidv7());
    this.closeAfterMs = options.doorsCloseAfterMs ?? DEFAULT_CLOSE_AFTER_MS;
    this.checkpointEvery = options.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY;
    this.walMode = this.journalMode() === "wal";
    this.stmt = prepareStatements(db);
    this.tx = this.transactions();
    this.logEpoch = this.metaValue("log_epoch") ?? "";
    this.reload();
  }

  private transactions() {
    const db = this.db;
    return {
      open: db.transaction((a: OpenRequest, id: string) => this.insertAuthorization(a, id)),
      passage: db.transaction((id: string, at: number) => this.recordPassage(id, at, false)),
      latePassage: db.transaction((id: string, at: number) => this.recordPassage(id, at, true)),
      annul: db.transaction((id: string, at: number, cause: AnnulCause): Recorded | undefined => {
        const row = this.stmt.authorization.get(id) as AuthorizationRow | undefined;
        if (!row) throw new JournalError(`unknown authorization ${id}`);
        return this.annulRow(row, at, cause);
      }),
      append: db.transaction((e: NewEvent): Recorded => ({ event: this.append(e) })),
      // Made once: the fan-out runs it for every admissions message (a new wrapper costs ~6 µs).
      remote: db.transaction(
        (events: readonly EntryLogEvent[], positions: readonly number[] | undefined): RemoteEntryOutcome[] =>
          events.map((event, i) => this.applyRemoteEntry(event, positions?.[i])),
      ),
    };
  }

  /**
   * Opens (or creates) a gate cache. Refuses, with a message saying why, a file that is not SQLite,
   * a SQLite file that is not a Sésame cache, one from a newer schema, a damaged one, or one made
   * for another venue root key or another gate.
   */
  static open(path: string, options: OpenOptions): GateStore {
    if (path !== ":memory:" && existsSync(path) && statSync(path).isDirectory())
      throw new CacheFileError(path, "is a directory, not a database file");
    let db: Database.Database;
    try {
      db = new Database(path);
    } catch (error) {
      throw new CacheFileError(path, `cannot be opened (${error instanceof Error ? error.message : error})`);
    }
    try {
      // The gate process is the cache's only user: holding its lock for the whole session spares
      // every statement and commit the lock and shared-memory round trips (the WAL index lives in
      // the process's memory), and a second process opening the same cache is refused at once
      // instead of numbering events alongside it. Set before the first read so the WAL opens so.
      db.pragma("locking_mode = EXCLUSIVE");
      const kind = identify(db, path);
      if (options.checkIntegrity !== false && kind === "ours") {
        const problems = (db.pragma("quick_check") as Array<{ quick_check: string }>)
          .map((r) => r.quick_check)
          .filter((m) => m !== "ok");
        if (problems.length > 0)
          throw new CacheFileError(
            path,
            `is damaged (${problems.slice(0, 3).join("; ")}); start a new cache`,
          );
      }
      db.pragma("journal_mode = WAL");
      // better-sqlite3 leaves WAL at NORMAL, where a power cut can lose the last commits: an
      // `authorized` record must survive before the turnstile moves.
      db.pragma("synchronous = FULL");
      db.pragma("busy_timeout = 5000");
      // Room for a whole bundle import in memory: fewer dirty pages spilled to the WAL mid-transaction.
      db.pragma("cache_size = -65536");
      // Checkpoints copy the WAL into the database with fsyncs of their own: the store runs them
      // between scans (checkpointEvery) and after an import; the automatic one is only a backstop
      // (~40 MB) for a process whose event loop never gets free.
      db.pragma("wal_autocheckpoint = 10000");
      db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
      migrate(db);
      const rootHex = hex(options.rootPublicKey);
      const meta = (key: string) =>
        (db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as { value: string } | undefined)?.value;
      if (meta("application") === undefined) {
        const set = db.prepare("INSERT INTO meta (key, value) VALUES (?, ?)");
        db.transaction(() => {
          set.run("application", APPLICATION);
          set.run("gate_id", options.gateId);
          set.run("root_public_key", rootHex);
          set.run("log_epoch", randomUUID());
          set.run("created_at", new Date().toISOString());
        }).immediate();
      }
      const rootHeld = meta("root_public_key");
      if (rootHeld !== rootHex) {
        throw new CacheFileError(
          path,
          `belongs to a venue with another root key (${rootHeld?.slice(0, 16)}…, not ${rootHex.slice(0, 16)}…); use a new cache for this venue`,
        );
      }
      const gateHeld = meta("gate_id");
      if (gateHeld !== options.gateId) {
        throw new CacheFileError(
          path,
          `is the cache of gate ${gateHeld}, not ${options.gateId}: each gate keeps its own cache and numbers its own events`,
        );
      }
      return new GateStore(db, path, options);
    } catch (error) {
      db.close();
      if (error instanceof CacheError) throw error;
      const code = sqliteCode(error);
      const message = error instanceof Error ? error.message : String(error);
      if (code === "SQLITE_NOTADB")
        throw new CacheFileError(
          path,
          "is not a SQLite database (another kind of file, or its header is damaged)",
        );
      if (code === "SQLITE_CORRUPT")
        throw new CacheFileError(path, `is damaged (${message}); start a new cache`);
      if (code === "SQLITE_BUSY")
        throw new CacheFileError(
          path,
          "is in use by another process (a gate holds its cache for as long as it runs); stop that gate first",
        );
      throw new CacheFileError(path, `cannot be used (${code ?? ""} ${message})`);
    }
  }

  /**
   * Copies the WAL into the database file, then starts the WAL over from its beginning (its file
   * keeps its size: later commits overwrite it rather than extend it). The store does this on its
   * own every `checkpointEvery` commits, once the event loop is free; a scan arriving meanwhile
   * waits for it (a few ms). PASSIVE: it never waits for readers, so it may leave part of the WAL
   * for next time.
   */
  checkpoint(): void {
    this.commitsSinceCheckpoint = 0;
    if (!this.walMode) return;
    const [r] = this.db.pragma("wal_checkpoint(PASSIVE)") as Array<{
      busy: number;
      log: number;
      checkpointed: number;
    }>;
    // The first write after a complete checkpoint restarts the WAL: it writes and fsyncs a new WAL
    // header before its own commit, a second fsync. Pay it here rather than in the next scan.
    if (r && r.busy === 0 && r.log > 0 && r.checkpointed === r.log)
      this.stmt.setMeta.run("checkpointed_at", new Date().toISOString());
  }

  close(): void {
    if (this.checkpointSoon) clearImmediate(this.checkpointSoon);
    this.checkpointSoon = undefined;
    if (this.db.open) this.db.close();
  }

  /** After each recording commit: schedules the WAL checkpoint once enough commits accumulated. */
  private committed(): void {
    if (++this.commitsSinceCheckpoint < this.checkpointEvery || this.checkpointEvery <= 0) return;
    if (this.checkpointSoon) return;
    // Not now: the caller is waiting for this commit to tell the turnstile. Once the event loop is
    // free (the unlock sent), before the next scan's event is handled.
    this.checkpointSoon = setImmediate(() => {
      this.checkpointSoon = undefined;
      if (!this.db.open) return;
      try {
        this.checkpoint();
      } catch {
        // Busy (another process reading) or closing: the next commits schedule it again.
      }
    });
    this.checkpointSoon.unref();
  }

  private journalMode(): string {
    return String(this.db.pragma("journal_mode", { simple: true }));
  }

  get schemaVersion(): number {
    return schemaVersion(this.db);
  }

  /** Whether a gate bundle has been imported (the cache can decide). */
  get imported(): boolean {
    return this.venueState !== undefined;
  }

  /** Every ticket change up to this sequence is in the cache. */
  get feedSequence(): number {
    return (this.stmt.feedApplied.get() as { applied: number }).applied;
  }

  get venue(): VenueState {
    if (!this.venueState)
      throw new CacheError(`gate cache ${this.path} is empty: import the venue's gate bundle first`);
    return this.venueState;
  }

  /** The live GateFacts view for the admission core (same object across imports and feed changes). */
  facts(): GateFacts {
    const venue = this.venue;
    if (!this.factsView) this.factsView = new CacheFacts(this.db, venue);
    return this.factsView;
  }

  // ---------------------------------------------------------------------------------------------
  // Venue data: bundle import, feed changes, trust list

  /**
   * Imports the gate bundle of a venue directory: checks the root key's signature and the trust
   * list inside (readGateBundle), refuses another venue or an older trust list or feed, then
   * replaces the venue data in one transaction. The journal (seen, log, authorizations) is kept.
   */
  importBundle(dir: string, options: { readonly bundleKey?: Uint8Array } = {}): ImportSummary {
    let verified: ReturnType<typeof readGateBundle>;
    try {
      // A snapshot is signed by the operations key (checked by the sync against its certificate).
      verified = readGateBundle(dir, this.rootKey, this.verifier, options.bundleKey ?? this.rootKey);
    } catch (error) {
      if (error instanceof VenueFileError) throw new BundleError(`gate bundle refused: ${error.message}`);
      throw error;
    }
    const { bundle, trustList } = verified;
    const venue = bundle.venue;
    const held = this.metaValue("venue_id");
    if (held !== undefined && held !== venue.id)
      throw new BundleError(`gate bundle is for venue ${venue.id}, but this cache holds venue ${held}`);
    if (!venue.gates.some((g) => g.id === this.gateId))
      throw new BundleError(
        `gate ${this.gateId} is not a gate of venue ${venue.id} (its gates: ${venue.gates.map((g) => g.id).join(", ")})`,
      );
    this.checkTrustVersion(trustList);
    const applied = this.feedSequence;
    if (bundle.feedSequence < applied)
      throw new BundleError(
        `gate bundle includes the ticket feed up to ${bundle.feedSequence}, but this cache has applied up to ${applied}: refusing to go back`,
      );
    let tickets: readonly BundleTicket[];
    let revocations: Revocation[];
    let supervisors: Supervisor[];
    try {
      if (!Array.isArray(bundle.tickets) || !Array.isArray(bundle.revocations))
        throw new ShapeError("tickets and revocations must be lists");
      // Checked in place (no copy); checkTicket says what is wrong with a bad one.
      tickets = bundle.tickets;
      for (let i = 0; i < tickets.length; i++)
        if (!isValidTicket(tickets[i])) checkTicket(tickets[i], `tickets[${i}]`);
      revocations = bundle.revocations.map((r, i) => checkRevocation(r, `revocations[${i}]`));
      supervisors = checkSupervisors(venue.supervisors);
    } catch (error) {
      if (error instanceof ShapeError || error instanceof SupervisorCodeError)
        throw new BundleError(`gate bundle refused: ${error.message}`);
      throw error;
    }
    try {
      this.importTransaction(bundle, trustList, tickets, revocations, supervisors);
    } catch (error) {
      // A signed bundle that breaks the schema (two tickets with one id…): refused as a whole.
      if (sqliteCode(error)?.startsWith("SQLITE_CONSTRAINT"))
        throw new BundleError(`gate bundle refused: ${(error as Error).message}`);
      throw error;
    }
    // Fold the imported pages into the database now rather than during the first scans. The WAL
    // file keeps the size the import gave it (up to WAL_SIZE_LIMIT): scans overwrite it.
    this.checkpoint();
    this.reload();
    return {
      venueId: venue.id,
      tickets: tickets.length,
      revocations: revocations.length,
      feedSequence: bundle.feedSequence,
      trustListVersion: trustList.version,
      generatedAt: bundle.generatedAt,
    };
  }

  private importTransaction(
    bundle: GateBundle,
    trustList: TrustList,
    tickets: readonly BundleTicket[],
    revocations: readonly Revocation[],
    supervisors: readonly Supervisor[],
  ): void {
    const venue = bundle.venue;
    this.db
      .transaction(() => {
        this.db.exec(
          "DELETE FROM sessions; DELETE FROM zones; DELETE FROM entrances; DELETE FROM entrance_zones; DELETE FROM gates; DELETE FROM tickets; DELETE FROM revocations;",
        );
        const session = this.db.prepare(
          "INSERT INTO sessions (id, code, name, doors_open, starts, ends, reentry) VALUES (?, ?, ?, ?, ?, ?, ?)",
        );
        for (const s of venue.sessions)
          session.run(s.id, s.code, s.name, s.doorsOpen, s.start, s.end, s.reentry);
        const zone = this.db.prepare("INSERT INTO zones (id, code, name, capacity) VALUES (?, ?, ?, ?)");
        for (const z of venue.zones) zone.run(z.id, z.code, z.name, z.capacity);
        const entrance = this.db.prepare("INSERT INTO entrances (id, code, name) VALUES (?, ?, ?)");
        const entranceZone = this.db.prepare(
          "INSERT INTO entrance_zones (entrance, position, zone) VALUES (?, ?, ?)",
        );
        for (const e of venue.entrances) {
          entrance.run(e.id, e.code, e.name);
          for (const [i, z] of e.zones.entries()) entranceZone.run(e.id, i, z);
        }
        const gate = this.db.prepare("INSERT INTO gates (id, entrance, lanes) VALUES (?, ?, ?)");
        for (const g of venue.gates) gate.run(g.id, g.entrance, g.lanes);
        // Bulk load: the order-reference index is rebuilt once at the end (faster than row by row),
        // and holder names, which repeat a lot, are folded once each.
        this.db.exec("DROP INDEX tickets_order_ref");
        // Rows go in by batches of BATCH: one statement call per batch costs less than one per row.
        const columns = `INSERT INTO tickets (id, generation, kind, status, sessions, entrance, zone, seat, categories,
           holder, holder_key, order_ref, issue_sequence, search_names, search_sessions) VALUES `;
        const row = `(${Array(TICKET_COLUMNS).fill("?").join(", ")})`;
        const insertOne = this.db.prepare(columns + row);
        const insertBatch = this.db.prepare(columns + Array(BATCH).fill(row).join(", "));
        const keys = new TicketKeys();
        // One array, refilled for each batch (the statement reads it during the call only).
        const values: Array<string | number> = new Array(BATCH * TICKET_COLUMNS);
        let filled = 0;
        for (const t of tickets) {
          filled = keys.fill(values, filled, t);
          if (filled === values.length) {
            // Spread: better-sqlite3 reads arguments faster than the elements of one array.
            insertBatch.run(...values);
            filled = 0;
          }
        }
        for (let i = 0; i < filled; i += TICKET_COLUMNS)
          insertOne.run(...values.slice(i, i + TICKET_COLUMNS));
        this.db.exec("CREATE INDEX tickets_order_ref ON tickets (order_ref COLLATE NOCASE)");
        this.db.exec("INSERT INTO ticket_search (ticket_search) VALUES ('rebuild')");
        const revoke = this.stmt.upsertRevocation;
        for (const r of revocations) revoke.run(r.ticketId, r.generation, r.reason, r.sequence);
        this.stmt.setTrustList.run(trustList.version, JSON.stringify(bundle.trustList));
        for (const [key, value] of [
          ["venue_id", venue.id],
          ["venue_name", venue.name],
          ["timezone", venue.timezone],
          ["bundle_generated_at", bundle.generatedAt],
          ["bundle_feed_sequence", String(bundle.feedSequence)],
          ["supervisors", JSON.stringify(supervisors)],
        ] as const)
          this.stmt.setMeta.run(key, value);
        this.stmt.setFeedApplied.run(bundle.feedSequence);
      })
      .immediate();
  }

  /**
   * Applies ticket-feed changes in one transaction, in the order given. A change at or below the
   * sequence already applied is a repeat and changes nothing (it must be identical to what was
   * applied, when that is known); a change above the next expected sequence is a gap and refuses
   * the whole batch, as does any bad change: nothing is half-applied.
   */
  applyChanges(changes: readonly TicketChange[]): ApplySummary {
    this.requireImported(); // an empty cache has no feed position to apply from
    let applied = 0;
    let repeated = 0;
    let position = 0;
    const refused: RefusedChange[] = [];
    try {
      this.db
        .transaction(() => {
          position = this.feedSequence;
          changes.forEach((raw, i) => {
            const change = checkChange(raw, `change[${i}]`);
            const text = canonicalJson(change);
            if (change.sequence <= position) {
              const before = (this.stmt.feedChange.get(change.sequence) as { change: string } | undefined)
                ?.change;
              if (before !== undefined && before !== text)
                throw new FeedError(
                  `ticket feed conflict: change ${change.sequence} differs from the change ${change.sequence} already applied (${before.slice(0, 80)}…)`,
                  change.sequence,
                );
              repeated++;
              return;
            }
            if (change.sequence > position + 1)
              throw new FeedGapError(position + 1, change.sequence, position);
            const why = this.applyChange(change);
            this.stmt.insertFeedChange.run(change.sequence, change.type, text, why ?? null);
            position = change.sequence;
            if (why === undefined) applied++;
            else
              refused.push({
                sequence: change.sequence,
                type: change.type,
                ticketId: change.type === "issue" ? change.ticket.id : change.ticketId,
                detail: `ticket feed: change ${change.sequence} (${change.type} of ticket ${change.type === "issue" ? change.ticket.id : change.ticketId}) refused, nothing changed: ${why}`,
              });
          });
          this.stmt.setFeedApplied.run(position);
        })
        .immediate();
    } catch (error) {
      if (error instanceof ShapeError) throw new FeedError(`ticket feed: ${error.message}`, Number.NaN);
      throw error;
    }
    if (applied + refused.length > 0) this.committed();
    if (this.venueState) this.setVenueState({ ...this.venueState, feedSequence: position });
    return { applied, repeated, refused, feedSequence: position };
  }

  /** Installs a newer trust list received on its own (signed by the root key; never an older one). */
  applyTrustList(input: unknown): { version: number } {
    const venue = this.venue;
    const r = verifyTrustList(input, this.rootKey, this.verifier, { venue: venue.venueId });
    if (!r.ok) throw new BundleError(`trust list refused (${r.reason}): ${r.detail}`);
    this.checkTrustVersion(r.list);
    const json = typeof input === "string" ? input : JSON.stringify(input);
    this.db.transaction(() => this.stmt.setTrustList.run(r.list.version, json)).immediate();
    this.reload();
    return { version: r.list.version };
  }

  /**
   * The venue gate list held (its signed JSON text), for the sync's admissions check. The sync
   * verifies it against the operations key before saving; kept beside the venue's meta.
   */
  gateListJson(): string | undefined {
    return this.metaValue("gate_list");
  }

  saveGateList(json: string): void {
    this.db.transaction(() => this.stmt.setMeta.run("gate_list", json)).immediate();
  }

  /** The entrance of a ticket held, or undefined (the admissions plausibility check). */
  ticketEntrance(ticketId: number): number | undefined {
    return this.stmt.ticketEntrance.get(ticketId) as number | undefined;
  }

  private checkTrustVersion(list: TrustList): void {
    const held = this.stmt.trustList.get() as { version: number } | undefined;
    if (held && list.version < held.version)
      throw new BundleError(
        `trust list version ${list.version} is older than the one held (${held.version}): refusing a rollback`,
      );
  }

  private reindexTicket(t: BundleTicket): void {
    const before = this.stmt.searchRow.get(t.id) as
      | { search_names: string; search_sessions: string }
      | undefined;
    if (before) this.stmt.unindex.run(t.id, before.search_names, before.search_sessions);
    const keys = holderKeys(t.holder);
    this.stmt.upsertTicket.run(...ticketValues(t, keys));
    this.stmt.index.run(t.id, keys.names, searchSessions(t.sessions));
  }

  private heldTicket(ticketId: number, change: TicketChange): BundleTicket & { issueSequence: number } {
    const row = this.stmt.ticket.get(ticketId) as TicketRow | undefined;
    if (!row)
      throw new FeedError(
        `ticket feed: change ${change.sequence} (${change.type}) is about ticket ${ticketId}, which this cache does not hold; download a fresh snapshot`,
        change.sequence,
      );
    return { ...ticketFromRow(row), issueSequence: change.sequence };
  }

  /**
   * Applies one change of the feed; returns why it is refused when the issuer could not have made
   * it (a resale of a cancelled ticket…): then it changes nothing. Throws FeedError when the cache
   * is out of step with the feed (an unknown ticket, an older generation): a snapshot is due.
   */
  private applyChange(change: TicketChange): string | undefined {
    switch (change.type) {
      case "issue": {
        const row = this.stmt.ticket.get(change.ticket.id) as TicketRow | undefined;
        if (row && row.generation > change.ticket.generation)
          throw new FeedError(
            `ticket feed: change ${change.sequence} issues ticket ${change.ticket.id} generation ${change.ticket.generation}, older than the generation ${row.generation} held`,
            change.sequence,
          );
        this.reindexTicket(change.ticket);
        return undefined;
      }
      case "resale":
      case "transfer": {
        const held = this.heldTicket(change.ticketId, change);
        if (change.generation <= held.generation)
          throw new FeedError(
            `ticket feed: change ${change.sequence} (${change.type}) gives ticket ${change.ticketId} generation ${change.generation}, but generation ${held.generation} is already held`,
            change.sequence,
          );
        // The issuer resells or transfers only a valid ticket: a cancelled one stays cancelled.
        if (held.status !== "valid")
          return `the ticket is ${held.status}: only a valid ticket is resold or transferred`;
        const reason = change.type === "resale" ? "resold" : "transferred";
        const refused = this.revocationConflict(change.ticketId, change.generation - 1);
        if (refused) return refused;
        this.stmt.upsertRevocation.run(change.ticketId, change.generation - 1, reason, change.sequence);
        this.reindexTicket({ ...held, generation: change.generation, holder: change.holder });
        return undefined;
      }
      case "cancel": {
        const held = this.heldTicket(change.ticketId, change);
        if (held.status !== "valid") return `the ticket is already ${held.status}`;
        const refused = this.revocationConflict(change.ticketId, held.generation);
        if (refused) return refused;
        this.stmt.upsertRevocation.run(change.ticketId, held.generation, "cancelled", change.sequence);
        this.reindexTicket({ ...held, status: "cancelled" });
        return undefined;
      }
    }
  }

  /** A revocation is never rewritten: a change that would revoke a revoked generation again is refused. */
  private revocationConflict(ticketId: number, generation: number): string | undefined {
    const held = this.stmt.revocation.get(ticketId, generation) as string | undefined;
    return held === undefined ? undefined : `generation ${generation} is already revoked (${held})`;
  }

  // ---------------------------------------------------------------------------------------------
  // The journal: authorizations, passages, refusals, the seen table and the entry-event log

  /**
   * Records `authorized` for an ADMIT decision (or, with `steward`, an ASSISTED one the steward
   * confirmed). Durable when it returns: only then may the lane unlock.
   */
  authorize(decision: Decision, place: ScanPlace, options: { steward?: string } = {}): AuthorizationRecorded {
    const first = transition("scanned", { type: "decided", decision, direction: place.direction });
    if (!first.ok) throw new JournalError(first.error);
    let step = first;
    if (options.steward !== undefined) {
      if (first.state !== "awaiting-steward")
        throw new JournalError(`a steward confirms only an ASSISTED decision, not ${decision.reason}`);
      const confirmed = transition(first.state, { type: "steward-confirmed", steward: options.steward });
      if (!confirmed.ok) throw new JournalError(confirmed.error);
      step = confirmed;
    }
    if (step.record !== "authorized")
      throw new JournalError(
        `decision ${decision.outcome} ${decision.reason} does not authorize a passage${first.state === "awaiting-steward" ? " without a steward's confirmation" : ""}`,
      );
    if (decision.ticketId === undefined || decision.session === undefined)
      throw new JournalError(`decision ${decision.reason} names no ticket and session`);
    return this.openAuthorization({
      ticketId: decision.ticketId,
      ...(decision.generation !== undefined ? { generation: decision.generation } : {}),
      session: decision.session,
      reason: decision.reason,
      place,
      ...(options.steward !== undefined ? { steward: options.steward } : {}),
    });
  }

  /**
   * A steward admits by hand a ticket found by the printed-confirmation lookup (no code scanned),
   * under the manual admission rules (gate-core checkManualAdmission, docs/design.md §1): alone, a
   * valid printed ticket of this gate's entrance for an open session, recorded PRINTED_CONFIRMATION;
   * anything else only with a supervisor's override, recorded SUPERVISOR_OVERRIDE with the override
   * and the ticket's real state. Refused otherwise with a ManualAdmissionError saying why.
   */
  admitManually(request: ManualAdmission): AuthorizationRecorded {
    if (request.steward.trim() === "")
      throw new JournalError("a manual admission needs the steward's identity");
    const entrance =
      request.entrance ?? this.venue.gates.find((g) => g.id === this.gateId)?.entrance ?? Number.NaN;
    const verdict = checkManualAdmission(
      request.ticketId,
      request.session,
      { entrance, nowMs: request.at, doorsCloseAfterMs: this.closeAfterMs },
      this.facts(),
    );
    if (verdict.kind === "refused")
      throw new ManualAdmissionError(verdict.detail, verdict.reason, false, verdict.messages);
    if (verdict.kind === "supervisor" && !request.override)
      throw new ManualAdmissionError(
        `ticket ${request.ticketId} needs a supervisor's override to be admitted by hand (${verdict.state}: ${verdict.messages.en.headline})`,
        verdict.state,
        true,
        verdict.messages,
      );
    const override =
      verdict.kind === "supervisor" && request.override
        ? { supervisor: request.override.supervisor, note: request.override.note, state: verdict.state }
        : undefined;
    return this.openAuthorization({
      ticketId: verdict.ticket.id,
      generation: verdict.ticket.generation,
      session: request.session,
      reason: override ? "SUPERVISOR_OVERRIDE" : "PRINTED_CONFIRMATION",
      place: { lane: request.lane, direction: "entry", at: request.at },
      steward: request.steward,
      ...(override ? { override } : {}),
    });
  }

  /**
   * A supervisor's code refused (wrong, or no such supervisor) for a manual admission: recorded as
   * a refusal OVERRIDE_REFUSED with the steward's identity, so that supervisors see it and are alerted.
   */
  recordOverrideRefused(
    request: Omit<ManualAdmission, "override" | "entrance"> & { detail: string },
  ): Recorded {
    const recorded = this.tx.append.immediate({
      lane: request.lane,
      kind: "refused",
      direction: "entry",
      reason: "OVERRIDE_REFUSED",
      ticketId: request.ticketId,
      session: request.session,
      manual: true,
      steward: request.steward,
      at: request.at,
      detail: request.detail.slice(0, 200),
    });
    this.committed();
    return recorded;
  }

  private openAuthorization(a: OpenRequest): AuthorizationRecorded {
    const recorded = this.tx.open.immediate(a, this.newId());
    this.committed();
    return recorded;
  }

  /**
   * The `authorized` record (inside the caller's transaction): two rows, the log event and the
   * authorization, and two indexed reads that guard "one ticket in once".
   */
  private insertAuthorization(a: OpenRequest, id: string): AuthorizationRecorded {
    const open = this.stmt.openFor.get(a.ticketId, a.session) as
      | { id: string; gate: string; lane: number }
      | undefined;
    if (open)
      throw new JournalError(
        `ticket ${a.ticketId} already has a passage pending at ${open.gate}/${open.lane} (authorization ${open.id})`,
      );
    if (a.place.direction === "entry") {
      const seen = this.stmt.seen.get(a.ticketId, a.session) as SeenRow | undefined;
      if (seen?.state === "inside")
        throw new JournalError(
          `ticket ${a.ticketId} is already inside for session ${a.session} (entered at ${seen.first_entry_gate})`,
        );
    }
    this.generationSeen(a.ticketId, a.generation);
    const manual = a.steward !== undefined;
    const event = this.append({
      lane: a.place.lane,
      kind: "authorized",
      direction: a.place.direction,
      reason: a.reason,
      authorizationId: id,
      ticketId: a.ticketId,
      ...(a.generation !== undefined ? { generation: a.generation } : {}),
      session: a.session,
      manual,
      ...(a.steward !== undefined ? { steward: a.steward } : {}),
      ...(a.override !== undefined ? { override: a.override } : {}),
      at: a.place.at,
    });
    this.stmt.insertAuthorization.run(
      id,
      a.ticketId,
      a.generation ?? null,
      a.session,
      this.gateId,
      a.place.lane,
      a.place.direction,
      a.place.at,
      a.reason,
      manual ? 1 : 0,
      a.steward ?? null,
      a.override !== undefined ? JSON.stringify(a.override) : null,
      event.gateSeq,
    );
    const authorization: Authorization = {
      authorizationId: id,
      ticketId: a.ticketId,
      ...(a.generation !== undefined ? { generation: a.generation } : {}),
      session: a.session,
      gateId: this.gateId,
      lane: a.place.lane,
      direction: a.place.direction,
      at: a.place.at,
      reason: a.reason,
      manual,
      ...(a.steward !== undefined ? { steward: a.steward } : {}),
      ...(a.override !== undefined ? { override: a.override } : {}),
      state: "open",
      openedSeq: event.gateSeq,
    };
    return { authorization, event };
  }

  /**
   * The lane reported the passage: records `entered` (or `exited`) and the movement in the seen
   * table. A repeated report of the same passage records nothing more.
   */
  confirmPassage(authorizationId: string, at: number): PassageRecorded {
    const recorded = this.tx.passage.immediate(authorizationId, at);
    if (recorded.event) this.committed();
    return recorded;
  }

  /** `entered`/`exited` for an authorization's passage, on time or late (see confirmLatePassage). */
  private recordPassage(authorizationId: string, at: number, late: boolean): PassageRecorded {
    const row = this.stmt.authorization.get(authorizationId) as AuthorizationRow | undefined;
    if (!row) throw new JournalError(`unknown authorization ${authorizationId}`);
    if (row.state === "entered" || row.state === "exited")
      return { authorization: authorizationFromRow(row) };
    const step = late ? this.latePassageStep(row) : this.passageStep(row);
    if (!step.ok || (step.record !== "entered" && step.record !== "exited"))
      throw new JournalError(step.ok ? `passage records ${step.record}` : step.error);
    const event = this.closeAuthorization(row, step.record, at, late ? LATE_PASSAGE : undefined);
    const entry = row.direction === "entry";
    this.stmt.ownMovement.run(
      row.ticket,
      row.session,
      entry ? "inside" : "outside",
      at,
      this.gateId,
      at,
      this.gateId,
      event.gateSeq,
    );
    return { authorization: this.authorizationRow(authorizationId), event };
  }

  /** An ordinary passage: only an open authorization has one. */
  private passageStep(row: AuthorizationRow): Transition {
    if (row.state === "annulled")
      throw new JournalError(
        `authorization ${row.id} was annulled at ${new Date(row.closed_at ?? 0).toISOString()}: a passage now is not an ordinary one (confirmLatePassage for a passage the controller kept, else a forced passage)`,
      );
    return transition(row.direction === "entry" ? "authorized" : "exit-authorized", { type: "passage" });
  }

  /** A late passage: only an annulled authorization, and not one a fire alarm annulled. */
  private latePassageStep(row: AuthorizationRow): Transition {
    if (row.state === "open")
      throw new JournalError(
        `authorization ${row.id} is still open: its passage is an ordinary one (confirmPassage)`,
      );
    const closing = this.stmt.eventDetail.get(row.closed_seq) as { detail: string | null } | undefined;
    const annulledBy = closing?.detail as AnnulCause | undefined;
    if (annulledBy !== "window-expired" && annulledBy !== "fire-alarm" && annulledBy !== "recovery")
      throw new JournalError(
        `authorization ${row.id}: the event that annulled it (gateSeq ${row.closed_seq}) gives no cause`,
      );
    const step = transition("annulled", { type: "late-passage", direction: row.direction, annulledBy });
    if (!step.ok)
      throw new JournalError(
        `authorization ${row.id} was annulled by ${annulledBy}: a passage now is not covered by it (${step.error})`,
      );
    return step;
  }

  /**
   * The lane controller reported a passage after the gate had annulled this authorization (its
   * window ended, or a restart's recovery came, while the gate could not hear the controller): the
   * holder did walk through, so records `entered` (or `exited`) with the detail `late-passage`, and
   * the movement in the seen table. If the ticket entered elsewhere in between, that is now a
   * double entry, which the sync-server alerts. Refused for an authorization annulled by a fire
   * alarm (passages then are free passages) or one still open (use `confirmPassage`); a repeated
   * report records nothing more.
   */
  confirmLatePassage(authorizationId: string, at: number): PassageRecorded {
    const recorded = this.tx.latePassage.immediate(authorizationId, at);
    if (recorded.event) this.committed();
    return recorded;
  }

  /**
   * No passage within the window (or the fire alarm, or a restart): records `annulled`; the ticket
   * is not consumed. Returns undefined, and records nothing, when the authorization had already
   * ended — a recorded passage is never annulled.
   */
  annul(authorizationId: string, at: number, cause: AnnulCause = "window-expired"): Recorded | undefined {
    const recorded = this.tx.annul.immediate(authorizationId, at, cause);
    if (recorded) this.committed();
    return recorded;
  }

  private annulRow(row: AuthorizationRow, at: number, cause: AnnulCause): Recorded | undefined {
    if (row.state !== "open") return undefined;
    const step = transition(row.direction === "entry" ? "authorized" : "exit-authorized", {
      type: cause === "fire-alarm" ? "fire-alarm" : "window-expired",
    });
    if (!step.ok || step.record !== "annulled") throw new JournalError(step.ok ? "not annulled" : step.error);
    return { event: this.closeAuthorization(row, "annulled", at, cause) };
  }

  /**
   * After a crash or restart: every authorization still open is annulled (the ticket is not
   * consumed). Passages recorded before the crash stay recorded.
   */
  recover(nowMs: number): Recorded[] {
    const recorded = this.db
      .transaction(() => {
        const open = this.stmt.openAuthorizations.all() as AuthorizationRow[];
        const out: Recorded[] = [];
        for (const row of open) {
          const r = this.annulRow(row, nowMs, "recovery");
          if (r) out.push(r);
        }
        return out;
      })
      .immediate();
    this.commitsSinceCheckpoint += recorded.length;
    return recorded;
  }

  /** Records `refused` for a REFUSE decision, or an ASSISTED one the steward declined. */
  recordRefusal(decision: Decision, place: ScanPlace, options: { steward?: string } = {}): Recorded {
    const first = transition("scanned", { type: "decided", decision, direction: place.direction });
    if (!first.ok) throw new JournalError(first.error);
    let step = first;
    if (first.state === "awaiting-steward") {
      if (options.steward === undefined)
        throw new JournalError(
          `${decision.reason} is refused only by a steward: give the steward's identity`,
        );
      const declined = transition(first.state, { type: "steward-declined", steward: options.steward });
      if (!declined.ok) throw new JournalError(declined.error);
      step = declined;
    }
    if (step.record !== "refused") throw new JournalError(`decision ${decision.reason} is not a refusal`);
    const recorded = this.tx.append.immediate({
      lane: place.lane,
      kind: "refused",
      direction: place.direction,
      reason: decision.reason,
      ...(decision.ticketId !== undefined ? { ticketId: decision.ticketId } : {}),
      ...(decision.generation !== undefined ? { generation: decision.generation } : {}),
      ...(decision.session !== undefined ? { session: decision.session } : {}),
      ...(decision.issuerKeyId !== undefined ? { issuerKeyId: decision.issuerKeyId } : {}),
      manual: options.steward !== undefined,
      ...(options.steward !== undefined ? { steward: options.steward } : {}),
      at: place.at,
      ...(decision.credentialReason ? { detail: decision.credentialReason } : {}),
    });
    this.committed();
    return recorded;
  }

  /** A passage during free passage (fire alarm, supervisor command): counted, not attributed. */
  recordFreePassage(lane: number, at: number, direction: Direction = "entry"): Recorded {
    const recorded = this.tx.append.immediate({
      lane,
      kind: "free-passage",
      direction,
      reason: "FREE_PASSAGE",
      manual: false,
      at,
    });
    this.committed();
    return recorded;
  }

  /**
   * A rotation the lane saw without an authorization for it (a forced passage, or a tailgater behind
   * an admitted holder): journaled and sent to the sync-server like any event, so that supervisors
   * are alerted and the venue's count of people inside stays honest. No ticket is involved.
   */
  recordAlarm(
    lane: number,
    at: number,
    reason: "FORCED_PASSAGE" | "TAILGATE",
    direction: Direction = "entry",
  ): Recorded {
    const recorded = this.tx.append.immediate({ lane, kind: "alarm", direction, reason, manual: false, at });
    this.committed();
    return recorded;
  }

  /**
   * An event from another gate (via the sync-server): an entry or exit there updates the seen
   * table here, so that a code used at gate A is refused at gate B. Idempotent by eventId.
   * `position`: its place in the venue's admissions order (the fan-out sequence), when known.
   */
  recordRemoteEntry(event: EntryLogEvent, position?: number): RemoteEntryOutcome {
    return (
      this.recordRemoteEntries([event], position === undefined ? undefined : [position])[0] ?? "duplicate"
    );
  }

  /**
   * A message of the admission fan-out at once: one transaction, one fsync, however many entries
   * (a burst of 250 would otherwise hold the event loop for 250 commits, in front of the scans).
   * Every event is checked before anything is written: a malformed one refuses the whole message.
   * `positions[i]` is the place of `events[i]` in the venue's admissions order (the fan-out
   * sequence): movements are ordered by it, and this gate's own events, given back with theirs,
   * take their place in it (docs/gate-cache.md, "Movements and their order").
   */
  recordRemoteEntries(events: readonly EntryLogEvent[], positions?: readonly number[]): RemoteEntryOutcome[] {
    if (positions !== undefined && positions.length !== events.length)
      throw new JournalError(`${events.length} remote events but ${positions.length} positions`);
    for (const [i, event] of events.entries()) {
      if (typeof event?.eventId !== "string" || event.eventId === "" || typeof event.gateId !== "string")
        throw new JournalError("remote event without eventId or gateId");
      if (!Number.isFinite(event.at))
        throw new JournalError(`remote event ${event.eventId} has no valid time`);
      const position = positions?.[i];
      if (position !== undefined && !(Number.isSafeInteger(position) && position > 0))
        throw new JournalError(
          `remote event ${event.eventId}: position ${position} is not a fan-out sequence`,
        );
    }
    if (events.length === 0) return [];
    const outcomes = this.tx.remote.immediate(events, positions);
    if (outcomes.includes("recorded") || positions !== undefined) this.committed();
    return outcomes;
  }

  private applyRemoteEntry(event: EntryLogEvent, position: number | undefined): RemoteEntryOutcome {
    const movement = event.kind === "entered" || event.kind === "exited";
    if (event.gateId === this.gateId) {
      const ours = this.stmt.eventAt.get(event.gateSeq) as { event_id: string } | undefined;
      if (ours?.event_id === event.eventId) {
        if (movement && position !== undefined && event.ticketId !== undefined && event.session !== undefined)
          this.stmt.placeOwnMovement.run(position, event.ticketId, event.session, this.gateId, event.gateSeq);
        return "own";
      }
    }
    const inserted = this.stmt.insertRemote.run(
      event.eventId,
      event.gateId,
      event.gateSeq,
      event.kind,
      event.ticketId ?? null,
      event.session ?? null,
      event.at,
      JSON.stringify(event),
    );
    if (inserted.changes === 0) return "duplicate";
    if (event.ticketId === undefined) return "recorded";
    if (movement || event.kind === "authorized") this.generationSeen(event.ticketId, event.generation);
    if (movement && event.session !== undefined) {
      this.stmt.remoteMovement.run({
        ticket: event.ticketId,
        session: event.session,
        state: event.kind === "entered" ? "inside" : "outside",
        at: event.at,
        gate: event.gateId,
        gateSeq: event.gateSeq,
        order: position ?? 0,
        placed: position === undefined ? 0 : 1,
      });
    }
    return "recorded";
  }

  /** A generation admitted here or at another gate: newer than the feed's, it supersedes the feed's. */
  private generationSeen(ticket: number, generation: number | undefined): void {
    if (generation !== undefined) this.stmt.generationSeen.run(ticket, generation, generation, ticket);
  }

  private closeAuthorization(
    row: AuthorizationRow,
    record: RecordKind,
    at: number,
    detail?: string,
  ): EntryLogEvent {
    const event = this.append({
      lane: row.lane,
      kind: record,
      direction: row.direction,
      reason: row.reason,
      authorizationId: row.id,
      ticketId: row.ticket,
      ...(row.generation !== null ? { generation: row.generation } : {}),
      session: row.session,
      manual: row.manual === 1,
      ...(row.steward !== null ? { steward: row.steward } : {}),
      ...(row.override !== null ? { override: JSON.parse(row.override) as SupervisorOverride } : {}),
      at,
      ...(detail ? { detail } : {}),
    });
    // Only an open authorization closes; only an annulled one is claimed by a late passage.
    const from = row.state === "annulled" ? "annulled" : "open";
    const changed = this.stmt.closeAuthorization.run(record, at, event.gateSeq, row.id, from);
    if (changed.changes !== 1) throw new JournalError(`authorization ${row.id} was not ${from}`);
    return event;
  }

  /** Appends one event to the log with the next gateSeq (inside the caller's transaction). */
  private append(e: NewEvent): EntryLogEvent {
    const gateSeq = (this.stmt.nextSeq.get() as { seq: number }).seq;
    const event: EntryLogEvent = { eventId: this.newId(), gateId: this.gateId, gateSeq, ...e };
    this.stmt.insertEvent.run(
      gateSeq,
      event.eventId,
      this.gateId,
      e.lane,
      e.kind,
      e.direction,
      e.reason,
      e.authorizationId ?? null,
      e.ticketId ?? null,
      e.generation ?? null,
      e.session ?? null,
      e.manual ? 1 : 0,
      e.steward ?? null,
      e.override !== undefined ? JSON.stringify(e.override) : null,
      e.at,
      e.detail ?? null,
      e.issuerKeyId ?? null,
    );
    return event;
  }

  private authorizationRow(id: string): Authorization {
    const row = this.stmt.authorization.get(id) as AuthorizationRow | undefined;
    if (!row) throw new JournalError(`unknown authorization ${id}`);
    return authorizationFromRow(row);
  }

  authorization(id: string): Authorization | undefined {
    const row = this.stmt.authorization.get(id) as AuthorizationRow | undefined;
    return row ? authorizationFromRow(row) : undefined;
  }

  openAuthorizations(): Authorization[] {
    return (this.stmt.openAuthorizations.all() as AuthorizationRow[]).map(authorizationFromRow);
  }

  // ---------------------------------------------------------------------------------------------
  // The log and its outbox, for the sync layer

  /** Events from `fromGateSeq` on, in order. */
  events(fromGateSeq = 1, limit = 1000): EntryLogEvent[] {
    return (this.stmt.events.all(fromGateSeq, limit) as LogRow[]).map(eventFromRow);
  }

  /**
   * The oldest events the server has not acknowledged yet, in gateSeq order; with `afterGateSeq`,
   * only those after it too (the sync client's window has sent up to there). One query: the sync
   * client reads the outbox after every event it is told of.
   */
  outboxPending(limit = 500, afterGateSeq = 0): EntryLogEvent[] {
    return (this.stmt.pending.all(afterGateSeq, limit) as LogRow[]).map(eventFromRow);
  }

  /** The server has stored every event up to `upToGateSeq`; returns the outbox depth after. */
  acknowledgeOutbox(upToGateSeq: number): number {
    if (!Number.isInteger(upToGateSeq) || upToGateSeq < 0)
      throw new JournalError(`acknowledgement must be a gateSeq, got ${upToGateSeq}`);
    const depth = this.db
      .transaction(() => {
        const last = (this.stmt.nextSeq.get() as { seq: number }).seq - 1;
        if (upToGateSeq > last)
          throw new JournalError(
            `acknowledgement up to ${upToGateSeq}, but this gate's log (epoch ${this.logEpoch}) ends at ${last}`,
          );
        const held = (this.stmt.acknowledged.get() as { acknowledged: number }).acknowledged;
        if (upToGateSeq > held) this.stmt.setAcknowledged.run(upToGateSeq);
        return last - Math.max(held, upToGateSeq);
      })
      .immediate();
    this.committed();
    return depth;
  }

  outboxDepth(): number {
    const last = (this.stmt.nextSeq.get() as { seq: number }).seq - 1;
    return last - (this.stmt.acknowledged.get() as { acknowledged: number }).acknowledged;
  }

  /** gateSeq of the last event (0 when the log is empty). */
  lastGateSeq(): number {
    return (this.stmt.nextSeq.get() as { seq: number }).seq - 1;
  }

  // ---------------------------------------------------------------------------------------------
  // Printed-confirmation lookup

  /** Sessions whose doors are open at `at` (doors open … end + the closing delay). */
  openSessions(at: number): Session[] {
    const { sessions, timezone } = this.venue;
    return sessions.filter((s) => {
      const times = sessionTimes(s, timezone);
      return times !== undefined && at >= times.doorsOpenMs && at <= times.endMs + this.closeAfterMs;
    });
  }

  /**
   * By order reference (exact, case-insensitive) or by name (accent- and case-insensitive word
   * prefixes, in any order), among the tickets of the sessions in progress.
   */
  lookup(query: string, options: LookupOptions): LookupResult {
    this.requireImported();
    if (!this.lookupView) this.lookupView = new Lookup(this.db, () => this.venue);
    return this.lookupView.search(query, options, (at) => this.openSessions(at));
  }

  // ---------------------------------------------------------------------------------------------

  private requireImported(): void {
    if (!this.venueState)
      throw new CacheError(`gate cache ${this.path} is empty: import the venue's gate bundle first`);
  }

  private metaValue(key: string): string | undefined {
    return (this.stmt.meta.get(key) as { value: string } | undefined)?.value;
  }

  private setVenueState(state: VenueState): void {
    this.venueState = state;
    if (this.factsView) this.factsView.venue = state;
  }

  /** Reloads the venue tables and the trust list into memory (after open, import, key changes). */
  private reload(): void {
    const venueId = this.metaValue("venue_id");
    const trust = this.stmt.trustList.get() as { version: number; json: string } | undefined;
    if (venueId === undefined || !trust) return;
    const verified = verifyTrustList(trust.json, this.rootKey, this.verifier, { venue: venueId });
    if (!verified.ok)
      throw new CacheFileError(this.path, `its stored trust list no longer verifies (${verified.detail})`);
    // Only the root-signed trust list revokes an issuer key (the table revoked_keys, which the feed
    // once filled, is no longer read: a forged feed change must not be able to stop every ticket).
    const keys: ReadonlyMap<number, IssuerKey> = issuerKeyMap(verified.list);
    const sessions = (
      this.db.prepare("SELECT * FROM sessions ORDER BY id").all() as Array<{
        id: number;
        code: string;
        name: string;
        doors_open: string;
        starts: string;
        ends: string;
        reentry: Session["reentry"];
      }>
    ).map(
      (s): Session => ({
        id: s.id,
        code: s.code,
        name: s.name,
        doorsOpen: s.doors_open,
        start: s.starts,
        end: s.ends,
        reentry: s.reentry,
      }),
    );
    const zones = this.db.prepare("SELECT id, code, name, capacity FROM zones ORDER BY id").all() as Zone[];
    const served = this.db
      .prepare("SELECT entrance, zone FROM entrance_zones ORDER BY entrance, position")
      .all() as Array<{ entrance: number; zone: number }>;
    const entrances = (
      this.db.prepare("SELECT id, code, name FROM entrances ORDER BY id").all() as Array<{
        id: number;
        code: string;
        name: string;
      }>
    ).map((e): Entrance => ({ ...e, zones: served.filter((z) => z.entrance === e.id).map((z) => z.zone) }));
    const gates = this.db.prepare("SELECT id, entrance, lanes FROM gates ORDER BY id").all() as Gate[];
    this.setVenueState({
      venueId,
      venueName: this.metaValue("venue_name") ?? venueId,
      timezone: this.metaValue("timezone") ?? "UTC",
      sessions,
      entrances,
      zones,
      gates,
      issuerKeys: keys,
      trustListVersion: trust.version,
      feedSequence: this.feedSequence,
      bundleGeneratedAt: this.metaValue("bundle_generated_at") ?? "",
      // Checked when the signed bundle was imported.
      supervisors: JSON.parse(this.metaValue("supervisors") ?? "[]") as Supervisor[],
    });
  }
}
