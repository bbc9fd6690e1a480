import { ControlPanel, Lane, transportFactory } from "@sesame/bridge";
import { afterEach, describe, expect, it } from "vitest";
import { LaneController, listenTcp, SimBus, startSimLane } from "../src/index.js";
import { eventually, record } from "./helpers.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("lane over TCP (a serial device server)", () => {
  it("works end to end, and reconnects when the server comes back on the same port", async () => {
    const sim = await startSimLane({
      endpoint: { tcp: { host: "127.0.0.1", port: 0 } },
      turnstile: { walkThroughMs: 100 },
    });
    let simClosed = false;
    cleanups.push(async () => {
      if (!simClosed) await sim.close();
    });
    const lane = Lane.open(sim.where, { controller: { address: 0 }, readers: [{ address: 1 }] });
    cleanups.push(() => lane.close());
    const events = record(lane);
    await lane.ready(8_000);
    await lane.unlock("entry");
    await sim.controller.walk("entry");
    await eventually(() => events.passages.length === 1, "the passage");

    // The device server restarts: the socket drops; a new server takes the same port.
    const port = Number(sim.where.split(":").pop());
    await sim.close();
    simClosed = true;
    await eventually(() => events.offline.length === 1, "the offline event");
    const again = await startSimLane({ endpoint: { tcp: { host: "127.0.0.1", port } } });
    cleanups.push(() => again.close());
    await eventually(() => lane.online, "the lane back online");
    await lane.unlock("exit");
    expect(again.controller.outputState[1]).toBe(true);
  });

  it("polls four lane controllers on one bus", async () => {
    const bus = new SimBus({ baudRate: 115_200 });
    const controllers = [0, 1, 2, 3].map((address) => new LaneController({ address }));
    for (const controller of controllers) bus.add(controller.device);
    const endpoint = await listenTcp(bus);
    cleanups.push(async () => {
      for (const controller of controllers) controller.close();
      await endpoint.close();
    });
    const controlPanel = new ControlPanel({ connect: transportFactory(endpoint.where) });
    const lanes = [0, 1, 2, 3].map((address) => new Lane(controlPanel, { controller: { address } }));
    controlPanel.start();
    cleanups.push(async () => {
      for (const lane of lanes) await lane.close();
      await controlPanel.stop();
    });
    await Promise.all(lanes.map((lane) => lane.ready(8_000)));
    await Promise.all(lanes.map((lane, i) => lane.unlock(i % 2 === 0 ? "entry" : "exit")));
    expect(controllers.map((c) => c.outputState.slice(0, 2))).toEqual([
      [true, false],
      [false, true],
      [true, false],
      [false, true],
    ]);
    expect(controlPanel.counters.wrongAddress).toBe(0);
  });
});
