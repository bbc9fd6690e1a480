import { CommandCode } from "@sesame/bridge";
import { describe, expect, it } from "vitest";
import { memoryLane } from "./helpers.js";

// Bridge and simulator over an in-memory link with a hand-moved clock: fault timing is exact and
// the assertions on durations are about simulated time, never wall-clock time.

describe("lane over an in-memory link", () => {
  it("unlocks for one passage, attributes it and relocks at once", async () => {
    const t = await memoryLane();
    const grant = await t.lane.unlock("entry", 1, 5_000);
    expect(t.controller.outputState[0]).toBe(true);
    const walked = t.controller.walk("entry");
    await t.clock.until(() => t.events.passages.length === 1, 3_000);
    expect(await walked).toBe("passed");
    expect(t.events.passages[0]?.attribution).toEqual({
      kind: "authorized",
      grantId: grant.id,
      grantComplete: true,
    });
    await t.clock.until(() => t.controller.outputState[0] === false, 500);
    expect(t.lane.counters()).toMatchObject({ authorizations: 1, attributedPassages: 1, pendingPassages: 0 });
    expect(t.controller.led()).toMatchObject({ color: 2 });
    await t.close();
  });

  it("annuls a no-show when the window ends; the controller relocks by itself", async () => {
    const t = await memoryLane();
    await t.lane.unlock("exit", 2, 3_000);
    await t.clock.until(() => t.controller.outputState[1] === false, 4_000);
    await t.clock.until(() => t.events.closed.length === 1, 2_000);
    expect(t.events.closed[0]).toEqual({ unused: 2, reason: "expired" });
    expect(await t.controller.walk("exit")).toBe("refused");
    expect(t.lane.counters()).toMatchObject({ authorizedPassages: 2, annulledPassages: 2 });
    await t.close();
  });

  it("counts a tailgater and a forced passage as unauthorized", async () => {
    const t = await memoryLane();
    await t.lane.unlock("entry");
    void t.controller.walk("entry", "tailgate");
    await t.clock.until(() => t.events.passages.length === 2, 3_000);
    expect(t.events.passages.map((p) => p.attribution.kind)).toEqual(["authorized", "tailgate"]);
    await t.clock.advance(5_000);
    const forced = t.controller.walk("exit", "force");
    await t.clock.until(() => t.events.passages.length === 3, 3_000);
    expect(await forced).toBe("forced");
    expect(t.events.passages[2]?.attribution.kind).toBe("forced");
    expect(t.lane.counters()).toMatchObject({
      tailgatePassages: 1,
      forcedPassages: 1,
      attributedPassages: 1,
    });
    await t.close();
  });

  it("fire alarm: free passage at once, passages counted but not attributed, unlock refused", async () => {
    const t = await memoryLane();
    await t.lane.unlock("entry");
    t.controller.setFireAlarm(true);
    // The turnstile itself is free before the bridge even hears of it.
    expect(t.controller.turnstile.isFree("exit")).toBe(true);
    await t.clock.until(() => t.events.fireAlarm.length === 1, 1_000);
    await t.clock.until(
      () => t.controller.outputState[0] === true && t.controller.outputState[1] === true,
      500,
    );
    expect(t.events.closed).toEqual([{ unused: 1, reason: "fire-alarm" }]);
    await expect(t.lane.unlock("entry")).rejects.toMatchObject({ code: "FIRE_ALARM" });
    void t.controller.walk("exit");
    void t.controller.walk("entry");
    await t.clock.until(() => t.events.passages.length === 2, 3_000);
    expect(t.events.passages.every((p) => p.attribution.kind === "fire-alarm")).toBe(true);
    t.controller.setFireAlarm(false);
    await t.clock.until(
      () => t.controller.outputState[0] === false && t.controller.outputState[1] === false,
      1_000,
    );
    expect(t.lane.counters()).toMatchObject({
      fireAlarmPassages: 2,
      attributedPassages: 0,
      annulledPassages: 1,
    });
    await t.close();
  });

  it("supervisor free passage: holds the entry open, counts passages unattributed, outlasts the end of a fire alarm", async () => {
    const t = await memoryLane();
    await t.lane.setFreePassage("entry", true);
    expect(t.controller.outputState[0]).toBe(true);
    expect(t.controller.outputState[1]).toBe(false);
    void t.controller.walk("entry");
    void t.controller.walk("entry");
    await t.clock.until(() => t.events.passages.length === 2, 5_000);
    expect(t.events.passages.map((p) => p.attribution.kind)).toEqual(["free-passage", "free-passage"]);
    // Exit is still controlled: a push there is forced.
    const forced = t.controller.walk("exit", "force");
    await t.clock.until(() => t.events.passages.length === 3, 5_000);
    expect(await forced).toBe("forced");
    expect(t.events.passages[2]?.attribution.kind).toBe("forced");
    // A fire alarm that ends leaves the supervisor's hold in place.
    t.controller.setFireAlarm(true);
    await t.clock.until(() => t.controller.outputState[1] === true, 1_000);
    t.controller.setFireAlarm(false);
    await t.clock.until(() => t.controller.outputState[1] === false, 1_000);
    expect(t.controller.outputState[0]).toBe(true);
    // Ending it relocks at once; a walk is then refused.
    await t.lane.setFreePassage("entry", false);
    expect(t.controller.outputState[0]).toBe(false);
    const refused = t.controller.walk("entry");
    await t.clock.advance(3_000);
    expect(await refused).toBe("refused");
    expect(t.lane.counters()).toMatchObject({ freePassages: 2, attributedPassages: 0 });
    await t.close();
  });

  it("reports the controller offline within a second of the cable being pulled, and recovers on its own", async () => {
    const t = await memoryLane();
    await t.clock.advance(500);
    t.bus.unplug();
    const took = await t.clock.until(() => t.events.offline.length === 1, 5_000);
    expect(took).toBeLessThanOrEqual(1_000);
    await expect(t.lane.unlock("entry")).rejects.toMatchObject({ code: "CONTROLLER_OFFLINE" });
    t.bus.plug();
    await t.clock.until(() => t.lane.online, 5_000);
    expect(t.events.online).toBe(2);
    await t.lane.unlock("entry");
    expect(t.controller.outputState[0]).toBe(true);
    await t.close();
  });

  it("rides through dropped replies, bad CRCs and line noise without a false passage or unlock", async () => {
    const t = await memoryLane();
    t.bus.faults.noiseBeforeReply = 0.3;
    // Sporadic faults, one every 400 ms: each costs a retry, none may cost the link.
    for (let i = 0; i < 12; i++) {
      if (i % 2 === 0) t.bus.dropNextReplies(1);
      else t.bus.corruptNextReplies(1);
      t.bus.injectNoise(16);
      await t.clock.advance(400);
      expect(t.controller.outputState).toEqual([false, false, false, false]);
    }
    expect(t.events.passages).toEqual([]);
    expect(t.events.offline).toEqual([]);
    expect(t.controlPanel.counters.retries).toBeGreaterThan(0);
    expect(t.controller.device.counters.repeats).toBeGreaterThan(0);
    t.bus.dropNextReplies(1);
    const unlocked = t.lane.unlock("entry");
    await t.clock.advance(500);
    await unlocked;
    expect(t.controller.outputState[0]).toBe(true);
    await t.close();
  });

  it("after a controller reboot it restarts the link at sequence 0 without going offline", async () => {
    const t = await memoryLane();
    t.controller.reboot();
    await t.clock.advance(300);
    expect(t.controller.device.counters.sequenceErrors).toBeGreaterThan(0);
    expect(t.events.offline).toEqual([]);
    await t.lane.unlock("entry");
    void t.controller.walk("entry");
    await t.clock.until(() => t.events.passages.length === 1, 3_000);
    await t.close();
  });

  it("after a power loss: offline, then online again with the turnstile relocked", async () => {
    const t = await memoryLane();
    await t.lane.unlock("entry", 1, 10_000);
    t.controller.powerLoss(2_000);
    await t.clock.until(() => t.events.offline.length === 1, 1_000);
    expect(t.controller.outputState[0]).toBe(false);
    await t.clock.until(() => t.lane.online, 5_000);
    expect(await t.controller.walk("entry")).toBe("refused");
    await t.close();
  });

  it("reports scans, tamper and a jammed turnstile", async () => {
    const t = await memoryLane();
    t.reader.scan("HC1:NCFOXN%TS3DH");
    t.controller.setTamper(true);
    t.controller.setJammed(true);
    await t.clock.until(
      () => t.events.scans.length === 1 && t.events.tamper.length === 1 && t.events.fault.length === 1,
      1_000,
    );
    expect(t.events.scans).toEqual(["HC1:NCFOXN%TS3DH"]);
    await t.lane.unlock("entry");
    const jammed = t.controller.walk("entry");
    await t.clock.advance(2_000);
    expect(await jammed).toBe("jammed");
    await t.clock.until(() => t.events.closed.length === 1, 8_000);
    await t.close();
  });

  it("validates unlock arguments with specific errors", async () => {
    const t = await memoryLane();
    await expect(t.lane.unlock("sideways" as "entry")).rejects.toThrow(/direction/);
    await expect(t.lane.unlock("entry", 0)).rejects.toThrow(/passages/);
    await expect(t.lane.unlock("entry", 1, 10)).rejects.toThrow(/windowMs/);
    await t.close();
  });
});

describe("secure channel over an in-memory link", () => {
  const key = Uint8Array.from({ length: 16 }, (_, i) => i * 17);

  it("runs everything MAC'd and encrypted with the configured key", async () => {
    const t = await memoryLane({ scbk: key, pdKey: key });
    expect(t.controlPanel.info(0).security).toBe("scbk");
    expect(t.controller.device.secure).toBe(true);
    await t.lane.unlock("entry");
    expect(t.controller.outputState[0]).toBe(true);
    await t.close();
  });

  it("install mode: SCBK-D first, then KEYSET, then the real key", async () => {
    const t = await memoryLane({ scbk: key, install: true });
    expect(t.controller.device.scbk).toEqual(key);
    expect(t.controlPanel.info(0).security).toBe("scbk");
    await t.lane.unlock("exit");
    expect(t.controller.outputState[1]).toBe(true);
    await t.close();
  });

  it("re-opens the channel after a MAC failure (a corrupted secure reply)", async () => {
    const t = await memoryLane({ scbk: key, pdKey: key });
    t.bus.corruptNextReplies(3);
    await t.clock.advance(1_000);
    await t.lane.unlock("entry");
    expect(t.controller.outputState[0]).toBe(true);
    await t.close();
  });

  it("a passage the controller kept while the cable was out past the window is attributed late; a no-show is not", async () => {
    const t = await memoryLane();
    const grant = await t.lane.unlock("entry", 1, 3_000, { reference: "auth-1" });
    const walked = t.controller.walk("entry");
    await t.clock.advance(200);
    t.bus.unplug();
    await t.clock.advance(1_500);
    expect(await walked).toBe("passed");
    await t.clock.until(() => t.events.closed.length === 1, 5_000);
    expect(t.events.closed[0]).toEqual({ unused: 1, reason: "expired", claimable: true });
    await t.clock.advance(2_000);
    t.bus.plug();
    await t.clock.until(() => t.events.passages.length === 1, 5_000);
    expect(t.events.passages[0]?.attribution).toEqual({
      kind: "late",
      grantId: grant.id,
      reference: "auth-1",
    });
    // The controller had nothing more: no claim is left.
    await t.clock.advance(200);
    expect(t.lane.lateClaims()).toEqual([]);

    // Heard the whole window, a no-show's grant is not claimable: a forced arm later is forced.
    await t.lane.unlock("entry", 1, 3_000, { reference: "auth-2" });
    await t.clock.until(() => t.events.closed.length === 2, 5_000);
    expect(t.events.closed[1]).toEqual({ unused: 1, reason: "expired" });
    void t.controller.walk("entry", "force");
    await t.clock.until(() => t.events.passages.length === 2, 5_000);
    expect(t.events.passages[1]?.attribution.kind).toBe("forced");
    expect(t.lane.counters()).toMatchObject({ latePassages: 1, annulledPassages: 1, forcedPassages: 1 });
    await t.close();
  });

  it("a read the reader sends again after its link restarts is reported once", async () => {
    const t = await memoryLane();
    await t.clock.advance(200);
    // The gate acts on the read at once: its unlock goes ahead of the poll that would have told the
    // reader its read was taken, and the cable goes with that unlock.
    const unlocks: Promise<unknown>[] = [];
    t.lane.on("scan", () => unlocks.push(t.lane.unlock("entry", 1, 3_000).catch((e: Error) => e)));
    t.bus.onCommand = (packet) => {
      if (packet.address !== 0 || packet.code !== CommandCode.OUT) return;
      t.bus.unplug();
      t.bus.onCommand = undefined;
    };
    t.reader.scan("HC1:NCFOXN%TS3DH");
    await t.clock.until(() => !t.bus.onCommand, 2_000);
    expect(t.reader.device.queuedReports).toBe(1);
    await t.clock.advance(2_000);
    t.bus.plug();
    await t.clock.until(() => t.controlPanel.counters.resentReports === 1, 5_000);
    expect(t.reader.device.queuedReports).toBe(0);
    expect(t.events.scans).toEqual(["HC1:NCFOXN%TS3DH"]);
    expect(unlocks).toHaveLength(1);
    expect(t.events.warnings.some((w) => /came again/.test(w))).toBe(true);
    // Shown again, the same code is a new read.
    t.reader.scan("HC1:NCFOXN%TS3DH");
    await t.clock.until(() => t.events.scans.length === 2, 2_000);
    await Promise.all(unlocks);
    await t.close();
  });
});
