import { describe, expect, it } from "vitest";
import { type FramerOutput, SerialFramer } from "./framing.js";

const enc = (text: string) => new TextEncoder().encode(text);
const frames = (outputs: FramerOutput[]) =>
  outputs.flatMap((o) => (o.kind === "frame" ? [new TextDecoder().decode(o.bytes)] : []));
const problems = (outputs: FramerOutput[]) => outputs.flatMap((o) => (o.kind === "problem" ? [o] : []));

describe("SerialFramer", () => {
  it.each([
    ["CR", "\r"],
    ["LF", "\n"],
    ["CRLF", "\r\n"],
  ] as const)("cuts frames on %s wherever the chunks split", (suffix, terminator) => {
    const stream = enc(`ONE${terminator}TWO${terminator}THREE${terminator}`);
    for (let split = 1; split < stream.length; split++) {
      const framer = new SerialFramer({ suffix });
      const out = [...framer.push(stream.subarray(0, split), 0), ...framer.push(stream.subarray(split), 1)];
      expect(frames(out)).toEqual(["ONE", "TWO", "THREE"]);
      expect(problems(out)).toEqual([]);
    }
  });

  it("tolerates a CR LF scanner on a CR setting", () => {
    const framer = new SerialFramer({ suffix: "CR" });
    const out = framer.push(enc("ONE\r\nTWO\r\n"), 0);
    expect(frames(out)).toEqual(["ONE", "TWO"]);
    expect([...problems(out), ...problems(framer.poll(10_000))]).toEqual([]);
  });

  it("ends suffix-less frames after the inter-byte timeout", () => {
    const framer = new SerialFramer({ suffix: "none", interByteTimeoutMs: 50 });
    expect(framer.push(enc("SE1:ABC"), 0)).toEqual([]);
    expect(framer.push(enc("DEF"), 30)).toEqual([]);
    expect(framer.nextDeadline()).toBe(80);
    expect(frames(framer.poll(79))).toEqual([]);
    expect(frames(framer.poll(80))).toEqual(["SE1:ABCDEF"]);
    // A late byte after the timeout starts the next code, even without a poll in between.
    framer.push(enc("X"), 200);
    expect(frames(framer.push(enc("Y"), 300))).toEqual(["X"]);
  });

  it("drops a partial frame that goes quiet, naming the suffix it seems to use", () => {
    const framer = new SerialFramer({ suffix: "CRLF", incompleteFrameTimeoutMs: 500 });
    expect(framer.push(enc("SE1:ABC\rSE1:DEF\r"), 0)).toEqual([]);
    const out = framer.poll(500);
    expect(problems(out)).toEqual([
      expect.objectContaining({
        code: "incomplete-frame",
        message: expect.stringMatching(/seems to send CR\)/),
      }),
    ]);
    expect(framer.pendingBytes).toBe(0);
  });

  it("strips the prefix and reports noise before it", () => {
    const framer = new SerialFramer({ prefix: Uint8Array.of(0x02), suffix: Uint8Array.of(0x03) });
    const out = framer.push(
      Uint8Array.from([0x41, 0x42, 0x02, ...enc("CODE"), 0x03, ...enc("junk"), 0x03]),
      0,
    );
    expect(frames(out)).toEqual(["CODE"]);
    expect(problems(out).map((p) => p.message)).toEqual([
      "dropped 2 bytes of noise before the prefix STX",
      "dropped 4 bytes without the prefix STX",
    ]);
  });

  it("bounds an endless line without a suffix and recovers at the next suffix", () => {
    const framer = new SerialFramer({ suffix: "CR", maxFrameBytes: 4096 });
    const megabyte = new Uint8Array(1 << 20).fill(0x41);
    const out: FramerOutput[] = [];
    for (let i = 0; i < megabyte.length; i += 65536)
      out.push(...framer.push(megabyte.subarray(i, i + 65536), i / 65536));
    expect(problems(out)).toEqual([expect.objectContaining({ code: "frame-too-long" })]);
    expect(framer.pendingBytes).toBeLessThanOrEqual(1);
    expect(frames(framer.push(enc("tail\rGOOD\r"), 20))).toEqual(["GOOD"]);
  });

  it("accepts a frame of exactly the limit even when the two-byte suffix straddles it", () => {
    const framer = new SerialFramer({ suffix: "CRLF", maxFrameBytes: 8 });
    expect(frames(framer.push(enc("12345678\r\n"), 0))).toEqual(["12345678"]);
    expect(problems(framer.push(enc("123456789\r\n"), 1))).toHaveLength(1);
  });

  it("bounds a suffix-less burst and resumes after silence", () => {
    const framer = new SerialFramer({ suffix: "none", maxFrameBytes: 100, interByteTimeoutMs: 50 });
    expect(problems(framer.push(new Uint8Array(1000), 0))).toHaveLength(1);
    expect(framer.poll(50)).toEqual([]);
    framer.push(enc("NEXT"), 100);
    expect(frames(framer.poll(150))).toEqual(["NEXT"]);
  });
});
