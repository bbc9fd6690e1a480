import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";

/**
 * Starts socat with a linked pair of pseudo-terminals at two chosen paths (symlinks to
 * /dev/pts/N): what serialport opens like two real serial ports joined by a null-modem cable.
 * The one place that knows how to drive socat; the scanner cable and the OSDP endpoint use it.
 */
export async function startSocatPair(
  hostPath: string,
  devicePath: string,
  timeoutMs = 5000,
): Promise<ChildProcess> {
  const socat = spawn(
    "socat",
    ["-d", "-d", `pty,raw,echo=0,link=${hostPath}`, `pty,raw,echo=0,link=${devicePath}`],
    {
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
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
    while (!(existsSync(hostPath) && existsSync(devicePath) && log.includes("starting data transfer loop"))) {
      if (socat.exitCode !== null) throw new Error(`socat exited: ${log.trim()}`);
      if (Date.now() > deadline) throw new Error(`socat did not make the PTY pair within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  try {
    await Promise.race([ready, failed]);
    return socat;
  } catch (error) {
    socat.kill("SIGKILL");
    throw error;
  }
}

/** Stops socat and waits for it to exit; both ends then hang up. */
export async function stopSocat(socat: ChildProcess): Promise<void> {
  if (socat.exitCode !== null || socat.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => socat.once("exit", () => resolve()));
  socat.kill("SIGTERM");
  await exited;
}
