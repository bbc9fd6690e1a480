import type { EntryLogEvent } from "@sesame/gate-core";
import {
  decodeStream,
  type FannedOutAdmission,
  MAX_BATCH_BYTES,
  signAdmissionsOrder,
  verifyAdmissionsSeal,
} from "@sesame/sync";
import { createNodeSigner, createNodeVerifier, keyPairFromSeed } from "@sesame/ticket";
import { describe, expect, it } from "vitest";
import { AdmissionsFanOut } from "./fan-out.js";

let seq = 0;
let gateSeq = 0;
const operationsSeed = Buffer.alloc(32, 7);
const signer = createNodeSigner();
const seal = (order: string) => signAdmissionsOrder(order, operationsSeed, signer);

function event(gateId: string, detail?: string): EntryLogEvent {
  gateSeq++;
  return {
    eventId: `ev-${gateId}-${gateSeq}`,
    gateId,
    gateSeq,
    lane: 1,
    kind: "entered",
    direction: "entry",
    reason: "ADMITTED",
    manual: false,
    ticketId: 1000 + gateSeq,
    session: 1,
    at: 1_785_085_200_000 + gateSeq,
    ...(detail ? { detail } : {}),
  };
}

/**
 * One gate batch's admissions: `count` entered events sharing the batch, whose signed text also
 * holds `filler` other events (to make it large).
 */
function batchOf(gateId: string, count: number, filler = 0): FannedOutAdmission[] {
  const after = gateSeq;
  const admitted = Array.from({ length: count }, () => event(gateId));
  const others = Array.from({ length: filler }, () => event(gateId, "x".repeat(200)));
  const batch = {
    gateId,
    after,
    events: JSON.stringify([...admitted, ...others]),
    sig: (seq + 1).toString(16).padStart(128, "0"),
  };
  return admitted.map((e) => ({ seq: ++seq, event: e, batch }));
}

/** The admission sequence numbers and batch count of a message. */
function contents(text: string): { seqs: number[]; batches: number } {
  const m = decodeStream(text);
  if (!m.ok) throw new Error(`not an admissions message: ${m.detail}`);
  if (m.value.stream !== "admissions") throw new Error(`a ${m.value.stream} message`);
  // Every message the fan-out builds carries the operations key's seal over its order.
  if (!verifyAdmissionsSeal(m.value, keyPairFromSeed(operationsSeed).publicKey, createNodeVerifier()))
    throw new Error("the message's order is not sealed by the operations key");
  return { seqs: m.value.entries.map((e) => e.seq), batches: m.value.batches.length };
}

describe("the admissions fan-out, paced or not", () => {
  it("sends at once after a quiet window, holds what follows closer, and sends it when due", () => {
    seq = 0;
    gateSeq = 0;
    const f = new AdmissionsFanOut(seal, 50);
    const first = f.add(batchOf("A1", 1), 1_000);
    expect(first.map(contents)).toEqual([{ seqs: [1], batches: 1 }]);
    expect(f.dueAt).toBeUndefined();
    // 10 ms later, and 30 ms later: held, one message for both when the window ends.
    expect(f.add(batchOf("B1", 1), 1_010)).toEqual([]);
    expect(f.add(batchOf("A2", 2), 1_030)).toEqual([]);
    expect(f.dueAt).toBe(1_050);
    expect(f.take(1_049)).toBeUndefined();
    const held = f.take(1_050);
    expect(held && contents(held)).toEqual({ seqs: [2, 3, 4], batches: 2 });
    expect(f.dueAt).toBeUndefined();
    // An admission that comes after the window is over leaves at once again.
    expect(f.add(batchOf("B2", 1), 1_200).map(contents)).toEqual([{ seqs: [5], batches: 1 }]);
  });

  it("by default (no pacing) each ingested batch's admissions leave at once, in one message", () => {
    seq = 0;
    gateSeq = 0;
    const f = new AdmissionsFanOut(seal);
    expect(f.add(batchOf("A1", 2), 1_000).map(contents)).toEqual([{ seqs: [1, 2], batches: 1 }]);
    expect(f.add(batchOf("B1", 1), 1_001).map(contents)).toEqual([{ seqs: [3], batches: 1 }]);
    expect(f.dueAt).toBeUndefined();
  });

  it("an admission that arrives when the held ones are due takes them along", () => {
    seq = 0;
    gateSeq = 0;
    const f = new AdmissionsFanOut(seal, 50);
    f.add(batchOf("A1", 1), 0);
    f.add(batchOf("B1", 1), 20);
    // No timer fired in between: the next batch at 60 ms finds the window over.
    expect(f.add(batchOf("C1", 1), 60).map(contents)).toEqual([{ seqs: [2, 3], batches: 2 }]);
  });

  it("never builds a message larger than a gate accepts: a full one goes out first", () => {
    seq = 0;
    gateSeq = 0;
    const f = new AdmissionsFanOut(seal, 50);
    f.add(batchOf("A1", 1), 0);
    // Each over half of what a message may hold of batch text (an event with its detail is ~450 bytes).
    const filler = Math.ceil(MAX_BATCH_BYTES / 2 / 350);
    const b1 = batchOf("B1", 1, filler);
    expect(b1[0]?.batch.events.length).toBeGreaterThan(MAX_BATCH_BYTES / 2);
    expect(f.add(b1, 10)).toEqual([]);
    // A second batch of that size would pass the limit: what is held leaves now, the new one waits.
    expect(f.add(batchOf("C1", 1, filler), 20).map(contents)).toEqual([{ seqs: [2], batches: 1 }]);
    expect(f.dueAt).toBe(70);
    const rest = f.take(0, true);
    expect(rest && contents(rest)).toEqual({ seqs: [3], batches: 1 });
  });

  it("keeps admission order across messages, with nothing lost or repeated", () => {
    seq = 0;
    gateSeq = 0;
    const f = new AdmissionsFanOut(seal, 50);
    const sent: number[] = [];
    let now = 0;
    for (let i = 0; i < 500; i++) {
      now += (i * 7) % 23;
      const due = f.dueAt;
      if (due !== undefined && due <= now) {
        const m = f.take(due);
        if (m) sent.push(...contents(m).seqs);
      }
      for (const m of f.add(batchOf(`G${i % 5}`, 1 + (i % 3)), now)) sent.push(...contents(m).seqs);
    }
    const last = f.take(now, true);
    if (last) sent.push(...contents(last).seqs);
    expect(sent).toEqual(Array.from({ length: seq }, (_, i) => i + 1));
  });
});
