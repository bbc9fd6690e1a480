import { readFileSync, readSync, writeSync } from "node:fs";
import { decideScan } from "@sesame/gate-core";
import { createScanVerifiers, seededRandom } from "@sesame/ticket";
import type Database from "better-sqlite3";
import { GateStore } from "../src/index.js";

/*
 * A gate in a loop, for the durability test (durability.test.ts), which SIGKILLs it at random
 * moments and starts it again. It streams scans through decideScan → authorize → passage delay →
 * confirmPassage or annul, and prints a line after every commit, so the test knows what the gate
 * had recorded when it died:
 *
 *   I                 importing the venue (a first start)
 *   R                 recovered and ready
 *   S <index>         starting scan <index>
 *   C <gateSeq> <id>  event <gateSeq> (eventId <id>) committed
 *   D                 done
 *   H                 at the end of its scans, holding (waits for the test to kill it)
 *
 * usage: gate-loop <config.json> <first scan> <end scan> [<death>]
 *
 * The test decides where each death lands by events, never by timers, so that every round kills
 * the gate whatever the machine's speed. <death> is one of:
 *   run          no death: scan to the end and stop cleanly (the default)
 *   hold         scan to the end, then wait for the test's SIGKILL (the test kills on an event it
 *                reads, the gate having printed it: lands wherever the gate has got to by then)
 *   import:<k>   SIGKILL itself inside the import transaction, at the k-th ticket row written
 *   log:<k>      SIGKILL itself inside the transaction that writes the k-th journal entry of this
 *                run (k = 1 lands inside recovery when an authorization was left open)
 * With import:<k> or log:<k>, a gate that gets to the end of its scans first holds, like hold.
 */

interface Config {
  readonly db: string;
  readonly venueDir: string;
  readonly rootPublicKey: string;
  readonly gateId: string;
  readonly entrance: number;
  readonly scans: string;
}

interface Scan {
  readonly code: string;
  readonly at: number;
  readonly lane: number;
}

// Writes straight to the pipe: what is printed is out of the process before the next step.
const say = (line: string) => writeSync(1, `${line}\n`);
const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** The turnstile's walk-through time, slept synchronously so that a kill can land inside it. */
const sleep = (ms: number) => Atomics.wait(sleeper, 0, 0, ms);

const [configPath = "", firstArg = "0", endArg = "0", death = "run"] = process.argv.slice(2);
const config = JSON.parse(readFileSync(configPath, "utf8")) as Config;
const scans = JSON.parse(readFileSync(config.scans, "utf8")) as Scan[];
const first = Number(firstArg);
const end = Math.min(scans.length, Number(endArg));

const store = GateStore.open(config.db, {
  rootPublicKey: Uint8Array.from(Buffer.from(config.rootPublicKey, "hex")),
  gateId: config.gateId,
});
dieInside(death);
if (!store.imported) {
  say("I");
  store.importBundle(config.venueDir);
}
const recoverAt = scans[Math.min(first, scans.length - 1)]?.at ?? 0;
for (const r of store.recover(recoverAt)) say(`C ${r.event.gateSeq} ${r.event.eventId}`);
say("R");

const facts = store.facts();
const verifiers = createScanVerifiers();
for (let i = first; i < end; i++) {
  const scan = scans[i];
  if (!scan) break;
  say(`S ${i}`);
  // The checkpoint the store schedules between scans (this loop never lets the event loop turn,
  // so it runs it itself): kills land in it too.
  if (i % 25 === 24) store.checkpoint();
  // Per-scan randomness from the scan's index: a rerun of an interrupted scan behaves the same.
  const random = seededRandom(`scan-${i}`);
  const place = { lane: scan.lane, direction: "entry" as const, at: scan.at };
  const decision = decideScan(
    scan.code,
    {
      gateId: config.gateId,
      lane: scan.lane,
      entrance: config.entrance,
      direction: "entry",
      nowMs: scan.at,
      mode: "normal",
      clockSuspect: false,
    },
    facts,
    verifiers,
  );
  if (decision.outcome === "REFUSE") {
    const { event } = store.recordRefusal(decision, place);
    say(`C ${event.gateSeq} ${event.eventId}`);
    continue;
  }
  const steward = decision.outcome === "ASSISTED" ? "ST-9" : undefined;
  if (steward && random.next() < 0.3) {
    const { event } = store.recordRefusal(decision, place, { steward });
    say(`C ${event.gateSeq} ${event.eventId}`);
    continue;
  }
  const { authorization, event } = store.authorize(decision, place, steward ? { steward } : {});
  say(`C ${event.gateSeq} ${event.eventId}`);
  sleep(1 + Math.floor(random.next() * 4));
  const passes = random.next() < 0.8;
  const ended = passes
    ? store.confirmPassage(authorization.authorizationId, scan.at + 3000).event
    : store.annul(authorization.authorizationId, scan.at + 8000)?.event;
  if (ended) say(`C ${ended.gateSeq} ${ended.eventId}`);
}
if (death !== "run") {
  say("H");
  // Blocks until the test kills this process (or its end of the pipe closes).
  readSync(0, Buffer.alloc(1));
  process.exit(0);
}
store.close();
say("D");

/**
 * A death inside a transaction: a temporary trigger (this connection only, gone with the process)
 * on the table the transaction writes calls a function that SIGKILLs the process at the k-th row,
 * so SQLite is left with a transaction begun and never committed, exactly as a power cut would.
 */
function dieInside(plan: string): void {
  const [where, count] = plan.split(":");
  const table = where === "import" ? "tickets" : where === "log" ? "entry_log" : undefined;
  if (!table) {
    if (plan !== "run" && plan !== "hold") throw new Error(`unknown death '${plan}'`);
    return;
  }
  const k = Number(count);
  if (!Number.isInteger(k) || k < 1) throw new Error(`bad row count in death '${plan}'`);
  // The store's own connection: the trigger must fire inside its transactions.
  const db = (store as unknown as { db: Database.Database }).db;
  let rows = 0;
  db.function("sesame_test_die", () => {
    if (++rows === k) process.kill(process.pid, "SIGKILL");
    return 0;
  });
  db.exec(
    `CREATE TEMP TRIGGER sesame_test_die AFTER INSERT ON main.${table} BEGIN SELECT sesame_test_die(); END`,
  );
}
