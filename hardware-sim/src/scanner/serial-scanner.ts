import { SerialPort } from "serialport";
import { encodeScannerOutput, noiseBytes, type ScannerOutputSettings } from "./output.js";
import { type Random, seededRandom } from "./random.js";

export interface SimulatedSerialScannerOptions {
  /** The device end of the PTY pair (or any serial path). */
  readonly path: string;
  readonly output?: Partial<ScannerOutputSettings>;
  /**
   * Pace writes like a real line at this baud rate (8N1: 10 bits per byte). PTYs deliver instantly,
   * so without pacing a 9600-baud scanner would look like a 1 Mbaud one.
   */
  readonly baudRate?: number;
  readonly paceAtBaudRate?: boolean;
  /** Extra silence between bytes, like scanners with an "inter-character delay" setting. */
  readonly interByteDelayMs?: number;
  readonly seed?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A serial QR scanner on the device end of a PTY: sends codes with the byte framing a real
 * scanner would use (prefix, AIM identifier, ECI escape, suffix), at line speed if asked,
 * and can garble the line.
 */
export class SimulatedSerialScanner {
  readonly #options: SimulatedSerialScannerOptions;
  readonly #port: SerialPort;
  readonly random: Random;

  private constructor(options: SimulatedSerialScannerOptions, port: SerialPort) {
    this.#options = options;
    this.#port = port;
    this.random = seededRandom(options.seed ?? 1);
  }

  static open(options: SimulatedSerialScannerOptions): Promise<SimulatedSerialScanner> {
    return new Promise((resolve, reject) => {
      const port = new SerialPort({
        path: options.path,
        baudRate: options.baudRate ?? 9600,
        autoOpen: false,
        hupcl: false,
      });
      port.open((error) => {
        if (error) reject(new Error(`simulated scanner cannot open ${options.path}: ${error.message}`));
        else resolve(new SimulatedSerialScanner(options, port));
      });
      // A pulled cable closes the port under us; the simulator has nothing to do about it.
      port.on("error", () => {});
    });
  }

  /** Sends one code as the scanner would after reading it, framed by the configured output settings. */
  async scan(text: string, output?: Partial<ScannerOutputSettings>): Promise<Uint8Array> {
    const bytes = encodeScannerOutput(text, { ...this.#options.output, ...output });
    await this.sendRaw(bytes);
    return bytes;
  }

  /** Sends random bytes, as a noisy line does. */
  async sendNoise(length: number): Promise<Uint8Array> {
    const bytes = noiseBytes(this.random, length);
    await this.sendRaw(bytes);
    return bytes;
  }

  /** Sends bytes as they are, with the configured pacing. */
  async sendRaw(bytes: Uint8Array): Promise<void> {
    const gap = this.#options.interByteDelayMs ?? 0;
    if (gap > 0) {
      for (const byte of bytes) {
        await this.#write(Uint8Array.of(byte));
        await sleep(gap);
      }
      return;
    }
    if (!this.#options.paceAtBaudRate) {
      await this.#write(bytes);
      return;
    }
    // Write what the line carries in 5 ms, then wait: timers are not finer than a millisecond.
    const bytesPerSlice = Math.max(1, Math.round(((this.#options.baudRate ?? 9600) / 10) * 0.005));
    for (let i = 0; i < bytes.length; i += bytesPerSlice) {
      await this.#write(bytes.subarray(i, i + bytesPerSlice));
      await sleep(5);
    }
  }

  #write(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#port.write(Buffer.from(bytes), (error) => {
        if (error) reject(error);
        else this.#port.drain((drainError) => (drainError ? reject(drainError) : resolve()));
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.#port.isOpen) resolve();
      else this.#port.close(() => resolve());
    });
  }
}
