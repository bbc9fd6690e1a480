import {
  SerialCable,
  SimulatedSerialScanner,
  type SimulatedSerialScannerOptions,
} from "@sesame/hardware-sim";
import { afterEach, describe, expect, it } from "vitest";
import {
  ScanDebouncer,
  type ScanEvent,
  type ScanProblem,
  type SerialScannerOptions,
  SerialScannerReader,
} from "../src/index.js";
import { credentialShapedText } from "./fixtures.js";
import { waitFor } from "./wait.js";

// Real bytes over real PTYs: the simulated scanner writes to one end of a socat pair,
// the reader opens the other with serialport.

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function rig(
  reader: Partial<Omit<SerialScannerOptions, "path" | "onScan">> = {},
  scanner: Partial<Omit<SimulatedSerialScannerOptions, "path">> = {},
) {
  const cable = await SerialCable.create();
  cleanups.push(() => cable.destroy());
  const scans: ScanEvent[] = [];
  const problems: ScanProblem[] = [];
  const gate = new SerialScannerReader({
    path: cable.hostPath,
    lane: "L1",
    reconnectDelayMs: 20,
    maxReconnectDelayMs: 100,
    ...reader,
    onScan: (event) => scans.push(event),
    onProblem: (problem) => problems.push(problem),
  });
  await gate.start();
  cleanups.push(() => gate.stop());
  const device = await SimulatedSerialScanner.open({ path: cable.devicePath, ...scanner });
  cleanups.push(() => device.close());
  return { cable, gate, device, scans, problems };
}

const ticket = credentialShapedText(11);

describe("serial scanner over a PTY", () => {
  it.each(["CR", "LF", "CRLF"] as const)(
    "reads codes framed with %s, AIM identifier and ECI",
    async (suffix) => {
      const { device, scans, problems } = await rig({ framing: { suffix } });
      await device.scan(ticket, { suffix, aimIdentifier: true });
      await device.scan(ticket, { suffix, aimIdentifier: true, eci: 26 });
      await device.scan(ticket, { suffix, eci: 26 });
      await device.scan("https://example.org/", { suffix });
      await waitFor("four scans", () => scans.length === 4);
      expect(scans.slice(0, 3).map((s) => s.text)).toEqual([ticket, ticket, ticket]);
      expect(scans.slice(0, 3).every((s) => s.content.kind === "sesame" && s.source === "serial")).toBe(true);
      expect(scans[0]?.symbology?.aim).toBe("]Q1");
      expect(scans[1]?.symbology?.aim).toBe("]Q2");
      expect(new TextDecoder().decode(scans[1]?.raw)).toBe(`]Q2\\000026${ticket}`);
      expect(scans[3]?.content).toMatchObject({ kind: "foreign", foreign: "url" });
      expect(problems).toEqual([]);
    },
  );

  it("reads suffix-less codes sent at 4800 baud pace by their inter-byte timeout", async () => {
    // The code takes over half a second to arrive, longer than the timeout: the frame ends on the
    // quiet between bytes, not on the time since its first. 300 ms of quiet, not a real scanner's
    // 50: socat and this process, on a loaded machine, can pause the line for tens of ms mid-code.
    const { device, scans } = await rig(
      { framing: { suffix: "none", interByteTimeoutMs: 300 } },
      { paceAtBaudRate: true, baudRate: 4800 },
    );
    await device.scan(ticket, { suffix: "none" });
    await waitFor("a scan", () => scans.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(scans.map((s) => s.text)).toEqual([ticket]);
  });

  it("reconnects when the cable is pulled and plugged back", async () => {
    const connections: boolean[] = [];
    const { cable, device, scans, problems } = await rig({ onConnectionChange: (c) => connections.push(c) });
    await device.scan(ticket);
    await waitFor("first scan", () => scans.length === 1);
    await cable.unplug();
    await waitFor("the disconnect", () => problems.some((p) => p.code === "disconnected"));
    await device.close();
    await cable.plugIn();
    await waitFor("the reconnect", () => problems.some((p) => p.code === "reconnected"));
    const again = await SimulatedSerialScanner.open({ path: cable.devicePath });
    cleanups.push(() => again.close());
    await again.scan(credentialShapedText(12));
    await waitFor("scan after replug", () => scans.length === 2);
    expect(scans[1]?.text).toBe(credentialShapedText(12));
    expect(connections).toEqual([true, false, true]);
  });

  it("waits for a scanner that is not plugged in yet", async () => {
    const cable = await SerialCable.create();
    cleanups.push(() => cable.destroy());
    await cable.unplug();
    const scans: ScanEvent[] = [];
    const problems: ScanProblem[] = [];
    const gate = new SerialScannerReader({
      path: cable.hostPath,
      lane: "L1",
      reconnectDelayMs: 20,
      maxReconnectDelayMs: 50,
      onScan: (e) => scans.push(e),
      onProblem: (p) => problems.push(p),
    });
    await gate.start();
    cleanups.push(() => gate.stop());
    expect(problems).toEqual([
      expect.objectContaining({ code: "disconnected", message: expect.stringMatching(/retrying/) }),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(problems).toHaveLength(1);
    await cable.plugIn();
    await waitFor("connection", () => gate.connected);
    const device = await SimulatedSerialScanner.open({ path: cable.devicePath });
    cleanups.push(() => device.close());
    await device.scan(ticket);
    await waitFor("scan", () => scans.length === 1);
  });

  it("survives garbage, control characters, 1 MB bursts and endless lines, then reads again", async () => {
    const { device, scans, problems } = await rig({
      framing: { suffix: "CR", incompleteFrameTimeoutMs: 100 },
    });
    await device.sendNoise(64 * 1024);
    await device.sendRaw(new Uint8Array(1 << 20).fill(0x41));
    await device.sendRaw(new TextEncoder().encode("\r"));
    await device.sendRaw(
      new TextEncoder().encode(`\x00\x1b[2J${ticket.slice(0, 100)}\x07${ticket.slice(100)}\r`),
    );
    await device.sendRaw(new Uint8Array(5000).fill(0x42));
    await waitFor("the endless line to be reported", () =>
      problems.some((p) => p.code === "frame-too-long" && p.message.includes("CR never came")),
    );
    // The reader drops the endless line after 100 ms of quiet; a code that comes before (the rest
    // of the burst still in the PTY, a loaded machine) ends the discarded line instead. As a holder
    // would, scan again until the reader reads it.
    await new Promise((resolve) => setTimeout(resolve, 150));
    for (let attempt = 0; !scans.some((s) => s.text === ticket); attempt++) {
      if (attempt === 10) throw new Error("the reader never read a good code after the garbage");
      await device.scan(ticket);
      await waitFor("the good scan", () => scans.some((s) => s.text === ticket), 1_000).catch(() => {});
    }
    const good = scans.filter((s) => s.content.kind === "sesame");
    expect(good.length).toBeGreaterThanOrEqual(1);
    expect(scans.every((s) => s.text.length <= 4096)).toBe(true);
    // Every rejected frame says why; nothing in the noise looks like a ticket.
    for (const scan of scans.filter((s) => s.content.kind !== "sesame")) {
      expect(scan.content).toHaveProperty("message");
    }
  });

  it("turns a scanner repeating the same code 20 times a second into one accepted scan", async () => {
    const { device, scans } = await rig();
    for (let i = 0; i < 40; i++) {
      await device.scan(ticket);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await waitFor("forty reads", () => scans.length === 40);
    const debouncer = new ScanDebouncer();
    expect(scans.filter((s) => debouncer.accept(s).accepted)).toHaveLength(1);
  });
});
