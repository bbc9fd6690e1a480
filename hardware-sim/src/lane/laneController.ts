import {
  CapabilityFunction,
  type Clock,
  DEFAULT_WIRING,
  type Direction,
  type LaneWiring,
  NakCode,
  type OsdpCommand,
  type OsdpReply,
  OutputAction,
  type PdIdentity,
  systemClock,
  TypedEmitter,
} from "@sesame/bridge";
import { type PeripheralApplication, PeripheralDevice } from "../osdp/peripheral.js";
import { Turnstile, type TurnstileOptions, type WalkOutcome } from "./turnstile.js";

export interface LaneControllerOptions {
  readonly address: number;
  readonly scbk?: Uint8Array;
  readonly installMode?: boolean;
  /** Seal status replies under SCS_15, as libosdp 3.x PDs do (see PeripheralOptions). */
  readonly libosdpStatusBlock?: boolean;
  readonly wiring?: Partial<LaneWiring>;
  readonly turnstile?: Omit<TurnstileOptions, "clock">;
  readonly serialNumber?: number;
  readonly clock?: Clock;
}

export interface LedState {
  readonly color: number;
  readonly flashing: boolean;
}

export interface LaneControllerEvents {
  output: [output: number, on: boolean];
  input: [input: number, active: boolean];
  led: [led: number, state: LedState];
  buzzer: [beeps: number];
  "key-changed": [key: Uint8Array];
}

const OUTPUTS = 4;
const INPUTS = 4;

export const SIM_VENDOR_CODE = 0x534553; // "SES", not a registered OUI: a simulator says so

/**
 * A simulated lane controller: an OSDP I/O PD whose outputs unlock a turnstile, whose inputs are
 * the turnstile's passage sensors, the fire-alarm line and the turnstile's fault contact, with a
 * lane LED and a buzzer. Venue techs and tests drive people and faults through it.
 */
export class LaneController extends TypedEmitter<LaneControllerEvents> implements PeripheralApplication {
  readonly device: PeripheralDevice;
  readonly turnstile: Turnstile;
  readonly wiring: LaneWiring;
  private readonly clock: Clock;
  private readonly outputs: boolean[] = new Array(OUTPUTS).fill(false);
  /** What an output returns to when its timed state ends. */
  private readonly permanent: boolean[] = new Array(OUTPUTS).fill(false);
  private readonly outputTimers: unknown[] = new Array(OUTPUTS).fill(undefined);
  private readonly inputs: boolean[] = new Array(INPUTS).fill(false);
  private readonly leds = new Map<number, LedState>();
  private tamper = false;
  private powerTimer: unknown;
  buzzerBeeps = 0;

  constructor(options: LaneControllerOptions) {
    super();
    this.clock = options.clock ?? systemClock;
    this.wiring = { ...DEFAULT_WIRING, ...options.wiring };
    this.turnstile = new Turnstile({ ...options.turnstile, clock: this.clock });
    this.turnstile.onSensor = (direction, active) =>
      this.setInput(
        direction === "entry" ? this.wiring.entryPassageInput : this.wiring.exitPassageInput,
        active,
      );
    this.turnstile.onFault = (active) => this.setInput(this.wiring.faultInput, active);
    const identity: PdIdentity = {
      vendorCode: SIM_VENDOR_CODE,
      model: 0x01,
      version: 0x01,
      serialNumber: options.serialNumber ?? 0x1000 + options.address,
      firmware: { major: 1, minor: 0, build: 0 },
    };
    this.device = new PeripheralDevice(
      {
        address: options.address,
        identity,
        scbk: options.scbk,
        installMode: options.installMode,
        libosdpStatusBlock: options.libosdpStatusBlock,
        capabilities: [
          { function: CapabilityFunction.CONTACT_STATUS_MONITORING, compliance: 1, items: INPUTS },
          { function: CapabilityFunction.OUTPUT_CONTROL, compliance: 1, items: OUTPUTS },
          { function: CapabilityFunction.READER_LED_CONTROL, compliance: 1, items: 1 },
          { function: CapabilityFunction.READER_AUDIBLE_OUTPUT, compliance: 1, items: 1 },
          { function: CapabilityFunction.CHECK_CHARACTER_SUPPORT, compliance: 1, items: 0 },
          { function: CapabilityFunction.COMMUNICATION_SECURITY, compliance: 1, items: 1 },
        ],
      },
      this,
    );
    this.device.onKeyChanged = (key) => this.emit("key-changed", key);
  }

  // ------------------------------------------------------------ OSDP application

  command(command: OsdpCommand): OsdpReply {
    switch (command.kind) {
      case "lstat":
        return { kind: "lstatr", tamper: this.tamper, powerFailure: false };
      case "istat":
        return { kind: "istatr", inputs: [...this.inputs] };
      case "ostat":
        return { kind: "ostatr", outputs: [...this.outputs] };
      case "out": {
        if (command.outputs.some((o) => o.output >= OUTPUTS || o.action > OutputAction.TEMPORARY_OFF)) {
          return { kind: "nak", code: NakCode.UNABLE_TO_PROCESS, reason: "" };
        }
        for (const o of command.outputs) this.applyOutput(o.output, o.action, o.timer);
        return { kind: "ack" };
      }
      case "led":
        for (const led of command.leds) {
          const t = led.temporary;
          const p = led.permanent;
          const state =
            t.code === 2
              ? { color: t.onColor, flashing: t.offTime > 0 }
              : p.code === 1
                ? { color: p.onColor, flashing: p.offTime > 0 }
                : undefined;
          if (state !== undefined) {
            this.leds.set(led.led, state);
            this.emit("led", led.led, state);
          }
        }
        return { kind: "ack" };
      case "buz":
        this.buzzerBeeps += command.buzzer.tone === 2 ? Math.max(1, command.buzzer.count) : 0;
        if (command.buzzer.tone === 2) this.emit("buzzer", Math.max(1, command.buzzer.count));
        return { kind: "ack" };
      default:
        return { kind: "nak", code: NakCode.UNKNOWN_COMMAND, reason: "" };
    }
  }

  private applyOutput(output: number, action: number, timer: number): void {
    const clearTimer = () => {
      this.clock.clearTimeout(this.outputTimers[output]);
      this.outputTimers[output] = undefined;
    };
    const timed = this.outputTimers[output] !== undefined;
    switch (action) {
      case OutputAction.PERMANENT_OFF_ABORT_TIMED:
      case OutputAction.PERMANENT_ON_ABORT_TIMED:
        clearTimer();
        this.permanent[output] = action === OutputAction.PERMANENT_ON_ABORT_TIMED;
        this.setOutput(output, this.permanent[output] === true);
        return;
      case OutputAction.PERMANENT_OFF_ALLOW_TIMED:
      case OutputAction.PERMANENT_ON_ALLOW_TIMED:
        this.permanent[output] = action === OutputAction.PERMANENT_ON_ALLOW_TIMED;
        if (!timed) this.setOutput(output, this.permanent[output] === true);
        return;
      case OutputAction.TEMPORARY_ON:
      case OutputAction.TEMPORARY_OFF:
        clearTimer();
        this.setOutput(output, action === OutputAction.TEMPORARY_ON);
        this.outputTimers[output] = this.clock.setTimeout(() => {
          this.outputTimers[output] = undefined;
          this.setOutput(output, this.permanent[output] === true);
        }, timer * 100);
        return;
      default:
        return;
    }
  }

  private setOutput(output: number, on: boolean): void {
    if (this.outputs[output] === on) return;
    this.outputs[output] = on;
    if (output === this.wiring.entryUnlockOutput) this.turnstile.setUnlock("entry", on);
    if (output === this.wiring.exitUnlockOutput) this.turnstile.setUnlock("exit", on);
    this.emit("output", output, on);
  }

  private setInput(input: number, active: boolean): void {
    if (input >= INPUTS || this.inputs[input] === active) return;
    this.inputs[input] = active;
    this.emit("input", input, active);
    // Every change is a report of its own, so a short PASS pulse is never lost between two polls.
    if (this.device.isPowered) this.device.report({ kind: "istatr", inputs: [...this.inputs] });
  }

  // ------------------------------------------------------------ what a tech or a crowd does

  /** One person walks up to the lane. */
  walk(direction: Direction, behaviour: "normal" | "tailgate" | "force" = "normal"): Promise<WalkOutcome> {
    return this.turnstile.walk(direction, behaviour);
  }

  setFireAlarm(active: boolean): void {
    this.turnstile.setFireAlarm(active);
    this.setInput(this.wiring.fireAlarmInput, active);
  }

  setJammed(jammed: boolean): void {
    this.turnstile.setJammed(jammed);
  }

  setTamper(active: boolean): void {
    if (this.tamper === active) return;
    this.tamper = active;
    if (this.device.isPowered) this.device.report({ kind: "lstatr", tamper: active, powerFailure: false });
  }

  /** Power cut for `ms`: the PD goes silent, outputs drop, the turnstile falls to its fail mode; then a reboot. */
  powerLoss(ms: number): void {
    this.device.setPowered(false);
    this.turnstile.setPowered(false);
    for (let output = 0; output < OUTPUTS; output++) {
      this.clock.clearTimeout(this.outputTimers[output]);
      this.outputTimers[output] = undefined;
      this.permanent[output] = false;
      this.setOutput(output, false);
    }
    this.clock.clearTimeout(this.powerTimer);
    this.powerTimer = this.clock.setTimeout(() => this.powerRestored(), ms);
  }

  /** Reboot without a power cut (watchdog, firmware update): the OSDP link restarts at sequence 0. */
  reboot(): void {
    this.device.reboot();
  }

  private powerRestored(): void {
    this.turnstile.setPowered(true);
    this.device.setPowered(true);
  }

  get outputState(): readonly boolean[] {
    return [...this.outputs];
  }

  get inputState(): readonly boolean[] {
    return [...this.inputs];
  }

  led(led = 0): LedState | undefined {
    return this.leds.get(led);
  }

  close(): void {
    this.turnstile.stop();
    this.clock.clearTimeout(this.powerTimer);
    for (const timer of this.outputTimers) this.clock.clearTimeout(timer);
  }
}
