import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

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
    const socat = spawn(
      "socat",
      ["-d", "-d", `pty,raw,echo=0,link=${this.hostPath}`, `pty,raw,echo=0,link=${this.devicePath}`],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    this.#socat = socat;
    let log = "";
    socat.stderr?.on("data", (chunk: Buffer) => {
      log += chunk.toString();
    });
    const failed = new Promise<never>((_, reject) =>
      socat.once("error", (error) =>
        reject(new Error(`socat could not start (${error.message}); install socat`)),
      ),
    );
    const ready = (async () => {
      const deadline = Date.now() + timeoutMs;
      while (
        !(
          existsSync(this.hostPath) &&
          existsSync(this.devicePath) &&
          log.includes("starting data transfer loop")
        )
      ) {
        if (socat.exitCode !== null) throw new Error(`socat exited: ${log.trim()}`);
        if (Date.now() > deadline) throw new Error(`socat did not make the PTY pair within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    try {
      await Promise.race([ready, failed]);
    } catch (error) {
      this.#socat = undefined;
      socat.kill("SIGKILL");
      throw error;
    }
  }

  /** Pulls the cable: both ends hang up, as when a USB scanner is unplugged. */
  async unplug(): Promise<void> {
    const socat = this.#socat;
    if (!socat) return;
    this.#socat = undefined;
    if (socat.exitCode === null) {
      const exited = new Promise<void>((resolve) => socat.once("exit", () => resolve()));
      socat.kill("SIGTERM");
      await exited;
    }
    rmSync(this.hostPath, { force: true });
    rmSync(this.devicePath, { force: true });
  }

  async destroy(): Promise<void> {
    await this.unplug();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
