import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir } from "@sesame/testing";
import { afterAll, describe, expect, it } from "vitest";
import {
  backendCommand,
  configPathFrom,
  isAllowedNavigation,
  LineSplitter,
  parseKioskUrlLine,
  RestartBackoff,
  superviseBackend,
  WindowRecovery,
} from "../electron/shell.js";

// The Electron shell's logic, without Electron (its binary cannot run on this machine).

describe("kiosk shell: the backend's URL line", () => {
  it("reads the loopback URL the gate backend prints", () => {
    expect(parseKioskUrlLine("kiosk http://127.0.0.1:38121")).toBe("http://127.0.0.1:38121");
    expect(parseKioskUrlLine("kiosk http://127.0.0.1:38121/\r")).toBe("http://127.0.0.1:38121");
    expect(parseKioskUrlLine("  kiosk   http://localhost:8080  ")).toBe("http://localhost:8080");
    expect(parseKioskUrlLine("kiosk http://[::1]:8080")).toBe("http://[::1]:8080");
  });

  it("ignores other lines and refuses URLs the window must never load", () => {
    for (const line of [
      "",
      "gate A1: 2 lanes ready",
      "kiosk https://127.0.0.1:8080",
      "kiosk http://evil.example:8080",
      "kiosk http://127.0.0.1:8080/../x",
      "kiosk http://127.0.0.1",
      "kiosk http://127.0.0.1:0",
      "kiosk http://127.0.0.1:99999",
      "log: kiosk http://127.0.0.1:8080",
      "kiosk http://127.0.0.1:8080 extra",
    ]) {
      expect(parseKioskUrlLine(line), line).toBeUndefined();
    }
  });

  it("splits output chunks into lines, a line arriving in pieces", () => {
    const lines = new LineSplitter();
    expect(lines.push("gate ready\nkiosk http://127.0.")).toEqual(["gate ready"]);
    expect(lines.push("0.1:4000\r\nnext")).toEqual(["kiosk http://127.0.0.1:4000"]);
    expect(lines.push("\n")).toEqual(["next"]);
  });
});

describe("kiosk shell: restart backoff", () => {
  it("doubles up to the ceiling while the backend keeps crashing, and resets after a good run", () => {
    const backoff = new RestartBackoff({ initialMs: 500, maxMs: 4_000, factor: 2, stableAfterMs: 60_000 });
    expect([100, 100, 100, 100, 100, 100].map((uptime) => backoff.next(uptime))).toEqual([
      500, 1_000, 2_000, 4_000, 4_000, 4_000,
    ]);
    expect(backoff.next(61_000)).toBe(500);
    expect(backoff.next(10)).toBe(1_000);
  });
});

describe("kiosk shell: navigation", () => {
  const origin = "http://127.0.0.1:4000";
  it("allows the kiosk's own pages only", () => {
    expect(isAllowedNavigation("http://127.0.0.1:4000/", origin)).toBe(true);
    expect(isAllowedNavigation("http://127.0.0.1:4000/assets/index.js?x#y", origin)).toBe(true);
    for (const url of [
      "http://127.0.0.1:4001/",
      "http://localhost:4000/",
      "https://127.0.0.1:4000/",
      "https://example.org/",
      "file:///etc/passwd",
      "javascript:alert(1)",
      "data:text/html,<h1>x</h1>",
      "not a url",
    ]) {
      expect(isAllowedNavigation(url, origin), url).toBe(false);
    }
    // Before the backend announced itself, nothing is allowed.
    expect(isAllowedNavigation("http://127.0.0.1:4000/", undefined)).toBe(false);
  });
});

describe("kiosk shell: configuration and command", () => {
  it("takes the gate config from argv or the environment", () => {
    expect(configPathFrom(["electron", "main.js", "--config", "/etc/gate.json"], {})).toBe("/etc/gate.json");
    expect(configPathFrom(["electron", "main.js", "--config=/etc/g.json"], {})).toBe("/etc/g.json");
    expect(configPathFrom(["electron", "main.js"], { SESAME_GATE_CONFIG: "/x.json" })).toBe("/x.json");
    expect(configPathFrom(["electron", "--config", "/a.json"], { SESAME_GATE_CONFIG: "/b.json" })).toBe(
      "/a.json",
    );
    expect(configPathFrom(["electron", "--config"], {})).toBeUndefined();
    expect(configPathFrom(["electron", "--config", "--other"], {})).toBeUndefined();
    expect(configPathFrom(["electron"], { SESAME_GATE_CONFIG: "" })).toBeUndefined();
  });

  it("runs the gate backend under Node with tsx, from the repository", () => {
    expect(backendCommand({ configPath: "/etc/gate.json", repoRoot: "/opt/sesame" })).toEqual({
      command: "node",
      args: ["--import", "tsx", "apps/kiosk/src/gate-main.ts", "--config", "/etc/gate.json"],
      cwd: "/opt/sesame",
    });
    expect(backendCommand({ configPath: "g.json", repoRoot: "/r", node: "/usr/bin/node" }).command).toBe(
      "/usr/bin/node",
    );
  });
});

describe("kiosk shell: backend supervisor (real child processes)", () => {
  const dir = makeTempDir();
  afterAll(() => dir.remove());

  it("restarts a backend that dies, hands over each announced URL, and stops it on quit", async () => {
    // A stand-in backend: announces a port, then dies the first two times; the third run stays up.
    const counter = join(dir.path, "runs");
    const script = join(dir.path, "fake-gate.mjs");
    writeFileSync(counter, "0");
    writeFileSync(
      script,
      `import { readFileSync, writeFileSync } from "node:fs";
const run = Number(readFileSync(${JSON.stringify(counter)}, "utf8")) + 1;
writeFileSync(${JSON.stringify(counter)}, String(run));
process.stdout.write("gate starting\\nkiosk http://127.0.0.1:" + (4000 + run));
process.stdout.write("\\n");
if (run < 3) setTimeout(() => process.exit(3), 20);
else setInterval(() => {}, 1000);
`,
    );
    const urls: string[] = [];
    const exits: Array<{ code: number | null; restartInMs: number }> = [];
    const supervisor = superviseBackend({
      command: { command: process.execPath, args: [script], cwd: dir.path },
      backoff: new RestartBackoff({ initialMs: 10, factor: 2, maxMs: 100 }),
      onUrl: (url) => urls.push(url),
      onExit: ({ code, restartInMs }) => exits.push({ code, restartInMs }),
    });
    const deadline = Date.now() + 15_000;
    while (urls.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(urls).toEqual(["http://127.0.0.1:4001", "http://127.0.0.1:4002", "http://127.0.0.1:4003"]);
    expect(exits).toEqual([
      { code: 3, restartInMs: 10 },
      { code: 3, restartInMs: 20 },
    ]);
    expect(supervisor.running).toBe(true);
    await supervisor.stop();
    expect(supervisor.running).toBe(false);
    // Stopped on purpose: no restart, no exit reported as a crash.
    await new Promise((r) => setTimeout(r, 100));
    expect(exits).toHaveLength(2);
  });

  it("retries a backend command that cannot start at all", async () => {
    const exits: number[] = [];
    const supervisor = superviseBackend({
      command: { command: join(dir.path, "no-such-node"), args: [], cwd: dir.path },
      backoff: new RestartBackoff({ initialMs: 5, factor: 1, maxMs: 5 }),
      onUrl: () => undefined,
      onExit: ({ restartInMs }) => exits.push(restartInMs),
    });
    const deadline = Date.now() + 10_000;
    while (exits.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await supervisor.stop();
    expect(exits.slice(0, 2)).toEqual([5, 5]);
  });
});

describe("kiosk shell: the window comes back", () => {
  const clock = () => {
    let t = 0;
    return { now: () => t, advance: (ms: number) => (t += ms) };
  };

  it("makes a closed window again at once, and never says quit", () => {
    const c = clock();
    const recovery = new WindowRecovery(c.now);
    c.advance(120_000);
    expect(recovery.lost("closed")).toEqual({ kind: "recreate", afterMs: 0 });
    recovery.shown();
    c.advance(120_000);
    expect(recovery.lost("closed")).toEqual({ kind: "recreate", afterMs: 0 });
  });

  it("reloads a crashed renderer, makes a new window after three losses in a row, and waits longer each time", () => {
    const c = clock();
    const recovery = new WindowRecovery(c.now);
    c.advance(300_000);
    const actions = Array.from({ length: 8 }, () => {
      const action = recovery.lost("renderer-gone");
      // It crashes again before its page has finished loading.
      c.advance(action.afterMs + 50);
      return action;
    });
    expect(actions.map((a) => a.kind)).toEqual([
      "reload",
      "reload",
      "recreate",
      "recreate",
      "recreate",
      "recreate",
      "recreate",
      "recreate",
    ]);
    expect(actions.map((a) => a.afterMs)).toEqual([0, 250, 500, 1_000, 2_000, 4_000, 8_000, 10_000]);
  });

  it("starts afresh once a window has shown the UI for a minute", () => {
    const c = clock();
    const recovery = new WindowRecovery(c.now);
    for (let i = 0; i < 4; i++) recovery.lost("renderer-gone");
    recovery.shown();
    c.advance(30_000);
    expect(recovery.lost("renderer-gone")).toEqual({ kind: "recreate", afterMs: 2_000 });
    recovery.shown();
    c.advance(61_000);
    expect(recovery.lost("renderer-gone")).toEqual({ kind: "reload", afterMs: 0 });
  });
});
