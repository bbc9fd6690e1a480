import { join } from "node:path";
import { CommandCode, ControlPanel, createMemoryLink, Lane } from "@sesame/bridge";
import { ManualClock } from "@sesame/bridge/testing";
import { GateStore } from "@sesame/cache";
import { GateBackend } from "@sesame/gate";
import { LaneController, SimBus, SimReader } from "@sesame/hardware-sim";
import { makeTempDir } from "@sesame/testing";
import { createNodeSigner, seededRandom } from "@sesame/ticket";
import { generateDemoVenue, walletCode, writeVenueDirectory } from "@sesame/venue";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { audit, DrillVenue, eventually, type Holder, passageAlerts, sleep } from "./harness.js";

/*
 * Drill 4 (issue 8): a lane controller unplugged and powered off while a holder is between the
 * unlock and the passage. The gate must show the lane offline within a second, refuse to unlock
 * it, annul the authorization, and let nobody in unrecorded.
 *
 * The second is measured on a virtual clock (the gate backend, the OSDP bridge and the simulated
 * controller over an in-memory link, hardware-sim/test/lane.memory.test.ts's way); the whole stack
 * (OSDP over TCP, the gate node, the sync-server) is then checked with generous real-time waits:
 * a scan the reader resends after its link restarts is recognized and does not unlock the lane
 * again; a passage the controller kept while the cable was out past the window is attributed to
 * its authorization, late (annulled → entered); a tailgater is journaled as an alarm. (~24 s,
 * mostly the controller's power cut and the passage windows.)
 */

describe("drill: a lane controller unplugged and powered off mid-passage (virtual clock)", () => {
  it("offline within a second, unlock refused, the authorization annulled, nobody in unrecorded", async () => {
    const dir = makeTempDir("sesame-drill-lane-");
    const signer = createNodeSigner();
    const base = Date.now();
    const demo = generateDemoVenue({
      spectators: 40,
      doorsOpenMs: Math.floor(base / 3_600_000) * 3_600_000 - 3_600_000,
      entrances: 1,
      lanes: 1,
      lanesPerGate: 1,
      random: seededRandom("lane-unplug-memory"),
      signer,
    });
    const venueDir = join(dir.path, "venue");
    writeVenueDirectory(venueDir, demo, signer);
    const clock = new ManualClock();
    const now = () => base + clock.now();
    const bus = new SimBus({ paced: false, clock });
    const controller = new LaneController({ address: 0, clock });
    const reader = new SimReader({ address: 1 });
    bus.add(controller.device);
    bus.add(reader.device);
    const [cpEnd, pdEnd] = createMemoryLink();
    bus.attach(pdEnd);
    const controlPanel = new ControlPanel({ connect: async () => cpEnd, clock });
    const lane = new Lane(controlPanel, { controller: { address: 0 }, readers: [{ address: 1 }], clock });
    const gateId = demo.venue.gates[0]?.id ?? "A1";
    const store = GateStore.open(":memory:", {
      rootPublicKey: Uint8Array.from(Buffer.from(demo.venue.rootPublicKey, "hex")),
      gateId,
    });
    store.importBundle(venueDir);
    const backend = new GateBackend({
      store,
      gateId,
      entrance: demo.venue.gates[0]?.entrance ?? 1,
      lanes: [{ lane: 1, direction: "entry", controller: lane }],
      now,
      passageWindowMs: 4_000,
    });
    try {
      controlPanel.start();
      await clock.until(() => lane.online, 5_000);
      const valid = demo.wallets.filter((w) => {
        const row = demo.rows.find((r) => r.id === w.body.ticketId && r.generation === w.body.generation);
        return row?.state === "valid" && w.deviceSeed && w.body.kind === "mobile" && w.body.categories === 0;
      });
      const code = (i: number) => {
        const w = valid[i];
        if (!w) throw new Error("not enough good codes");
        const seed = Uint8Array.from(
          Buffer.from(demo.secrets.issuerSeeds[String(w.body.keyId)] ?? "", "hex"),
        );
        return walletCode(w, seed, now(), signer);
      };
      const view = () => backend.laneViews()[0];

      // The holder scanned, the arm is unlocked, they have not walked yet.
      const first = await backend.scan(1, code(0));
      expect(first.decision.reason).toBe("ADMITTED");
      await clock.until(() => controller.outputState[0] === true, 1_000);

      bus.unplug();
      controller.powerLoss(20_000);
      const took = await clock.until(() => view()?.controllerOnline === false, 5_000);
      expect(took).toBeLessThanOrEqual(1_000);
      expect(view()?.screen).toBe("out-of-order");
      // Without power the arm is locked (fail-secure): the holder cannot pass.
      const walking = controller.walk("entry");
      await clock.advance(2_000);
      expect(await walking).toBe("refused");
      // Another scan at that lane (a hand scanner): admitted by the rules, but the unlock is refused
      // and its authorization annulled at once.
      const second = await backend.scan(1, code(1));
      expect(second.unlockError).toMatch(/offline/);
      expect(store.authorization(second.authorizationId ?? "")?.state).toBe("annulled");
      // The first holder's window ends: annulled, the ticket not consumed. The gate could not hear
      // the controller, so a passage it kept could still claim the authorization, late.
      await clock.advance(4_000);
      expect(store.authorization(first.authorizationId ?? "")?.state).toBe("annulled");
      expect(store.openAuthorizations()).toEqual([]);
      expect(lane.lateClaims().map((c) => c.grant.reference)).toEqual([first.authorizationId]);

      // Power and cable back: the controller has nothing to report (the arm stayed locked, and a
      // power cut loses its reports anyway), so the claim lapses; the holder scans again and gets in.
      bus.plug();
      await clock.until(() => view()?.controllerOnline === true, 30_000);
      await clock.until(() => lane.lateClaims().length === 0, 1_000);
      const again = await backend.scan(1, code(0));
      expect(again.decision.reason).toBe("ADMITTED");
      expect(again.unlockError).toBeUndefined();
      const through = controller.walk("entry");
      await clock.until(() => store.authorization(again.authorizationId ?? "")?.state === "entered", 5_000);
      expect(await through).toBe("passed");

      const log = store.events(1, 100);
      expect(log.map((e) => `${e.kind}:${e.ticketId}:${e.detail ?? ""}`)).toEqual([
        `authorized:${valid[0]?.body.ticketId}:`,
        `authorized:${valid[1]?.body.ticketId}:`,
        `annulled:${valid[1]?.body.ticketId}:window-expired`,
        `annulled:${valid[0]?.body.ticketId}:window-expired`,
        `authorized:${valid[0]?.body.ticketId}:`,
        `entered:${valid[0]?.body.ticketId}:`,
      ]);
      // Nobody in unrecorded: one rotation, one entry.
      expect(controller.turnstile.passages.entry).toBe(1);
    } finally {
      backend.close();
      controller.close();
      await lane.close();
      await controlPanel.stop();
      store.close();
      dir.remove();
    }
  }, 60_000);
});

describe("drill: a lane controller unplugged and powered off mid-passage (whole stack)", () => {
  let venue: DrillVenue;
  const GATE = "A1";

  beforeAll(async () => {
    venue = await DrillVenue.start({
      name: "lane-unplug",
      spectators: 100,
      entrances: 1,
      lanes: 2,
      lanesPerGate: 2,
      reservedPerEntrance: 8,
      passageWindowMs: 3_000,
    });
  }, 120_000);

  afterAll(async () => {
    await venue?.stop();
  });

  const authorizationOf = (ticketId: number) =>
    venue
      .gate(GATE)
      .node?.store.events(1, 100_000)
      .filter((e) => e.kind === "authorized" && e.ticketId === ticketId)
      .at(-1)?.authorizationId ?? "";

  it("offline, unlock refused, annulled; a cable pulled for a moment loses no passage", async () => {
    onTestFailed(() => console.log(venue.logTail()));
    const node = venue.gate(GATE).node;
    if (!node) throw new Error("in-process gate expected");
    const sim = venue.lane(GATE, 1).sim;
    const entrance = venue.entranceOf(GATE);
    const view = () => node.backend.laneViews().find((v) => v.lane === 1);

    const h1 = venue.holder(entrance);
    expect((await venue.present(venue.lane(GATE, 1), h1, { walk: false, id: "h1" })).opened).toBe(true);
    // The reader's report of that scan acknowledged (see the replay drill below for when it is not).
    await eventually(
      () => sim.reader?.device.queuedReports === 0,
      "the reader's report acknowledged",
      5_000,
      5,
    );
    const t0 = Date.now();
    sim.bus.unplug();
    sim.controller.powerLoss(4_000);
    await eventually(() => view()?.controllerOnline === false, "the lane shown offline", 5_000, 10);
    venue.log(`[drill] lane shown offline ${Date.now() - t0} ms after the cable was pulled`);
    expect(view()?.screen).toBe("out-of-order");
    const state = await venue.gateState(venue.gate(GATE));
    expect(state?.lanes.find((l) => l.lane === 1)?.controllerOnline).toBe(false);
    expect(await sim.controller.walk("entry")).toBe("refused");
    const h2 = venue.holder(entrance);
    const refused = await venue.handScan(GATE, 1, h2.code(Date.now()));
    expect(refused.unlockError).toMatch(/offline/);
    expect(node.store.authorization(refused.authorizationId ?? "")?.state).toBe("annulled");
    await eventually(
      () => node.store.authorization(authorizationOf(h1.ticketId))?.state === "annulled",
      "h1's authorization annulled when its window ended",
      10_000,
    );

    sim.bus.plug();
    await eventually(() => view()?.controllerOnline === true, "the lane back online", 20_000);
    await eventually(() => venue.gateReady(venue.gate(GATE)), "the reader back online", 10_000);
    // The first report after a link restart that equals the last one never acknowledged is taken
    // for the reader's resend (see the next test), and h1's code has not changed since: show it
    // once the reader has answered a poll since the restart, not whenever the test gets there.
    const readerAddress = sim.reader?.device.address;
    await node.lanes.get(1)?.controlPanel.next("idle", (address) => address === readerAddress);
    expect((await venue.present(venue.lane(GATE, 1), h1, { id: "h1 again" })).result).toBe("passed");
    expect((await venue.present(venue.lane(GATE, 1), h2, { id: "h2 again" })).result).toBe("passed");

    // Unplugged while the holder is in the arm, plugged back before the window ends: the
    // controller's queued report arrives, the passage is recorded.
    const h3 = venue.holder(entrance);
    const walked = await venue.present(venue.lane(GATE, 1), h3, {
      id: "h3",
      whileWalking: async () => {
        await sleep(200);
        sim.bus.unplug();
      },
    });
    expect(walked.result).toBe("passed");
    await sleep(500);
    sim.bus.plug();
    await eventually(
      () => node.store.authorization(authorizationOf(h3.ticketId))?.state === "entered",
      "h3's passage recorded once the cable is back",
      10_000,
    );

    await venue.settle();
    const report = audit(venue);
    venue.log(`[drill] ${JSON.stringify(report)}`);
    expect(report.annulled).toEqual({ "window-expired": 2 });
    expect(report.falseRefusals).toBe(0);
  }, 120_000);

  it("a scan the reader sends again after the cable is back does not unlock the lane again", async () => {
    const node = venue.gate(GATE).node;
    const sim = venue.lane(GATE, 1).sim;
    const reader = sim.reader;
    if (!node || !reader) throw new Error("in-process gate and an OSDP reader expected");
    const h5 = venue.holder(venue.entranceOf(GATE));
    // The cable goes the instant the unlock reaches the controller: the controller acknowledges
    // it, but the control panel has not polled the reader since the scan, so the reader's report
    // of it is still unacknowledged at the OSDP level.
    const resentBefore = node.lanes.get(1)?.controlPanel.counters.resentReports ?? 0;
    let inFlight = -1;
    sim.bus.onCommand = (packet) => {
      if (packet.address !== 0 || packet.code !== CommandCode.OUT) return;
      inFlight = reader.device.queuedReports;
      sim.bus.unplug();
      sim.bus.onCommand = undefined;
    };
    expect((await venue.present(venue.lane(GATE, 1), h5, { walk: false, id: "h5" })).opened).toBe(true);
    expect(inFlight).toBe(1);
    await eventually(
      () => node.store.authorization(authorizationOf(h5.ticketId))?.state === "annulled",
      "h5 did not walk: annulled",
      10_000,
    );
    sim.bus.plug();
    await eventually(() => venue.gateReady(venue.gate(GATE)), "the lane back online", 10_000);
    // The reader did send its unacknowledged report again, and the control panel knew it.
    await eventually(
      () => node.lanes.get(1)?.controlPanel.counters.resentReports === resentBefore + 1,
      "the resent report recognized",
      5_000,
    );
    expect(venue.gate(GATE).lines.some((l) => /lane 1: .*came again.*ignored/.test(l))).toBe(true);
    await sleep(1_500);
    // h5 showed the code once: one decision. The reader's resent report is the same scan.
    const decisions = node.store
      .events(1, 100_000)
      .filter((e) => e.lane === 1 && e.ticketId === h5.ticketId && e.kind !== "annulled");
    expect(decisions.map((e) => `${e.kind}:${e.reason}`)).toEqual(["authorized:ADMITTED"]);
    // Shown again, the code is a new scan, decided as any other.
    expect((await venue.present(venue.lane(GATE, 1), h5, { id: "h5 again" })).result).toBe("passed");
    await eventually(
      () => node.store.authorization(authorizationOf(h5.ticketId))?.state === "entered",
      "h5's entry recorded",
      10_000,
    );
  }, 60_000);

  it("a passage made while the cable was out for longer than the window is recorded", async () => {
    const node = venue.gate(GATE).node;
    if (!node) throw new Error("in-process gate expected");
    const sim = venue.lane(GATE, 2).sim;
    const h4: Holder = venue.holder(venue.entranceOf(GATE));
    const alertsBefore = passageAlerts(venue.gate(GATE)).get(2) ?? 0;
    const walked = await venue.present(venue.lane(GATE, 2), h4, {
      id: "h4",
      whileWalking: async () => {
        await sleep(200);
        sim.bus.unplug();
      },
    });
    expect(walked.result).toBe("passed");
    // The cable stays out past the 3 s window: the gate annuls the authorization (h4 may have
    // gone to another lane), but keeps it claimable, having not heard the controller since.
    await eventually(
      () => node.store.authorization(authorizationOf(h4.ticketId))?.state === "annulled",
      "h4's authorization annulled when its window ended",
      10_000,
    );
    sim.bus.plug();
    await eventually(() => venue.gateReady(venue.gate(GATE)), "the lane back online", 10_000);
    // The controller's report of the passage, delivered now, claims it: h4 entered, late.
    await eventually(
      () => node.store.authorization(authorizationOf(h4.ticketId))?.state === "entered",
      "h4's passage recorded once the cable is back",
      10_000,
    );
    const id = authorizationOf(h4.ticketId);
    const journal = node.store.events(1, 100_000).filter((e) => e.authorizationId === id);
    expect(journal.map((e) => `${e.kind}:${e.detail ?? ""}`)).toEqual([
      "authorized:",
      "annulled:window-expired",
      "entered:late-passage",
    ]);
    // The holder's own passage: no alarm.
    expect(passageAlerts(venue.gate(GATE)).get(2) ?? 0).toBe(alertsBefore);
    await venue.settle();
    const onServer = venue.withServerStore((s) =>
      s.eventsOfGate(GATE).filter((e) => e.authorizationId === id && e.kind === "entered"),
    );
    expect(onServer.map((e) => e.detail)).toEqual(["late-passage"]);
  }, 60_000);

  it("a tailgater through an authorized holder's rotation is in the venue's record, as an alarm", async () => {
    const node = venue.gate(GATE).node;
    if (!node) throw new Error("in-process gate expected");
    const h6 = venue.holder(venue.entranceOf(GATE));
    const before = passageAlerts(venue.gate(GATE)).get(1) ?? 0;
    const since = Date.now();
    const walked = await venue.present(venue.lane(GATE, 1), h6, {
      id: "h6 + tailgater",
      behaviour: "tailgate",
    });
    expect(walked.result).toBe("passed");
    await eventually(
      () => node.store.authorization(authorizationOf(h6.ticketId))?.state === "entered",
      "h6's entry recorded",
      10_000,
    );
    // The gate saw the second body and alerted its stewards...
    await eventually(
      () => (passageAlerts(venue.gate(GATE)).get(1) ?? 0) === before + 1,
      "a tailgate alert",
      5_000,
    );
    await venue.settle();
    // ...and journaled it: the venue's record has the entry and an alarm for the second body.
    const recorded = venue.withServerStore((s) =>
      s.eventsOfGate(GATE).filter((e) => e.lane === 1 && e.at >= since && e.kind !== "authorized"),
    );
    expect(recorded.map((e) => e.kind)).toEqual(["entered", "alarm"]);
  }, 60_000);
});
