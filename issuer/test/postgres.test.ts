import { execFileSync, spawnSync } from "node:child_process";
import { chownSync, existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { freePort, makeTempDir } from "@sesame/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningIssuer, startIssuer } from "../src/index.js";
import { call, demoVenue, importRows, platformScenario, readStream } from "./scenario.js";

/*
 * The issuer on a real PostgreSQL (Debian's `postgresql` package): a cluster of its own in a temp
 * directory, on a free port, started as the `postgres` user when the test runs as root (PostgreSQL
 * refuses to run as root). Skipped, with the reason, only when the server's binaries are absent.
 */

function postgresBin(): string | undefined {
  const base = "/usr/lib/postgresql";
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(base, versions[0], "bin");
}

const bin = postgresBin();
const asRoot = process.getuid?.() === 0;
if (bin === undefined)
  console.warn(
    "postgres.test.ts skipped: no PostgreSQL server binaries under /usr/lib/postgresql (apt-get install postgresql)",
  );

/** Runs a PostgreSQL binary, as the postgres user when we are root. */
function pg(tool: string, args: string[]): void {
  const [command, argv] = asRoot
    ? ["runuser", ["-u", "postgres", "--", join(bin ?? "", tool), ...args]]
    : [join(bin ?? "", tool), args];
  const result = spawnSync(command, argv, { encoding: "utf8", timeout: 120_000 });
  if (result.status !== 0)
    throw new Error(`${tool} ${args.join(" ")} failed (${result.status}): ${result.stderr || result.stdout}`);
}

describe.skipIf(bin === undefined)("the issuer on a real PostgreSQL", { timeout: 300_000 }, () => {
  const dir = makeTempDir("sesame-postgres-");
  const cluster = join(dir.path, "cluster");
  let port = 0;
  let issuer: RunningIssuer | undefined;
  let started = false;

  beforeAll(async () => {
    if (asRoot) chownSync(dir.path, Number(execFileSync("id", ["-u", "postgres"]).toString()), 0);
    port = await freePort();
    pg("initdb", ["-D", cluster, "-A", "trust", "-U", "postgres", "--no-sync"]);
    pg("pg_ctl", [
      "-D",
      cluster,
      "-l",
      join(dir.path, "server.log"),
      "-w",
      "-o",
      `-p ${port} -k ${dir.path} -c listen_addresses=127.0.0.1 -c fsync=off`,
      "start",
    ]);
    started = true;
  }, 300_000);

  afterAll(async () => {
    await issuer?.close();
    if (started) pg("pg_ctl", ["-D", cluster, "-m", "immediate", "-w", "stop"]);
    dir.remove();
  }, 120_000);

  it("runs the platform's operations and serves gap-free signed streams", async () => {
    const data = makeTempDir("sesame-issuer-pg-");
    try {
      issuer = await startIssuer({
        dataDir: data.path,
        postgresUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
        log: () => undefined,
      });
      expect((await fetch(`${issuer.url}/health`).then((r) => r.json())) as unknown).toMatchObject({
        engine: "postgresql",
      });
      await platformScenario(issuer, demoVenue("pg-a").venue, demoVenue("pg-b").venue);

      // Concurrent transfers and cancels of the same tickets, through a pool of connections: each
      // is done or refused (409), none deadlocks or fails, and the stream has no hole.
      const demo = demoVenue("pg-race", 60);
      const running = issuer;
      await call(running, "PUT", "/venues/pg-race", demo.venue);
      const rows = importRows(demo, 10);
      await call(running, "POST", "/venues/pg-race/tickets", rows);
      const answers = await Promise.all(
        rows.flatMap((r) => [
          call(running, "POST", `/venues/pg-race/tickets/${r.id}/transfer`, { holder: "Noé Fabre" }),
          call(running, "POST", `/venues/pg-race/tickets/${r.id}/cancel`),
          call(running, "POST", `/venues/pg-race/tickets/${r.id}/transfer`, { holder: "Zoé Fabre" }),
        ]),
      );
      // A transfer is refused when the cancel came first; a cancel always passes (transfers keep it valid).
      expect(answers.every((a) => a.status === 200 || a.status === 409)).toBe(true);
      const stream = await readStream(running, "pg-race", 50);
      expect(stream.length).toBe(10 + answers.filter((a) => a.status === 200).length);
      expect(stream.filter((s) => s.change.type === "cancel").length).toBe(10);
    } finally {
      await issuer?.close();
      issuer = undefined;
      data.remove();
    }
  });
});
