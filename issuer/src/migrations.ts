import type { SqlClient } from "./sql.js";

/*
 * The issuer's schema, as numbered migrations applied in order, each in its own transaction and
 * recorded in schema_migrations; a store newer than this software is refused rather than guessed
 * at. Games-wide from the first version: every ticket row, generation and change is keyed by venue.
 *
 * Ids: ticket ids are u32 (BIGINT, read back as numbers); sequence numbers are per venue and
 * gap-free: each is the venue row's last_sequence + 1, taken under that row's lock in the
 * transaction that writes the change, so a rolled-back change leaves no hole.
 */

export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE venues (
     id            TEXT PRIMARY KEY,
     name          TEXT NOT NULL,
     timezone      TEXT NOT NULL,
     model         JSONB NOT NULL,
     last_sequence INTEGER NOT NULL DEFAULT 0,
     registered_at TIMESTAMPTZ NOT NULL DEFAULT now()
   );
   CREATE TABLE sessions (
     venue      TEXT NOT NULL REFERENCES venues (id),
     id         INTEGER NOT NULL,
     code       TEXT NOT NULL,
     name       TEXT NOT NULL,
     doors_open TIMESTAMPTZ NOT NULL,
     starts_at  TIMESTAMPTZ NOT NULL,
     ends_at    TIMESTAMPTZ NOT NULL,
     PRIMARY KEY (venue, id)
   );
   CREATE TABLE tickets (
     venue           TEXT NOT NULL REFERENCES venues (id),
     id              BIGINT NOT NULL,
     generation      INTEGER NOT NULL,
     kind            TEXT NOT NULL CHECK (kind IN ('mobile', 'printed')),
     status          TEXT NOT NULL CHECK (status IN ('valid', 'cancelled')),
     sessions        INTEGER[] NOT NULL,
     entrance        INTEGER NOT NULL,
     zone            INTEGER NOT NULL,
     seat            TEXT NOT NULL,
     categories      TEXT[] NOT NULL,
     holder          TEXT NOT NULL,
     order_reference TEXT NOT NULL,
     issue_sequence  INTEGER NOT NULL,
     face_value      INTEGER NOT NULL CHECK (face_value >= 0),
     currency        TEXT NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
     PRIMARY KEY (venue, id)
   );
   CREATE TABLE generations (
     venue       TEXT NOT NULL,
     ticket_id   BIGINT NOT NULL,
     generation  INTEGER NOT NULL,
     how         TEXT NOT NULL CHECK (how IN ('issue', 'resale', 'transfer')),
     holder      TEXT NOT NULL,
     price_cents INTEGER,
     currency    TEXT,
     sequence    INTEGER NOT NULL,
     PRIMARY KEY (venue, ticket_id, generation),
     FOREIGN KEY (venue, ticket_id) REFERENCES tickets (venue, id)
   );
   CREATE TABLE changes (
     venue        TEXT NOT NULL REFERENCES venues (id),
     sequence     INTEGER NOT NULL CHECK (sequence > 0),
     type         TEXT NOT NULL,
     change       JSONB NOT NULL,
     key_id       INTEGER NOT NULL,
     signature    TEXT NOT NULL,
     committed_at TIMESTAMPTZ NOT NULL,
     PRIMARY KEY (venue, sequence)
   );`,
];

/** Brings the store's schema to the latest version; returns the versions it applied. */
export async function migrate(db: SqlClient): Promise<number[]> {
  await db.exec(
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
  );
  const rows = await db.query<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version");
  const current = rows.reduce((max, r) => Math.max(max, Number(r.version)), 0);
  if (current > MIGRATIONS.length)
    throw new Error(
      `the issuer store is at schema version ${current}, newer than this software's ${MIGRATIONS.length}: run a newer sesame`,
    );
  const applied: number[] = [];
  for (let version = current + 1; version <= MIGRATIONS.length; version++) {
    const script = MIGRATIONS[version - 1] ?? "";
    await db.transaction(async (tx) => {
      for (const statement of script.split(/;\s*(?:\n|$)/).filter((s) => s.trim() !== ""))
        await tx.query(statement);
      await tx.query("INSERT INTO schema_migrations (version) VALUES ($1)", [version]);
    });
    applied.push(version);
  }
  return applied;
}
