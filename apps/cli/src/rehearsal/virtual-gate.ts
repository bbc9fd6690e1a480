import { join } from "node:path";
import { CommandCode, type ControlPanel, createMemoryLink, type Lane, type Transport } from "@sesame/bridge";
import type { GateStore } from "@sesame/cache";
import { type Gate as AssembledGate, createGate, type GateBackend, type ScanOutcome } from "@sesame/gate";
import type { EntryLogEvent } from "@sesame/gate-core";
import { LaneController, type Random, SimBus, SimReader } from "@sesame/hardware-sim";
import type { GateProvisioning, SyncMqttClient } from "@sesame/sync";
import type { Ed25519Verifier } from "@sesame/ticket";
import type { Gate } from "@sesame/venue";
import { LanePollClock } from "./poll-clock.js";
import { ROTATION_MS } from "./timing.js";
import type { VirtualClock } from "./virtual-clock.js";

/*
 * One gate of a virtual rehearsal: the gate every gate process runs (@sesame/gate's createGate),
 * on virtual time, with simulated hardware behind its ports:
 *   - its own GateStore (SQLite file, WAL, synchronous=FULL), seeded from the venue's signed bundle;
 *   - per lane, the bridge's ControlPanel and Lane talking OSDP — real packets, CRCs, sequence
 *     numbers — over an in-memory byte link to a simulated lane controller and QR reader
 *     (@sesame/hardware-sim) on a SimBus: the simulator plugs in at the byte seam, as in production;
 *   - the gate's own scan intake (normalizeScanBytes, ScanDebouncer) and GateBackend:
 *     decide (the real admission core and Ed25519 checks) → durable `authorized` → unlock over OSDP
 *     → passage sensor → durable `entered`, or `annulled` when nobody walks through.
 * Only the HTTP steward UI is left out: stewards are simulated.
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
  private constructor(
    readonly gate: Gate,
    readonly assembled: AssembledGate,
    readonly lanes: VirtualLane[],
  ) {}

  get store(): GateStore {
    return this.assembled.store;
  }

  get backend(): GateBackend {
    return this.assembled.backend;
  }

  /**
   * Builds the gate with @sesame/gate's createGate on the virtual clock: its cache in `dataDir`
   * (importing the venue's bundle), and its lanes, each a control panel over an in-memory link to
   * a simulated controller and reader. The lanes come online as the clock runs (`online`).
   */
  static async open(options: {
    gate: Gate;
    dataDir: string;
    venueDir: string;
    rootPublicKey: Uint8Array;
    clock: VirtualClock;
    random: Random;
    firstIndex: number;
    fullPolling: boolean;
    hooks: GateHooks;
    /** The gate's GateSync: its provisioning, its MQTT connection, a meter for its outbox work. */
    sync: {
      provisioning: GateProvisioning;
      /** The gate's own key (its public half is in the provisioning). */
      signingSeed: Uint8Array;
      connect: () => SyncMqttClient;
      outboxWork: (work: () => void) => void;
      /** The signature checks, shared by the sector's gates (shared-verifier.ts). */
      verifier: Ed25519Verifier;
    };
  }): Promise<VirtualGate> {
    const { gate, clock, hooks, sync } = options;
    const sims = new Map<number, SimLane>();
    for (let lane = 1; lane <= gate.lanes; lane++) sims.set(lane, simLane(gate, lane, options));
    const assembled = await createGate(
      {
        gateId: gate.id,
        cacheFile: join(options.dataDir, `${gate.id}.sqlite`),
        rootPublicKey: options.rootPublicKey,
        venueDir: options.venueDir,
        provisioning: sync.provisioning,
        signingSeed: sync.signingSeed,
        brokerUrl: "memory://venue",
        lanes: [...sims.keys()].map((lane) => ({
          lane,
          direction: "entry" as const,
          osdp: { where: `${gate.id}/${lane}`, controllerAddress: CONTROLLER, readerAddress: READER },
        })),
      },
      {
        // GateSync sends its outbox once the current work is done: a 0 ms virtual timer, metered.
        clock: {
          now: () => clock.now(),
          setTimeout: (callback: () => void, ms: number) => clock.setTimeout(callback, ms),
          clearTimeout: (handle: unknown) => clock.clearTimeout(handle),
          immediate: (callback: () => void) => clock.setTimeout(() => sync.outboxWork(callback), 0),
        },
        mqtt: () => sync.connect(),
        random: options.random,
        verifier: sync.verifier,
        transports: (lane) => {
          const sim = sims.get(lane.lane);
          if (!sim) throw new Error(`gate ${gate.id} has no simulated lane ${lane.lane}`);
          return {
            connect: async () => sim.cpEnd,
            clock: sim.poll,
            pollIntervalMs: POLL_INTERVAL_MS,
            random: bytesOf(options.random),
          };
        },
        log: () => {},
      },
    );
    const lanes: VirtualLane[] = [];
    for (const [lane, sim] of sims) {
      const bridge = assembled.lanes.get(lane);
      if (!bridge) throw new Error(`gate ${gate.id} did not open lane ${lane}`);
      sim.poll.wake();
      lanes.push({
        gateId: gate.id,
        lane,
        entrance: gate.entrance,
        index: options.firstIndex + lane - 1,
        controller: sim.controller,
        reader: sim.reader,
        bus: sim.bus,
        controlPanel: bridge.controlPanel,
        bridge,
        poll: sim.poll,
        measure: sim.measure,
      });
    }
    const g = new VirtualGate(gate, assembled, lanes);
    const byNumber = new Map(lanes.map((l) => [l.lane, l]));
    assembled.on("recorded", (event) => hooks.onRecorded(g, event));
    assembled.on("alert", (alert) => hooks.onAlert(g, alert.kind));
    assembled.on("scan-dropped", (lane, text) => {
      const l = byNumber.get(lane);
      if (l) hooks.onScanDropped(l, text);
    });
    assembled.on("scan-failed", (_lane, error) => hooks.onError(error));
    assembled.on("outcome", (lane, outcome, text) => {
      const l = byNumber.get(lane);
      if (!l) return;
      if (l.measure.reportWall !== undefined)
        hooks.onDecisionLatency(l, performance.now() - l.measure.reportWall);
      l.measure.reportWall = undefined;
      l.measure.reportVirtual = undefined;
      hooks.onOutcome(l, outcome, text);
    });
    for (const l of lanes) {
      l.controller.on("output", (output, on) => {
        if (!on || output !== l.controller.wiring.entryUnlockOutput) return;
        const m = l.measure;
        if (m.reportWall !== undefined && m.shownAt !== undefined)
          hooks.onUnlockLatency(l, performance.now() - m.reportWall, clock.now() - m.shownAt);
      });
    }
    return g;
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
    await this.assembled.close();
    for (const l of this.lanes) l.controller.close();
  }
}

/** A lane's simulated hardware: controller and reader on a SimBus, at the end of an in-memory link. */
interface SimLane {
  readonly controller: LaneController;
  readonly reader: SimReader;
  readonly bus: SimBus;
  readonly cpEnd: Transport;
  readonly poll: LanePollClock;
  readonly measure: LaneMeasure;
}

function simLane(
  gate: Gate,
  lane: number,
  options: { clock: VirtualClock; random: Random; fullPolling: boolean },
): SimLane {
  const { clock } = options;
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
  return { controller, reader, bus, cpEnd, poll, measure };
}

/** Random bytes from the run's seeded source (secure-channel nonces are not used in clear text). */
function bytesOf(random: Random): (length: number) => Uint8Array {
  return (length) => Uint8Array.from({ length }, () => Math.floor(random() * 256));
}
