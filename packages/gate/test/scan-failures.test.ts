import { join } from "node:path";
import { GateStore } from "@sesame/cache";
import type { EntryLogEvent } from "@sesame/gate-core";
import { makeTempDir } from "@sesame/testing";
import { createNodeSigner, seededRandom } from "@sesame/ticket";
import { generateDemoVenue, type WalletEntry, walletCode, writeVenueDirectory } from "@sesame/venue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GateBackend, type LaneView } from "../src/gate-backend.js";

const HOUR = 3_600_000;
const DOORS = Date.UTC(2026, 6, 26, 17, 0, 0);

/** Issue 16, case 5: no scan ends in an uncaught error; a second exit scan is a pending passage. */
describe("gate backend: a scan never throws", () => {
  const dir = makeTempDir();
  const signer = createNodeSigner();
  const demo = generateDemoVenue({
    spectators: 400,
    doorsOpenMs: DOORS,
    entrances: 2,
    lanes: 4,
    random: seededRandom("scan-failures"),
    signer,
  });
  writeVenueDirectory(join(dir.path, "venue"), demo, signer);
  const gate = demo.venue.gates.find((g) => g.entrance === 1);
  if (!gate) throw new Error("demo venue without a gate at entrance 1");
  const issuerSeed = Buffer.from(demo.secrets.issuerSeeds["1"] ?? "", "hex");
  /** Phone tickets of entrance 1 for session `session`, current generation, no steward needed. */
  const wallets = (session: number) =>
    demo.wallets.filter((w) => {
      const t = demo.bundle.tickets.find((x) => x.id === w.body.ticketId);
      return (
        w.deviceSeed &&
        t?.status === "valid" &&
        t.generation === w.body.generation &&
        t.entrance === 1 &&
        t.sessions.length === 1 &&
        t.sessions[0] === session &&
        t.categories.length === 0
      );
    });
  let clock = DOORS + HOUR;
  let store: GateStore;
  const code = (w: WalletEntry) => walletCode(w, issuerSeed, clock, signer);

  const backendWith = () => {
    const recorded: EntryLogEvent[] = [];
    const warnings: string[] = [];
    const screens: LaneView[] = [];
    // Lanes without controller: the steward confirms each passage.
    const backend = new GateBackend(
      {
        store,
        gateId: gate.id,
        entrance: gate.entrance,
        lanes: [
          { lane: 1, direction: "entry" },
          { lane: 2, direction: "exit" },
        ],
        now: () => clock,
      },
      {
        onRecorded: (e) => recorded.push(e),
        onWarning: (m) => warnings.push(m),
        onLane: (v) => screens.push(v),
      },
    );
    return { backend, recorded, warnings, screens };
  };

  beforeAll(() => {
    store = GateStore.open(join(dir.path, "gate.db"), {
      rootPublicKey: Buffer.from(demo.venue.rootPublicKey, "hex"),
      gateId: gate.id,
    });
    store.importBundle(join(dir.path, "venue"));
  });
  afterAll(() => {
    store?.close();
    dir.remove();
  });

  it("second exit scan while an exit authorization is open is refused PASSAGE_PENDING", async () => {
    const { backend, recorded } = backendWith();
    const [w] = wallets(1);
    if (!w) throw new Error("demo lacks a phone ticket for session 1");
    expect((await backend.scan(1, code(w))).decision.reason).toBe("ADMITTED");
    backend.confirmManualPassage(1);
    clock += 60_000;
    expect((await backend.scan(2, code(w))).decision.reason).toBe("EXIT_FINAL");
    // The holder scans again before walking through: the exit is still pending.
    const again = await backend.scan(2, code(w));
    expect(again.decision).toMatchObject({ outcome: "REFUSE", reason: "PASSAGE_PENDING" });
    expect(recorded.at(-1)).toMatchObject({ kind: "refused", reason: "PASSAGE_PENDING", direction: "exit" });
    expect(backend.laneViews().find((l) => l.lane === 2)?.screen).toBe("refuse");
    backend.confirmManualPassage(2);
    expect(store.facts().presence(w.body.ticketId, 1)?.state).toBe("outside");
    backend.close();
  });

  it("a scan that fails unexpectedly is recorded, logged and refused on the lane's screen", async () => {
    const { backend, recorded, warnings } = backendWith();
    const [, w] = wallets(1);
    if (!w) throw new Error("demo lacks a second phone ticket for session 1");
    const authorize = store.authorize.bind(store);
    store.authorize = () => {
      throw new Error("disk I/O error");
    };
    try {
      const outcome = await backend.scan(1, code(w));
      expect(outcome.decision).toMatchObject({ outcome: "REFUSE", reason: "SCAN_FAILED" });
      expect(outcome.authorizationId).toBeUndefined();
    } finally {
      store.authorize = authorize;
    }
    expect(warnings.filter((m) => m.includes("disk I/O error"))).toHaveLength(1);
    expect(warnings[0]).not.toContain("\n");
    expect(recorded.at(-1)).toMatchObject({
      kind: "refused",
      reason: "SCAN_FAILED",
      ticketId: w.body.ticketId,
    });
    expect(backend.laneViews().find((l) => l.lane === 1)?.screen).toBe("refuse");
    // Nothing was consumed: the holder scans again and is admitted.
    expect((await backend.scan(1, code(w))).decision.reason).toBe("ADMITTED");
    backend.close();
  });
});
