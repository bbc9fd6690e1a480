import type Database from "better-sqlite3";

/*
 * The sync-server's schema (sync.db), as numbered migrations, like the gate cache's:
 * `PRAGMA user_version` holds the number of the last one applied; each runs in its own transaction
 * together with the version bump, so a server killed during an upgrade restarts from the last
 * complete schema. Never edit a released migration: add one.
 *
 * A sync.db made before numbered migrations has user_version 0 and every table of version 1 (and
 * perhaps the columns of version 2, added in place by that code): versions 1 and 2 are written to
 * run over such a file unchanged, keeping its data.
 */

/** "SESV": marks the file as a Sésame sync-server store (PRAGMA application_id). */
export const SERVER_APPLICATION_ID = 0x53455356;

export interface Migration {
  readonly version: number;
  readonly description: string;
  up(db: Database.Database): void;
}

function columnsOf(db: Database.Database, table: string): Set<string> {
  return new Set(
    (db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((c) => c.name),
  );
}

export const SERVER_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description:
      "meta, gates, batches, events, rejected events, admissions, presence, alerts, rejections, tickets, revocations, feed changes, issuer keys, commands",
    up(db) {
      db.pragma(`application_id = ${SERVER_APPLICATION_ID}`);
      db.exec(`
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
      `);
    },
  },
  {
    version: 2,
    description: "alert acknowledgements: who, when, with what note",
    up(db) {
      // A file from before numbered migrations may have them already (added in place then).
      const columns = columnsOf(db, "alerts");
      if (!columns.has("acked_by")) db.exec("ALTER TABLE alerts ADD COLUMN acked_by TEXT");
      if (!columns.has("acked_at")) db.exec("ALTER TABLE alerts ADD COLUMN acked_at INTEGER");
      if (!columns.has("acked_note")) db.exec("ALTER TABLE alerts ADD COLUMN acked_note TEXT");
    },
  },
  {
    version: 3,
    description:
      "plausibility: events by authorization, alerts grouped with a count, gate quarantine (who, when, why)",
    up(db) {
      db.exec(`
        CREATE INDEX IF NOT EXISTS events_by_authorization ON events (authorization_id)
          WHERE authorization_id IS NOT NULL;
        ALTER TABLE alerts ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE gates ADD COLUMN quarantined_at INTEGER;
        ALTER TABLE gates ADD COLUMN quarantined_by TEXT;
        ALTER TABLE gates ADD COLUMN quarantine_reason TEXT;
      `);
    },
  },
  {
    version: 4,
    description: "grouped alerts: when the last occurrence was seen, which issuer key",
    up(db) {
      db.exec(`
        ALTER TABLE alerts ADD COLUMN last_at INTEGER;
        ALTER TABLE alerts ADD COLUMN issuer_key INTEGER;
      `);
    },
  },
  {
    version: 5,
    description:
      "supervisor overrides: a manual admission's override (supervisor, note, ticket state), as JSON",
    up(db) {
      db.exec("ALTER TABLE events ADD COLUMN override TEXT");
    },
  },
  {
    version: 6,
    description: "provisioning: who provisioned a gate, and whether it was forced while the gate was online",
    up(db) {
      db.exec(`
        ALTER TABLE gates ADD COLUMN provisioned_by TEXT;
        ALTER TABLE gates ADD COLUMN provisioned_forced INTEGER NOT NULL DEFAULT 0;
      `);
    },
  },
  {
    version: 7,
    description:
      "the issuer left the venue server: issuer keys keep their public halves only (the seeds are dropped)",
    up(db) {
      // secure_delete: the pages the seeds leave are zeroed, not left readable in the file.
      db.pragma("secure_delete = ON");
      if (columnsOf(db, "issuer_keys").has("seed")) {
        db.exec("UPDATE issuer_keys SET seed = ''");
        db.exec("ALTER TABLE issuer_keys DROP COLUMN seed");
      }
    },
  },
];

export const SERVER_SCHEMA_VERSION = SERVER_MIGRATIONS.reduce((v, m) => Math.max(v, m.version), 0);

export function schemaVersion(db: Database.Database): number {
  return Number(db.pragma("user_version", { simple: true }));
}

/**
 * Applies every migration above the file's version, up to `target`, each in its own transaction.
 * A file from a newer server (a version this code does not know) is refused, not written to.
 */
export function migrateServerStore(
  db: Database.Database,
  target = SERVER_SCHEMA_VERSION,
  migrations: readonly Migration[] = SERVER_MIGRATIONS,
): number {
  const found = schemaVersion(db);
  if (found > SERVER_SCHEMA_VERSION)
    throw new Error(
      `${db.name}: schema version ${found} is newer than this sync-server's (${SERVER_SCHEMA_VERSION}); run the newer sync-server`,
    );
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (m.version <= schemaVersion(db) || m.version > target) continue;
    db.transaction(() => {
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
  return schemaVersion(db);
}
