import { DEFAULT_MIX } from "@sesame/cli";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { audit, DrillVenue, eventually, sleep } from "./harness.js";

/*
 * Drill 1 (issue 8): the embedded broker is killed with SIGKILL in the middle of an ingress. The
 * sync-server's supervisor restarts it on the same port; meanwhile the gates keep deciding alone
 * from their caches, and once the broker is back every event reaches the server's store, exactly
 * once. Four gates of two lanes at two entrances; a crowd on lane 1 of each gate, the drill's own
 * holders on lane 2. (~18 s: four gates, eight OSDP lanes, the broker's restart.)
 */

describe("drill: the broker killed mid-ingress", () => {
  let venue: DrillVenue;

  beforeAll(async () => {
    venue = await DrillVenue.start({ name: "broker-kill", spectators: 300, lanes: 8, lanesPerGate: 2 });
  }, 120_000);

  afterAll(async () => {
    await venue?.stop();
  });

  it("gates admit offline; everything reaches the server once the supervisor restarted the broker", async () => {
    onTestFailed(() => console.log(venue.logTail()));
    const server = venue.server;
    const broker = server?.brokerProcess;
    if (!server || !broker) throw new Error("the drill needs the in-process server and its broker child");
    const crowd = venue.makeCrowd({
      rate: 3,
      maxArrivals: 22,
      lanes: venue.lanes.filter((l) => l.lane === 1),
      // Nobody reuses a code here: a reuse across the outage would be a (legitimate) double entry.
      mix: { ...DEFAULT_MIX, usedTwice: 0 },
    });
    const reconnectedAt = new Map<string, number>();
    const disconnected = new Set<string>();
    let killedAt = Number.POSITIVE_INFINITY;
    for (const g of venue.gates) {
      g.node?.sync?.on("disconnected", () => {
        if (Date.now() >= killedAt) disconnected.add(g.gateId);
      });
      g.node?.sync?.on("connected", () => {
        if (disconnected.has(g.gateId) && !reconnectedAt.has(g.gateId))
          reconnectedAt.set(g.gateId, Date.now());
      });
    }

    crowd.start();
    await eventually(() => crowd.counters.passed >= 6, "the ingress under way");
    const oldPid = broker.pid;
    expect(oldPid).toBeTypeOf("number");
    const restarted = new Promise<number>((resolve) => broker.once("restarted", resolve));
    killedAt = Date.now();
    process.kill(oldPid as number, "SIGKILL");
    venue.log(`[drill] broker ${oldPid} killed`);
    // Right after the kill, one holder at lane 2 of every gate: decided while the broker is gone.
    const offline = await Promise.all(
      venue.gates.map((g) => venue.present(venue.lane(g.gateId, 2), venue.holder(g.entrance))),
    );
    expect(offline.map((r) => r.result)).toEqual(venue.gates.map(() => "passed"));

    const newPid = await restarted;
    expect(newPid).not.toBe(oldPid);
    venue.log(`[drill] broker restarted as ${newPid}`);
    await eventually(() => reconnectedAt.size === venue.gates.length, "every gate reconnected", 30_000);
    // Every gate lost the broker, and admitted while it was cut off from the venue.
    expect([...disconnected].sort()).toEqual(venue.gates.map((g) => g.gateId).sort());
    for (const g of venue.gates) {
      const back = reconnectedAt.get(g.gateId) ?? 0;
      const during = (g.node?.store.events(1, 100_000) ?? []).filter(
        (e) => e.kind === "authorized" && e.at >= killedAt && e.at <= back,
      );
      expect(during.length, `${g.gateId}: admissions while offline`).toBeGreaterThan(0);
    }

    await eventually(() => crowd.done, "the crowd through the gates", 90_000);
    await sleep(500);
    await venue.settle();
    const report = audit(venue);
    venue.log(`[drill] ${JSON.stringify(report)}`);
    expect(report.falseRefusals).toBe(0);
    expect(report.entered).toBe(report.passed);
    expect(report.doubleEntries).toBe(0);
  }, 180_000);
});
