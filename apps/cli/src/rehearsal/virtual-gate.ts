import { join } from "node:path";
import { CommandCode, ControlPanel, createMemoryLink, Lane } from "@sesame/bridge";
import { GateStore } from "@sesame/cache";
import type { EntryLogEvent } from "@sesame/gate-core";
import { LaneController, type Random, SimBus, SimReader } from "@sesame/hardware-sim";
import { GateBackend, type LaneBinding, type ScanOutcome } from "@sesame/kiosk";
import { normalizeScanBytes, ScanDebouncer } from "@sesame/scanner";
import type { Gate } from "@sesame/venue";
import { LanePollClock } from "./poll-clock.js";
import { ROTATION_MS } from "./timing.js";
import type { VirtualClock } from "./virtual-clock.js";

/*
 * One gate of a virtual rehearsal, assembled from the real parts the gate process uses
 * (apps/kiosk/src/gate/gate-node.ts), on virtual time:
 *   - its own GateStore (SQLite file, WAL, synchronous=FULL), seeded from the venue's signed bundle;
 *   - per lane, the bridge's ControlPanel and Lane talking OSDP — real packets, CRCs, sequence
 *     numbers — over an in-memory byte link to a simulated lane controller and QR reader
 *     (@sesame/hardware-sim) on a SimBus: the simulator plugs in at the byte seam, as in production;
 *   - reader reports normalized and debounced as the gate node does, then GateBackend:
 *     decide (the real admission core and Ed25519 checks) → durable `authorized` → unlock over OSDP
 *     → passage sensor → durable `entered`, or `annulled` when nobody walks through.
 * Only the HTTP steward UI and the MQTT client are left out: stewards are simulated, and the
 * sync path is the rehearsal's (venue-net.ts).
 */

const CONTROLLER = 0;
const READER = 1;
const POLL_INTERVAL_MS = 50;
export const STEWARD_ID = "S-101";

export interface LaneMeasure {
  /** A code was just shown: the next POLL that finds the reader's report queued is its moment. */
  armed?: boolean;
  /** Wall-clock time (performance.now) the reader's report left on the bus, for the pending scan. */
  reportWall?: number;
  /** Virtual time of the same. */
  reportVirtual?: number;
  /** Virtual time the code was shown to the reader. */
  shownAt?: number;
}

export interface VirtualLane {
  readonly gateId: string;
  readonly lane: number;
  readonly entrance: number;
  /** Index of the lane venue-wide. */
  readonly index: number;
  readonly controller: LaneController;
  readonly reader: SimReader;
  readonly bus: SimBus;
  readonly controlPanel: ControlPanel;
  readonly bridge: Lane;
  readonly poll: LanePollClock;
  readonly measure: LaneMeasure;
}

export interface GateHooks {
  /** The outcome of a scan at a lane (GateBackend.scan resolved). */
  onOutcome(lane: VirtualLane, outcome: ScanOutcome, text: string): void;
  /** Every event the gate recorded (authorized, refused, entered, annulled…). */
  onRecorded(gate: VirtualGate, event: EntryLogEvent): void;
  /** Wall-clock ms from the reader's report leaving the bus to the unlock reaching the controller. */
  onUnlockLatency(lane: VirtualLane, wallMs: number, virtualMs: number): void;
  onDecisionLatency(lane: VirtualLane, wallMs: number): void;
  onScanDropped(lane: VirtualLane, text: string): void;
  onAlert(gate: VirtualGate, kind: string): void;
  /** A scan that threw: a bug in the gate path, which fails the rehearsal. */
  onError(error: unknown): void;
}

export class VirtualGate {
  readonly lanes: VirtualLane[] = [];
  readonly backend: GateBackend;

  private constructor(
    readonly gate: Gate,
    readonly store: GateStore,
    lanes: VirtualLane[],
    clock: VirtualClock,
    hooks: GateHooks,
  ) {
    this.lanes = lanes;
    const bindings: LaneBinding[] = lanes.map((l) => ({
      lane: l.lane,
      direction: "entry",
      controller: l.bridge,
    }));
    this.backend = new GateBackend(
      { store, gateId: gate.id, entrance: gate.entrance, lanes: bindings, now: () => clock.now() },
      {
        onRecorded: (event) => hooks.onRecorded(this, event),
        onAlert: (alert) => hooks.onAlert(this, alert.kind),
      },
    );
    // As gate-node.ts: one debouncer for the gate's lanes, reports normalized as scanner input.
    const debouncer = new ScanDebouncer();
    for (const l of lanes) {
      l.bridge.on("scan", (event) => {
        const text = normalizeScanBytes(event.data).text;
        if (!debouncer.check(String(l.lane), text, clock.now()).accepted) {
          hooks.onScanDropped(l, text);
          return;
        }
        this.backend.scan(l.lane, text).then(
          (outcome) => {
            if (l.measure.reportWall !== undefined)
              hooks.onDecisionLatency(l, performance.now() - l.measure.reportWall);
            l.measure.reportWall = undefined;
            l.measure.reportVirtual = undefined;
            hooks.onOutcome(l, outcome, text);
          },
          (error: unknown) => hooks.onError(error),
        );
      });
      l.controller.on("output", (output, on) => {
        if (!on || output !== l.controller.wiring.entryUnlockOutput) return;
        const m = l.measure;
        if (m.reportWall !== undefined && m.shownAt !== undefined)
          hooks.onUnlockLatency(l, performance.now() - m.reportWall, clock.now() - m.shownAt);
      });
    }
  }

  /**
   * Opens the gate's cache in `dataDir` (importing the venue's bundle), and its lanes, each a
   * control panel over an in-memory link to a simulated controller and reader. The lanes come
   * online as the clock runs (`online`).
   */
  static open(options: {
    gate: Gate;
    dataDir: string;
    venueDir: string;
    rootPublicKey: Uint8Array;
    clock: VirtualClock;
    random: Random;
    firstIndex: number;
    fullPolling: boolean;
    hooks: GateHooks;
  }): VirtualGate {
    const { gate, clock } = options;
    const store = GateStore.open(join(options.dataDir, `${gate.id}.sqlite`), {
      rootPublicKey: options.rootPublicKey,
      gateId: gate.id,
    });
    if (!store.imported) store.importBundle(options.venueDir);
    const lanes: VirtualLane[] = [];
    for (let lane = 1; lane <= gate.lanes; lane++) {
      const bus = new SimBus({ paced: false, clock, random: bytesOf(options.random) });
      const controller = new LaneController({
        address: CONTROLLER,
        clock,
        turnstile: { walkThroughMs: ROTATION_MS },
      });
      const reader = new SimReader({ address: READER });
      bus.add(controller.device);
      bus.add(reader.device);
      const [cpEnd, pdEnd] = createMemoryLink(`${gate.id}/${lane}`);
      bus.attach(pdEnd);
      const poll = new LanePollClock(clock, {
        // Only a queued report needs polls; an open grant does not (its passage wakes the lane).
        busy: () => controller.device.queuedReports > 0 || reader.device.queuedReports > 0,
        random: options.random,
        pollIntervalMs: POLL_INTERVAL_MS,
        full: options.fullPolling,
      });
      const controlPanel = new ControlPanel({
        connect: async () => cpEnd,
        clock: poll,
        pollIntervalMs: POLL_INTERVAL_MS,
        random: bytesOf(options.random),
      });
      const bridge = new Lane(controlPanel, {
        controller: { address: CONTROLLER },
        readers: [{ address: READER }],
        clock,
      });
      const measure: LaneMeasure = {};
      // The moment the reader's report leaves: the POLL that finds it queued gets it as the reply.
      bus.onCommand = (packet) => {
        // (A report stays queued until the next POLL confirms it arrived: only the first POLL counts.)
        if (
          measure.armed &&
          packet.address === READER &&
          packet.code === CommandCode.POLL &&
          reader.device.queuedReports > 0
        ) {
          measure.armed = false;
          measure.reportWall = performance.now();
          measure.reportVirtual = clock.now();
        }
      };
      // A passage sensor rising queues a report the control panel must poll to hear. Its fall is
      // queued too and goes with the next poll (the bridge counts a passage on the rise).
      controller.on("input", (_input, active) => {
        if (active) poll.wake();
      });
      controlPanel.start();
      poll.wake();
      lanes.push({
        gateId: gate.id,
        lane,
        entrance: gate.entrance,
        index: options.firstIndex + lane - 1,
        controller,
        reader,
        bus,
        controlPanel,
        bridge,
        poll,
        measure,
      });
    }
    return new VirtualGate(gate, store, lanes, clock, options.hooks);
  }

  get online(): boolean {
    return this.lanes.every((l) => l.bridge.online);
  }

  /** A person holds their code to the lane's reader. */
  present(lane: VirtualLane, code: string): void {
    lane.measure.armed = true;
    lane.measure.shownAt = lane.poll.now();
    lane.measure.reportWall = undefined;
    lane.measure.reportVirtual = undefined;
    lane.reader.scan(code);
    lane.poll.wake();
  }

  async close(): Promise<void> {
    this.backend.close();
    for (const l of this.lanes) {
      l.controller.close();
      await l.bridge.close();
      await l.controlPanel.stop();
    }
    this.store.close();
  }
}

/** Random bytes from the run's seeded source (secure-channel nonces are not used in clear text). */
function bytesOf(random: Random): (length: number) => Uint8Array {
  return (length) => Uint8Array.from({ length }, () => Math.floor(random() * 256));
}
