import type Database from "better-sqlite3";
import { nameTokens } from "./normalize.js";

/*
 * The cache schema, as numbered migrations. `PRAGMA user_version` holds the number of the last one
 * applied; each runs in its own transaction together with the version bump, so a gate killed during
 * an upgrade restarts from the last complete schema. Never edit a released migration: add one.
 */

/** "SESA": marks the file as a Sésame gate cache (PRAGMA application_id). */
export const APPLICATION_ID = 0x53455341;

export interface Migration {
  readonly version: number;
  readonly description: string;
  up(db: Database.Database): void;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description:
      "venue data: meta, sessions and doors, zones, entrances, gates, trust list, tickets, revocations, feed",
    up(db) {
      db.pragma(`application_id = ${APPLICATION_ID}`);
      db.exec(`
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE sessions (
          id INTEGER PRIMARY KEY,
          code TEXT NOT NULL,
          name TEXT NOT NULL,
          doors_open TEXT NOT NULL,
          starts TEXT NOT NULL,
          ends TEXT NOT NULL,
          reentry TEXT NOT NULL CHECK (reentry IN ('none', 'exit-scan'))
        );
        CREATE TABLE zones (id INTEGER PRIMARY KEY, code TEXT NOT NULL, name TEXT NOT NULL, capacity INTEGER NOT NULL);
        CREATE TABLE entrances (id INTEGER PRIMARY KEY, code TEXT NOT NULL, name TEXT NOT NULL);
        CREATE TABLE entrance_zones (
          entrance INTEGER NOT NULL,
          position INTEGER NOT NULL,
          zone INTEGER NOT NULL,
          PRIMARY KEY (entrance, position)
        ) WITHOUT ROWID;
        CREATE TABLE gates (id TEXT PRIMARY KEY, entrance INTEGER NOT NULL, lanes INTEGER NOT NULL) WITHOUT ROWID;
        -- The signed JSON as received, re-verified against the pinned root key whenever it is loaded.
        CREATE TABLE trust_list (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          version INTEGER NOT NULL,
          json TEXT NOT NULL
        );
        -- Key revocations from the feed; they outlive any trust list installed later.
        CREATE TABLE revoked_keys (key_id INTEGER PRIMARY KEY, sequence INTEGER NOT NULL);
        CREATE TABLE tickets (
          id INTEGER PRIMARY KEY,
          generation INTEGER NOT NULL,
          kind TEXT NOT NULL CHECK (kind IN ('mobile', 'printed')),
          status TEXT NOT NULL CHECK (status IN ('valid', 'cancelled')),
          sessions TEXT NOT NULL,
          entrance INTEGER NOT NULL,
          zone INTEGER NOT NULL,
          seat TEXT NOT NULL,
          categories TEXT NOT NULL,
          holder TEXT NOT NULL,
          holder_key TEXT NOT NULL,
          order_ref TEXT NOT NULL,
          issue_sequence INTEGER NOT NULL
        );
        -- Every generation up to and including this one is revoked.
        CREATE TABLE revocations (
          ticket INTEGER NOT NULL,
          generation INTEGER NOT NULL,
          reason TEXT NOT NULL CHECK (reason IN ('resold', 'transferred', 'cancelled')),
          sequence INTEGER NOT NULL,
          PRIMARY KEY (ticket, generation)
        ) WITHOUT ROWID;
        CREATE TABLE feed_state (id INTEGER PRIMARY KEY CHECK (id = 1), applied INTEGER NOT NULL);
        INSERT INTO feed_state (id, applied) VALUES (1, 0);
        -- Changes applied after the bundle, kept to tell a repeated change from a conflicting one.
        CREATE TABLE feed_changes (sequence INTEGER PRIMARY KEY, type TEXT NOT NULL, change TEXT NOT NULL);
      `);
    },
  },
  {
    version: 2,
    description:
      "gate journal: permanent seen table, authorizations, entry-event log, outbox, remote entries",
    up(db) {
      db.exec(`
        -- Permanent: a ticket's movements for a session, from this gate and from others.
        CREATE TABLE seen (
          ticket INTEGER NOT NULL,
          session INTEGER NOT NULL,
          state TEXT NOT NULL CHECK (state IN ('inside', 'outside')),
          first_entry_at INTEGER NOT NULL,
          first_entry_gate TEXT NOT NULL,
          last_at INTEGER NOT NULL,
          last_gate TEXT NOT NULL,
          PRIMARY KEY (ticket, session)
        ) WITHOUT ROWID;
        CREATE TABLE authorizations (
          id TEXT PRIMARY KEY,
          ticket INTEGER NOT NULL,
          generation INTEGER,
          session INTEGER NOT NULL,
          gate TEXT NOT NULL,
          lane INTEGER NOT NULL,
          direction TEXT NOT NULL CHECK (direction IN ('entry', 'exit')),
          at INTEGER NOT NULL,
          reason TEXT NOT NULL,
          manual INTEGER NOT NULL,
          steward TEXT,
          state TEXT NOT NULL CHECK (state IN ('open', 'entered', 'exited', 'annulled')),
          opened_seq INTEGER NOT NULL,
          closed_at INTEGER,
          closed_seq INTEGER
        ) WITHOUT ROWID;
        -- At most one authorization in flight per ticket and session, whatever the caller does.
        CREATE UNIQUE INDEX authorizations_open ON authorizations (ticket, session) WHERE state = 'open';
        CREATE TABLE entry_log (
          gate_seq INTEGER PRIMARY KEY,
          -- Unique by construction (UUIDv7); no index: each index page is one more WAL frame per scan.
          event_id TEXT NOT NULL,
          gate TEXT NOT NULL,
          lane INTEGER NOT NULL,
          kind TEXT NOT NULL,
          direction TEXT NOT NULL,
          reason TEXT NOT NULL,
          authorization_id TEXT,
          ticket INTEGER,
          generation INTEGER,
          session INTEGER,
          manual INTEGER NOT NULL,
          steward TEXT,
          at INTEGER NOT NULL,
          detail TEXT
        );
        -- The log is append-only and numbered without gaps: the server acknowledges by gate_seq.
        CREATE TRIGGER entry_log_gapless BEFORE INSERT ON entry_log
          WHEN NEW.gate_seq IS NOT (SELECT COALESCE(MAX(gate_seq), 0) + 1 FROM entry_log)
          BEGIN SELECT RAISE(ABORT, 'entry_log: gate_seq must follow the last event without a gap'); END;
        CREATE TRIGGER entry_log_no_update BEFORE UPDATE ON entry_log
          BEGIN SELECT RAISE(ABORT, 'entry_log is append-only'); END;
        CREATE TRIGGER entry_log_no_delete BEFORE DELETE ON entry_log
          BEGIN SELECT RAISE(ABORT, 'entry_log is append-only'); END;
        -- The outbox is every log event above the server's acknowledgement.
        CREATE TABLE outbox (id INTEGER PRIMARY KEY CHECK (id = 1), acknowledged INTEGER NOT NULL);
        INSERT INTO outbox (id, acknowledged) VALUES (1, 0);
        CREATE TABLE remote_events (
          event_id TEXT PRIMARY KEY,
          gate TEXT NOT NULL,
          gate_seq INTEGER NOT NULL,
          kind TEXT NOT NULL,
          ticket INTEGER,
          session INTEGER,
          at INTEGER NOT NULL,
          event TEXT NOT NULL
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    version: 3,
    description:
      "printed-confirmation lookup: full-text index of folded holder names per session, order reference index",
    up(db) {
      db.exec(`
        ALTER TABLE tickets ADD COLUMN search_names TEXT NOT NULL DEFAULT '';
        ALTER TABLE tickets ADD COLUMN search_sessions TEXT NOT NULL DEFAULT '';
        CREATE INDEX tickets_order_ref ON tickets (order_ref COLLATE NOCASE);
        -- Names are folded before they are indexed (normalize.ts), so the tokenizer only splits on
        -- blanks. Rows come out in ticket-id order, so a LIMIT stops the search early.
        CREATE VIRTUAL TABLE ticket_search USING fts5(
          search_names, search_sessions,
          content = 'tickets', content_rowid = 'id',
          tokenize = 'unicode61 remove_diacritics 0', prefix = '2 3', detail = 'column'
        );
      `);
      const update = db.prepare("UPDATE tickets SET search_names = ?, search_sessions = ? WHERE id = ?");
      const rows = db.prepare("SELECT id, sessions, holder FROM tickets").all() as Array<{
        id: number;
        sessions: string;
        holder: string;
      }>;
      for (const row of rows)
        update.run(
          searchNames(nameTokens(row.holder)),
          searchSessions(row.sessions.split(",").map(Number)),
          row.id,
        );
      db.exec("INSERT INTO ticket_search (ticket_search) VALUES ('rebuild')");
    },
  },
  {
    version: 4,
    description: "the issuer key id of a credential refused for itself (KEY_REVOKED alerts group by it)",
    up(db) {
      // Adding a column fires no trigger: the log stays append-only, its rows as they were.
      db.exec("ALTER TABLE entry_log ADD COLUMN issuer_key INTEGER");
    },
  },
  {
    version: 5,
    description:
      "supervisor overrides: the override (supervisor, note, ticket state) of a manual admission, as JSON",
    up(db) {
      db.exec(`
        ALTER TABLE entry_log ADD COLUMN override TEXT;
        ALTER TABLE authorizations ADD COLUMN override TEXT;
      `);
    },
  },
  {
    version: 6,
    description:
      "admission order: a movement's place in the venue's order (seen), the highest generation seen in use, refused feed changes",
    up(db) {
      db.exec(`
        -- The movement that set a ticket's state: its place in the venue's admissions order (the
        -- sync-server's fan-out sequence), NULL for this gate's own movement until the fan-out
        -- brings it back, and its gate's own sequence number. Rows written before: placed at 0.
        ALTER TABLE seen ADD COLUMN last_order INTEGER DEFAULT 0;
        ALTER TABLE seen ADD COLUMN last_gate_seq INTEGER NOT NULL DEFAULT 0;
        -- A generation admitted (here or at another gate) that is newer than the ticket's row: a
        -- resale or transfer the feed has not brought yet. Older generations are refused.
        CREATE TABLE generations_seen (ticket INTEGER PRIMARY KEY, generation INTEGER NOT NULL);
        -- Why a change of the feed was refused (NULL: applied); kept so that a repeat is a repeat.
        ALTER TABLE feed_changes ADD COLUMN refused TEXT;
      `);
      // What the journal already shows.
      db.exec(`
        INSERT INTO generations_seen (ticket, generation)
        SELECT ticket, MAX(generation) FROM (
          SELECT ticket, generation FROM entry_log
            WHERE kind IN ('authorized', 'entered', 'exited') AND ticket IS NOT NULL AND generation IS NOT NULL
          UNION ALL
          SELECT ticket, json_extract(event, '$.generation') FROM remote_events
            WHERE kind IN ('authorized', 'entered', 'exited') AND ticket IS NOT NULL
              AND json_extract(event, '$.generation') IS NOT NULL
        ) AS used
        GROUP BY ticket
        HAVING MAX(generation) > COALESCE((SELECT generation FROM tickets WHERE id = used.ticket), -1);
      `);
    },
  },
];

export const LATEST_VERSION = MIGRATIONS.reduce((v, m) => Math.max(v, m.version), 0);

/** The indexed text of a holder's name: its folded tokens. */
export function searchNames(tokens: readonly string[]): string {
  return tokens.join(" ");
}

/** The indexed text of a ticket's sessions: "s1 s2". */
export function searchSessions(sessions: readonly number[]): string {
  return sessions.map((s) => `s${s}`).join(" ");
}

export function schemaVersion(db: Database.Database): number {
  return Number(db.pragma("user_version", { simple: true }));
}

/** Applies every migration above the file's version, up to `target`, each in its own transaction. */
export function migrate(
  db: Database.Database,
  target = LATEST_VERSION,
  migrations: readonly Migration[] = MIGRATIONS,
): number {
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (m.version <= schemaVersion(db) || m.version > target) continue;
    db.transaction(() => {
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
  return schemaVersion(db);
}
