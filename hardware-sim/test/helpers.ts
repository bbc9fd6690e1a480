import { ControlPanel, createMemoryLink, Lane, type LaneEvents, type PassageEvent } from "@sesame/bridge";
import { ManualClock } from "@sesame/bridge/testing";
import { LaneController, SimBus, SimReader } from "../src/index.js";

/** A lane and its simulator joined by an in-memory link, on a clock the test moves by hand. */
export async function memoryLane(options: { scbk?: Uint8Array; install?: boolean; pdKey?: Uint8Array } = {}) {
  const clock = new ManualClock();
  const bus = new SimBus({ paced: false, clock });
  const controller = new LaneController({ address: 0, clock, scbk: options.pdKey });
  const reader = new SimReader({ address: 1, scbk: options.pdKey });
  bus.add(controller.device);
  bus.add(reader.device);
  const [cpEnd, pdEnd] = createMemoryLink();
  bus.attach(pdEnd);
  const controlPanel = new ControlPanel({ connect: async () => cpEnd, clock });
  const peripheral = { scbk: options.scbk, install: options.install };
  const lane = new Lane(controlPanel, {
    controller: { address: 0, ...peripheral },
    readers: [{ address: 1, ...peripheral }],
    clock,
  });
  const events = record(lane);
  controlPanel.start();
  await clock.until(() => lane.online, 5_000);
  return {
    clock,
    bus,
    controller,
    reader,
    controlPanel,
    lane,
    events,
    async close() {
      controller.close();
      await lane.close();
      await controlPanel.stop();
    },
  };
}

export function record(lane: Lane) {
  const events = {
    passages: [] as PassageEvent[],
    closed: [] as { unused: number; reason: string; claimable?: true }[],
    offline: [] as string[],
    online: 0,
    fireAlarm: [] as boolean[],
    tamper: [] as boolean[],
    fault: [] as boolean[],
    scans: [] as string[],
    warnings: [] as string[],
  };
  const on = <K extends keyof LaneEvents>(event: K, listener: (...args: LaneEvents[K]) => void) =>
    lane.on(event, listener);
  on("passage", (p) => events.passages.push(p));
  on("grant-closed", (_g, unused, reason, claimable) =>
    events.closed.push({ unused, reason, ...(claimable ? { claimable } : {}) }),
  );
  on("controller-offline", (reason) => events.offline.push(reason));
  on("controller-online", () => events.online++);
  on("fire-alarm", (active) => events.fireAlarm.push(active));
  on("tamper", (active) => events.tamper.push(active));
  on("fault", (active) => events.fault.push(active));
  on("scan", (scan) => events.scans.push(new TextDecoder().decode(scan.data)));
  on("warning", (message) => events.warnings.push(message));
  return events;
}

/** Waits (in real time) until `condition` holds; for tests over real PTYs and sockets. */
export async function eventually(condition: () => boolean, what: string, limitMs = 8_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
