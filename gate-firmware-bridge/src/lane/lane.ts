import {
  ControlPanel,
  type ControlPanelOptions,
  type PeripheralConfig,
  type PeripheralInfo,
} from "../cp/controlPanel.js";
import { LedColor, type OsdpCommand, type OsdpReply, OutputAction } from "../osdp/messages.js";
import { transportFactory } from "../transport/open.js";
import { type Clock, systemClock } from "../util/clock.js";
import { TypedEmitter } from "../util/emitter.js";
import { LaneError } from "./errors.js";
import {
  DIRECTIONS,
  type Direction,
  type Grant,
  type LaneCounters,
  LaneLedger,
  type LateClaim,
  type PassageAttribution,
} from "./ledger.js";

/** Which output and input of the lane controller is wired to what. */
export interface LaneWiring {
  readonly entryUnlockOutput: number;
  readonly exitUnlockOutput: number;
  readonly entryPassageInput: number;
  readonly exitPassageInput: number;
  readonly fireAlarmInput: number;
  /** Turnstile "not ready" (jam, mechanical fault). */
  readonly faultInput: number;
}

export const DEFAULT_WIRING: LaneWiring = {
  entryUnlockOutput: 0,
  exitUnlockOutput: 1,
  entryPassageInput: 0,
  exitPassageInput: 1,
  fireAlarmInput: 2,
  faultInput: 3,
};

export interface LaneOptions {
  /** The lane controller (turnstile I/O, LEDs, buzzer). */
  readonly controller: PeripheralConfig;
  /** OSDP QR readers on the same bus. */
  readonly readers?: readonly PeripheralConfig[];
  readonly wiring?: Partial<LaneWiring>;
  readonly tailgateWindowMs?: number;
  readonly reportGraceMs?: number;
  /** How long after its window a grant annulled while the controller was unheard stays claimable. */
  readonly lateClaimMs?: number;
  readonly clock?: Clock;
}

export interface PassageEvent {
  readonly direction: Direction;
  readonly attribution: PassageAttribution;
  readonly at: number;
}

/** A reader's osdp_RAW report: the code's bytes as read (the caller normalizes them into text). */
export interface ScanEvent {
  readonly reader: number;
  readonly data: Uint8Array;
}

export interface LaneEvents {
  passage: [event: PassageEvent];
  /**
   * A grant closed with passages unused (no-show), or annulled by a fire alarm. `claimable`: its
   * window ended while the controller was unheard, so a passage it kept may still be attributed
   * to it, late (a `passage` event of kind "late").
   */
  "grant-closed": [grant: Grant, unused: number, reason: "expired" | "fire-alarm", claimable: boolean];
  "fire-alarm": [active: boolean];
  /** A commanded free passage started or ended in a direction. */
  "free-passage": [direction: Direction, active: boolean];
  tamper: [active: boolean];
  fault: [active: boolean];
  "power-failure": [active: boolean];
  "controller-online": [info: PeripheralInfo];
  "controller-offline": [reason: string];
  "reader-online": [address: number];
  "reader-offline": [address: number, reason: string];
  scan: [event: ScanEvent];
  keypad: [reader: number, digits: string];
  warning: [message: string];
}

const MAX_WINDOW_MS = 0xffff * 100;

/**
 * One turnstile lane seen from the gate: unlock for a number of passages, passage events from the
 * controller's sensors, fire-alarm free passage, admit/refuse feedback, tamper and offline events,
 * and counters that reconcile authorizations with passages.
 */
export class Lane extends TypedEmitter<LaneEvents> {
  private readonly wiring: LaneWiring;
  private readonly ledger: LaneLedger;
  private readonly clock: Clock;
  private readonly controllerAddress: number;
  private readonly readerAddresses: Set<number>;
  private inputs: readonly boolean[] = [];
  private tamper = false;
  private powerFailure = false;
  private expiryTimer: unknown;
  private expiryAt = Number.POSITIVE_INFINITY;
  private closed = false;
  /** Announced online by the control panel; a brief secure-channel restart does not count as offline. */
  private controllerOnline = false;
  private controllerOfflineReason: string | undefined;
  private readonly detach: () => void;

  /** Opens the bus at `target` ("/dev/ttyUSB0", "/dev/pts/5", "tcp://127.0.0.1:4001") and starts it. */
  static open(
    target: string,
    options: LaneOptions & {
      baudRate?: number;
      controlPanel?: Omit<Partial<ControlPanelOptions>, "connect">;
    },
  ): Lane {
    const controlPanel = new ControlPanel({
      clock: options.clock,
      ...options.controlPanel,
      connect: transportFactory(target, { baudRate: options.baudRate }),
    });
    const lane = new Lane(controlPanel, options, true);
    controlPanel.start();
    return lane;
  }

  /** Puts a lane on a control panel that may carry other lanes' controllers too. */
  constructor(
    readonly controlPanel: ControlPanel,
    options: LaneOptions,
    private readonly ownsControlPanel = false,
  ) {
    super();
    this.wiring = { ...DEFAULT_WIRING, ...options.wiring };
    this.clock = options.clock ?? systemClock;
    this.ledger = new LaneLedger(options);
    this.controllerAddress = options.controller.address;
    this.readerAddresses = new Set((options.readers ?? []).map((r) => r.address));
    controlPanel.addPeripheral({ name: "lane controller", ...options.controller });
    for (const reader of options.readers ?? []) controlPanel.addPeripheral({ name: "reader", ...reader });

    const onOnline = (address: number, info: PeripheralInfo) => this.onOnline(address, info);
    const onOffline = (address: number, reason: string) => this.onOffline(address, reason);
    const onReport = (address: number, reply: OsdpReply) => this.onReport(address, reply);
    const onIdle = (address: number) => {
      if (address === this.controllerAddress) this.ledger.controllerIdle(this.clock.now());
    };
    const onWarning = (message: string, address: number | undefined) => {
      if (address === undefined || address === this.controllerAddress || this.readerAddresses.has(address)) {
        this.emit("warning", message);
      }
    };
    controlPanel
      .on("online", onOnline)
      .on("offline", onOffline)
      .on("report", onReport)
      .on("idle", onIdle)
      .on("warning", onWarning);
    this.detach = () => {
      controlPanel
        .off("online", onOnline)
        .off("offline", onOffline)
        .off("report", onReport)
        .off("idle", onIdle)
        .off("warning", onWarning);
    };
  }

  get online(): boolean {
    return this.controllerOnline;
  }

  /** Why the controller is offline ("no reply for 512 ms", "secure channel failed: …"), while it is. */
  get offlineReason(): string | undefined {
    return this.controllerOnline ? undefined : this.controllerOfflineReason;
  }

  get fireAlarm(): boolean {
    return this.ledger.fireAlarm;
  }

  /** Resolves once the controller is online (rejects after `timeoutMs`). */
  async ready(timeoutMs = 5_000): Promise<void> {
    if (this.online) return;
    let timer: unknown;
    try {
      await Promise.race([
        this.next("controller-online"),
        new Promise<never>((_, reject) => {
          timer = this.clock.setTimeout(
            () =>
              reject(
                new LaneError(
                  "CONTROLLER_OFFLINE",
                  `the lane controller did not come online in ${timeoutMs} ms`,
                ),
              ),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      this.clock.clearTimeout(timer);
    }
  }

  /**
   * Unlocks `direction` for `passages` people within `windowMs`. The OUT command is written at once;
   * the controller relocks by itself when the window ends, even if this process dies. Resolves with
   * the grant when the controller has acknowledged; rejects with a LaneError otherwise.
   * `reference` (the caller's authorization id) comes back with a late passage of this grant.
   */
  unlock(
    direction: Direction,
    passages = 1,
    windowMs = 5_000,
    options: { readonly reference?: string } = {},
  ): Promise<Grant> {
    if (this.closed) return Promise.reject(new LaneError("CLOSED", "the lane is closed"));
    if (!DIRECTIONS.includes(direction)) {
      return Promise.reject(
        new LaneError("BAD_ARGUMENT", `direction must be "entry" or "exit", got ${String(direction)}`),
      );
    }
    if (!Number.isInteger(passages) || passages < 1 || passages > 100) {
      return Promise.reject(
        new LaneError("BAD_ARGUMENT", `passages must be an integer in 1–100, got ${passages}`),
      );
    }
    if (!Number.isFinite(windowMs) || windowMs < 100 || windowMs > MAX_WINDOW_MS) {
      return Promise.reject(
        new LaneError("BAD_ARGUMENT", `windowMs must be within 100–${MAX_WINDOW_MS} ms, got ${windowMs}`),
      );
    }
    if (this.ledger.fireAlarm) {
      return Promise.reject(
        new LaneError("FIRE_ALARM", "fire alarm: the lane is in free passage, nothing to unlock"),
      );
    }
    if (!this.online) {
      return Promise.reject(
        new LaneError("CONTROLLER_OFFLINE", "the lane controller is offline; cannot unlock"),
      );
    }
    const now = this.clock.now();
    const grant = this.ledger.authorize(direction, passages, windowMs, now, options.reference);
    // With several grants open in one direction the output stays on until the last one's window ends.
    const until = Math.max(...this.ledger.openGrants(direction).map((g) => g.expiresAt));
    const output = this.outputFor(direction);
    const sent = this.controlPanel.send(
      this.controllerAddress,
      {
        kind: "out",
        outputs: [
          {
            output,
            action: OutputAction.TEMPORARY_ON,
            timer: Math.min(0xffff, Math.ceil((until - now) / 100)),
          },
        ],
      },
      { urgent: true },
    );
    this.armExpiry();
    this.feedback("admit");
    return sent.then(
      () => grant,
      (error: Error) => {
        this.ledger.withdraw(grant);
        throw new LaneError("UNLOCK_FAILED", `unlock ${direction} failed: ${error.message}`, {
          cause: error,
        });
      },
    );
  }

  /**
   * Supervisor-ordered free passage (an emergency, or the end of an event): holds the direction's
   * unlock output on until ended. Passages meanwhile are counted, not attributed. Unlike the fire
   * alarm it is the gate's decision, so it is re-asserted when the controller comes back online.
   */
  async setFreePassage(direction: Direction, active: boolean): Promise<void> {
    if (this.closed) throw new LaneError("CLOSED", "the lane is closed");
    if (!DIRECTIONS.includes(direction)) {
      throw new LaneError("BAD_ARGUMENT", `direction must be "entry" or "exit", got ${String(direction)}`);
    }
    this.ledger.freePassage[direction] = active;
    this.emit("free-passage", direction, active);
    if (!this.online) return;
    await this.sendHold(direction, active);
  }

  get freePassage(): Readonly<Record<Direction, boolean>> {
    return this.ledger.freePassage;
  }

  private sendHold(direction: Direction, active: boolean): Promise<void> {
    const action = active ? OutputAction.PERMANENT_ON_ABORT_TIMED : OutputAction.PERMANENT_OFF_ABORT_TIMED;
    return this.controlPanel
      .send(
        this.controllerAddress,
        { kind: "out", outputs: [{ output: this.outputFor(direction), action, timer: 0 }] },
        { urgent: true },
      )
      .then(
        () => undefined,
        (error: Error) => {
          throw new LaneError("UNLOCK_FAILED", `free passage ${direction}: ${error.message}`, {
            cause: error,
          });
        },
      );
  }

  /** Red light and three beeps for a refused ticket. */
  async refuse(): Promise<void> {
    this.ledger.refused();
    await this.feedbackCommands("refuse");
  }

  counters(): LaneCounters {
    return this.ledger.counters();
  }

  openGrants(): readonly Grant[] {
    return this.ledger.openGrants();
  }

  /** Grants annulled while the controller was unheard that a passage it kept may still claim. */
  lateClaims(): readonly LateClaim[] {
    return this.ledger.lateClaims();
  }

  /**
   * After a restart: an authorization the previous process had opened on this lane, annulled by
   * recovery. The controller may have kept the holder's passage (the arm it had unlocked ran its
   * timer by itself) and report it now; that passage is attributed to `reference`, late, until
   * the controller has nothing more to report, and at most `lateClaimMs` after the window ended
   * (`endedAgoMs` ago; negative if it has not ended yet). Undefined when that is already past.
   */
  addLateClaim(direction: Direction, reference: string, endedAgoMs: number): Grant | undefined {
    if (!DIRECTIONS.includes(direction))
      throw new LaneError("BAD_ARGUMENT", `direction must be "entry" or "exit", got ${String(direction)}`);
    if (reference === "")
      throw new LaneError("BAD_ARGUMENT", "a late claim needs the authorization's reference");
    if (!Number.isFinite(endedAgoMs))
      throw new LaneError("BAD_ARGUMENT", `endedAgoMs must be a number of ms, got ${endedAgoMs}`);
    return this.ledger.addLateClaim(direction, reference, endedAgoMs, this.clock.now());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clock.clearTimeout(this.expiryTimer);
    this.detach();
    if (this.ownsControlPanel) await this.controlPanel.stop();
  }

  // ---------------------------------------------------------------- internals

  private outputFor(direction: Direction): number {
    return direction === "entry" ? this.wiring.entryUnlockOutput : this.wiring.exitUnlockOutput;
  }

  private feedback(kind: "admit" | "refuse"): void {
    this.feedbackCommands(kind).catch((error: Error) =>
      this.emit("warning", `${kind} feedback: ${error.message}`),
    );
  }

  private async feedbackCommands(kind: "admit" | "refuse"): Promise<void> {
    const admit = kind === "admit";
    const led: OsdpCommand = {
      kind: "led",
      leds: [
        {
          reader: 0,
          led: 0,
          temporary: admit
            ? {
                code: 2,
                onTime: 20,
                offTime: 0,
                onColor: LedColor.GREEN,
                offColor: LedColor.GREEN,
                timer: 20,
              }
            : { code: 2, onTime: 3, offTime: 2, onColor: LedColor.RED, offColor: LedColor.BLACK, timer: 20 },
          permanent: { code: 0, onTime: 0, offTime: 0, onColor: 0, offColor: 0 },
        },
      ],
    };
    const buzzer: OsdpCommand = {
      kind: "buz",
      buzzer: admit
        ? { reader: 0, tone: 2, onTime: 2, offTime: 0, count: 1 }
        : { reader: 0, tone: 2, onTime: 2, offTime: 2, count: 3 },
    };
    await Promise.all([
      this.controlPanel.send(this.controllerAddress, led),
      this.controlPanel.send(this.controllerAddress, buzzer),
    ]);
  }

  private armExpiry(): void {
    const next = this.ledger.nextExpiry();
    if (next === undefined || next >= this.expiryAt) return;
    this.clock.clearTimeout(this.expiryTimer);
    this.expiryAt = next;
    this.expiryTimer = this.clock.setTimeout(
      () => {
        this.expiryAt = Number.POSITIVE_INFINITY;
        for (const { grant, unused, claimable } of this.ledger.expire(this.clock.now())) {
          if (unused > 0) this.emit("grant-closed", grant, unused, "expired", claimable);
        }
        this.armExpiry();
      },
      Math.max(0, next - this.clock.now()),
    );
  }

  private onOnline(address: number, info: PeripheralInfo): void {
    if (this.readerAddresses.has(address)) {
      this.emit("reader-online", address);
      return;
    }
    if (address !== this.controllerAddress) return;
    const previous = this.inputs;
    this.inputs = info.inputs;
    this.tamper = info.tamper;
    this.powerFailure = info.powerFailure;
    this.controllerOnline = true;
    this.emit("controller-online", info);
    // The alarm may have started (or ended) while we could not hear the controller.
    const alarm = info.inputs[this.wiring.fireAlarmInput] === true;
    if (alarm !== this.ledger.fireAlarm || (alarm && previous.length === 0)) this.setFireAlarm(alarm);
    if (info.tamper) this.emit("tamper", true);
    for (const direction of DIRECTIONS) {
      if (this.ledger.freePassage[direction]) {
        this.sendHold(direction, true).catch((error: Error) => this.emit("warning", error.message));
      }
    }
  }

  private onOffline(address: number, reason: string): void {
    if (this.readerAddresses.has(address)) {
      this.emit("reader-offline", address, reason);
      return;
    }
    if (address !== this.controllerAddress) return;
    this.controllerOnline = false;
    this.controllerOfflineReason = reason;
    this.emit("controller-offline", reason);
  }

  private onReport(address: number, reply: OsdpReply): void {
    if (this.readerAddresses.has(address) || address === this.controllerAddress) {
      if (reply.kind === "raw") {
        this.emit("scan", { reader: address, data: reply.data });
        return;
      }
      if (reply.kind === "keypad") {
        this.emit("keypad", address, reply.digits);
        return;
      }
    }
    if (address !== this.controllerAddress) return;
    if (reply.kind === "istatr") this.onInputs(reply.inputs);
    else if (reply.kind === "lstatr") {
      if (reply.tamper !== this.tamper) {
        this.tamper = reply.tamper;
        this.emit("tamper", reply.tamper);
      }
      if (reply.powerFailure !== this.powerFailure) {
        this.powerFailure = reply.powerFailure;
        this.emit("power-failure", reply.powerFailure);
      }
    }
  }

  private onInputs(inputs: readonly boolean[]): void {
    const previous = this.inputs;
    this.inputs = inputs;
    const rose = (index: number) => inputs[index] === true && previous[index] !== true;
    const changed = (index: number) => (inputs[index] === true) !== (previous[index] === true);
    // Fire alarm first: a passage in the same report is already a free-passage one.
    if (changed(this.wiring.fireAlarmInput)) this.setFireAlarm(inputs[this.wiring.fireAlarmInput] === true);
    if (changed(this.wiring.faultInput)) this.emit("fault", inputs[this.wiring.faultInput] === true);
    if (rose(this.wiring.entryPassageInput)) this.onPassage("entry");
    if (rose(this.wiring.exitPassageInput)) this.onPassage("exit");
  }

  private onPassage(direction: Direction): void {
    const now = this.clock.now();
    const attribution = this.ledger.passage(direction, now);
    this.emit("passage", { direction, attribution, at: now });
    if (attribution.kind === "authorized" && this.ledger.openGrants(direction).length === 0) {
      // Everyone authorized is through: relock now rather than when the window ends.
      this.controlPanel
        .send(this.controllerAddress, {
          kind: "out",
          outputs: [
            { output: this.outputFor(direction), action: OutputAction.PERMANENT_OFF_ABORT_TIMED, timer: 0 },
          ],
        })
        .catch((error: Error) => this.emit("warning", `relock ${direction}: ${error.message}`));
    }
  }

  private setFireAlarm(active: boolean): void {
    const annulled = this.ledger.setFireAlarm(active);
    for (const { grant, unused } of annulled) this.emit("grant-closed", grant, unused, "fire-alarm", false);
    this.emit("fire-alarm", active);
    // The turnstile frees itself on the alarm line; holding both outputs on says the same in software.
    // When the alarm ends, a direction a supervisor holds open stays open.
    const outputs = DIRECTIONS.map((direction) => ({
      output: this.outputFor(direction),
      action:
        active || this.ledger.freePassage[direction]
          ? OutputAction.PERMANENT_ON_ABORT_TIMED
          : OutputAction.PERMANENT_OFF_ABORT_TIMED,
      timer: 0,
    }));
    this.controlPanel
      .send(this.controllerAddress, { kind: "out", outputs }, { urgent: true })
      .catch((error: Error) => this.emit("warning", `fire alarm outputs: ${error.message}`));
  }
}
