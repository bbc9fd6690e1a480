import { type Clock, type Direction, systemClock } from "@sesame/bridge";

export interface TurnstileOptions {
  /** From the arm releasing to the rotation completing (the PASS pulse). */
  readonly walkThroughMs?: number;
  /** Length of the PASS pulse on the passage sensor input. */
  readonly passagePulseMs?: number;
  /** What the arm does without power: fail-secure ("locked") or fail-safe ("free"). */
  readonly failMode?: "locked" | "free";
  readonly clock?: Clock;
}

export type WalkOutcome = "passed" | "refused" | "jammed" | "forced";

/**
 * A tripod turnstile in "potential" mode: a direction is free while its unlock line is held, a
 * fire alarm frees both at once whatever the controller says, and every rotation gives a PASS
 * pulse on that direction's sensor. People are modelled by walk().
 */
export class Turnstile {
  /** The passage sensor of `direction` changed (the lane controller wires this to its inputs). */
  onSensor: ((direction: Direction, active: boolean) => void) | undefined;
  onFault: ((active: boolean) => void) | undefined;

  private readonly unlocked: Record<Direction, boolean> = { entry: false, exit: false };
  private readonly clock: Clock;
  private readonly walkThroughMs: number;
  private readonly passagePulseMs: number;
  private readonly failMode: "locked" | "free";
  private alarm = false;
  private jammed = false;
  private powered = true;
  /** Rotations queue on the sensor: a second body cannot pulse it while the first one does. */
  private readonly sensorFreeAt: Record<Direction, number> = { entry: 0, exit: 0 };
  private readonly timers = new Set<unknown>();
  readonly passages: Record<Direction, number> = { entry: 0, exit: 0 };

  constructor(options: TurnstileOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.walkThroughMs = options.walkThroughMs ?? 1_200;
    this.passagePulseMs = options.passagePulseMs ?? 200;
    this.failMode = options.failMode ?? "locked";
  }

  setUnlock(direction: Direction, on: boolean): void {
    this.unlocked[direction] = on;
  }

  setFireAlarm(active: boolean): void {
    this.alarm = active;
  }

  get fireAlarm(): boolean {
    return this.alarm;
  }

  setJammed(jammed: boolean): void {
    if (this.jammed === jammed) return;
    this.jammed = jammed;
    this.onFault?.(jammed);
  }

  get isJammed(): boolean {
    return this.jammed;
  }

  setPowered(on: boolean): void {
    this.powered = on;
  }

  isFree(direction: Direction): boolean {
    if (!this.powered) return this.failMode === "free" || this.alarm;
    return this.alarm || this.unlocked[direction];
  }

  /**
   * One person at the arm. "tailgate": a second person squeezes through in the same rotation (two
   * sensor pulses, one release). "force": the arm is pushed through while locked.
   */
  walk(direction: Direction, behaviour: "normal" | "tailgate" | "force" = "normal"): Promise<WalkOutcome> {
    if (this.jammed) return this.after(this.walkThroughMs, () => "jammed");
    if (!this.isFree(direction) && behaviour !== "force") return Promise.resolve("refused");
    const forced = !this.isFree(direction);
    return this.after(this.walkThroughMs, () => {
      this.pulse(direction);
      if (behaviour === "tailgate") this.pulse(direction);
      return forced ? "forced" : "passed";
    });
  }

  /** Cancels people in flight (power loss of the simulator, shutdown). */
  stop(): void {
    for (const timer of this.timers) this.clock.clearTimeout(timer);
    this.timers.clear();
  }

  private after(ms: number, then: () => WalkOutcome): Promise<WalkOutcome> {
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => {
        this.timers.delete(timer);
        resolve(then());
      }, ms);
      this.timers.add(timer);
    });
  }

  private pulse(direction: Direction): void {
    this.passages[direction]++;
    const now = this.clock.now();
    // A sensor pulse cannot overlap the previous one; a gap of half a pulse separates two bodies.
    const start = Math.max(now, this.sensorFreeAt[direction]);
    this.sensorFreeAt[direction] = start + this.passagePulseMs * 1.5;
    const rise = () => {
      this.onSensor?.(direction, true);
      const fall = this.clock.setTimeout(() => {
        this.timers.delete(fall);
        this.onSensor?.(direction, false);
      }, this.passagePulseMs);
      this.timers.add(fall);
    };
    if (start <= now) rise();
    else {
      const timer = this.clock.setTimeout(() => {
        this.timers.delete(timer);
        rise();
      }, start - now);
      this.timers.add(timer);
    }
  }
}
