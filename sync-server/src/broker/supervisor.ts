import { type ChildProcess, spawn } from "node:child_process";
import { EventEmitter } from "node:events";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { BrokerAudit } from "./aedes.js";
import type { BrokerChildConfig, BrokerChildMessage } from "./child.js";

/*
 * Runs the embedded broker as a child process and restarts it when it dies: the gates and the
 * server reconnect by themselves and resend what was not acknowledged, so a broker crash costs
 * seconds, never events.
 */

const require = createRequire(import.meta.url);

/** `node --import <tsx>`: the workspace runs TypeScript sources directly (docs/development.md). */
export function tsxImportArgs(): string[] {
  return ["--import", pathToFileURL(require.resolve("tsx")).href];
}

export const BROKER_ENTRY = fileURLToPath(new URL("../bin/broker.ts", import.meta.url));

export interface BrokerProcessEvents {
  audit: [audit: BrokerAudit];
  exit: [code: number | null, signal: NodeJS.Signals | null];
  restarted: [pid: number];
  log: [line: string];
}

export class BrokerProcess extends EventEmitter<BrokerProcessEvents> {
  private child: ChildProcess | undefined;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  port: number;

  constructor(
    private readonly config: BrokerChildConfig,
    private readonly restartDelayMs = 300,
  ) {
    super();
    this.port = config.port;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the child and resolves with its port once it listens. */
  async start(timeoutMs = 30_000): Promise<number> {
    this.stopping = false;
    const child = spawn(
      process.execPath,
      [...tsxImportArgs(), BROKER_ENTRY, JSON.stringify({ ...this.config, port: this.port })],
      {
        stdio: ["pipe", "pipe", "pipe"],
        // Its own process group: a Ctrl-C in the terminal reaches the sync-server, which stops the
        // broker in order, instead of killing it underneath the server (it stops on stdin EOF too).
        detached: true,
      },
    );
    this.child = child;
    let buffered = "";
    let listening: ((port: number) => void) | undefined;
    let failed: ((error: Error) => void) | undefined;
    const ready = new Promise<number>((resolve, reject) => {
      listening = resolve;
      failed = reject;
    });
    child.stdout?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      let nl = buffered.indexOf("\n");
      while (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        nl = buffered.indexOf("\n");
        let message: BrokerChildMessage;
        try {
          message = JSON.parse(line) as BrokerChildMessage;
        } catch {
          this.emit("log", line);
          continue;
        }
        if (message.type === "listening") listening?.(message.port);
        else if (message.type === "audit") this.emit("audit", message.audit);
        else failed?.(new Error(`embedded broker: ${message.detail}`));
      }
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n")) if (line.trim()) this.emit("log", line);
    });
    child.stdin?.on("error", () => {});
    child.once("error", (error) => failed?.(error));
    child.once("exit", (code, signal) => {
      failed?.(new Error(`embedded broker exited (${signal ?? code}) before listening`));
      if (this.child === child) this.child = undefined;
      this.emit("exit", code, signal);
      if (!this.stopping) {
        this.restartTimer = setTimeout(() => {
          this.start()
            .then(() => this.emit("restarted", this.child?.pid ?? 0))
            .catch((error: unknown) => this.emit("log", `broker restart failed: ${String(error)}`));
        }, this.restartDelayMs);
      }
    });
    const timer = setTimeout(
      () => failed?.(new Error(`embedded broker did not listen within ${timeoutMs} ms`)),
      timeoutMs,
    );
    try {
      this.port = await ready;
      return this.port;
    } finally {
      clearTimeout(timer);
    }
  }

  /** For tests: kills the broker as a crash would (it is then restarted). */
  kill(signal: NodeJS.Signals = "SIGKILL"): void {
    this.child?.kill(signal);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }
}
