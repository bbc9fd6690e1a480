import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { Lane, openSerialTransport, PacketReader } from "@sesame/bridge";
import { afterEach, describe, expect, it } from "vitest";
import { runSimLaneCommand } from "../src/index.js";
import { eventually, record } from "./helpers.js";

async function runInProcess(argv: string[]): Promise<{ code: number; output: string }> {
  const stdout = new PassThrough();
  let output = "";
  stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const controller = new AbortController();
  const stdin = new PassThrough();
  const running = runSimLaneCommand(argv, { stdout, stdin, signal: controller.signal });
  const code = await Promise.race([
    running,
    eventually(() => output.includes("connect to:"), "start").then(() => -1),
  ]);
  if (code !== -1) return { code, output };
  controller.abort();
  return { code: await running, output };
}

describe("sesame sim lane: arguments", () => {
  it.each([
    [["--address", "200"], /--address must be 0-126/],
    [["--scbk", "1234"], /--scbk: .*32 hex digits/],
    [["--listen", "127.0.0.1:4000"], /neither a serial device path .* nor tcp:\/\/HOST:PORT/],
    [["--listen", "tcp://127.0.0.1:1", "--pty", "/tmp/x"], /either --listen or --pty/],
    [["--pty", "relative/path"], /absolute path/],
    [["--bogus"], /Unknown option '--bogus'/],
    [["--baud", "fast"], /--baud must be/],
  ])("%j is a usage error with a clear message", async (argv, message) => {
    const { code, output } = await runInProcess(argv);
    expect(code).toBe(2);
    expect(output).toMatch(message);
    expect(output).toMatch(/usage: sesame sim lane/);
  });

  it("starts on a free TCP port by default and says where to connect", async () => {
    const { code, output } = await runInProcess([]);
    expect(code).toBe(0);
    expect(output).toMatch(/connect to: tcp:\/\/127\.0\.0\.1:\d+/);
    expect(output).toMatch(/clear text/);
  });
});

describe("sesame sim lane: security", () => {
  /** Runs the simulator in this process until `use` is done with the address it printed. */
  async function withSimLane(argv: string[], use: (where: string, output: () => string) => Promise<void>) {
    const stdout = new PassThrough();
    let output = "";
    stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const stop = new AbortController();
    const running = runSimLaneCommand(argv, { stdout, stdin: new PassThrough(), signal: stop.signal });
    try {
      await eventually(() => output.includes("connect to:"), "start");
      const where = /connect to: (\S+)/.exec(output)?.[1] ?? "";
      await use(where, () => output);
    } finally {
      stop.abort();
      expect(await running).toBe(0);
    }
  }

  it("without --scbk accepts an SCBK-D handshake (install mode), as docs/osdp.md says", async () => {
    await withSimLane([], async (where, output) => {
      expect(output()).toMatch(/clear text, or the secure channel on SCBK-D/);
      // A control panel in install mode without a key runs the channel on SCBK-D.
      const lane = Lane.open(where, {
        controller: { address: 0, install: true },
        readers: [{ address: 1, install: true }],
      });
      try {
        await lane.ready(8_000);
        expect(lane.controlPanel.info(0).security).toBe("scbk-d");
        await eventually(() => lane.controlPanel.status(1) === "online", "the reader online");
        expect(lane.controlPanel.info(1).security).toBe("scbk-d");
        expect(lane.controlPanel.counters.naks).toBe(0);
      } finally {
        await lane.close();
      }
    });
  });

  it("with --scbk and without --install refuses SCBK-D", async () => {
    const key = "000102030405060708090a0b0c0d0e0f";
    await withSimLane(["--scbk", key, "--no-reader"], async (where, output) => {
      expect(output()).toMatch(/secure channel required \(SCBK given\)/);
      const lane = Lane.open(where, { controller: { address: 0, install: true } });
      const offline = new Promise<string>((resolve) => lane.once("controller-offline", resolve));
      try {
        expect(await offline).toMatch(/^secure channel failed: NAK 6 .* to chlng$/);
        expect(lane.online).toBe(false);
      } finally {
        await lane.close();
      }
    });
  });

  it("--libosdp seals status replies under SCS_15, which our control panel takes once the MAC verifies", async () => {
    const key = "000102030405060708090a0b0c0d0e0f";
    await withSimLane(["--scbk", key, "--libosdp"], async (where, output) => {
      expect(output()).toMatch(/status replies under security block 0x15/);
      const scbk = Uint8Array.from(Buffer.from(key, "hex"));
      const lane = Lane.open(where, { controller: { address: 0, scbk }, readers: [{ address: 1, scbk }] });
      const warnings: string[] = [];
      lane.on("warning", (m) => warnings.push(m));
      try {
        await lane.ready(8_000);
        expect(lane.controlPanel.info(0).security).toBe("scbk");
        expect(lane.controlPanel.counters.deviantBlockTypes).toBeGreaterThan(0);
        expect(warnings.some((m) => /came with security block 0x15/.test(m))).toBe(true);
      } finally {
        await lane.close();
      }
    });
  });
});

const bin = fileURLToPath(new URL("../src/bin/sim-lane.ts", import.meta.url));
let child: ChildProcess | undefined;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  const running = child;
  if (running !== undefined && running.exitCode === null) {
    // SIGTERM lets the simulator stop socat and remove its links; SIGKILL only if it hangs.
    const exited = new Promise((resolve) => running.once("exit", resolve));
    running.kill("SIGTERM");
    const timer = setTimeout(() => running.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  }
});

describe("sesame sim lane as a separate process on a PTY", () => {
  it("answers raw OSDP bytes from any program, drives a passage for our bridge, and quits cleanly", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sesame-cli-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const link = join(dir, "ttyLANE");
    const proc = spawn(process.execPath, ["--import", "tsx", bin, "--pty", link, "--address", "5"], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    child = proc;
    let output = "";
    proc.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    proc.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    await eventually(() => output.includes("connect to:"), "the simulator to start", 15_000);
    expect(output).toContain(`connect to: ${link}`);

    // Another program, not our control panel: plain serialport and hand-written bytes. osdp_ID to
    // address 5, sequence 0, CRC (the Annex E example re-addressed; CRC from our checked CRC-16).
    const port = await openSerialTransport(link);
    const reader = new PacketReader();
    const replies: number[] = [];
    port.onData((chunk) => {
      for (const event of reader.push(chunk)) if (event.kind === "packet") replies.push(event.packet.code);
    });
    await port.write(Uint8Array.from([0xff, 0x53, 0x05, 0x09, 0x00, 0x04, 0x61, 0x00, 0xc1, 0x25]));
    await eventually(() => replies.length === 1, "the PDID reply");
    expect(replies).toEqual([0x45]);
    await port.close();

    const lane = Lane.open(link, { controller: { address: 5 }, readers: [{ address: 6 }] });
    cleanups.push(() => lane.close());
    const events = record(lane);
    await lane.ready(8_000);
    await lane.unlock("entry");
    await eventually(() => output.includes("entry UNLOCKED"), "the console to show the unlock");
    proc.stdin?.write("walk entry\n");
    await eventually(() => events.passages.length === 1, "the passage");
    proc.stdin?.write("scan HC1:FROM-THE-CONSOLE\n");
    await eventually(() => events.scans.length === 1, "the scan");
    expect(events.scans[0]).toBe("HC1:FROM-THE-CONSOLE");
    await lane.close();

    const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
    proc.stdin?.write("quit\n");
    expect(await exited).toBe(0);
  });
});
