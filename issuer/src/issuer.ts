import { mkdirSync, statSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createNodeSigner, type Ed25519Signer } from "@sesame/ticket";
import type { Venue } from "@sesame/venue";
import { IssuerDesk } from "./desk.js";
import { issuerHttpServer } from "./http.js";
import { bearerToken, IssuerKeyStore, PLATFORM_TOKEN_FILE, VENUE_TOKEN_FILE } from "./key-store.js";
import { migrate } from "./migrations.js";
import { openPglite, openPostgres, type SqlClient } from "./sql.js";
import { IssuerStore } from "./store.js";

/*
 * The issuer process: its data directory (0700) holds the key file, the tokens and, by default,
 * the PGlite database (pgdata/); with `postgresUrl` the store is that PostgreSQL server instead.
 */

export interface IssuerOptions {
  readonly dataDir: string;
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  /** postgres://… of a PostgreSQL server; PGlite in `<dataDir>/pgdata` when absent. */
  readonly postgresUrl?: string;
  /** Venues to register (or update) at start. */
  readonly venues?: readonly Venue[];
  /** Issuer seeds by key id, imported only when the data directory has no key file yet. */
  readonly importSeeds?: Readonly<Record<string, string>>;
  readonly signer?: Ed25519Signer;
  now?(): number;
  log?(line: string): void;
}

export interface RunningIssuer {
  readonly url: string;
  readonly port: number;
  readonly platformToken: string;
  readonly venueToken: string;
  readonly desk: IssuerDesk;
  readonly store: IssuerStore;
  readonly keys: IssuerKeyStore;
  close(): Promise<void>;
}

/** Opens the store and key file, registers the given venues and serves the API. */
export async function startIssuer(options: IssuerOptions): Promise<RunningIssuer> {
  const now = options.now ?? (() => Date.now());
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  if ((statSync(options.dataDir).mode & 0o077) !== 0)
    log(
      `issuer: warning: ${options.dataDir} is open to group or others; its secret files are checked one by one`,
    );
  const { store: keys, created } = IssuerKeyStore.open(options.dataDir, {
    nowSeconds: Math.floor(now() / 1000),
    ...(options.importSeeds ? { importSeeds: options.importSeeds } : {}),
  });
  if (created === "imported")
    log(
      `issuer: key file ${keys.location} made from the venue's issuer seeds (keys ${keys
        .publicKeys()
        .map((k) => k.keyId)
        .join(", ")})`,
    );
  if (created === "generated") log(`issuer: key file ${keys.location} made with a new issuer key`);
  const platformToken = bearerToken(options.dataDir, PLATFORM_TOKEN_FILE);
  const venueToken = bearerToken(options.dataDir, VENUE_TOKEN_FILE);
  let db: SqlClient | undefined;
  try {
    db = options.postgresUrl
      ? await openPostgres(options.postgresUrl)
      : await openPglite(join(options.dataDir, "pgdata"));
    const applied = await migrate(db);
    if (applied.length > 0)
      log(`issuer: store (${db.engine}) migrated to schema version ${applied[applied.length - 1]}`);
    const store = new IssuerStore(db);
    const desk = new IssuerDesk({ store, keys, signer: options.signer ?? createNodeSigner(), now });
    for (const venue of options.venues ?? []) await desk.registerVenue(venue.id, venue);
    const server = issuerHttpServer({ desk, store, keys, platformToken, venueToken, log });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve);
    });
    const { port } = server.address() as AddressInfo;
    const opened = db;
    return {
      url: `http://${options.host ?? "127.0.0.1"}:${port}`,
      port,
      platformToken,
      venueToken,
      desk,
      store,
      keys,
      async close() {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await opened.close();
      },
    };
  } catch (error) {
    await db?.close().catch(() => undefined);
    throw error;
  }
}
