import { readFileSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir } from "@sesame/testing";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { ServerStore } from "../store.js";
import {
  migrateServerStore,
  SERVER_APPLICATION_ID,
  SERVER_SCHEMA_VERSION,
  schemaVersion,
} from "./migrations.js";

/*
 * A sync.db made before numbered migrations (the inline schema, then the alerts' acknowledgement
 * columns added in place) opens with today's code: migrated, its data kept.
 */

/** The schema as the sync-server wrote it before numbered migrations (user_version 0). */
const LEGACY_SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS gates (gate_id TEXT PRIMARY KEY, entrance INTEGER NOT NULL, public_key TEXT,
  mqtt_hash TEXT, http_token_hash TEXT, provisioned_at INTEGER, acked_seq INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT 'unknown', status_at INTEGER, heartbeat TEXT, heartbeat_at INTEGER);
CREATE TABLE IF NOT EXISTS batches (id INTEGER PRIMARY KEY, gate_id TEXT NOT NULL, after_seq INTEGER NOT NULL,
  received_at INTEGER NOT NULL, signature TEXT NOT NULL, events_json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, gate_id TEXT NOT NULL,
  gate_seq INTEGER NOT NULL, lane INTEGER NOT NULL, kind TEXT NOT NULL, direction TEXT NOT NULL,
  reason TEXT NOT NULL, authorization_id TEXT, ticket_id INTEGER, generation INTEGER, session INTEGER,
  manual INTEGER NOT NULL, steward TEXT, at INTEGER NOT NULL, detail TEXT, entrance INTEGER, zone INTEGER,
  received_at INTEGER NOT NULL, batch_id INTEGER NOT NULL, UNIQUE (gate_id, gate_seq));
CREATE TABLE IF NOT EXISTS rejected_events (gate_id TEXT NOT NULL, gate_seq INTEGER NOT NULL, event_id TEXT,
  reason TEXT NOT NULL, detail TEXT NOT NULL, raw TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (gate_id, gate_seq));
CREATE TABLE IF NOT EXISTS admissions (seq INTEGER PRIMARY KEY, event_row INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS presence (ticket_id INTEGER NOT NULL, session INTEGER NOT NULL, state TEXT NOT NULL,
  first_gate TEXT NOT NULL, first_event TEXT NOT NULL, last_gate TEXT NOT NULL, last_event TEXT NOT NULL,
  entries INTEGER NOT NULL, PRIMARY KEY (ticket_id, session));
CREATE TABLE IF NOT EXISTS alerts (id INTEGER PRIMARY KEY, type TEXT NOT NULL, at INTEGER NOT NULL,
  ticket_id INTEGER, session INTEGER, gates TEXT NOT NULL, event_ids TEXT NOT NULL, detail TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rejections (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, source TEXT NOT NULL,
  topic TEXT, reason TEXT NOT NULL, detail TEXT NOT NULL, raw TEXT);
CREATE TABLE IF NOT EXISTS tickets (id INTEGER PRIMARY KEY, generation INTEGER NOT NULL, kind TEXT NOT NULL,
  status TEXT NOT NULL, sessions TEXT NOT NULL, entrance INTEGER NOT NULL, zone INTEGER NOT NULL,
  seat TEXT NOT NULL, categories TEXT NOT NULL, holder TEXT NOT NULL, order_reference TEXT NOT NULL,
  issue_sequence INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS revocations (ticket_id INTEGER NOT NULL, generation INTEGER NOT NULL,
  reason TEXT NOT NULL, sequence INTEGER NOT NULL, PRIMARY KEY (ticket_id, generation));
CREATE TABLE IF NOT EXISTS changes (sequence INTEGER PRIMARY KEY, json TEXT NOT NULL, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS issuer_keys (key_id INTEGER PRIMARY KEY, seed TEXT NOT NULL, public_key TEXT NOT NULL,
  valid_from INTEGER NOT NULL, valid_until INTEGER NOT NULL, revoked INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS commands (id TEXT PRIMARY KEY, json TEXT NOT NULL, issued_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS command_acks (command_id TEXT NOT NULL, gate_id TEXT NOT NULL, status TEXT NOT NULL,
  detail TEXT, at INTEGER NOT NULL, PRIMARY KEY (command_id, gate_id));
`;
const LEGACY_ALTERS = [
  "ALTER TABLE alerts ADD COLUMN acked_by TEXT",
  "ALTER TABLE alerts ADD COLUMN acked_at INTEGER",
  "ALTER TABLE alerts ADD COLUMN acked_note TEXT",
];

function legacyDb(path: string, withAlters: boolean): void {
  const db = new Database(path);
  db.exec(LEGACY_SCHEMA);
  if (withAlters) for (const sql of LEGACY_ALTERS) db.exec(sql);
  db.prepare("INSERT INTO meta (key, value) VALUES ('feed_base', '7')").run();
  db.prepare("INSERT INTO gates (gate_id, entrance, acked_seq) VALUES ('A1', 1, 3)").run();
  db.prepare(
    `INSERT INTO alerts (type, at, gates, event_ids, detail) VALUES ('gate-offline', 1000, '["A1"]', '[]', 'gate A1 went offline')`,
  ).run();
  if (withAlters)
    db.prepare(
      `INSERT INTO alerts (type, at, gates, event_ids, detail, acked_by, acked_at) VALUES ('forgery', 2000, '["A1"]', '[]', 'old', 'dupont', 2500)`,
    ).run();
  db.close();
}

describe("sync-server schema migrations", () => {
  const dir = makeTempDir("sesame-server-migrations-");
  afterAll(() => dir.remove());

  it("creates a new store at the latest version, marked as a sync-server store", () => {
    const store = new ServerStore(join(dir.path, "new.db"));
    try {
      expect(schemaVersion(store.db)).toBe(SERVER_SCHEMA_VERSION);
      expect(store.db.pragma("application_id", { simple: true })).toBe(SERVER_APPLICATION_ID);
    } finally {
      store.close();
    }
  });

  for (const withAlters of [true, false])
    it(`opens a sync.db made before numbered migrations (${withAlters ? "with" : "without"} the acknowledgement columns)`, () => {
      const path = join(dir.path, `legacy-${withAlters}.db`);
      legacyDb(path, withAlters);
      const store = new ServerStore(path);
      try {
        expect(schemaVersion(store.db)).toBe(SERVER_SCHEMA_VERSION);
        expect(store.feedBase()).toBe(7);
        expect(store.gate("A1")?.ackedSeq).toBe(3);
        const [offline] = store.alerts().filter((a) => a.type === "gate-offline");
        expect(offline?.acknowledgedBy).toBeNull();
        // Alerts from before grouped alerts stand for one occurrence, last seen when raised.
        expect(offline).toMatchObject({ count: 1, lastAt: offline?.at, issuerKeyId: null });
        expect(store.openAlertOf("gate-offline", "A1")?.id).toBe(offline?.id);
        expect(store.acknowledgeAlert(offline?.id ?? 0, "martin", 3000, "rebooted")).toBe(true);
        expect(store.alert(offline?.id ?? 0)).toMatchObject({
          acknowledgedBy: "martin",
          acknowledgeNote: "rebooted",
        });
        if (withAlters)
          expect(store.alerts().find((a) => a.type === "forgery")?.acknowledgedBy).toBe("dupont");
        expect(store.openAlertCount()).toBe(0);
      } finally {
        store.close();
      }
      // Opened again: nothing left to do.
      const again = new ServerStore(path);
      try {
        expect(schemaVersion(again.db)).toBe(SERVER_SCHEMA_VERSION);
        expect(again.alerts()).toHaveLength(withAlters ? 2 : 1);
      } finally {
        again.close();
      }
    });

  it("drops the issuer seeds a store of version 6 held (the issuer left the venue server), keeping the public keys", () => {
    const path = join(dir.path, "v6.db");
    const db = new Database(path);
    migrateServerStore(db, 6);
    const seed = "5eed".repeat(16);
    db.prepare(
      "INSERT INTO issuer_keys (key_id, seed, public_key, valid_from, valid_until, revoked) VALUES (1, ?, ?, 0, 99, 0)",
    ).run(seed, "ab".repeat(32));
    db.close();
    const store = new ServerStore(path);
    try {
      expect(schemaVersion(store.db)).toBe(SERVER_SCHEMA_VERSION);
      expect(store.issuerKeys()).toEqual([
        { keyId: 1, publicKey: "ab".repeat(32), validFrom: 0, validUntil: 99, revoked: false },
      ]);
      const columns = (
        store.db.prepare("PRAGMA table_info(issuer_keys)").all() as Array<{ name: string }>
      ).map((c) => c.name);
      expect(columns).not.toContain("seed");
      store.db.pragma("wal_checkpoint(TRUNCATE)");
    } finally {
      store.close();
    }
    // Zeroed, not merely unlinked: the seed's text is nowhere in the file.
    expect(readFileSync(path).includes(Buffer.from(seed))).toBe(false);
  });

  it("refuses a store from a newer sync-server", () => {
    const path = join(dir.path, "future.db");
    const db = new Database(path);
    db.pragma(`user_version = ${SERVER_SCHEMA_VERSION + 1}`);
    expect(() => migrateServerStore(db)).toThrow(/newer than this sync-server's/);
    db.close();
    expect(() => new ServerStore(path)).toThrow(/schema version \d+ is newer/);
  });
});
