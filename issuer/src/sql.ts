import { PGlite } from "@electric-sql/pglite";
import pg from "pg";

/*
 * The issuer's one seam to PostgreSQL: parameterized queries, multi-statement scripts (migrations)
 * and transactions, implemented by PGlite (Postgres in WebAssembly, in a data directory, the
 * zero-setup default) and by node-postgres for a real server. The store knows nothing else.
 */

export interface SqlQueries {
  query<R>(sql: string, params?: readonly unknown[]): Promise<R[]>;
}

export interface SqlClient extends SqlQueries {
  /** Runs a script of several statements, without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /** Runs `work` in one transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(work: (tx: SqlQueries) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** "pglite" or "postgresql", for logs. */
  readonly engine: string;
}

/** PGlite in `dataDir` (created if missing), or in memory when `dataDir` is undefined. */
export async function openPglite(dataDir: string | undefined): Promise<SqlClient> {
  const db = dataDir === undefined ? new PGlite() : new PGlite(dataDir);
  await db.waitReady;
  return {
    engine: "pglite",
    async query<R>(sql: string, params: readonly unknown[] = []) {
      return (await db.query<R>(sql, [...params])).rows;
    },
    async exec(sql) {
      await db.exec(sql);
    },
    transaction(work) {
      return db.transaction((tx) =>
        work({
          query: async <R>(sql: string, params: readonly unknown[] = []) =>
            (await tx.query<R>(sql, [...params])).rows,
        }),
      );
    },
    close: () => db.close(),
  };
}

/** A PostgreSQL server at `connectionString` (postgres://user@host:port/db), through a small pool. */
export async function openPostgres(connectionString: string): Promise<SqlClient> {
  const pool = new pg.Pool({ connectionString, max: 4 });
  // Fail at start, with the server's own reason, rather than at the first request.
  (await pool.connect()).release();
  pool.on("error", () => {
    // An idle client lost its server: the next query reconnects or reports the error itself.
  });
  return {
    engine: "postgresql",
    async query<R>(sql: string, params: readonly unknown[] = []) {
      return (await pool.query(sql, [...params])).rows as R[];
    },
    async exec(sql) {
      await pool.query(sql);
    },
    async transaction(work) {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const result = await work({
          query: async <R>(sql: string, params: readonly unknown[] = []) =>
            (await client.query(sql, [...params])).rows as R[],
        });
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
