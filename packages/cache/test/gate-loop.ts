import { readFileSync, writeSync } from "node:fs";
import { decideScan } from "@sesame/gate-core";
import { createScanVerifiers, seededRandom } from "@sesame/ticket";
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
 *
 * usage: gate-loop <config.json> <first scan> <end scan>
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

const [configPath = "", firstArg = "0", endArg = "0"] = process.argv.slice(2);
const config = JSON.parse(readFileSync(configPath, "utf8")) as Config;
const scans = JSON.parse(readFileSync(config.scans, "utf8")) as Scan[];
const first = Number(firstArg);
const end = Math.min(scans.length, Number(endArg));

const store = GateStore.open(config.db, {
  rootPublicKey: Uint8Array.from(Buffer.from(config.rootPublicKey, "hex")),
  gateId: config.gateId,
});
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
store.close();
say("D");
