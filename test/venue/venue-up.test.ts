import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type RunningVenue, startVenue } from "@sesame/cli";
import { makeTempDir } from "@sesame/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/*
 * The whole simulated venue of `sesame up`, minus the browser: the sync-server with its embedded
 * broker, four gates with two lanes each at two entrances, their lane controllers and QR readers
 * over OSDP/TCP, and a crowd with good and bad codes. The crowd knows what should happen to each
 * person; the venue's record on the sync-server must agree with it exactly.
 */

const waitFor = async (condition: () => boolean, what: string, timeoutMs = 60_000) => {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe("the whole simulated venue", () => {
  const dir = makeTempDir("sesame-venue-up-");
  let venue: RunningVenue;
  const PEOPLE = 80;

  beforeAll(async () => {
    venue = await startVenue({
      dir: dir.path,
      spectators: 400,
      gates: "in-process",
      basePort: 0,
      arrivalsPerSecond: 12,
      maxArrivals: PEOPLE,
      seed: "venue-up-test",
      // People expecting to be admitted wait up to 30 s for the arm: a guard against a gate that
      // never answers, not a race with its speed on a loaded machine.
      unlockWaitMs: (spectator) => (spectator.expect === "admit" ? 30_000 : 2_500),
      log: () => {},
    });
  }, 120_000);

  afterAll(async () => {
    await venue?.stop();
    dir.remove();
  });

  it("admits the right people once, refuses the others, and the sync-server's record matches", async () => {
    const crowd = venue.crowd;
    if (!crowd) throw new Error("no crowd");
    expect(venue.gates.map((g) => `${g.gateId}×${g.lanes.length}`)).toEqual(["A1×2", "A2×2", "B1×2", "B2×2"]);
    await waitFor(
      () => venue.gates.every((g) => g.node?.sync?.status().connected === true),
      "every gate connected to the broker",
    );
    crowd.start();
    await waitFor(() => crowd.done, `the crowd of ${PEOPLE} through the gates`, 120_000);
    const c = crowd.counters;
    expect(c.arrived).toBe(PEOPLE);
    expect(c.falseAccepts).toBe(0);
    expect(c.falseRefusals).toBe(0);
    expect(c.errors).toBe(0);
    expect(c.passed).toBeGreaterThan(PEOPLE / 2);
    // Bad codes came too (screenshots, resold, forged…), and none got through.
    expect(Object.keys(c.byProfile).length).toBeGreaterThan(2);
    // A passage is reported a poll cycle after the walk: wait until no authorization is still
    // open at any gate and every outbox is acknowledged; then the records must agree exactly.
    await waitFor(
      () =>
        venue.gates.every(
          (g) => g.node?.store.openAuthorizations().length === 0 && g.node.store.outboxDepth() === 0,
        ),
      "every passage recorded and every outbox acknowledged",
    );
    const counts = venue.server.store.counts();
    expect(counts.entered).toBe(c.passed);
    const atGates = venue.gates.reduce(
      (sum, g) => sum + (g.node?.store.events(1, 100_000).filter((e) => e.kind === "entered").length ?? 0),
      0,
    );
    expect(atGates).toBe(c.passed);
  }, 180_000);
});

describe("the gate process", () => {
  const gateMain = fileURLToPath(new URL("../../apps/kiosk/src/gate-main.ts", import.meta.url));
  const run = (config: unknown) => {
    const dir = makeTempDir("sesame-gate-main-");
    try {
      const file = join(dir.path, "gate.json");
      writeFileSync(file, typeof config === "string" ? config : JSON.stringify(config));
      return spawnSync(process.execPath, ["--import", "tsx", gateMain, "--config", file], {
        encoding: "utf8",
        timeout: 30_000,
      });
    } finally {
      dir.remove();
    }
  };

  it("refuses a bad configuration with one line naming the field", () => {
    const bad = run({ gateId: "A1", venueDir: "/nowhere", lanes: [{ lane: 1, direction: "sideways" }] });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('lanes[0].direction: must be "entry" or "exit"');
    const notJson = run("{ gateId: ");
    expect(notJson.status).toBe(1);
    expect(notJson.stderr).toContain("cannot read the gate configuration");
  }, 60_000);
});
