import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir } from "./tempdir.js";

export interface PtyPair {
  /** The end a control panel (or a scanner reader) opens, like /dev/ttyUSB0. */
  readonly a: string;
  /** The end the simulated device opens. */
  readonly b: string;
  /** Stops socat and removes the links; both ends then read EOF / error. */
  close(): Promise<void>;
}

/**
 * Makes a linked pair of pseudo-terminals with socat, as serialport would see two
 * real serial ports joined by a null-modem cable. socat must be installed (.ci/run does it).
 */
export async function openPtyPair(timeoutMs = 5_000): Promise<PtyPair> {
  const dir = makeTempDir("sesame-pty-");
  const a = join(dir.path, "a");
  const b = join(dir.path, "b");
  const socat: ChildProcess = spawn(
    "socat",
    ["-d", "-d", `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  socat.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => socat.once("exit", () => resolve()));
  const spawnError = new Promise<never>((_, reject) =>
    socat.once("error", (error) =>
      reject(new Error(`socat could not start (${error.message}); install socat`)),
    ),
  );
  const deadline = Date.now() + timeoutMs;
  const ready = (async () => {
    while (!(existsSync(a) && existsSync(b) && /starting data transfer loop/.test(stderr))) {
      if (socat.exitCode !== null) throw new Error(`socat exited early: ${stderr.trim()}`);
      if (Date.now() > deadline) throw new Error(`socat did not create the PTY pair in ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  await Promise.race([ready, spawnError]);
  return {
    a: realpathSync(a),
    b: realpathSync(b),
    async close() {
      if (socat.exitCode === null) {
        socat.kill("SIGTERM");
        await exited;
      }
      dir.remove();
    },
  };
}
