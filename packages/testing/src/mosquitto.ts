import { type ChildProcess, spawn } from "node:child_process";

/*
 * Mosquitto from Debian, started on a configuration written by `writeMosquittoConfig`
 * (@sesame/sync-server): the production broker the sync tests and the drills run against. Its log
 * (stderr) is kept in `output`, where a venue tech would read refusals ("not authorised",
 * "Denied PUBLISH").
 */
export class Mosquitto {
  private child: ChildProcess | undefined;
  output = "";

  constructor(
    readonly configPath: string,
    readonly port: number,
    /** Each line Mosquitto logs, as it comes. */
    private readonly onLine?: (line: string) => void,
  ) {}

  async start(): Promise<void> {
    const child = spawn("/usr/sbin/mosquitto", ["-c", this.configPath], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    this.child = child;
    const started = Date.now();
    let buffer = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`mosquitto did not start: ${buffer}`)), 15_000);
      child.stderr?.on("data", (chunk: Buffer) => {
        const text = chunk.toString();
        buffer += text;
        this.output += text;
        if (this.onLine) for (const line of text.split("\n")) if (line.trim() !== "") this.onLine(line);
        if (/running/.test(buffer)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`mosquitto exited (${code}) after ${Date.now() - started} ms: ${buffer}`));
      });
    });
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill(signal);
    await exited;
  }
}
