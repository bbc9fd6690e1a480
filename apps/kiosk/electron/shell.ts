import { type ChildProcess, spawn } from "node:child_process";

/*
 * The logic of the Electron kiosk shell, kept free of Electron so that it is tested with vitest on
 * machines where the Electron binary cannot run: where the gate backend's command line comes from,
 * how its "kiosk <url>" line is read, how fast it is restarted when it dies, and which URLs the
 * locked-down window may ever show.
 */

/** The line the gate backend prints once its HTTP server listens: `kiosk http://127.0.0.1:<port>`. */
const URL_LINE = /^kiosk\s+(http:\/\/(?:127\.0\.0\.1|localhost|\[::1\]):\d{1,5})\/?\s*$/;

/** The kiosk URL announced by one line of the backend's output, if the line is that announcement. */
export function parseKioskUrlLine(line: string): string | undefined {
  const match = URL_LINE.exec(line.trim());
  const port = Number(match?.[1]?.replace(/^.*:/, ""));
  if (!match?.[1] || !(port > 0 && port < 65_536)) return undefined;
  return new URL(match[1]).origin;
}

/** Splits a stream of text chunks into lines (a line can arrive in several chunks). */
export class LineSplitter {
  private pending = "";

  /** The complete lines in `chunk` and what came before it; the unfinished tail is kept. */
  push(chunk: string): string[] {
    this.pending += chunk;
    const lines = this.pending.split(/\r?\n/);
    this.pending = lines.pop() ?? "";
    // A runaway line without a newline must not grow forever.
    if (this.pending.length > 64 * 1024) this.pending = this.pending.slice(-1024);
    return lines;
  }
}

export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
  /** A backend that ran this long was healthy: the next restart is quick again. */
  readonly stableAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = {
  initialMs: 500,
  maxMs: 30_000,
  factor: 2,
  stableAfterMs: 60_000,
};

/** Delays between restarts of a crashing backend: doubling up to a ceiling, reset after a good run. */
export class RestartBackoff {
  private readonly options: BackoffOptions;
  private nextDelay: number;

  constructor(options: Partial<BackoffOptions> = {}) {
    this.options = { ...DEFAULT_BACKOFF, ...options };
    this.nextDelay = this.options.initialMs;
  }

  /** The wait before restarting a backend that ran for `uptimeMs` and then died. */
  next(uptimeMs: number): number {
    if (uptimeMs >= this.options.stableAfterMs) this.nextDelay = this.options.initialMs;
    const delay = this.nextDelay;
    this.nextDelay = Math.min(this.options.maxMs, Math.round(this.nextDelay * this.options.factor));
    return delay;
  }
}

/** How the kiosk window was lost: closed (destroyed), or its renderer gone (crashed, killed, or hung and crashed on purpose). */
export type WindowLoss = "closed" | "renderer-gone";

export interface WindowAction {
  /** Load the UI again in the same window, or make a new window (the old one is gone or suspect). */
  readonly kind: "reload" | "recreate";
  readonly afterMs: number;
}

/**
 * What the shell does when its window is lost. A kiosk has nobody to start the app again, so the
 * app never quits because its window went: a closed window is made again at once; a crashed or hung
 * renderer is reloaded, and after `recreateAfter` losses in a row the window is made anew (its
 * process may be what fails). Delays grow while losses follow each other (a page that crashes
 * on load must not spin the machine) and reset once a window stayed up `stableAfterMs`.
 */
export class WindowRecovery {
  private readonly backoffOptions: Partial<BackoffOptions>;
  private readonly recreateAfter: number;
  private readonly stableAfterMs: number;
  private backoff: RestartBackoff;
  private shownAt: number;
  private streak = 0;

  constructor(
    private readonly now: () => number = Date.now,
    options: { readonly backoff?: Partial<BackoffOptions>; readonly recreateAfter?: number } = {},
  ) {
    this.backoffOptions = { initialMs: 250, maxMs: 10_000, factor: 2, ...options.backoff };
    this.stableAfterMs = options.backoff?.stableAfterMs ?? 60_000;
    this.recreateAfter = options.recreateAfter ?? 3;
    this.backoff = new RestartBackoff(this.backoffOptions);
    this.shownAt = now();
  }

  /** The window was lost: what to do, and when (the first loss after a good run at once). */
  lost(loss: WindowLoss): WindowAction {
    if (this.now() - this.shownAt >= this.stableAfterMs) {
      this.streak = 0;
      this.backoff = new RestartBackoff(this.backoffOptions);
    }
    this.streak++;
    // Until the UI shows again, a window that dies while loading is not a good run.
    this.shownAt = Number.POSITIVE_INFINITY;
    return {
      kind: loss === "closed" || this.streak >= this.recreateAfter ? "recreate" : "reload",
      afterMs: this.streak === 1 ? 0 : this.backoff.next(0),
    };
  }

  /** The UI is showing again (a window made or reloaded). */
  shown(): void {
    this.shownAt = this.now();
  }
}

/**
 * Whether the kiosk window may navigate to `target`: only pages of the kiosk's own origin (the
 * backend on loopback). Everything else — other sites, file:, data:, javascript: — is refused.
 */
export function isAllowedNavigation(target: string, kioskOrigin: string | undefined): boolean {
  if (kioskOrigin === undefined) return false;
  let url: URL;
  let origin: URL;
  try {
    url = new URL(target);
    origin = new URL(kioskOrigin);
  } catch {
    return false;
  }
  return url.protocol === "http:" && origin.protocol === "http:" && url.origin === origin.origin;
}

/** The gate configuration file: `--config <file>`, `--config=<file>`, or SESAME_GATE_CONFIG. */
export function configPathFrom(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--config") {
      const value = argv[i + 1];
      return value !== undefined && value !== "" && !value.startsWith("--") ? value : undefined;
    }
    if (arg?.startsWith("--config=")) {
      const value = arg.slice("--config=".length);
      return value === "" ? undefined : value;
    }
  }
  const fromEnv = env.SESAME_GATE_CONFIG;
  return fromEnv !== undefined && fromEnv !== "" ? fromEnv : undefined;
}

export interface BackendCommand {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
}

/**
 * The gate backend runs under the machine's Node, not Electron's: its native modules
 * (better-sqlite3, serialport) are built for Node's ABI, and the tested path is the Node one.
 */
export function backendCommand(options: {
  configPath: string;
  repoRoot: string;
  node?: string;
}): BackendCommand {
  return {
    command: options.node ?? "node",
    args: ["--import", "tsx", "apps/kiosk/src/gate-main.ts", "--config", options.configPath],
    cwd: options.repoRoot,
  };
}

export interface SupervisorOptions {
  readonly command: BackendCommand;
  readonly env?: NodeJS.ProcessEnv;
  /** The backend announced where it listens (at each start). */
  readonly onUrl: (url: string) => void;
  /** The backend died; it is restarted after `restartInMs`. */
  readonly onExit?: (info: {
    code: number | null;
    signal: NodeJS.Signals | null;
    restartInMs: number;
  }) => void;
  /** Every line of the backend's standard output (for the shell's own log). */
  readonly onLine?: (line: string) => void;
  readonly backoff?: RestartBackoff;
  readonly now?: () => number;
}

export interface BackendSupervisor {
  /** Stops restarting and ends the backend (SIGTERM, then SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
  readonly running: boolean;
}

/** Runs the gate backend, reads its URL line, and restarts it with backoff whenever it dies. */
export function superviseBackend(options: SupervisorOptions): BackendSupervisor {
  const backoff = options.backoff ?? new RestartBackoff();
  const now = options.now ?? Date.now;
  let child: ChildProcess | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const start = () => {
    if (stopped) return;
    const startedAt = now();
    const { command, args, cwd } = options.command;
    const backend = spawn(command, [...args], {
      cwd,
      env: options.env,
      // stdin stays open as a lifeline: if the shell dies, the backend reads EOF and stops
      // (SESAME_STOP_ON_STDIN_EOF=1) instead of holding the lanes and the cache alone.
      stdio: ["pipe", "pipe", "inherit"],
    });
    child = backend;
    const lines = new LineSplitter();
    backend.stdout?.setEncoding("utf8");
    backend.stdout?.on("data", (chunk: string) => {
      for (const line of lines.push(chunk)) {
        options.onLine?.(line);
        const url = parseKioskUrlLine(line);
        if (url !== undefined) options.onUrl(url);
      }
    });
    let ended = false;
    const onEnd = (code: number | null, signal: NodeJS.Signals | null) => {
      if (ended) return;
      ended = true;
      if (child === backend) child = undefined;
      if (stopped) return;
      const restartInMs = backoff.next(now() - startedAt);
      options.onExit?.({ code, signal, restartInMs });
      timer = setTimeout(start, restartInMs);
    };
    backend.on("exit", onEnd);
    // A command that cannot start (no `node` on PATH) is a crash like any other: retried with backoff.
    backend.on("error", () => onEnd(null, null));
  };

  start();
  return {
    get running() {
      return child !== undefined;
    },
    async stop(graceMs = 3_000) {
      stopped = true;
      clearTimeout(timer);
      const current = child;
      if (!current || current.exitCode !== null || current.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => current.once("exit", () => resolve()));
      current.kill("SIGTERM");
      const kill = setTimeout(() => current.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(kill);
    },
  };
}
