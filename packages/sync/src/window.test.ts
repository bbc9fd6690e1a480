import { describe, expect, it } from "vitest";
import { OutboxWindow, SequenceTracker } from "./window.js";

describe("OutboxWindow", () => {
  it("bounds what is in flight and frees room only on the server's ack", () => {
    const w = new OutboxWindow(10, 1000);
    expect(w.cursor()).toBe(0);
    expect(w.afterFor(1)).toBe(0);
    w.sent({ after: 0, last: 6, count: 6 }, 0);
    expect(w.capacity()).toBe(4);
    expect(w.afterFor(7)).toBe(6);
    w.sent({ after: 6, last: 10, count: 4 }, 0);
    expect(w.capacity()).toBe(0);
    expect(w.onAck({ upToGateSeq: 6, at: 0 }, 10)).toEqual({ kind: "progress", upTo: 6 });
    expect(w.capacity()).toBe(6);
    expect(w.onAck({ upToGateSeq: 6, at: 0 }, 10)).toEqual({ kind: "stale" });
  });

  it("times out without progress and resends from the last ack", () => {
    const w = new OutboxWindow(100, 1000);
    w.sent({ after: 0, last: 5, count: 5 }, 0);
    w.onAck({ upToGateSeq: 5, at: 0 }, 500);
    w.sent({ after: 5, last: 9, count: 4 }, 600);
    // Measured from the send (nothing was in flight before it).
    expect(w.timedOut(1599)).toBe(false);
    expect(w.timedOut(1600)).toBe(true);
    w.reset();
    expect(w.cursor()).toBe(5);
    expect(w.afterFor(6)).toBe(5);
  });

  it("honours a resync only for a batch still in flight", () => {
    const w = new OutboxWindow(100, 1000);
    w.sent({ after: 40, last: 45, count: 5 }, 0);
    w.sent({ after: 45, last: 50, count: 5 }, 0);
    expect(w.onAck({ upToGateSeq: 30, at: 0, resync: { after: 40 } }, 1)).toEqual({
      kind: "resync",
      upTo: 30,
    });
    expect(w.cursor()).toBe(30);
    // The answer to the other batch of the old window must not reset the new one again.
    w.sent({ after: 30, last: 35, count: 5 }, 2);
    expect(w.onAck({ upToGateSeq: 30, at: 0, resync: { after: 45 } }, 3)).toEqual({ kind: "stale" });
    expect(w.inFlightEvents).toBe(5);
  });
});

describe("SequenceTracker", () => {
  it("applies what follows on, skips repeats, stops at a gap", () => {
    const t = new SequenceTracker(5, 1000);
    const seq = (n: number) => n;
    expect(t.split([4, 5, 6, 7], seq)).toEqual({ apply: [6, 7], gap: false });
    expect(t.split([6, 8], seq)).toEqual({ apply: [6], gap: true });
    expect(t.split([9, 7, 6], seq)).toEqual({ apply: [6, 7], gap: true });
  });

  it("asks for one replay at a time, again after the timeout", () => {
    const t = new SequenceTracker(5, 1000);
    expect(t.replayFrom(0, true)).toBe(6);
    expect(t.replayFrom(500, true)).toBeUndefined();
    expect(t.replayFrom(1000, true)).toBe(6);
    t.advance(9);
    expect(t.replayFrom(1001, true)).toBe(10);
    expect(t.replayFrom(1002, false)).toBeUndefined();
  });
});
