import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APPLICATION_ID, LATEST_VERSION, MIGRATIONS, migrate, schemaVersion } from "../src/migrations.js";
import { tempDir } from "./helpers.js";

/* One test per migration: each starts from the schema before it, with rows in it, and checks what
   the migration adds and that the rows survive. */

const tables = (db: Database.Database) =>
  (
    db
      .prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'index', 'trigger') ORDER BY name")
      .all() as Array<{ name: string }>
  ).map((r) => r.name);

describe("cache schema migrations", () => {
  const dir = tempDir();
  let n = 0;
  const open = () => new Database(join(dir.path, `m${++n}.db`));
  afterAll(() => dir.remove());

  beforeAll(() => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(LATEST_VERSION).toBe(6);
  });

  const ticket = (db: Database.Database, id: number, holder: string, sessions = "1") =>
    db
      .prepare(
        `INSERT INTO tickets (id, generation, kind, status, sessions, entrance, zone, seat, categories, holder,
           holder_key, order_ref, issue_sequence) VALUES (?, 1, 'mobile', 'valid', ?, 1, 1, 'R01-S001', '', ?, '', ?, 1)`,
      )
      .run(id, sessions, holder, `P24-${id}`);

  it("1: venue data tables, marked as a Sésame cache", () => {
    const db = open();
    expect(migrate(db, 1)).toBe(1);
    expect(db.pragma("application_id", { simple: true })).toBe(APPLICATION_ID);
    expect(tables(db)).toEqual(
      expect.arrayContaining([
        "meta",
        "sessions",
        "zones",
        "entrances",
        "entrance_zones",
        "gates",
        "trust_list",
        "revoked_keys",
        "tickets",
        "revocations",
        "feed_state",
        "feed_changes",
      ]),
    );
    expect(db.prepare("SELECT applied FROM feed_state").get()).toEqual({ applied: 0 });
    ticket(db, 1, "Hélène Dupré");
    expect(() =>
      db.prepare("INSERT INTO sessions VALUES (1, 'S', 'n', 'a', 'b', 'c', 'sometimes')").run(),
    ).toThrow(/CHECK/);
    db.close();
  });

  it("2: the journal (seen, authorizations, gapless append-only log, outbox, remote events); tickets kept", () => {
    const db = open();
    migrate(db, 1);
    ticket(db, 7, "Zoé Dupré");
    expect(migrate(db, 2)).toBe(2);
    expect(tables(db)).toEqual(
      expect.arrayContaining([
        "seen",
        "authorizations",
        "authorizations_open",
        "entry_log",
        "outbox",
        "remote_events",
      ]),
    );
    expect(db.prepare("SELECT holder FROM tickets WHERE id = 7").get()).toEqual({ holder: "Zoé Dupré" });
    const log = db.prepare(
      "INSERT INTO entry_log (gate_seq, event_id, gate, lane, kind, direction, reason, manual, at) VALUES (?, ?, 'A1', 1, 'refused', 'entry', 'FORGED', 0, 0)",
    );
    log.run(1, "e1");
    expect(() => log.run(3, "e3")).toThrow(/without a gap/);
    log.run(2, "e2");
    expect(() => db.prepare("DELETE FROM entry_log").run()).toThrow(/append-only/);
    expect(() => db.prepare("UPDATE entry_log SET lane = 2").run()).toThrow(/append-only/);
    const auth = db.prepare(
      "INSERT INTO authorizations (id, ticket, session, gate, lane, direction, at, reason, manual, state, opened_seq) VALUES (?, 7, 1, 'A1', 1, 'entry', 0, 'ADMITTED', 0, ?, 1)",
    );
    auth.run("a1", "open");
    expect(() => auth.run("a2", "open")).toThrow(/UNIQUE/);
    auth.run("a3", "annulled");
    db.close();
  });

  it("3: the name index is built for tickets already held; order references indexed", () => {
    const db = open();
    migrate(db, 2);
    ticket(db, 1, "Hélène Lefèvre");
    ticket(db, 2, "Cédric N'Diaye", "1,2");
    expect(migrate(db, 3)).toBe(3);
    const find = (match: string) =>
      (
        db
          .prepare("SELECT rowid FROM ticket_search WHERE ticket_search MATCH ? ORDER BY rowid")
          .all(match) as Array<{ rowid: number }>
      ).map((r) => r.rowid);
    expect(find('search_names : "helene"*')).toEqual([1]);
    expect(find('search_names : "ndia"*')).toEqual([2]);
    expect(find('search_names : "diaye"* AND search_sessions : "s2"')).toEqual([2]);
    expect(db.prepare("SELECT search_names FROM tickets WHERE id = 2").get()).toEqual({
      search_names: "cedric n diaye ndiaye",
    });
    const plan = db
      .prepare("EXPLAIN QUERY PLAN SELECT id FROM tickets WHERE order_ref = ? COLLATE NOCASE")
      .all("p24-1") as Array<{ detail: string }>;
    expect(plan.map((p) => p.detail).join(" ")).toMatch(/tickets_order_ref/);
    db.close();
  });

  it("4: refusals keep the issuer key id; the log's rows survive and it stays append-only", () => {
    const db = open();
    migrate(db, 3);
    db.prepare(
      "INSERT INTO entry_log (gate_seq, event_id, gate, lane, kind, direction, reason, manual, at) VALUES (1, 'e1', 'A1', 1, 'refused', 'entry', 'FORGED', 0, 0)",
    ).run();
    expect(migrate(db, 4)).toBe(4);
    db.prepare(
      "INSERT INTO entry_log (gate_seq, event_id, gate, lane, kind, direction, reason, manual, at, issuer_key) VALUES (2, 'e2', 'A1', 1, 'refused', 'entry', 'KEY_REVOKED', 0, 0, 3)",
    ).run();
    expect(db.prepare("SELECT event_id, issuer_key FROM entry_log ORDER BY gate_seq").all()).toEqual([
      { event_id: "e1", issuer_key: null },
      { event_id: "e2", issuer_key: 3 },
    ]);
    expect(() => db.prepare("UPDATE entry_log SET issuer_key = 4").run()).toThrow(/append-only/);
  });

  it("5: a supervisor's override column on the log and on authorizations", () => {
    const db = open();
    migrate(db, 4);
    expect(migrate(db, 5)).toBe(5);
    const columns = (table: string) =>
      (db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((c) => c.name);
    expect(columns("entry_log")).toContain("override");
    expect(columns("authorizations")).toContain("override");
    db.close();
  });

  it("6: movements placed in the venue's order, generations seen in use, refused feed changes", () => {
    const db = open();
    migrate(db, 5);
    ticket(db, 7, "Zoé Dupré");
    ticket(db, 8, "Ana Lima");
    db.prepare(
      "INSERT INTO seen (ticket, session, state, first_entry_at, first_entry_gate, last_at, last_gate) VALUES (7, 1, 'inside', 5, 'A1', 5, 'A1')",
    ).run();
    // The journal shows generation 2 of ticket 7 admitted here, generation 3 of ticket 8 elsewhere,
    // and generation 1 of ticket 8 (the row's own): only newer generations than the rows are kept.
    const log = db.prepare(
      "INSERT INTO entry_log (gate_seq, event_id, gate, lane, kind, direction, reason, ticket, generation, session, manual, at) VALUES (?, ?, 'A1', 1, ?, 'entry', 'ADMITTED', ?, ?, 1, 0, 0)",
    );
    log.run(1, "e1", "authorized", 7, 2);
    log.run(2, "e2", "refused", 8, 9);
    log.run(3, "e3", "authorized", 8, 1);
    db.prepare(
      "INSERT INTO remote_events (event_id, gate, gate_seq, kind, ticket, session, at, event) VALUES ('r1', 'B1', 4, 'entered', 8, 1, 0, ?)",
    ).run(JSON.stringify({ ticketId: 8, generation: 3 }));
    expect(migrate(db, 6)).toBe(6);
    expect(db.prepare("SELECT last_order, last_gate_seq FROM seen").get()).toEqual({
      last_order: 0,
      last_gate_seq: 0,
    });
    expect(db.prepare("SELECT ticket, generation FROM generations_seen ORDER BY ticket").all()).toEqual([
      { ticket: 7, generation: 2 },
      { ticket: 8, generation: 3 },
    ]);
    const columns = (db.prepare("PRAGMA table_info(feed_changes)").all() as Array<{ name: string }>).map(
      (c) => c.name,
    );
    expect(columns).toContain("refused");
    db.close();
  });

  it("runs each migration once, in its own transaction: a failing one leaves the schema before it", () => {
    const db = open();
    expect(migrate(db)).toBe(LATEST_VERSION);
    expect(migrate(db)).toBe(LATEST_VERSION);
    const broken = [
      ...MIGRATIONS,
      {
        version: LATEST_VERSION + 1,
        description: "fails halfway",
        up(d: Database.Database) {
          d.exec("CREATE TABLE half (x INTEGER)");
          throw new Error("disk full");
        },
      },
    ];
    expect(() => migrate(db, LATEST_VERSION + 1, broken)).toThrow(/disk full/);
    expect(schemaVersion(db)).toBe(LATEST_VERSION);
    expect(tables(db)).not.toContain("half");
    db.close();
  });
});
