import { makeScanEvent } from "../normalize.js";
import { type Clock, type ScanEvent, type ScanProblem, type ScanProblemCode, systemClock } from "../scan.js";
import { type FramerOutput, SerialFramer, type SerialFraming } from "./framing.js";
import { openSerialPortLink, type SerialLink, type SerialLinkOpener } from "./link.js";

export interface SerialScannerOptions {
  /** The device path: /dev/serial/by-id/… in production (stable across replugs), a PTY in tests. */
  readonly path: string;
  readonly lane: string;
  readonly baudRate?: number;
  readonly framing?: Partial<SerialFraming>;
  /** First retry after a disconnect; doubles up to `maxReconnectDelayMs`. */
  readonly reconnectDelayMs?: number;
  readonly maxReconnectDelayMs?: number;
  readonly clock?: Clock;
  readonly open?: SerialLinkOpener;
  readonly onScan: (event: ScanEvent) => void;
  readonly onProblem?: (problem: ScanProblem) => void;
  readonly onConnectionChange?: (connected: boolean) => void;
}

/**
 * Reads one serial or USB-CDC scanner: opens the port, frames the bytes, emits normalized scan
 * events, and keeps trying to reopen the port when the cable is pulled.
 */
export class SerialScannerReader {
  readonly #options: SerialScannerOptions;
  readonly #clock: Clock;
  readonly #open: SerialLinkOpener;
  #framer: SerialFramer;
  #link: SerialLink | undefined;
  #stopped = true;
  #frameTimer: ReturnType<typeof setTimeout> | undefined;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #reconnectDelay: number;
  #everConnected = false;
  #outageReported = false;

  constructor(options: SerialScannerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#open = options.open ?? openSerialPortLink;
    this.#framer = new SerialFramer(options.framing);
    this.#reconnectDelay = options.reconnectDelayMs ?? 250;
  }

  get connected(): boolean {
    return this.#link !== undefined;
  }

  /**
   * Starts reading. Resolves after the first open attempt; when it fails, the reader reports a
   * problem and keeps retrying in the background (a scanner plugged in later is picked up).
   */
  async start(): Promise<void> {
    if (!this.#stopped) return;
    this.#stopped = false;
    await this.#connect();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#reconnectTimer);
    clearTimeout(this.#frameTimer);
    const link = this.#link;
    this.#link = undefined;
    await link?.close();
  }

  /** Sends bytes to the scanner (trigger or configuration commands of bidirectional scanners). */
  async send(bytes: Uint8Array): Promise<void> {
    if (this.#link === undefined) throw new Error(`scanner ${this.#options.path} is not connected`);
    await this.#link.write(bytes);
  }

  async #connect(): Promise<void> {
    let link: SerialLink;
    try {
      link = await this.#open(this.#options.path, this.#options.baudRate ?? 9600);
    } catch (error) {
      if (!this.#outageReported) {
        this.#outageReported = true;
        this.#problem("disconnected", `${describe(error)}; retrying until the scanner is back`);
      }
      this.#scheduleReconnect();
      return;
    }
    if (this.#stopped) {
      await link.close();
      return;
    }
    this.#link = link;
    this.#framer = new SerialFramer(this.#options.framing);
    this.#reconnectDelay = this.#options.reconnectDelayMs ?? 250;
    if (this.#everConnected || this.#outageReported) {
      this.#problem("reconnected", `scanner ${this.#options.path} is back`);
    }
    this.#everConnected = true;
    this.#outageReported = false;
    link.onData((chunk) => this.#handle(this.#framer.push(chunk, this.#clock())));
    link.onClose((error) => this.#lost(link, error));
    this.#options.onConnectionChange?.(true);
  }

  #lost(link: SerialLink, error: Error | undefined): void {
    if (this.#link !== link) return;
    this.#link = undefined;
    clearTimeout(this.#frameTimer);
    this.#options.onConnectionChange?.(false);
    if (this.#stopped) return;
    this.#outageReported = true;
    const why = error ? `: ${error.message}` : "";
    this.#problem("disconnected", `scanner ${this.#options.path} went away${why}; reconnecting`);
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#stopped) return;
    const delay = this.#reconnectDelay;
    this.#reconnectDelay = Math.min(delay * 2, this.#options.maxReconnectDelayMs ?? 5000);
    this.#reconnectTimer = setTimeout(() => void this.#connect(), delay);
  }

  #handle(outputs: FramerOutput[]): void {
    for (const output of outputs) {
      if (output.kind === "frame") {
        this.#options.onScan(
          makeScanEvent(
            { source: "serial", device: this.#options.path, lane: this.#options.lane },
            output.bytes,
            output.at,
          ),
        );
      } else {
        this.#problem(output.code, output.message, output.at);
      }
    }
    clearTimeout(this.#frameTimer);
    const deadline = this.#framer.nextDeadline();
    if (deadline !== undefined) {
      // The framer is pure: this timer only tells it that time has passed.
      this.#frameTimer = setTimeout(
        () => this.#handle(this.#framer.poll(this.#clock())),
        Math.max(0, deadline - this.#clock()) + 1,
      );
    }
  }

  #problem(code: ScanProblemCode, message: string, at = this.#clock()): void {
    this.#options.onProblem?.({
      source: "serial",
      device: this.#options.path,
      lane: this.#options.lane,
      code,
      message,
      at,
    });
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
