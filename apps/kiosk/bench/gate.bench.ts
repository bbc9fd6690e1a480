import { spawnSync } from "node:child_process";
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Transport, TransportFactory } from "@sesame/bridge";
import { SimulatedSerialScanner, startSimLane, startSocatPair, stopSocat } from "@sesame/hardware-sim";
import { openSerialPortLink, type SerialLinkOpener } from "@sesame/scanner";
import { type BenchFigure, percentile } from "@sesame/testing/bench";
import { Category, createNodeSigner, seededRandom } from "@sesame/ticket";
import { generateDemoVenue, walletCode, writeVenueDirectory } from "@sesame/venue";
import { parseGateConfig } from "../src/gate/config.js";
import { startGateNode } from "../src/gate/gate-node.js";

/*
 * Scan bytes in at the lane → unlock command out, through the whole gate (docs/design.md §11 targets,
 * issue 8): a serial scanner on a PTY sends a holder's live code; the gate frames and normalizes
 * it, verifies it, decides, commits `authorized` durably, and hands osdp_OUT to the lane
 * controller's link (simulated lane controller over TCP). Measured from the arrival of the
 * scanner's last chunk at the gate to the OUT packet handed to the controller's transport.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const OSDP_OUT = 0x68;

export async function run(): Promise<BenchFigure[]> {
  if (spawnSync("sh", ["-c", "command -v socat"]).status !== 0) {
    console.log("    (socat is not installed: the serial-scanner path cannot be measured)");
    return [];
  }
  const dir = mkdtempSync(join(tmpdir(), "sesame-gate-bench-"));
  const signer = createNodeSigner();
  const now = Date.now();
  const demo = generateDemoVenue({
    spectators: 100_000,
    doorsOpenMs: Math.floor(now / 3_600_000) * 3_600_000 - 3_600_000,
    entrances: 1,
    lanes: 1,
    random: seededRandom("gate-bench"),
    signer,
  });
  const venueDir = join(dir, "venue");
  writeVenueDirectory(venueDir, demo, signer);
  const issuerSeed = Uint8Array.from(Buffer.from(Object.values(demo.secrets.issuerSeeds)[0] ?? "", "hex"));
  const valid = new Set(
    demo.rows.filter((r) => r.state === "valid" && !r.late).map((r) => `${r.id}:${r.generation}`),
  );
  const wallets = demo.wallets.filter(
    (w) =>
      w.deviceSeed &&
      valid.has(`${w.body.ticketId}:${w.body.generation}`) &&
      w.body.sessions.includes(1) &&
      (w.body.categories & (Category.ID_CHECK | Category.ACCESSIBILITY)) === 0,
  );

  const sim = await startSimLane({ endpoint: { tcp: { host: "127.0.0.1", port: 0 } }, readerAddress: false });
  const scannerHost = join(dir, "scanner-host");
  const scannerDevice = join(dir, "scanner-device");
  const socat = await startSocatPair(scannerHost, scannerDevice);
  let lastChunkAt = Number.NaN;
  let outAt = Number.NaN;
  const serialOpener: SerialLinkOpener = async (path, baud) => {
    const link = await openSerialPortLink(path, baud);
    return {
      ...link,
      onData: (listener) =>
        link.onData((chunk) => {
          lastChunkAt = performance.now();
          listener(chunk);
        }),
    };
  };
  const transport = (_lane: number, factory: TransportFactory): TransportFactory => {
    return async () => {
      const t = await factory();
      const write = t.write.bind(t);
      return Object.assign(Object.create(Object.getPrototypeOf(t)), t, {
        write: (bytes: Uint8Array) => {
          if (bytes[6] === OSDP_OUT && Number.isNaN(outAt)) outAt = performance.now();
          return write(bytes);
        },
      }) as Transport;
    };
  };
  const config = parseGateConfig(
    {
      gateId: demo.venue.gates[0]?.id ?? "A1",
      dataDir: join(dir, "gate"),
      venueDir,
      lanes: [
        {
          lane: 1,
          direction: "entry",
          controller: sim.where,
          readerAddress: null,
          scanner: { path: scannerHost, baudRate: 115_200, suffix: "CR" },
        },
      ],
      http: { port: 0 },
      passageWindowMs: 1_000,
    },
    dir,
  );
  const gate = await startGateNode(config, { log: () => {}, instrument: { transport, serialOpener } });
  const scanner = await SimulatedSerialScanner.open({ path: scannerDevice, baudRate: 115_200 });
  const latencies: number[] = [];
  let refused = 0;
  try {
    await gate.lanes.get(1)?.ready(10_000);
    const warmup = 50;
    const count = Math.min(wallets.length, 550);
    for (let i = 0; i < count; i++) {
      const wallet = wallets[i];
      if (!wallet) break;
      await sleep(20 + (i % 7) * 5);
      lastChunkAt = Number.NaN;
      outAt = Number.NaN;
      await scanner.scan(walletCode(wallet, issuerSeed, Date.now(), signer));
      const until = performance.now() + 2_000;
      while (Number.isNaN(outAt) && performance.now() < until) await sleep(1);
      if (Number.isNaN(outAt)) {
        refused++;
        continue;
      }
      if (i >= warmup) latencies.push(outAt - lastChunkAt);
    }
    const reasons = new Map<string, number>();
    for (const e of gate.store.events(1, 10_000)) {
      if (e.kind === "refused") reasons.set(e.reason, (reasons.get(e.reason) ?? 0) + 1);
    }
    if (reasons.size > 0) console.log(`    refusals: ${JSON.stringify(Object.fromEntries(reasons))}`);
  } finally {
    await scanner.close();
    await gate.close();
    await sim.close();
    await stopSocat(socat);
  }
  let floor: number[];
  try {
    floor = await loneDurableWrites(dir, Math.min(latencies.length, 500));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const sorted = latencies.sort((a, b) => a - b);
  const p99 = percentile(sorted, 99);
  return [
    {
      name: "scan bytes in → unlock out, whole gate (serial PTY → OSDP/TCP), p99",
      value: p99,
      unit: "ms",
      target: "p99 ≤ 2 ms",
      ok: p99 <= 2,
    },
    { name: "scan bytes in → unlock out, whole gate, p50", value: percentile(sorted, 50), unit: "ms" },
    { name: "scans measured (100,000-ticket cache, each ticket once)", value: sorted.length, unit: "scans" },
    { name: "scans that did not unlock (must be 0)", value: refused, unit: "scans" },
    {
      name: "floor: a lone 4 KiB write + fdatasync on this disk, same spacing, p50",
      value: percentile(floor, 50),
      unit: "ms",
    },
    {
      name: "floor: a lone 4 KiB write + fdatasync on this disk, same spacing, p99",
      value: percentile(floor, 99),
      unit: "ms",
    },
  ];
}

/**
 * What the disk alone costs the scan path: one 4 KiB write and its fdatasync (the least a durable
 * `authorized` record can cost), spaced like the scans above, in the gate's own directory. A scan
 * at a gate comes tens of milliseconds after the last, so its commit is a lone one, and a lone
 * flush is slower, and its tail longer, than one right behind another.
 */
async function loneDurableWrites(dir: string, count: number): Promise<number[]> {
  const file = join(dir, "floor.bin");
  writeFileSync(file, Buffer.alloc(count * 4096));
  const fd = openSync(file, "r+");
  const page = Buffer.alloc(4096, 0x5a);
  const out: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      await sleep(20 + (i % 7) * 5);
      const t = performance.now();
      writeSync(fd, page, 0, page.length, i * 4096);
      fdatasyncSync(fd);
      out.push(performance.now() - t);
    }
  } finally {
    closeSync(fd);
  }
  return out.sort((a, b) => a - b);
}
