import { DEFAULT_MIX } from "@sesame/cli";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { audit, DrillVenue, eventually, sleep } from "./harness.js";

/*
 * Drill 2 (issue 8): the sync-server, run as its own process by the `sesame sync-server` command
 * (runSyncServerCommand, through test/drills/sync-server-main.ts), is killed with SIGKILL
 * mid-ingress — its whole process group, so its embedded broker (its child) dies with it, as on a
 * machine crash — and restarted a few seconds later on the same data directory and ports. The gates admit alone meanwhile; a
 * code used at gate A1 is admitted again at A2 while they cannot hear each other (a partition: the
 * one double entry allowed), and the server raises the double-entry alert once it hears of both.
 * (~22 s: two server starts with their brokers, eight OSDP lanes.)
 */

describe("drill: the sync-server killed and restarted mid-ingress", () => {
  let venue: DrillVenue;

  beforeAll(async () => {
    venue = await DrillVenue.start({
      name: "server-kill",
      spectators: 300,
      lanes: 8,
      lanesPerGate: 2,
      server: "process",
    });
  }, 120_000);

  afterAll(async () => {
    await venue?.stop();
  });

  it("nothing is lost, the partition's double entry is alerted", async () => {
    onTestFailed(() => console.log(venue.logTail()));
    const server = venue.serverProcess;
    if (!server) throw new Error("the drill needs the server process");
    const crowd = venue.makeCrowd({
      rate: 3,
      maxArrivals: 22,
      lanes: venue.lanes.filter((l) => l.lane === 1),
      mix: { ...DEFAULT_MIX, usedTwice: 0 },
    });
    crowd.start();
    await eventually(() => crowd.counters.passed >= 5, "the ingress under way");

    await server.kill();
    const killedAt = Date.now();
    venue.log("[drill] sync-server process group killed");
    await eventually(
      () => venue.gates.every((g) => g.node?.sync?.status().connected === false),
      "every gate offline",
    );
    // A partition: the holder enters at A1, and the same code is shown again at A2, which cannot know.
    const [first, second] = venue.gates.filter((g) => g.entrance === venue.gates[0]?.entrance);
    if (!first || !second) throw new Error("the drill needs two gates at one entrance");
    const holder = venue.holder(first.entrance);
    expect((await venue.present(venue.lane(first.gateId, 2), holder)).result).toBe("passed");
    await sleep(300);
    // What the design allows across a partition (docs/design.md §5): admitted, then alerted.
    const friend = { ...holder, profile: "shared-across-partition" };
    expect((await venue.present(venue.lane(second.gateId, 2), friend, { id: "friend" })).result).toBe(
      "passed",
    );
    await eventually(() => crowd.counters.passed >= 10, "more admissions while the server is down");
    const offlineEntries = venue.gates
      .flatMap((g) => g.node?.store.events(1, 100_000) ?? [])
      .filter((e) => e.kind === "entered" && e.at > killedAt).length;
    expect(offlineEntries).toBeGreaterThan(2);

    await server.start();
    venue.log("[drill] sync-server restarted");
    await eventually(() => crowd.done, "the crowd through the gates", 90_000);
    await sleep(500);
    await venue.settle();
    const report = audit(venue, { partitioned: true });
    venue.log(`[drill] ${JSON.stringify(report)}`);
    expect(report.doubleEntries).toBe(1);
    const alert = venue.withServerStore((s) =>
      s.alerts(100).find((a) => a.type === "double-entry" && a.ticketId === holder.ticketId),
    );
    expect([...(alert?.gates ?? [])].sort()).toEqual([first.gateId, second.gateId].sort());
    // The gates were told: the code is refused everywhere now.
    const third = await venue.present(
      venue.lane(first.gateId, 2),
      { ...holder, profile: "used-twice", expect: "refuse" },
      { id: "third", walk: false },
    );
    expect(third.opened).toBe(false);
    expect(
      first.node?.store
        .events(1, 100_000)
        .filter((e) => e.ticketId === holder.ticketId)
        .map((e) => `${e.kind}:${e.reason}`)
        .at(-1),
    ).toBe("refused:ALREADY_ENTERED");
    expect(report.falseRefusals).toBe(0);
  }, 180_000);
});
