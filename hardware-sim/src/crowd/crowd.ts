import type { LaneController } from "../lane/laneController.js";
import type { SimReader } from "../lane/reader.js";
import type { Random } from "../scanner/random.js";

/*
 * People arriving at the gates (docs/design.md §8): each walks to the shortest queue at the entrance
 * printed on their ticket (or the wrong one), shows their code to the lane's QR reader, and walks
 * through if the turnstile opens within a few seconds; otherwise they step aside (refused, or sent
 * to the steward). The crowd only touches the simulated hardware — a reader that reports codes over
 * OSDP and a turnstile — so the gate under test is the real one. It keeps the ground truth: what
 * should have happened to each person, to compare with what the gate did.
 */

/** Wall-clock time (codes are time-based) and waiting, injectable for virtual-time runs. */
export interface CrowdClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realCrowdClock: CrowdClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** What the simulator expects the gate to do with a person's code. */
export type Expectation = "admit" | "refuse" | "assisted";

export interface Spectator {
  readonly id: string;
  /** How this person's credential is special: "valid", "screenshot", "resold", "forged"… */
  readonly profile: string;
  /** The entrance they go to (not always the one on the ticket). */
  readonly entrance: number;
  readonly expect: Expectation;
  /** The code their phone (or paper) shows now. */
  code(nowMs: number): string;
}

export interface CrowdLane {
  readonly gateId: string;
  readonly lane: number;
  readonly entrance: number;
  readonly reader: SimReader;
  readonly controller: LaneController;
}

export interface CrowdOptions {
  readonly lanes: readonly CrowdLane[];
  /** Arrivals per second, venue-wide. */
  readonly arrivalsPerSecond: number;
  /** Who comes, in order; the crowd stops arriving when it runs out. */
  readonly spectators: Iterable<Spectator>;
  readonly random: Random;
  readonly clock?: CrowdClock;
  /** How long a person waits at the arm for it to open (default 2.5 s). */
  readonly unlockWaitMs?: number;
  /** Time to take out the phone and present it (default 800 ms). */
  readonly presentMs?: number;
  readonly onOutcome?: (outcome: PersonOutcome) => void;
  /** Stop arriving after this many people (default: when the spectators run out). */
  readonly maxArrivals?: number;
}

export interface PersonOutcome {
  readonly spectator: Spectator;
  readonly gateId: string;
  readonly lane: number;
  /** What happened at the arm: walked through, or not let through. */
  readonly result: "passed" | "not-opened" | "jammed" | "error";
  /** Why the simulator could not present this person (result "error"). */
  readonly error?: string;
  /** passed ⇔ expected admit (an assisted person is not let through without a steward). */
  readonly asExpected: boolean;
  readonly at: number;
}

export interface CrowdCounters {
  arrived: number;
  waiting: number;
  passed: number;
  notOpened: number;
  /** Let through although the simulator expected a refusal: must stay 0. */
  falseAccepts: number;
  /** Not let through although expected to be admitted: must stay 0 on a healthy venue. */
  falseRefusals: number;
  /** People the simulator failed to present (its own fault, not the gate's): must stay 0. */
  errors: number;
  byProfile: Record<string, { passed: number; notOpened: number }>;
}

interface LaneQueue {
  readonly lane: CrowdLane;
  readonly queue: Spectator[];
  busy: boolean;
}

export class Crowd {
  private readonly clock: CrowdClock;
  private readonly queues: LaneQueue[];
  private readonly source: Iterator<Spectator>;
  private readonly unlockWaitMs: number;
  private readonly presentMs: number;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = true;
  private exhausted = false;
  readonly counters: CrowdCounters = {
    arrived: 0,
    waiting: 0,
    passed: 0,
    notOpened: 0,
    falseAccepts: 0,
    falseRefusals: 0,
    errors: 0,
    byProfile: {},
  };

  constructor(private readonly options: CrowdOptions) {
    if (options.lanes.length === 0) throw new RangeError("a crowd needs at least one lane");
    if (!(options.arrivalsPerSecond > 0 && options.arrivalsPerSecond <= 1000))
      throw new RangeError("arrivalsPerSecond must be within (0, 1000]");
    this.clock = options.clock ?? realCrowdClock;
    this.queues = options.lanes.map((lane) => ({ lane, queue: [], busy: false }));
    this.source = options.spectators[Symbol.iterator]();
    this.unlockWaitMs = options.unlockWaitMs ?? 2_500;
    this.presentMs = options.presentMs ?? 800;
  }

  get done(): boolean {
    return this.exhausted && this.counters.waiting === 0;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.scheduleArrival();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private scheduleArrival(): void {
    if (this.counters.arrived >= (this.options.maxArrivals ?? Number.POSITIVE_INFINITY))
      this.exhausted = true;
    if (this.stopped || this.exhausted) return;
    // Poisson arrivals: exponential gaps.
    const gapMs = (-Math.log(1 - this.options.random()) / this.options.arrivalsPerSecond) * 1000;
    this.timer = setTimeout(() => {
      this.arrive();
      this.scheduleArrival();
    }, gapMs);
  }

  /** One person arrives now (also callable directly by a test or a drill). */
  arrive(spectator?: Spectator): boolean {
    let person = spectator;
    if (!person) {
      const next = this.source.next();
      if (next.done) {
        this.exhausted = true;
        return false;
      }
      person = next.value;
    }
    const candidates = this.queues.filter((q) => q.lane.entrance === person.entrance);
    const pool = candidates.length > 0 ? candidates : this.queues;
    // The shortest queue; ties broken uniformly (the k-th tie wins with probability 1/k), so lanes
    // share the load evenly.
    let best: LaneQueue | undefined;
    let ties = 0;
    for (const q of pool) {
      const length = q.queue.length + (q.busy ? 1 : 0);
      const bestLength = best ? best.queue.length + (best.busy ? 1 : 0) : Number.POSITIVE_INFINITY;
      if (length < bestLength) {
        best = q;
        ties = 1;
      } else if (length === bestLength && this.options.random() < 1 / ++ties) best = q;
    }
    if (!best) return false;
    this.counters.arrived++;
    this.counters.waiting++;
    best.queue.push(person);
    this.serve(best);
    return true;
  }

  private serve(q: LaneQueue): void {
    if (q.busy || this.stopped) return;
    const person = q.queue.shift();
    if (!person) return;
    q.busy = true;
    this.present(q.lane, person)
      .then(
        (result) => this.record(q.lane, person, result),
        // The simulator itself failed (a code too long for one OSDP report, a lane closed under
        // it): counted apart, never as a refusal by the gate.
        (error: unknown) =>
          this.record(q.lane, person, "error", error instanceof Error ? error.message : String(error)),
      )
      .then(() => {
        q.busy = false;
        this.serve(q);
      });
  }

  private async present(lane: CrowdLane, person: Spectator): Promise<PersonOutcome["result"]> {
    await this.clock.sleep(this.presentMs);
    const entryOutput = lane.controller.wiring.entryUnlockOutput;
    // A turnstile already held open (free passage, fire alarm) lets people through without a scan.
    if (!lane.controller.turnstile.isFree("entry")) {
      // People step up once the arm has locked behind the one before: an arm still open from the
      // previous admission is not an answer to this scan.
      await this.waitFor(() => lane.controller.outputState[entryOutput] !== true, 8_000);
      lane.reader.scan(person.code(this.clock.now()));
      const opened = await this.waitFor(
        () => lane.controller.outputState[entryOutput] === true,
        this.unlockWaitMs,
      );
      if (!opened) return "not-opened";
    }
    const walked = await lane.controller.walk("entry");
    return walked === "passed" ? "passed" : walked === "jammed" ? "jammed" : "not-opened";
  }

  private async waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    const until = this.clock.now() + timeoutMs;
    while (!condition()) {
      if (this.clock.now() >= until || this.stopped) return false;
      await this.clock.sleep(20);
    }
    return true;
  }

  private record(
    lane: CrowdLane,
    spectator: Spectator,
    result: PersonOutcome["result"],
    error?: string,
  ): void {
    const c = this.counters;
    c.waiting--;
    if (result === "error") {
      c.errors++;
      this.options.onOutcome?.({
        spectator,
        gateId: lane.gateId,
        lane: lane.lane,
        result,
        asExpected: false,
        at: this.clock.now(),
        ...(error ? { error } : {}),
      });
      return;
    }
    const profile = c.byProfile[spectator.profile] ?? { passed: 0, notOpened: 0 };
    c.byProfile[spectator.profile] = profile;
    const passed = result === "passed";
    if (passed) {
      c.passed++;
      profile.passed++;
    } else {
      c.notOpened++;
      profile.notOpened++;
    }
    const expectedPass = spectator.expect === "admit";
    if (passed && !expectedPass) c.falseAccepts++;
    if (!passed && expectedPass) c.falseRefusals++;
    this.options.onOutcome?.({
      spectator,
      gateId: lane.gateId,
      lane: lane.lane,
      result,
      asExpected: passed === expectedPass,
      at: this.clock.now(),
    });
  }
}
