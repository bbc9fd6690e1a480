import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decideScan } from "@sesame/gate-core";
import {
  createNodeSigner,
  createNodeVerifier,
  nodeVerifierNoCache,
  pick,
  seededRandom,
} from "@sesame/ticket";
import { generateDemoVenue, walletCode, writeVenueDirectory } from "@sesame/venue";
import Database from "better-sqlite3";
import { type BenchFigure, percentile, sample } from "../../../test/bench/figure.js";
import { GateStore } from "../src/index.js";

const DOORS = Date.UTC(2026, 6, 26, 17, 0, 0);
const DURING = DOORS + 3_600_000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/**
 * The gate cache against its targets (issue 3): a 100,000-ticket venue imported into a fresh
 * cache, a decision with verification and the durable `authorized` write, and the
 * printed-confirmation lookup over 100,000 tickets.
 */
export async function run(): Promise<BenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), "sesame-cache-bench-"));
  try {
    const signer = createNodeSigner();
    const demo = generateDemoVenue({
      spectators: 100_000,
      doorsOpenMs: DOORS,
      entrances: 2,
      lanes: 8,
      random: seededRandom("cache-bench"),
      signer,
    });
    const venueDir = join(dir, "venue");
    writeVenueDirectory(venueDir, demo, signer);
    const rootPublicKey = Uint8Array.from(Buffer.from(demo.venue.rootPublicKey, "hex"));

    // Import: three fresh caches, the median counts.
    const imports: number[] = [];
    let store: GateStore | undefined;
    for (let i = 0; i < 3; i++) {
      store?.close();
      store = GateStore.open(join(dir, `gate-${i}.db`), { rootPublicKey, gateId: "A1" });
      const t = performance.now();
      store.importBundle(venueDir);
      imports.push(performance.now() - t);
    }
    if (!store) throw new Error("no cache");
    const cache = store;

    // Decision with verification + the durable `authorized` commit, as the lane waits for it.
    const issuerSeed = Uint8Array.from(Buffer.from(Object.values(demo.secrets.issuerSeeds)[0] ?? "", "hex"));
    // Latest generations only: an old generation's code is refused, not admitted.
    const admissible = new Set(
      demo.rows
        .filter(
          (r) =>
            r.state === "valid" &&
            r.kind === "mobile" &&
            r.session === 1 &&
            r.entrance === 1 &&
            !r.late &&
            r.categories.length === 0,
        )
        .map((r) => `${r.id}/${r.generation}`),
    );
    const wallets = demo.wallets
      .filter((w) => admissible.has(`${w.body.ticketId}/${w.body.generation}`))
      .slice(0, 1500);
    const codes = wallets.map((w) => walletCode(w, issuerSeed, DURING, signer));
    const verifiers = { issuerVerifier: createNodeVerifier(), deviceVerifier: nodeVerifierNoCache };
    const context = {
      gateId: "A1",
      lane: 1,
      entrance: 1,
      direction: "entry" as const,
      nowMs: DURING,
      mode: "normal" as const,
      clockSuspect: false,
    };
    const facts = cache.facts();
    const place = { lane: 1, direction: "entry" as const, at: DURING };
    const authorizations: string[] = [];
    const decideOnly: number[] = [];
    const commitOnly: number[] = [];
    const scan = (i: number) => {
      const t0 = performance.now();
      const decision = decideScan(codes[i] ?? "", context, facts, verifiers);
      const t1 = performance.now();
      if (decision.outcome !== "ADMIT") throw new Error(`bench code ${i} not admitted: ${decision.reason}`);
      authorizations.push(cache.authorize(decision, place).authorization.authorizationId);
      decideOnly.push(t1 - t0);
      commitOnly.push(performance.now() - t1);
    };
    for (let i = 0; i < 50; i++) scan(i); // warm-up
    decideOnly.length = 0;
    commitOnly.length = 0;
    const decide = sample(codes.length - 50, (i) => scan(i + 50));
    decideOnly.sort((a, b) => a - b);
    commitOnly.sort((a, b) => a - b);
    const passages = sample(authorizations.length, (i) =>
      cache.confirmPassage(authorizations[i] ?? "", DURING + 3000),
    );
    const refusals = sample(300, (i) => {
      const decision = decideScan(codes[i] ?? "", context, facts, verifiers);
      cache.recordRefusal(decision, place);
    });

    // Lookup: family names, prefixes, first + family names typed in capitals without accents,
    // order references, misses.
    const random = seededRandom("lookup-bench");
    const tickets = demo.bundle.tickets;
    const plain = (s: string) => s.normalize("NFD").replace(/\p{M}/gu, "");
    const queries = Array.from({ length: 2000 }, () => {
      const t = pick(random, tickets);
      const words = t.holder.split(" ");
      const family = words.at(-1) ?? "";
      switch (Math.floor(random.next() * 6)) {
        case 0:
          return family;
        case 1:
          return family.slice(0, 3 + Math.floor(random.next() * 3));
        case 2:
          return plain(t.holder).toUpperCase();
        case 3:
          return `${(words[0] ?? "").slice(0, 3)} ${family}`;
        case 4:
          return t.orderReference.toLowerCase();
        default:
          return `zz${family}`;
      }
    });
    for (const q of queries.slice(0, 100)) cache.lookup(q, { at: DURING });
    const lookups = sample(queries.length, (i) => cache.lookup(queries[i] ?? "", { at: DURING }));
    cache.close();

    // The physical floor at this moment: a bare single-row durable commit on the same disk.
    const scratch = new Database(join(dir, "floor.db"));
    scratch.pragma("journal_mode = WAL");
    scratch.pragma("synchronous = FULL");
    scratch.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
    const insert = scratch.prepare("INSERT INTO t (v) VALUES (?)");
    const floor = sample(1000, () => insert.run("x".repeat(200)));
    scratch.close();

    const importMs = median(imports);
    const decideP99 = percentile(decide, 99);
    const lookupP99 = percentile(lookups, 99);
    return [
      {
        name: `import ${tickets.length.toLocaleString("en")}-ticket bundle into a fresh cache (median of 3)`,
        value: importMs,
        unit: "ms",
        target: "≤ 1.5 s",
        ok: importMs <= 1500,
      },
      {
        name: "decision (verify + rules) + durable `authorized` commit, p99",
        value: decideP99,
        unit: "ms",
        target: "p99 ≤ 1 ms",
        ok: decideP99 <= 1,
      },
      { name: "  decision + durable `authorized` commit, p50", value: percentile(decide, 50), unit: "ms" },
      {
        name: "  of which decision alone (verify + rules + cache reads), p99",
        value: percentile(decideOnly, 99),
        unit: "ms",
      },
      {
        name: "  of which durable `authorized` commit alone, p99",
        value: percentile(commitOnly, 99),
        unit: "ms",
      },
      {
        name: "  of which durable `authorized` commit alone, p50",
        value: percentile(commitOnly, 50),
        unit: "ms",
      },
      {
        name: "  floor: bare single-row durable commit on this disk, p50",
        value: percentile(floor, 50),
        unit: "ms",
      },
      {
        name: "  floor: bare single-row durable commit on this disk, p99",
        value: percentile(floor, 99),
        unit: "ms",
      },
      { name: "durable `entered` commit (passage), p99", value: percentile(passages, 99), unit: "ms" },
      { name: "decision + durable `refused` commit, p99", value: percentile(refusals, 99), unit: "ms" },
      {
        name: "printed-confirmation lookup over 100,000 tickets, p99",
        value: lookupP99,
        unit: "ms",
        target: "p99 ≤ 5 ms",
        ok: lookupP99 <= 5,
      },
      { name: "printed-confirmation lookup, p50", value: percentile(lookups, 50), unit: "ms" },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
