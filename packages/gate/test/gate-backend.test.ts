import { join } from "node:path";
import { ControlPanel, createMemoryLink, Lane } from "@sesame/bridge";
import { ManualClock } from "@sesame/bridge/testing";
import { GateStore } from "@sesame/cache";
import type { EntryLogEvent } from "@sesame/gate-core";
import { LaneController, SimBus, type SimLane, startSimLane } from "@sesame/hardware-sim";
import { makeTempDir } from "@sesame/testing";
import { createNodeSigner, type IssuerKey, seededRandom, signTrustList } from "@sesame/ticket";
import { generateDemoVenue, type WalletEntry, walletCode, writeVenueDirectory } from "@sesame/venue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GateAlert, GateBackend } from "../src/gate-backend.js";

const HOUR = 3_600_000;

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("gate backend: scan → durable authorization → OSDP unlock → passage → entered", () => {
  const dir = makeTempDir();
  const signer = createNodeSigner();
  const demo = generateDemoVenue({
    spectators: 300,
    doorsOpenMs: Math.floor(Date.now() / HOUR) * HOUR - HOUR,
    entrances: 2,
    lanes: 4,
    random: seededRandom("kiosk-backend"),
    signer,
  });
  writeVenueDirectory(join(dir.path, "venue"), demo, signer);
  const gate = demo.venue.gates[0];
  if (!gate) throw new Error("demo venue without gates");
  const issuerSeed = Buffer.from(demo.secrets.issuerSeeds["1"] ?? "", "hex");
  const admissible = demo.wallets.filter((w) => {
    const t = demo.bundle.tickets.find((x) => x.id === w.body.ticketId);
    return (
      w.deviceSeed &&
      t?.status === "valid" &&
      t.generation === w.body.generation &&
      t.entrance === gate.entrance &&
      t.sessions.includes(1) &&
      t.categories.length === 0
    );
  });
  const code = (w: WalletEntry) => walletCode(w, issuerSeed, Date.now(), signer);

  let sim: SimLane;
  let lane: Lane;
  let store: GateStore;
  let backend: GateBackend;
  const recorded: EntryLogEvent[] = [];
  const alerts: GateAlert[] = [];

  beforeAll(async () => {
    sim = await startSimLane({ endpoint: { tcp: { host: "127.0.0.1", port: 0 } }, paced: false });
    lane = Lane.open(sim.where, { controller: { address: 0 } });
    await lane.ready();
    store = GateStore.open(join(dir.path, "gate.db"), {
      rootPublicKey: Buffer.from(demo.venue.rootPublicKey, "hex"),
      gateId: gate.id,
    });
    store.importBundle(join(dir.path, "venue"));
    backend = new GateBackend(
      {
        store,
        gateId: gate.id,
        entrance: gate.entrance,
        lanes: [{ lane: 1, direction: "entry", controller: lane }],
        now: Date.now,
        passageWindowMs: 1_500,
      },
      { onRecorded: (e) => recorded.push(e), onAlert: (a) => alerts.push(a) },
    );
  });
  afterAll(async () => {
    backend?.close();
    await lane?.close();
    await sim?.close();
    store?.close();
    dir.remove();
  });

  it("admits a valid code, unlocks the turnstile, and records the passage as entered", async () => {
    const holder = admissible[0];
    if (!holder) throw new Error("no admissible ticket");
    const outcome = await backend.scan(1, code(holder));
    expect(outcome.decision.reason).toBe("ADMITTED");
    expect(outcome.authorizationId).toBeDefined();
    expect(recorded.at(-1)?.kind).toBe("authorized");
    expect(await sim.controller.walk("entry")).toBe("passed");
    await until(() => recorded.at(-1)?.kind === "entered", "the entered record");
    expect(recorded.at(-1)).toMatchObject({
      ticketId: holder.body.ticketId,
      authorizationId: outcome.authorizationId,
    });
    // The same code again: refused, and the turnstile stays locked.
    const again = await backend.scan(1, code(holder));
    expect(again.decision.reason).toBe("ALREADY_ENTERED");
    expect(await sim.controller.walk("entry")).not.toBe("passed");
  });

  it("a no-show annuls the authorization: the ticket is not consumed", async () => {
    const holder = admissible[1];
    if (!holder) throw new Error("no admissible ticket");
    const first = await backend.scan(1, code(holder));
    expect(first.decision.reason).toBe("ADMITTED");
    await until(
      () => recorded.some((e) => e.kind === "annulled" && e.authorizationId === first.authorizationId),
      "annulment",
    );
    const second = await backend.scan(1, code(holder));
    expect(second.decision.reason).toBe("ADMITTED");
    expect(await sim.controller.walk("entry")).toBe("passed");
    await until(() => recorded.at(-1)?.kind === "entered", "the entered record");
  });

  it("refuses a screenshot and a resold ticket's old code, with their reasons", async () => {
    const holder = admissible[2];
    if (!holder) throw new Error("no admissible ticket");
    const stale = walletCode(holder, issuerSeed, Date.now() - 5 * 60_000, signer);
    expect((await backend.scan(1, stale)).decision.reason).toBe("EXPIRED_CODE");
    const resoldOld = demo.wallets.find((w) => {
      const t = demo.bundle.tickets.find((x) => x.id === w.body.ticketId);
      const rev = demo.bundle.revocations.find(
        (r) => r.ticketId === w.body.ticketId && r.reason === "resold",
      );
      return (
        w.deviceSeed &&
        t &&
        rev &&
        w.body.generation < t.generation &&
        t.sessions.includes(1) &&
        t.entrance === gate.entrance
      );
    });
    if (resoldOld) expect((await backend.scan(1, code(resoldOld))).decision.reason).toBe("REVOKED_RESOLD");
    expect(recorded.filter((e) => e.kind === "refused").length).toBeGreaterThanOrEqual(1);
  });

  it("the fire alarm frees the lane at once; passages are counted, not attributed", async () => {
    sim.controller.setFireAlarm(true);
    await until(() => lane.fireAlarm, "the fire alarm input");
    expect(backend.laneViews()[0]?.screen).toBe("free-passage");
    expect(await sim.controller.walk("entry")).toBe("passed");
    await until(() => recorded.at(-1)?.kind === "free-passage", "a free-passage record");
    sim.controller.setFireAlarm(false);
    await until(() => !lane.fireAlarm, "the end of the alarm");
  });

  // The last tests of this store: the demo venue's only issuer key ends its validity, then is revoked.
  it.each([
    {
      reason: "KEY_NOT_VALID",
      what: "an issuer key whose validity is over (issue 16)",
      key: (k: IssuerKey) => ({
        ...k,
        validUntil: Math.min(k.validUntil, Math.floor(Date.now() / 1000) - 3600),
      }),
    },
    { reason: "KEY_REVOKED", what: "a revoked issuer key", key: (k: IssuerKey) => ({ ...k, revoked: true }) },
  ])("$what: refused $reason with its key id, and no forgery alert", async ({ reason, key }) => {
    const holder = admissible[reason === "KEY_REVOKED" ? 3 : 4];
    if (!holder) throw new Error("no admissible ticket");
    // A new trust list signed by the venue root, the key changed in it.
    const held = store.venue;
    const list = demo.bundle.trustList;
    store.applyTrustList(
      signTrustList(
        {
          venue: list.venue,
          version: held.trustListVersion + 1,
          issuedAt: Math.floor(Date.now() / 1000),
          keys: [...held.issuerKeys.values()].map((k) => (k.keyId === holder.body.keyId ? key(k) : k)),
        },
        Buffer.from(demo.secrets.rootSeed, "hex"),
        signer,
      ),
    );
    const forgeryAlerts = alerts.filter((a) => a.kind === "forgery").length;
    const outcome = await backend.scan(1, code(holder));
    expect(outcome.decision.reason).toBe(reason);
    expect(recorded.at(-1)).toMatchObject({
      kind: "refused",
      reason,
      ticketId: holder.body.ticketId,
      issuerKeyId: holder.body.keyId,
      detail: reason,
    });
    // What the outbox sends the server carries the key id too (the server groups by it).
    expect(store.events(recorded.at(-1)?.gateSeq ?? 0, 1)[0]?.issuerKeyId).toBe(holder.body.keyId);
    expect(alerts.filter((a) => a.kind === "forgery")).toHaveLength(forgeryAlerts);
  });

  describe("passages the controller kept while the gate could not hear it (virtual clock)", () => {
    const { id: gateId, entrance } = gate;
    let n = 0;
    /** A lane controller on a bus that outlives gate processes; each start() is a gate process. */
    function virtualVenue() {
      const clock = new ManualClock();
      const base = Date.now();
      const now = () => base + clock.now();
      const bus = new SimBus({ paced: false, clock });
      const controller = new LaneController({ address: 0, clock });
      bus.add(controller.device);
      const dbPath = join(dir.path, `virtual-${++n}.db`);
      const openStore = () => {
        const store = GateStore.open(dbPath, {
          rootPublicKey: Buffer.from(demo.venue.rootPublicKey, "hex"),
          gateId,
        });
        if (!store.imported) store.importBundle(join(dir.path, "venue"));
        return store;
      };
      const start = async (store: GateStore) => {
        const [cpEnd, pdEnd] = createMemoryLink();
        bus.attach(pdEnd);
        const controlPanel = new ControlPanel({ connect: async () => cpEnd, clock });
        const lane = new Lane(controlPanel, { controller: { address: 0 }, clock });
        controlPanel.start();
        const recorded: EntryLogEvent[] = [];
        const alerts: GateAlert[] = [];
        const warnings: string[] = [];
        const backend = new GateBackend(
          {
            store,
            gateId,
            entrance,
            lanes: [{ lane: 1, direction: "entry", controller: lane }],
            now,
            passageWindowMs: 3_000,
          },
          {
            onRecorded: (e) => recorded.push(e),
            onAlert: (a) => alerts.push(a),
            onWarning: (w) => warnings.push(w),
          },
        );
        await clock.until(() => lane.online, 5_000);
        const stop = async () => {
          backend.close();
          await lane.close();
          await controlPanel.stop();
        };
        return { lane, backend, recorded, alerts, warnings, stop };
      };
      const holderCode = (w: WalletEntry) => walletCode(w, issuerSeed, now(), signer);
      const journal = (store: GateStore, id: string) =>
        store
          .events(1, 1_000)
          .filter((e) => e.authorizationId === id)
          .map((e) => `${e.kind}:${e.detail ?? ""}`);
      /** A gate process admits `holder`, then dies (the holder walking or not); the cache is closed. */
      const admitThenDie = async (holder: WalletEntry | undefined, walks: boolean) => {
        if (!holder) throw new Error("no admissible ticket");
        const store = openStore();
        const gateProcess = await start(store);
        const id = (await gateProcess.backend.scan(1, holderCode(holder))).authorizationId ?? "";
        const walking = walks ? controller.walk("entry") : undefined;
        await clock.advance(300);
        // Killed with the authorization open; the controller's timed unlock goes on by itself.
        await gateProcess.stop();
        store.close();
        await clock.advance(1_500);
        return { id, walked: await walking };
      };
      return {
        clock,
        bus,
        controller,
        openStore,
        start,
        holderCode,
        journal,
        admitThenDie,
        close: () => controller.close(),
      };
    }

    it("a refusal while the controller is unplugged is recorded, and the tech is told the red light never came on", async () => {
      const v = virtualVenue();
      const store = v.openStore();
      const g = await v.start(store);
      const holder = admissible[12];
      if (!holder) throw new Error("no admissible ticket");
      // A screenshot: a code whose device proof is ten minutes old.
      const stale = walletCode(holder, issuerSeed, v.clock.now() + Date.now() - 600_000, signer);
      v.bus.unplug();
      await v.clock.until(() => !g.lane.online, 10_000);
      const scanned = g.backend.scan(1, stale);
      await v.clock.advance(5_000);
      const outcome = await scanned;
      expect(outcome.decision.outcome).toBe("REFUSE");
      expect(outcome.decision.reason).toBe("EXPIRED_CODE");
      expect(g.recorded.filter((e) => e.kind === "refused").map((e) => e.ticketId)).toEqual([
        holder.body.ticketId,
      ]);
      expect(
        g.warnings.some((w) =>
          w.startsWith("lane 1: the refusal light and tone did not reach the controller"),
        ),
      ).toBe(true);
      v.bus.plug();
      await g.stop();
      v.close();
      store.close();
    });

    it("a cable out past the window: annulled, then the holder's passage, reported late, is their entry", async () => {
      const v = virtualVenue();
      const store = v.openStore();
      const g = await v.start(store);
      const holder = admissible[10];
      if (!holder) throw new Error("no admissible ticket");
      const outcome = await g.backend.scan(1, v.holderCode(holder));
      const id = outcome.authorizationId ?? "";
      expect(outcome.decision.reason).toBe("ADMITTED");
      const walking = v.controller.walk("entry");
      await v.clock.advance(200);
      v.bus.unplug();
      await v.clock.advance(1_500);
      expect(await walking).toBe("passed");
      await v.clock.until(() => store.authorization(id)?.state === "annulled", 10_000);
      v.bus.plug();
      await v.clock.until(() => store.authorization(id)?.state === "entered", 10_000);
      expect(v.journal(store, id)).toEqual([
        "authorized:",
        "annulled:window-expired",
        "entered:late-passage",
      ]);
      // The holder's own passage: no alarm, no alert (only the controller going offline).
      expect(g.recorded.filter((e) => e.kind === "alarm")).toEqual([]);
      expect(g.alerts.map((a) => a.kind)).toEqual(["controller-offline"]);
      expect((await g.backend.scan(1, v.holderCode(holder))).decision.reason).toBe("ALREADY_ENTERED");
      await g.stop();
      v.close();
      store.close();
    });

    it("a gate restart: the passage through the arm the dead process had unlocked is the holder's entry", async () => {
      const v = virtualVenue();
      const { id, walked } = await v.admitThenDie(admissible[11], true);
      expect(walked).toBe("passed");
      await v.clock.advance(5_000);

      const store = v.openStore();
      const second = await v.start(store);
      await v.clock.until(() => store.authorization(id)?.state === "entered", 5_000);
      expect(v.journal(store, id)).toEqual(["authorized:", "annulled:recovery", "entered:late-passage"]);
      expect(second.recorded.map((e) => `${e.kind}:${e.detail ?? ""}`)).toEqual([
        "annulled:recovery",
        "entered:late-passage",
      ]);
      expect(second.alerts).toEqual([]);
      await v.clock.advance(200);
      expect(second.lane.lateClaims()).toEqual([]);
      await second.stop();
      v.close();
      store.close();
    });

    it("a gate restart: a no-show's authorization is not consumed, not even by a forced arm later", async () => {
      const v = virtualVenue();
      const holder = admissible[12];
      if (!holder) throw new Error("no admissible ticket");
      const { id } = await v.admitThenDie(holder, false);
      await v.clock.advance(5_000);

      const store = v.openStore();
      const second = await v.start(store);
      // The controller had nothing to report: the claim lapses.
      await v.clock.until(() => second.lane.lateClaims().length === 0, 1_000);
      const forced = v.controller.walk("entry", "force");
      await v.clock.until(() => second.recorded.some((e) => e.kind === "alarm"), 5_000);
      expect(await forced).toBe("forced");
      expect(v.journal(store, id)).toEqual(["authorized:", "annulled:recovery"]);
      expect(second.alerts.map((a) => a.kind)).toEqual(["forced-passage"]);
      expect((await second.backend.scan(1, v.holderCode(holder))).decision.reason).toBe("ADMITTED");
      await second.stop();
      v.close();
      store.close();
    });
  });
});
