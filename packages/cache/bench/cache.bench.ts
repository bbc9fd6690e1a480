import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decideScan } from "@sesame/gate-core";
import { type BenchFigure, percentile, sample } from "@sesame/testing/bench";
import { createNodeSigner, createScanVerifiers, pick, seededRandom } from "@sesame/ticket";
import {
  decodeGateBundle,
  encodeGateBundle,
  generateDemoVenue,
  signBundleBytes,
  walletCode,
  writeVenueDirectory,
} from "@sesame/venue";
import Database from "better-sqlite3";
import { GateStore } from "../src/index.js";

const DOORS = Date.UTC(2026, 6, 26, 17, 0, 0);
const DURING = DOORS + 3_600_000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
/** Lets the event loop turn, as it does between two scans at a gate (each scan is its own event). */
const nextEvent = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Times `fn` `n` times, one call per event-loop turn, as scans arrive at a gate. Returns the sorted
 * durations and the longest time the loop spent between two calls: work the cache does between
 * scans (its WAL checkpoint), which a scan arriving at that moment would wait for.
 */
async function sampleEvents(n: number, fn: (i: number) => void): Promise<{ times: number[]; gap: number }> {
  const times: number[] = [];
  let gap = 0;
  let last = performance.now();
  for (let i = 0; i < n; i++) {
    await nextEvent();
    const t = performance.now();
    gap = Math.max(gap, t - last);
    fn(i);
    last = performance.now();
    times.push(last - t);
  }
  return { times: times.sort((a, b) => a - b), gap };
}

/**
 * The gate cache against its targets (issue 3): a 100,000-ticket venue imported into a fresh
 * cache, a decision with verification and the durable `authorized` write, and the
 * printed-confirmation lookup over 100,000 tickets.
 *
 * Scans are timed one per event-loop turn, as they arrive at a gate (a scanner's bytes are an
 * event): the cache checkpoints its WAL between scans, never inside one, and the longest such
 * pause is reported. A loop that never lets the event loop turn would leave that work to SQLite's
 * backstop checkpoint, inside some commit.
 *
 * The floor is measured among the scans, not after them: every other code is decided the same way
 * and then commits one bare row to another SQLite file. On this disk a durable commit costs
 * ~0.25 ms right after another one and ~0.7 ms after a pause of a few ms, so a floor measured with
 * back-to-back commits would flatter the disk; "lone" figures show the cost for a scan on its own.
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

    // The demo's holders share ~1,600 names; a real venue's are nearly all different, and each
    // different name is folded for the search index. The headline import is the same bundle with
    // a first, a middle and a family name combined per ticket from the demo's own words (so that
    // the words, which the full-text index counts, repeat as in a real crowd), signed again with
    // the demo's root key.
    const distinctDir = join(dir, "venue-distinct");
    cpSync(venueDir, distinctDir, { recursive: true });
    const bundleFile = join(distinctDir, "gate-bundle.json");
    const distinct = decodeGateBundle(readFileSync(bundleFile));
    const firsts = [...new Set(distinct.tickets.map((t) => t.holder.split(" ")[0] ?? ""))];
    const families = [...new Set(distinct.tickets.map((t) => t.holder.split(" ").slice(1).join(" ")))];
    const n = firsts.length;
    const distinctTickets = distinct.tickets.map((t, i) => ({
      ...t,
      holder: `${firsts[i % n]} ${firsts[Math.floor(i / n) % n]} ${families[Math.floor(i / n / n) % families.length]}`,
    }));
    const distinctNames = new Set(distinctTickets.map((t) => t.holder)).size;
    const distinctBytes = encodeGateBundle({ ...distinct, tickets: distinctTickets });
    writeFileSync(bundleFile, distinctBytes);
    writeFileSync(
      join(distinctDir, "gate-bundle.sig"),
      `${signBundleBytes(distinctBytes, Buffer.from(demo.secrets.rootSeed, "hex"), signer)}\n`,
    );

    // Import: three fresh caches, the median counts.
    const imports: number[] = [];
    const stores: GateStore[] = [];
    for (let i = 0; i < 3; i++) {
      const store = GateStore.open(join(dir, `gate-${i}.db`), { rootPublicKey, gateId: "A1" });
      const t = performance.now();
      store.importBundle(distinctDir);
      imports.push(performance.now() - t);
      stores.push(store);
    }
    // A new snapshot over a cache that holds one (mid-day): replaced in place through the WAL.
    const reimports: number[] = [];
    for (const store of stores) {
      const t = performance.now();
      store.importBundle(distinctDir);
      reimports.push(performance.now() - t);
      store.close();
    }
    // The demo's own bundle (its names repeat) makes the cache the scans and lookups below use.
    const cache = GateStore.open(join(dir, "gate-demo.db"), { rootPublicKey, gateId: "A1" });
    const td = performance.now();
    cache.importBundle(venueDir);
    const demoImport = performance.now() - td;

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
      .slice(0, 3000);
    const codes = wallets.map((w) => walletCode(w, issuerSeed, DURING, signer));
    const verifiers = createScanVerifiers();
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

    // The physical floor, measured in the same conditions: every other scan is decided the same
    // way and then commits one bare row to another SQLite file (WAL, synchronous=FULL, a WAL file
    // already at its size, as the cache's). How long a durable commit takes on this disk depends on
    // how long ago the previous one was: back to back it is several times cheaper than after a pause.
    const floorDb = new Database(join(dir, "floor.db"));
    floorDb.pragma("journal_mode = WAL");
    floorDb.pragma("synchronous = FULL");
    floorDb.pragma("wal_autocheckpoint = 0");
    floorDb.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
    const bareRow = floorDb.prepare("INSERT INTO t (v) VALUES (?)");
    for (let i = 0; i < 3000; i++) bareRow.run("x".repeat(200));
    floorDb.pragma("wal_checkpoint(PASSIVE)");
    bareRow.run("restart"); // the first write after a checkpoint rewrites (and syncs) the WAL header

    const authorizations: string[] = [];
    const total: number[] = [];
    const decideOnly: number[] = [];
    const commitOnly: number[] = [];
    const floorTotal: number[] = [];
    const floorCommit: number[] = [];
    const scan = (i: number) => {
      const t0 = performance.now();
      const decision = decideScan(codes[i] ?? "", context, facts, verifiers);
      const t1 = performance.now();
      if (decision.outcome !== "ADMIT") throw new Error(`bench code ${i} not admitted: ${decision.reason}`);
      decideOnly.push(t1 - t0);
      if (i % 2 === 0) {
        authorizations.push(cache.authorize(decision, place).authorization.authorizationId);
        const t2 = performance.now();
        total.push(t2 - t0);
        commitOnly.push(t2 - t1);
      } else {
        bareRow.run("x".repeat(200));
        const t2 = performance.now();
        floorTotal.push(t2 - t0);
        floorCommit.push(t2 - t1);
      }
    };
    await sampleEvents(50, scan); // warm-up
    for (const list of [total, decideOnly, commitOnly, floorTotal, floorCommit]) list.length = 0;
    const decide = await sampleEvents(codes.length - 50, (i) => scan(i + 50));
    for (const list of [total, decideOnly, commitOnly, floorTotal, floorCommit]) list.sort((a, b) => a - b);
    const passages = await sampleEvents(authorizations.length, (i) =>
      cache.confirmPassage(authorizations[i] ?? "", DURING + 3000),
    );
    // Codes already used (the even ones were admitted above): refused as ALREADY_ENTERED.
    const refusals = await sampleEvents(300, (i) => {
      const decision = decideScan(codes[2 * i] ?? "", context, facts, verifiers);
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

    // A lone scan: a bare durable commit 5 ms after the previous one, overwriting the WAL file (as
    // the cache's) and, in a new file, extending it (as a WAL truncated by each checkpoint would be).
    const lone = async (insert: Database.Statement) => {
      const out: number[] = [];
      for (let i = 0; i < 200; i++) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        const t = performance.now();
        insert.run("x".repeat(200));
        out.push(performance.now() - t);
      }
      return out.sort((a, b) => a - b);
    };
    const loneReuse = await lone(bareRow);
    floorDb.close();
    const growDb = new Database(join(dir, "floor-grow.db"));
    growDb.pragma("journal_mode = WAL");
    growDb.pragma("synchronous = FULL");
    growDb.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
    const loneGrow = await lone(growDb.prepare("INSERT INTO t (v) VALUES (?)"));
    growDb.close();

    const importMs = median(imports);
    const decideP99 = percentile(total, 99);
    const lookupP99 = percentile(lookups, 99);
    return [
      {
        name: `import ${tickets.length.toLocaleString("en")} tickets, ${distinctNames.toLocaleString("en")} different holder names, fresh cache (median of 3)`,
        value: importMs,
        unit: "ms",
        target: "≤ 1.5 s",
        ok: importMs <= 1500,
      },
      {
        name: "  the same with the demo's names, which repeat (1 run)",
        value: demoImport,
        unit: "ms",
      },
      {
        name: "new snapshot over a cache holding one (re-import), mean of 3",
        value: reimports.reduce((a, b) => a + b, 0) / reimports.length,
        unit: "ms",
      },
      {
        name: "decision (verify + rules) + durable `authorized` commit, p99",
        value: decideP99,
        unit: "ms",
        target: "p99 ≤ 1 ms",
        ok: decideP99 <= 1,
      },
      { name: "  decision + durable `authorized` commit, p50", value: percentile(total, 50), unit: "ms" },
      {
        name: "  of which decision alone (verify + rules + cache reads), p99",
        value: percentile(decideOnly, 99),
        unit: "ms",
      },
      {
        name: "  of which decision alone (verify + rules + cache reads), p50",
        value: percentile(decideOnly, 50),
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
        name: "  floor: decision + bare 1-row durable commit, p99",
        value: percentile(floorTotal, 99),
        unit: "ms",
      },
      {
        name: "  floor: decision + bare 1-row durable commit, p50",
        value: percentile(floorTotal, 50),
        unit: "ms",
      },
      {
        name: "  floor: of which the bare commit, p99",
        value: percentile(floorCommit, 99),
        unit: "ms",
      },
      {
        name: "  floor: of which the bare commit, p50",
        value: percentile(floorCommit, 50),
        unit: "ms",
      },
      {
        name: "  floor: lone bare commit (5 ms after the last), p50",
        value: percentile(loneReuse, 50),
        unit: "ms",
      },
      {
        name: "  floor: the same, extending a new WAL file, p50",
        value: percentile(loneGrow, 50),
        unit: "ms",
      },
      { name: "durable `entered` commit (passage), p99", value: percentile(passages.times, 99), unit: "ms" },
      {
        name: "decision + durable `refused` commit, p99",
        value: percentile(refusals.times, 99),
        unit: "ms",
      },
      {
        name: "longest pause between two scans (WAL checkpoints run there)",
        value: Math.max(decide.gap, passages.gap, refusals.gap),
        unit: "ms",
      },
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
