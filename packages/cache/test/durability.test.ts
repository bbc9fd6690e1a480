import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pick, seededRandom } from "@sesame/ticket";
import Database from "better-sqlite3";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GateStore } from "../src/index.js";
import { type DemoDir, DURING, demoVenueDir, holders } from "./helpers.js";

/*
 * Kills a gate (gate-loop.ts) with SIGKILL at random moments while it streams scans, many times
 * over, restarting it each time (it recovers on start), then checks the cache: no ticket entered
 * twice, every authorization ended entered or annulled, the log has no gap and holds every event
 * the gate had reported as committed.
 *
 * The gate runs as a real process. It is bundled once with esbuild (what tsx uses inside) so that
 * each restart costs ~0.2 s rather than tsx's ~0.8 s of on-the-fly compilation.
 */

const KILLS = 30;
const SCANS = 1500;

interface Round {
  readonly lines: string[];
  readonly killed: boolean;
}

describe("durability: a gate killed at random moments loses nothing and admits no one twice", () => {
  let v: DemoDir;
  let bundle: string;
  let configPath: string;
  let db: string;

  beforeAll(async () => {
    v = demoVenueDir(300, "durability");
    const h = holders(v);
    const random = seededRandom("durability-scans");
    // Mostly good codes at this gate's entrance, repeated (people scan twice, come back), with
    // printed confirmations, resold codes and the other entrance's tickets mixed in.
    const pool = h.rows((r) => r.session === 1 && !r.late);
    const local = pool.filter((r) => r.entrance === 1);
    const scans = Array.from({ length: SCANS }, (_, i) => {
      const row = random.next() < 0.85 ? pick(random, local) : pick(random, pool);
      const at = DURING + i * 200;
      return { code: h.code(row.id, at, row.generation), at, lane: 1 + (i % 4) };
    });
    const scansPath = join(v.temp, "scans.json");
    writeFileSync(scansPath, JSON.stringify(scans));
    db = join(v.temp, "gate.db");
    configPath = join(v.temp, "config.json");
    writeFileSync(
      configPath,
      JSON.stringify({
        db,
        venueDir: v.dir,
        rootPublicKey: v.demo.venue.rootPublicKey,
        gateId: "A1",
        entrance: 1,
        scans: scansPath,
      }),
    );
    bundle = join(v.temp, "gate-loop.mjs");
    const sqlite = createRequire(import.meta.url).resolve("better-sqlite3");
    await build({
      entryPoints: [fileURLToPath(new URL("./gate-loop.ts", import.meta.url))],
      outfile: bundle,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      logLevel: "warning",
      // Some dependencies require() node built-ins; the native SQLite addon stays where it is installed.
      banner: {
        js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
      },
      plugins: [
        {
          name: "native-sqlite",
          setup(b) {
            b.onResolve({ filter: /^better-sqlite3$/ }, () => ({ path: sqlite, external: true }));
          },
        },
      ],
    });
  });
  afterAll(() => v?.remove());

  /**
   * Runs the gate from scan `first` to `end` and waits for it to die or stop. `death` says where
   * it dies (see gate-loop.ts); `killOn`, for a gate that holds, is the event on which the test
   * SIGKILLs it: what the gate printed, counted, so the kill lands wherever the gate has got to
   * by the time the test reads it, on any machine. A gate that holds is always killed.
   */
  const run = (
    first: number,
    end: number,
    death: string,
    killOn?: (line: string) => boolean,
    config = configPath,
  ): Promise<Round> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [bundle, config, String(first), String(end), death], {
        stdio: ["pipe", "pipe", "pipe"],
      });
      let out = "";
      let err = "";
      let pending = "";
      const kill = () => child.kill("SIGKILL");
      if (killOn?.("")) kill();
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        pending += chunk.toString();
        const lines = pending.split("\n");
        pending = lines.pop() ?? "";
        // "H": the gate ran out of scans before the event came; it holds until killed.
        for (const line of lines) if (line === "H" || killOn?.(line)) kill();
      });
      child.stderr.on("data", (chunk: Buffer) => {
        err += chunk.toString();
      });
      child.stdin.on("error", () => {}); // the gate died: nothing more to write
      child.on("error", reject);
      child.on("close", (code, signal) => {
        if (signal !== "SIGKILL" && code !== 0) reject(new Error(`gate exited ${code}: ${err}`));
        else resolve({ lines: out.split("\n").filter((l) => l !== ""), killed: signal === "SIGKILL" });
      });
    });

  it(`survives ${KILLS} SIGKILLs`, { timeout: 120_000 }, async () => {
    const random = seededRandom("durability-kills");
    const committed = new Map<number, string>();
    let next = 0;
    let kills = 0;
    const deaths = new Map<string, number>();
    const absorb = (round: Round) => {
      for (const line of round.lines) {
        const [tag, a, b] = line.split(" ");
        if (tag === "C") committed.set(Number(a), b ?? "");
        // An interrupted scan is scanned again after the restart, as a holder would.
        if (tag === "S") next = Number(a);
      }
    };
    /** Kills on the k-th commit after the gate said it was ready. */
    const afterCommits = (k: number) => {
      let ready = false;
      let seen = 0;
      return (line: string) => {
        if (line === "R") ready = true;
        else if (ready && line.startsWith("C ")) seen++;
        return seen >= k;
      };
    };
    for (let round = 0; round < KILLS; round++) {
      // Where this round's death lands, chosen by events: inside the first import, at start-up
      // (node, opening the cache, recovery), inside a journal write (k = 1: inside recovery when
      // an authorization was left open), or where the gate has got to once it printed its k-th commit.
      const pick = random.next();
      const k = 1 + Math.floor(random.next() * 40);
      const [kind, death, killOn] =
        round === 0
          ? ["import", `import:${1 + Math.floor(random.next() * 300)}`, undefined]
          : pick < 0.15
            ? ["start-up", "hold", () => true]
            : pick < 0.3
              ? ["recovery", "log:1", undefined]
              : pick < 0.6
                ? ["journal", `log:${k}`, undefined]
                : ["after-commit", "hold", afterCommits(k)];
      // At most 60 scans a round (a gate that gets there holds and is killed): 30 rounds never
      // run out of the 1,500 scans, so every round has something to be killed in.
      const r = await run(next, Math.min(SCANS, next + 60), death, killOn);
      absorb(r);
      if (r.killed) kills++;
      deaths.set(kind, (deaths.get(kind) ?? 0) + 1);
    }
    expect(next).toBeLessThan(SCANS);
    // Last start: recovery, a few scans, a clean stop.
    absorb(await run(next, Math.min(SCANS, next + 20), "run"));

    expect(kills).toBe(KILLS);
    expect([...deaths.keys()].sort()).toEqual(["after-commit", "import", "journal", "recovery", "start-up"]);
    const store = GateStore.open(db, { rootPublicKey: v.rootPublicKey, gateId: "A1" });
    const events = store.events(1, 1_000_000);
    // Gapless log, and every event the gate said it had committed is there, unchanged.
    expect(events.map((e) => e.gateSeq)).toEqual(events.map((_, i) => i + 1));
    expect(committed.size).toBeGreaterThan(50);
    for (const [seq, eventId] of committed) expect(events[seq - 1]?.eventId, `gateSeq ${seq}`).toBe(eventId);
    // No authorization left open; each ended by exactly one entered or annulled event.
    expect(store.openAuthorizations()).toEqual([]);
    const ends = new Map<string, string[]>();
    for (const e of events)
      if (e.authorizationId && e.kind !== "authorized")
        ends.set(e.authorizationId, [...(ends.get(e.authorizationId) ?? []), e.kind]);
    const opened = events.filter((e) => e.kind === "authorized");
    for (const a of opened) {
      const end = ends.get(a.authorizationId ?? "");
      expect(end, `authorization ${a.authorizationId}`).toHaveLength(1);
      expect(["entered", "annulled"]).toContain(end?.[0]);
      expect(store.authorization(a.authorizationId ?? "")?.state).toBe(end?.[0]);
    }
    // No ticket entered twice for a session, and the seen table agrees with the log.
    const entered = events.filter((e) => e.kind === "entered");
    const keys = entered.map((e) => `${e.ticketId}/${e.session}`);
    expect(new Set(keys).size).toBe(keys.length);
    // The gate holds its cache exclusively while open: read the table once it is closed.
    store.close();
    const raw = new Database(db, { readonly: true });
    const seen = (
      raw.prepare("SELECT ticket, session, state FROM seen").all() as Array<{
        ticket: number;
        session: number;
        state: string;
      }>
    ).map((s) => `${s.ticket}/${s.session}`);
    raw.close();
    expect(new Set(seen)).toEqual(new Set(keys));
    // The kills did land where they matter: authorizations open at a crash, annulled on restart.
    expect(events.filter((e) => e.kind === "annulled" && e.detail === "recovery").length).toBeGreaterThan(0);
    expect(events.some((e) => e.kind === "refused" && e.reason === "ALREADY_ENTERED")).toBe(true);
  });

  it("a first import killed at any moment leaves the empty cache or the whole venue", {
    timeout: 120_000,
  }, async () => {
    // A venue big enough for the import to take a while; the gate starts, imports, recovers, stops.
    const big = demoVenueDir(12_000, "durability-import");
    try {
      const config = (name: string) => {
        const path = join(big.temp, `${name}.json`);
        writeFileSync(
          path,
          JSON.stringify({
            db: join(big.temp, `${name}.db`),
            venueDir: big.dir,
            rootPublicKey: big.demo.venue.rootPublicKey,
            gateId: "A1",
            entrance: 1,
            scans: join(big.temp, "no-scans.json"),
          }),
        );
        return path;
      };
      writeFileSync(join(big.temp, "no-scans.json"), "[]");
      const random = seededRandom("durability-import-kills");
      const tickets = big.demo.bundle.tickets.length;
      let midImport = 0;
      let kills = 0;
      // Where each start dies: inside the import transaction at a chosen ticket row (the last one
      // included: just before the commit), when the test reads that the import began (lands
      // inside it or just after), and straight after spawn (node, opening the cache). The last
      // start is not killed.
      const deaths: Array<[string, ((line: string) => boolean) | undefined]> = [
        ...Array.from({ length: 5 }, (): [string, undefined] => [
          `import:${1 + Math.floor(random.next() * tickets)}`,
          undefined,
        ]),
        [`import:${tickets}`, undefined],
        ["hold", (line) => line === "I"],
        ["hold", (line) => line === "I"],
        ["hold", () => true],
        ["hold", () => true],
        ["run", undefined],
      ];
      for (const [round, [death, killOn]] of deaths.entries()) {
        const name = `killed-${round}`;
        const db = join(big.temp, `${name}.db`);
        const r = await run(0, 0, death, killOn, config(name));
        if (r.killed) kills++;
        const store = GateStore.open(db, { rootPublicKey: big.rootPublicKey, gateId: "A1" });
        const held = (store as unknown as { db: Database.Database }).db;
        expect(held.pragma("journal_mode", { simple: true }), name).toBe("wal");
        const count = (held.prepare("SELECT COUNT(*) AS n FROM tickets").get() as { n: number }).n;
        // All or nothing, whatever the moment: never part of a venue.
        expect(count === 0 || count === tickets, `${name}: ${count} tickets`).toBe(true);
        expect(store.imported, name).toBe(count === tickets);
        if (!r.killed) expect(count, name).toBe(tickets);
        if (death.startsWith("import:")) expect(count, `${name}: died inside the import`).toBe(0);
        // Killed after "importing" and before "ready", nothing imported: inside the import.
        if (r.killed && r.lines.includes("I") && !r.lines.includes("R") && count === 0) midImport++;
        if (!store.imported) store.importBundle(big.dir);
        expect(store.facts().ticket(big.demo.bundle.tickets[0]?.id ?? 0), name).toBeDefined();
        store.close();
      }
      expect(kills).toBe(deaths.length - 1);
      // At least the six deaths placed inside the import transaction.
      expect(midImport).toBeGreaterThanOrEqual(6);
    } finally {
      big.remove();
    }
  });
});
