import { describe, expect, it } from "vitest";
import {
  ControlPanel,
  ControlPanelError,
  createMemoryLink,
  encodePacket,
  type Packet,
  PacketReader,
  type Transport,
} from "../src/index.js";
import { ManualClock } from "../src/testing.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** A PD played by a script at the byte seam: it sees every packet and may answer with raw bytes. */
function scriptedPd(end: Transport, answer: (packet: Packet, raw: Uint8Array) => Uint8Array[] | undefined) {
  const reader = new PacketReader();
  const seen: Uint8Array[] = [];
  end.onData((chunk) => {
    for (const event of reader.push(chunk)) {
      if (event.kind !== "packet") continue;
      seen.push(event.packet.bytes);
      for (const bytes of answer(event.packet, event.packet.bytes) ?? []) void end.write(bytes);
    }
  });
  return seen;
}

const reply = (
  p: Packet,
  code: number,
  data: number[] = [],
  override: Partial<{ address: number; sequence: number }> = {},
) =>
  encodePacket({
    address: override.address ?? p.address,
    reply: true,
    sequence: override.sequence ?? p.sequence,
    crc: true,
    code,
    data: Uint8Array.from(data),
  });

const PDID = [0x53, 0x45, 0x53, 1, 1, 0, 0x10, 0, 0, 1, 0, 0];

function answerNormally(p: Packet): Uint8Array[] {
  switch (p.code) {
    case 0x61:
      return [reply(p, 0x45, PDID)];
    case 0x62:
      return [reply(p, 0x46, [1, 1, 4])];
    case 0x65:
      return [reply(p, 0x49, [0, 0, 0, 0])];
    case 0x66:
      return [reply(p, 0x4a, [0, 0, 0, 0])];
    case 0x64:
      return [reply(p, 0x48, [0, 0])];
    default:
      return [reply(p, 0x40)];
  }
}

function setup() {
  const clock = new ManualClock();
  const [cpEnd, pdEnd] = createMemoryLink();
  const cp = new ControlPanel({ connect: async () => cpEnd, clock, random: () => new Uint8Array(8) });
  return { clock, cp, pdEnd };
}

describe("control panel", () => {
  it("opens the link with the specification's own osdp_ID packet (sequence 0, CRC)", async () => {
    const { clock, cp, pdEnd } = setup();
    const seen = scriptedPd(pdEnd, () => undefined);
    cp.addPeripheral({ address: 0 });
    cp.start();
    await clock.advance(1);
    // SIA OSDP v2.2 Annex E CRC example 2, preceded by the mark byte.
    expect(hex(seen[0] ?? new Uint8Array())).toBe("530009000461 00c066".replace(" ", ""));
    await cp.stop();
  });

  it("ignores replies for another address or a stale sequence, then retries the very same bytes", async () => {
    const { clock, cp, pdEnd } = setup();
    let first = true;
    const seen = scriptedPd(pdEnd, (p) => {
      if (!first) return answerNormally(p);
      first = false;
      // Wrong address, then a stale sequence number: neither may be taken for the reply.
      return [reply(p, 0x45, PDID, { address: 5 }), reply(p, 0x45, PDID, { sequence: 3 })];
    });
    cp.addPeripheral({ address: 0 });
    cp.start();
    const online = cp.next("online");
    await clock.until(() => cp.status(0) === "online", 2_000);
    await online;
    expect(cp.counters.wrongAddress).toBe(1);
    expect(cp.counters.staleSequence).toBe(1);
    expect(cp.counters.timeouts).toBe(1);
    expect(seen[1]).toEqual(seen[0]);
    await cp.stop();
  });

  it("never hangs on a silent peripheral and refuses commands to an offline one at once", async () => {
    const { clock, cp, pdEnd } = setup();
    scriptedPd(pdEnd, () => undefined);
    cp.addPeripheral({ address: 3 });
    cp.start();
    await clock.advance(2_000);
    expect(cp.status(3)).toBe("offline");
    await expect(cp.send(3, { kind: "poll" })).rejects.toMatchObject({ code: "OFFLINE" });
    await expect(cp.send(9, { kind: "poll" })).rejects.toBeInstanceOf(ControlPanelError);
    await cp.stop();
  });

  it("reports an online peripheral offline within a second when it falls silent, and recovers", async () => {
    const { clock, cp, pdEnd } = setup();
    let silent = false;
    scriptedPd(pdEnd, (p) => (silent ? undefined : answerNormally(p)));
    cp.addPeripheral({ address: 0 });
    cp.start();
    await clock.until(() => cp.status(0) === "online", 2_000);
    await clock.advance(300);
    silent = true;
    const offline = cp.next("offline");
    const took = await clock.until(() => cp.status(0) === "offline", 5_000);
    expect(took).toBeLessThanOrEqual(1_000);
    expect((await offline)[1]).toMatch(/no reply/);
    silent = false;
    await clock.until(() => cp.status(0) === "online", 5_000);
    await cp.stop();
  });

  it("refuses clear text to a peripheral that has a key, even if it claims no secure channel", async () => {
    const { clock, cp, pdEnd } = setup();
    const seen = scriptedPd(pdEnd, (p) => (p.code === 0x76 ? [reply(p, 0x41, [0x05])] : answerNormally(p)));
    cp.addPeripheral({ address: 0, scbk: new Uint8Array(16).fill(1) });
    cp.start();
    const warning = cp.next("warning", (m) => /secure channel failed/.test(m));
    await clock.advance(200);
    await warning;
    expect(cp.status(0)).not.toBe("online");
    await expect(
      cp.send(0, { kind: "out", outputs: [{ output: 0, action: 5, timer: 50 }] }),
    ).rejects.toMatchObject({
      code: "SECURE_CHANNEL",
    });
    // Nothing but ID, CAP and the challenge ever went out: no OUT, no POLL in clear.
    const codes = new Set(
      seen.map((bytes) => bytes[bytes[4] !== undefined && bytes[4] & 0x08 ? 5 + (bytes[5] ?? 0) : 5]),
    );
    expect([...codes].every((code) => code === 0x61 || code === 0x62 || code === 0x76)).toBe(true);
    await cp.stop();
  });

  describe("a reader report the PD sends again after a link restart", () => {
    /**
     * A reader PD with a report queue: a POLL takes the oldest report, which stays in flight until
     * a command with the next sequence number shows the CP has it; a restart (sequence 0) puts it
     * back first (`resends`), as the simulator's PD does, or forgets it.
     */
    function readerPd(pdEnd: Transport, resends: boolean) {
      const queue: string[] = [];
      let inFlight: string | undefined;
      let last: number | undefined;
      const state = { silent: false, silenceAfterNextRead: false };
      scriptedPd(pdEnd, (p) => {
        if (state.silent) return undefined;
        if (p.sequence === 0) {
          if (inFlight !== undefined && resends) queue.unshift(inFlight);
          inFlight = undefined;
        } else if (p.sequence !== last) inFlight = undefined;
        last = p.sequence;
        if (p.code !== 0x60) return answerNormally(p);
        const next = queue.shift();
        if (next === undefined) return [reply(p, 0x40)];
        inFlight = next;
        // The cable goes right after this reply: the CP has the read, the PD never learns it.
        if (state.silenceAfterNextRead) state.silent = true;
        const bytes = [...Buffer.from(next, "latin1")];
        return [reply(p, 0x50, [0, 0, (bytes.length * 8) & 0xff, (bytes.length * 8) >> 8, ...bytes])];
      });
      return { queue, state };
    }

    async function start(resends: boolean) {
      const { clock, cp, pdEnd } = setup();
      const pd = readerPd(pdEnd, resends);
      const reads: string[] = [];
      const resent: string[] = [];
      const warnings: string[] = [];
      let idles = 0;
      const text = (r: { kind: string; data?: Uint8Array }) => Buffer.from(r.data ?? []).toString("latin1");
      cp.on("report", (_a, r) => reads.push(text(r)));
      cp.on("resent", (_a, r) => resent.push(text(r)));
      cp.on("idle", () => idles++);
      cp.on("warning", (m) => warnings.push(m));
      cp.addPeripheral({ address: 1, name: "reader" });
      cp.start();
      await clock.until(() => cp.status(1) === "online", 2_000);
      return { clock, cp, pd, reads, resent, warnings, idles: () => idles };
    }

    async function readThenCableOut(t: Awaited<ReturnType<typeof start>>) {
      t.pd.state.silenceAfterNextRead = true;
      t.pd.queue.push("CODE-1");
      await t.clock.until(() => t.reads.length === 1, 1_000);
      await t.clock.until(() => t.cp.status(1) === "offline", 5_000);
      t.pd.state.silent = false;
      t.pd.state.silenceAfterNextRead = false;
      await t.clock.until(() => t.cp.status(1) === "online", 5_000);
      await t.clock.advance(500);
    }

    it("is recognized and not passed on as a second read; the same code shown later is a new read", async () => {
      const t = await start(true);
      // Polled with nothing to report: idle.
      await t.clock.advance(200);
      expect(t.idles()).toBeGreaterThan(0);
      await readThenCableOut(t);
      expect(t.reads).toEqual(["CODE-1"]);
      expect(t.resent).toEqual(["CODE-1"]);
      expect(t.cp.counters.resentReports).toBe(1);
      expect(
        t.warnings.some((m) => /reader: the read received just before the link restarted came again/.test(m)),
      ).toBe(true);
      t.pd.queue.push("CODE-1");
      await t.clock.until(() => t.reads.length === 2, 1_000);
      expect(t.reads).toEqual(["CODE-1", "CODE-1"]);
      expect(t.resent).toHaveLength(1);
      await t.cp.stop();
    });

    it("from a PD that does not resend, leaves the next reads alone", async () => {
      const t = await start(false);
      await readThenCableOut(t);
      // The first poll after the restart found nothing: no resend can come any more.
      t.pd.queue.push("CODE-1");
      await t.clock.until(() => t.reads.length === 2, 1_000);
      expect(t.resent).toEqual([]);
      expect(t.cp.counters.resentReports).toBe(0);
      await t.cp.stop();
    });

    it("never mistakes a read the PD saw acknowledged for a resend", async () => {
      const t = await start(true);
      t.pd.queue.push("CODE-1");
      await t.clock.until(() => t.reads.length === 1, 1_000);
      // The next poll acknowledges it; then the link restarts and the holder shows the code again.
      await t.clock.advance(200);
      t.pd.state.silent = true;
      await t.clock.until(() => t.cp.status(1) === "offline", 5_000);
      t.pd.queue.push("CODE-1");
      t.pd.state.silent = false;
      await t.clock.until(() => t.reads.length === 2, 5_000);
      expect(t.resent).toEqual([]);
      await t.cp.stop();
    });
  });
});

describe("a reader's report holds the bus's next poll until the decision's command has gone", () => {
  const OUT = { kind: "out" as const, outputs: [{ output: 0, action: 2, timer: 50 }] };

  async function start(holdPollsAfterReadMs?: number) {
    const clock = new ManualClock();
    const [cpEnd, pdEnd] = createMemoryLink();
    const cp = new ControlPanel({
      connect: async () => cpEnd,
      clock,
      pollIntervalMs: 1,
      ...(holdPollsAfterReadMs === undefined ? {} : { holdPollsAfterReadMs }),
    });
    const codes: string[] = [];
    const wire: { at: number; address: number; code: number }[] = [];
    scriptedPd(pdEnd, (p) => {
      wire.push({ at: clock.now(), address: p.address, code: p.code });
      const code = p.address === 1 && p.code === 0x60 ? codes.shift() : undefined;
      if (code === undefined) return answerNormally(p);
      const bytes = [...Buffer.from(code, "latin1")];
      return [reply(p, 0x50, [0, 0, (bytes.length * 8) & 0xff, (bytes.length * 8) >> 8, ...bytes])];
    });
    cp.addPeripheral({ address: 0, name: "lane controller" });
    cp.addPeripheral({ address: 1, name: "reader" });
    cp.start();
    await clock.until(() => cp.status(0) === "online" && cp.status(1) === "online", 2_000);
    // Only the reader's polls may carry a read: queue one once the link is steady.
    let read: { at: number; wireIndex: number } | undefined;
    cp.on("report", (address, r) => {
      if (address === 1 && r.kind === "raw") read = { at: clock.now(), wireIndex: wire.length };
    });
    return { clock, cp, codes, wire, read: () => read };
  }

  it("sends the decision's command first, as soon as it comes, with no poll before it", async () => {
    const t = await start();
    // The gate decides in 3 ms (clock time), then unlocks.
    t.cp.on("report", () => {
      t.clock.setTimeout(() => void t.cp.send(0, OUT, { urgent: true }), 3);
    });
    t.codes.push("HC1:CODE");
    await t.clock.until(() => t.read() !== undefined, 100);
    await t.clock.advance(20);
    const read = t.read();
    if (read === undefined) throw new Error("no read");
    const after = t.wire.slice(read.wireIndex);
    expect(after[0]).toEqual({ at: read.at + 3, address: 0, code: 0x68 });
    // Then polling goes on as before.
    expect(after.slice(1).filter((p) => p.code === 0x60).length).toBeGreaterThan(4);
    expect(t.cp.counters.pollsHeldForDecision).toBe(1);
    await t.cp.stop();
  });

  it("waits a bounded time when no command comes (a refused duplicate, a dropped scan), then polls again", async () => {
    const t = await start();
    t.codes.push("HC1:CODE");
    await t.clock.until(() => t.read() !== undefined, 100);
    await t.clock.advance(20);
    const read = t.read();
    if (read === undefined) throw new Error("no read");
    const next = t.wire[read.wireIndex];
    expect(next?.code).toBe(0x60);
    expect(next?.at).toBe(read.at + 5);
    await t.cp.stop();
  });

  it("polls right on when the hold is turned off", async () => {
    const t = await start(0);
    t.codes.push("HC1:CODE");
    await t.clock.until(() => t.read() !== undefined, 100);
    await t.clock.advance(20);
    const read = t.read();
    if (read === undefined) throw new Error("no read");
    expect(t.wire[read.wireIndex]?.at).toBeLessThanOrEqual(read.at + 1);
    expect(t.cp.counters.pollsHeldForDecision).toBe(0);
    await t.cp.stop();
  });
});
