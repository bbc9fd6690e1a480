import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSocatPair, stopSocat } from "../pty.js";

/**
 * A serial cable between the gate and a simulated device that can be pulled and plugged back:
 * a socat PTY pair whose two ends keep stable paths (symlinks) across replugs, as
 * /dev/serial/by-id/… names do for a real USB scanner.
 */
export class SerialCable {
  /** The gate end (what the kiosk opens). */
  readonly hostPath: string;
  /** The device end (what the simulated scanner opens). */
  readonly devicePath: string;
  readonly #dir: string;
  #socat: ChildProcess | undefined;

  private constructor(dir: string) {
    this.#dir = dir;
    this.hostPath = join(dir, "host");
    this.devicePath = join(dir, "device");
  }

  static async create(timeoutMs = 5000): Promise<SerialCable> {
    const cable = new SerialCable(mkdtempSync(join(tmpdir(), "sesame-cable-")));
    await cable.plugIn(timeoutMs);
    return cable;
  }

  get pluggedIn(): boolean {
    return this.#socat !== undefined;
  }

  async plugIn(timeoutMs = 5000): Promise<void> {
    if (this.#socat) return;
    this.#socat = await startSocatPair(this.hostPath, this.devicePath, timeoutMs);
  }

  /** Pulls the cable: both ends hang up, as when a USB scanner is unplugged. */
  async unplug(): Promise<void> {
    const socat = this.#socat;
    if (!socat) return;
    this.#socat = undefined;
    await stopSocat(socat);
    rmSync(this.hostPath, { force: true });
    rmSync(this.devicePath, { force: true });
  }

  async destroy(): Promise<void> {
    await this.unplug();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
