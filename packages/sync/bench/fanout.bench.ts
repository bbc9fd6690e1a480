import type { EntryLogEvent } from "@sesame/gate-core";
import { type BenchFigure, percentile, sample } from "@sesame/testing/bench";
import { createNodeVerifier, keyPairFromSeed } from "@sesame/ticket";
import { verifyAdmissions } from "../src/admissions-check.js";
import { GateKeys } from "../src/operations.js";
import { decodeStream } from "../src/protocol.js";
import { verifyAdmissionsSeal } from "../src/signing.js";
import { TestVenueKeys } from "../src/test-venue.js";

/*
 * What checking signatures adds to a gate's handling of an admissions message (target: at most
 * 0.2 ms): the operations key's seal over the message's order, one signature check per signed batch
 * whatever the number of admissions in it, and the plausibility lookups. Decoding is measured beside it (the gate did that before too).
 */
export async function run(): Promise<BenchFigure[]> {
  const venue = new TestVenueKeys("SDF", [
    { gateId: "A1", entranceId: 1 },
    { gateId: "A2", entranceId: 1 },
  ]);
  const gateKeys = new GateKeys(venue.gateList());
  const verifier = createNodeVerifier(1024);
  const figures: BenchFigure[] = [];
  for (const size of [1, 25]) {
    const events: EntryLogEvent[] = Array.from({ length: size }, (_, i) => ({
      eventId: `A2-${i + 1}`,
      gateId: "A2",
      gateSeq: i + 1,
      lane: 1,
      kind: "entered",
      direction: "entry",
      reason: "ADMITTED",
      ticketId: 100_000 + i,
      session: 1,
      manual: false,
      at: 1_700_000_000_000,
    }));
    const payload = venue.admissions(events, 1);
    const decoded = decodeStream(payload);
    if (!decoded.ok || decoded.value.stream !== "admissions")
      throw new Error("bench message does not decode");
    const message = decoded.value;
    const context = { gateKeys, announcedGateListVersion: 1, verifier, ticketEntrance: () => 1 };
    const operationsKey = keyPairFromSeed(venue.operationsSeed).publicKey;
    const check = () => {
      if (!verifyAdmissionsSeal(message, operationsKey, verifier)) throw new Error("seal does not verify");
      if (!verifyAdmissions(message, context).ok) throw new Error("admissions do not verify");
    };
    for (let i = 0; i < 200; i++) check(); // warm-up
    const decode = sample(2000, () => decodeStream(payload));
    const verify = sample(2000, check);
    const added = percentile(verify, 50);
    figures.push(
      {
        name: `fan-out message of ${size} admission(s): seal, signature and plausibility checks, median`,
        value: Number(added.toFixed(3)),
        unit: "ms",
        target: "≤ 0.2 ms added",
        ok: added <= 0.2,
      },
      {
        name: `fan-out message of ${size} admission(s): decoding (before the checks), median`,
        value: Number(percentile(decode, 50).toFixed(3)),
        unit: "ms",
      },
    );
  }
  return figures;
}
