import { join } from "node:path";
import { type RunningIssuer, SecretFileError, startIssuer } from "@sesame/issuer";
import type { Venue } from "@sesame/venue";
import { readSecrets } from "@sesame/venue";
import { parse, parseInteger } from "../args.js";
import { CliError } from "../cli-error.js";
import type { Io } from "../io.js";
import { loadVenue, withVenueErrors } from "../venue-context.js";

export const ISSUER_USAGE =
  "sesame issuer [--data DIR] [--host ADDR] [--port N] [--postgres postgres://USER@HOST:PORT/DB] [--venue DIR]... [--import-keys]";

/*
 * Runs the issuer until interrupted: its data directory (default .sesame/issuer) holds its key
 * file and tokens, and its PGlite database unless --postgres names a server. --venue registers a
 * venue directory's venue; --import-keys, on a first start only, takes that venue's issuer seeds
 * as the issuer's keys, so the trust list its gates hold still covers what the issuer signs.
 */
export async function issuerCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parse(
    argv,
    {
      data: { type: "string" },
      host: { type: "string" },
      port: { type: "string" },
      postgres: { type: "string" },
      venue: { type: "string", multiple: true },
      "import-keys": { type: "boolean" },
    },
    ISSUER_USAGE,
  );
  const dataDir = values.data ?? join(".sesame", "issuer");
  const port = parseInteger(values.port, "--port", 0, 65_535) ?? 8480;
  if (values.postgres !== undefined && !/^postgres(ql)?:\/\//.test(values.postgres))
    throw new CliError(`--postgres must be a postgres:// URL, got ${JSON.stringify(values.postgres)}`);
  const venueDirs = values.venue ?? [];
  const venues: Venue[] = venueDirs.map((dir) => loadVenue(dir));
  let importSeeds: Record<string, string> | undefined;
  if (values["import-keys"]) {
    if (venueDirs.length === 0)
      throw new CliError("--import-keys takes the seeds of a --venue DIR: give one");
    importSeeds = Object.assign(
      {},
      ...venueDirs.map((dir) => withVenueErrors(dir, () => readSecrets(dir)).issuerSeeds),
    );
  }
  let issuer: RunningIssuer;
  try {
    issuer = await startIssuer({
      dataDir,
      ...(values.host ? { host: values.host } : {}),
      port,
      ...(values.postgres ? { postgresUrl: values.postgres } : {}),
      venues,
      ...(importSeeds ? { importSeeds } : {}),
      now: () => io.now(),
      log: (line) => io.stderr.write(`${line}\n`),
    });
  } catch (error) {
    if (error instanceof SecretFileError) throw new CliError(`issuer: ${error.message}`, 1);
    if (error instanceof Error && /EADDRINUSE/.test(error.message))
      throw new CliError(`issuer: port ${port} is taken: choose another with --port`, 1);
    throw error;
  }
  io.stdout.write(
    `issuer at ${issuer.url} (data ${dataDir}, store ${issuer.store.db.engine}, venues: ${
      venues.map((v) => v.id).join(", ") || "none yet"
    })\n` +
      `  platform token: ${join(dataDir, "platform-token")}; venue token: ${join(dataDir, "venue-token")}\n`,
  );
  await io.interrupted;
  await issuer.close();
  return 0;
}
