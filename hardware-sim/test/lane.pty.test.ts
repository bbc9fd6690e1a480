import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Lane } from "@sesame/bridge";
import { afterEach, describe, expect, it } from "vitest";
import { type SimLane, startSimLane } from "../src/index.js";
import { eventually, record } from "./helpers.js";

// The real path: the bridge opens a PTY with serialport, the simulator sits on the other end of a
// socat pair and paces its bytes at 115200 baud. No assertion here depends on wall-clock time.

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function ptyLane(options: { scbk?: Uint8Array; pdKey?: Uint8Array; install?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "sesame-lane-pty-"));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const sim: SimLane = await startSimLane({
    endpoint: { pty: join(dir, "ttyLANE0") },
    scbk: options.pdKey,
    turnstile: { walkThroughMs: 150, passagePulseMs: 100 },
  });
  cleanups.push(() => sim.close());
  const peripheral = { scbk: options.scbk, install: options.install };
  const lane = Lane.open(sim.where, {
    controller: { address: 0, ...peripheral },
    readers: [{ address: 1, ...peripheral }],
  });
  cleanups.push(() => lane.close());
  const events = record(lane);
  await lane.ready(8_000);
  return { sim, lane, events };
}

describe("lane over a real PTY with serialport", () => {
  it("unlocks, sees the passage, relocks, and reads a QR code from the reader", async () => {
    const { sim, lane, events } = await ptyLane();
    expect(lane.controlPanel.info(0).identity?.vendorCode).toBe(0x534553);
    await lane.unlock("entry");
    expect(sim.controller.outputState[0]).toBe(true);
    expect(await sim.controller.walk("entry")).toBe("passed");
    await eventually(() => events.passages.length === 1, "the passage event");
    expect(events.passages[0]?.attribution.kind).toBe("authorized");
    await eventually(() => sim.controller.outputState[0] === false, "the relock");
    sim.reader?.scan("HC1:6BFOXN%TS3DH0YOJ58S S-W5HDC *M0II5XHC9B5G2+$N");
    await eventually(() => events.scans.length === 1, "the scan");
    expect(events.scans[0]).toBe("HC1:6BFOXN%TS3DH0YOJ58S S-W5HDC *M0II5XHC9B5G2+$N");
  });

  it("goes offline when the cable is pulled and comes back by itself when it is plugged in", async () => {
    const { sim, lane, events } = await ptyLane();
    sim.bus.unplug();
    await eventually(() => events.offline.length === 1, "the offline event");
    await expect(lane.unlock("entry")).rejects.toMatchObject({ code: "CONTROLLER_OFFLINE" });
    sim.bus.plug();
    await eventually(() => lane.online, "the controller back online");
    await lane.unlock("exit");
    expect(sim.controller.outputState[1]).toBe(true);
  });

  it("fire alarm over the wire: both directions free, passages counted, not attributed", async () => {
    const { sim, lane, events } = await ptyLane();
    sim.controller.setFireAlarm(true);
    await eventually(() => events.fireAlarm[0] === true, "the fire alarm");
    await eventually(
      () => sim.controller.outputState[0] === true && sim.controller.outputState[1] === true,
      "free passage",
    );
    await sim.controller.walk("entry");
    await eventually(() => events.passages.length === 1, "the passage");
    expect(events.passages[0]?.attribution.kind).toBe("fire-alarm");
    expect(lane.counters().fireAlarmPassages).toBe(1);
  });

  it("secure channel: install mode with SCBK-D, KEYSET, then the real key, over the PTY", async () => {
    const key = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
    const { sim, lane } = await ptyLane({ scbk: key, install: true });
    expect(sim.controller.device.scbk).toEqual(key);
    expect(lane.controlPanel.info(0).security).toBe("scbk");
    await lane.unlock("entry");
    expect(sim.controller.outputState[0]).toBe(true);
  });

  it("line noise, corrupted CRCs and dropped replies cost retries, not unlocks or passages", async () => {
    const { sim, lane, events } = await ptyLane();
    sim.bus.faults.noiseBeforeReply = 0.2;
    for (let i = 0; i < 6; i++) {
      if (i % 2 === 0) sim.bus.dropNextReplies(1);
      else sim.bus.corruptNextReplies(1);
      sim.bus.injectNoise(12);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(sim.controller.outputState).toEqual([false, false, false, false]);
    expect(events.passages).toEqual([]);
    // A dropped or corrupted reply is retried once its reply timeout runs out: counted, not timed.
    await eventually(() => lane.controlPanel.counters.retries > 0, "a retry");
    await eventually(() => lane.online, "the controller online");
    await lane.unlock("entry");
    expect(sim.controller.outputState[0]).toBe(true);
  });
});
