import {
  CommandCode,
  ControlPanel,
  type ControlPanelOptions,
  crc16,
  createMemoryLink,
  Lane,
  type Packet,
  PacketReader,
  SecurityBlock,
  type Transport,
} from "@sesame/bridge";
import { ManualClock } from "@sesame/bridge/testing";
import { describe, expect, it } from "vitest";
import { LaneController, SimBus, SimReader } from "../src/index.js";
import { record } from "./helpers.js";

const KEY = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
const OTHER_KEY = Uint8Array.from({ length: 16 }, (_, i) => 0x10 + i);

/**
 * The simulated lane (controller at 0, reader at 1) behind a link that shows the test every packet
 * both ways and may rewrite the PDs' replies (a MAC byte flipped, the CRC made good again).
 */
function securedLane(options: {
  readonly pdKey: Uint8Array | undefined;
  readonly cpKey: Uint8Array | undefined;
  readonly libosdp?: boolean;
  readonly rewriteReply?: (packet: Packet) => Uint8Array | undefined;
  readonly controlPanel?: Partial<ControlPanelOptions>;
}) {
  const clock = new ManualClock();
  const bus = new SimBus({ paced: false, clock });
  const controller = new LaneController({
    address: 0,
    clock,
    scbk: options.pdKey,
    libosdpStatusBlock: options.libosdp,
  });
  const reader = new SimReader({ address: 1, scbk: options.pdKey, libosdpStatusBlock: options.libosdp });
  bus.add(controller.device);
  bus.add(reader.device);
  const [cpEnd, towardsCp] = createMemoryLink("cp");
  const [towardsBus, busEnd] = createMemoryLink("bus");
  bus.attach(busEnd);
  const commands: { at: number; packet: Packet }[] = [];
  forward(towardsCp, towardsBus, (packet) => {
    commands.push({ at: clock.now(), packet });
    return packet.bytes;
  });
  forward(towardsBus, towardsCp, (packet) => options.rewriteReply?.(packet) ?? packet.bytes);
  const controlPanel = new ControlPanel({ connect: async () => cpEnd, clock, ...options.controlPanel });
  const peripheral = options.cpKey === undefined ? {} : { scbk: options.cpKey };
  const lane = new Lane(controlPanel, {
    controller: { address: 0, ...peripheral },
    readers: [{ address: 1, ...peripheral }],
    clock,
  });
  const events = record(lane);
  const warnings: string[] = [];
  const offline: [number, string][] = [];
  controlPanel.on("warning", (message) => warnings.push(message));
  controlPanel.on("offline", (address, reason) => offline.push([address, reason]));
  controlPanel.start();
  return {
    clock,
    controlPanel,
    lane,
    reader,
    events,
    warnings,
    offline,
    commands,
    /** When each osdp_CHLNG to `address` went out: one per handshake attempt. */
    challenges: (address: number) =>
      commands.filter((c) => c.packet.address === address && c.packet.code === CommandCode.CHLNG),
    async close() {
      controller.close();
      await lane.close();
      await controlPanel.stop();
    },
  };
}

function forward(from: Transport, to: Transport, rewrite: (packet: Packet) => Uint8Array): void {
  const reader = new PacketReader();
  from.onData((chunk) => {
    for (const event of reader.push(chunk)) {
      if (event.kind === "packet") void to.write(rewrite(event.packet));
    }
  });
}

/** The reply with one MAC byte flipped and its CRC recomputed: only the MAC check can refuse it. */
function flipMac(packet: Packet): Uint8Array {
  const bytes = packet.bytes.slice();
  bytes[packet.macOffset] = (bytes[packet.macOffset] ?? 0) ^ 0x01;
  const crc = crc16(bytes, 0, bytes.length - 2);
  bytes[bytes.length - 2] = crc & 0xff;
  bytes[bytes.length - 1] = crc >> 8;
  return bytes;
}

const statusUnderScs15 = (packet: Packet) => packet.securityBlock?.type === SecurityBlock.SCS_15;

describe("secure channel with PDs built on libosdp (status replies under SCS_15)", () => {
  it("brings both PDs online when the MAC verifies, says so once per PD, and the lane works", async () => {
    const seen: number[] = [];
    const t = securedLane({
      pdKey: KEY,
      cpKey: KEY,
      libosdp: true,
      rewriteReply: (packet) => {
        if (statusUnderScs15(packet)) seen.push(packet.code);
        return undefined;
      },
    });
    await t.clock.until(() => t.lane.online && t.controlPanel.status(1) === "online", 5_000);
    // The quirk really was on the wire: ISTATR, OSTATR and LSTATR under a command's block type.
    expect(new Set(seen)).toEqual(new Set([0x48, 0x49, 0x4a]));
    expect(t.controlPanel.info(0).security).toBe("scbk");
    const deviations = t.warnings.filter((m) => /came with security block 0x15 .* accepted/.test(m));
    expect(deviations).toHaveLength(2);
    expect(deviations[0]).toMatch(/^lane controller: osdp_(ISTATR|OSTATR|LSTATR) came with/);
    expect(deviations[1]).toMatch(/^reader: /);
    expect(t.controlPanel.counters.deviantBlockTypes).toBeGreaterThanOrEqual(6);
    expect(t.controlPanel.counters.secureChannelFailures).toBe(0);

    const grant = t.lane.unlock("entry");
    await t.clock.advance(10);
    await expect(grant).resolves.toMatchObject({ direction: "entry" });
    t.reader.scan("HC1:LIBOSDP");
    await t.clock.until(() => t.events.scans.length === 1, 1_000);
    // An input change later comes as an ISTATR under SCS_15 too: taken, not said again.
    await t.clock.advance(1_000);
    expect(t.warnings.filter((m) => /came with security block/.test(m))).toHaveLength(2);
    await t.close();
  });

  it("with PDs that send the specification's block types, nothing deviates", async () => {
    const t = securedLane({ pdKey: KEY, cpKey: KEY });
    await t.clock.until(() => t.lane.online && t.controlPanel.status(1) === "online", 5_000);
    expect(t.controlPanel.counters.deviantBlockTypes).toBe(0);
    expect(t.warnings.filter((m) => /came with security block/.test(m))).toEqual([]);
    await t.close();
  });

  it("still refuses a status reply under SCS_15 whose MAC does not verify", async () => {
    const t = securedLane({
      pdKey: KEY,
      cpKey: KEY,
      libosdp: true,
      rewriteReply: (packet) => (statusUnderScs15(packet) ? flipMac(packet) : undefined),
    });
    await t.clock.advance(3_000);
    expect(t.lane.online).toBe(false);
    expect(t.controlPanel.status(0)).not.toBe("online");
    expect(t.controlPanel.counters.macFailures).toBeGreaterThan(0);
    expect(t.controlPanel.counters.deviantBlockTypes).toBe(0);
    expect(t.warnings.some((m) => /reply MAC does not verify \(osdp_ISTATR\); refused/.test(m))).toBe(true);
    await t.close();
  });
});

describe("after secure-channel failures", () => {
  /** Gaps between one handshake attempt and the next, in clock milliseconds. */
  const gaps = (times: number[]) => times.slice(1).map((at, i) => at - (times[i] ?? 0));

  it("backs off, doubling up to the cap, when the PD's replies never verify; offline once, with the reason", async () => {
    const t = securedLane({
      pdKey: KEY,
      cpKey: KEY,
      rewriteReply: (packet) =>
        packet.address === 0 && packet.securityBlock !== undefined && packet.mac !== undefined
          ? flipMac(packet)
          : undefined,
      controlPanel: { secureRetryMs: 500, secureRetryMaxMs: 4_000 },
    });
    await t.clock.advance(19_000);
    const attempts = t.challenges(0).map((c) => c.at);
    // The first failure restarts at once (a PD may have rebooted); then 0.5, 1, 2, 4, 4, 4… s.
    expect(gaps(attempts)).toEqual([0, 500, 1_000, 2_000, 4_000, 4_000, 4_000]);
    expect(t.controlPanel.counters.secureChannelFailures).toBe(attempts.length);
    // Reported once (the retries fail alike), with the reason; the lane says it to the gate.
    expect(t.offline).toEqual([[0, "secure channel failed: reply MAC mismatch"]]);
    expect(t.events.offline).toEqual(["secure channel failed: reply MAC mismatch"]);
    expect(t.controlPanel.status(0)).toBe("offline");
    // A command fails at once, saying why: no TIMEOUT after "0 attempts".
    await expect(t.controlPanel.send(0, { kind: "lstat" })).rejects.toMatchObject({
      code: "SECURE_CHANNEL",
      message: expect.stringMatching(/offline: secure channel failed \(reply MAC mismatch\)/),
    });
    // The reader, whose replies do verify, is not held back by its neighbour.
    expect(t.controlPanel.status(1)).toBe("online");
    await t.close();
  });

  it("backs off a handshake the PD refuses (wrong key) from the first failure", async () => {
    const t = securedLane({
      pdKey: KEY,
      cpKey: OTHER_KEY,
      controlPanel: { secureRetryMs: 500, secureRetryMaxMs: 8_000 },
    });
    await t.clock.advance(16_000);
    const attempts = t.challenges(0).map((c) => c.at);
    expect(gaps(attempts)).toEqual([500, 1_000, 2_000, 4_000, 8_000]);
    expect(t.offline.filter(([address]) => address === 0)).toEqual([
      [0, expect.stringMatching(/^secure channel failed: the PD's cryptogram does not match our SCBK$/)],
    ]);
    expect(t.events.offline).toHaveLength(1);
    await t.close();
  });

  it("comes online after the back-off once the channel verifies, and starts counting afresh", async () => {
    let corrupt = Number.POSITIVE_INFINITY;
    const t = securedLane({
      pdKey: KEY,
      cpKey: KEY,
      rewriteReply: (packet) => {
        if (corrupt <= 0 || packet.address !== 0 || packet.mac === undefined) return undefined;
        corrupt--;
        return flipMac(packet);
      },
      controlPanel: { secureRetryMs: 500, secureRetryMaxMs: 4_000 },
    });
    await t.clock.advance(5_000);
    expect(t.controlPanel.status(0)).toBe("offline");
    corrupt = 0;
    await t.clock.until(() => t.lane.online, 5_000);
    expect(t.events.online).toBe(1);
    await t.clock.advance(200);
    // One bad reply after verified traffic: a restart at once (as after a PD's reboot), no back-off,
    // and the lane never goes offline.
    const before = t.challenges(0).length;
    corrupt = 1;
    await t.clock.advance(200);
    const after = t.challenges(0);
    expect(after).toHaveLength(before + 1);
    expect(t.lane.online).toBe(true);
    expect(t.events.offline).toEqual(["secure channel failed: reply MAC mismatch"]);
    expect(t.controlPanel.status(0)).toBe("online");
    await t.close();
  });
});
