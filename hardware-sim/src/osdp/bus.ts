import { randomBytes } from "node:crypto";
import { type Clock, type Packet, PacketReader, systemClock, type Transport } from "@sesame/bridge";
import type { PeripheralDevice } from "./peripheral.js";
import { PacedWriter } from "./wire.js";

export interface SimBusOptions {
  /** Line speed the simulator paces its bytes at (default 115200). */
  readonly baudRate?: number;
  /** Time a PD takes between the end of a command and the start of its reply. */
  readonly turnaroundMs?: number;
  /** Set false to write at once (unit tests over an in-memory link). */
  readonly paced?: boolean;
  readonly clock?: Clock;
  readonly random?: (length: number) => Uint8Array;
}

export interface SimBusCounters {
  commands: number;
  replies: number;
  droppedReplies: number;
  corruptedReplies: number;
  noiseBytes: number;
  discardedBytes: number;
  lostWhileUnplugged: number;
}

/**
 * An RS-485 bus with simulated PDs on it, reached through one transport (a PTY end or a TCP
 * socket). It parses commands, lets the addressed PD answer, paces replies at the baud rate, and
 * injects the faults a venue cable has: line noise, corrupted CRCs, dropped replies, an unplugged cable.
 */
export class SimBus {
  readonly counters: SimBusCounters = {
    commands: 0,
    replies: 0,
    droppedReplies: 0,
    corruptedReplies: 0,
    noiseBytes: 0,
    discardedBytes: 0,
    lostWhileUnplugged: 0,
  };
  /** Fault switches, also usable directly. */
  readonly faults = {
    unplugged: false,
    dropReplies: 0,
    corruptReplies: 0,
    /** Probability (0–1) that a reply is preceded by a burst of line noise. */
    noiseBeforeReply: 0,
  };
  /** Commands this bus has seen (addressed to any PD), for observers such as the tech console. */
  onCommand: ((packet: Packet) => void) | undefined;

  private readonly peripherals = new Map<number, PeripheralDevice>();
  private readonly reader = new PacketReader();
  private readonly writer: PacedWriter;
  private readonly clock: Clock;
  private readonly random: (length: number) => Uint8Array;
  private readonly turnaroundMs: number;
  private transport: Transport | undefined;
  private detachTransport: (() => void) | undefined;

  constructor(options: SimBusOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? ((length) => new Uint8Array(randomBytes(length)));
    this.turnaroundMs = options.turnaroundMs ?? 0.5;
    this.writer = new PacedWriter(
      () => this.transport,
      options.baudRate ?? 115_200,
      this.clock,
      options.paced ?? true,
    );
  }

  add(peripheral: PeripheralDevice): void {
    if (this.peripherals.has(peripheral.address)) {
      throw new Error(`address ${peripheral.address} is already taken on this bus`);
    }
    this.peripherals.set(peripheral.address, peripheral);
  }

  peripheral(address: number): PeripheralDevice | undefined {
    return this.peripherals.get(address);
  }

  /** Connects the bus to a transport, replacing any previous one (a CP that reconnected). */
  attach(transport: Transport): void {
    this.detach();
    this.transport = transport;
    this.reader.reset();
    const offData = transport.onData((chunk) => this.onBytes(chunk));
    const offClose = transport.onClose(() => {
      if (this.transport === transport) this.detach();
    });
    this.detachTransport = () => {
      offData();
      offClose();
    };
  }

  detach(): void {
    this.detachTransport?.();
    this.detachTransport = undefined;
    this.transport = undefined;
    this.writer.clear();
  }

  get attached(): boolean {
    return this.transport !== undefined;
  }

  /** Cable pulled: nothing gets through in either direction until plug(). */
  unplug(): void {
    this.faults.unplugged = true;
    this.writer.clear();
    this.reader.reset();
  }

  plug(): void {
    this.faults.unplugged = false;
  }

  dropNextReplies(count = 1): void {
    this.faults.dropReplies += count;
  }

  corruptNextReplies(count = 1): void {
    this.faults.corruptReplies += count;
  }

  /** A fraction in [0, 1) from the bus's random source (seeded in tests and rehearsals). */
  private fraction(): number {
    const [a = 0, b = 0] = this.random(2);
    return ((a << 8) | b) / 65_536;
  }

  /** Puts random bytes on the line between frames. */
  injectNoise(length = 8): void {
    if (this.faults.unplugged) return;
    this.counters.noiseBytes += length;
    this.writer.send(this.random(length));
  }

  private onBytes(chunk: Uint8Array): void {
    if (this.faults.unplugged) {
      this.counters.lostWhileUnplugged += chunk.length;
      return;
    }
    const arrivedAt = this.clock.now();
    for (const event of this.reader.push(chunk)) {
      if (event.kind === "discarded") {
        this.counters.discardedBytes += event.bytes;
        continue;
      }
      this.onPacket(event.packet, arrivedAt);
    }
  }

  private onPacket(packet: Packet, arrivedAt: number): void {
    if (packet.reply) return;
    this.counters.commands++;
    this.onCommand?.(packet);
    const peripheral = this.peripherals.get(packet.address);
    if (peripheral === undefined) return;
    const reply = peripheral.receive(packet);
    if (reply === undefined) return;
    if (this.faults.dropReplies > 0) {
      this.faults.dropReplies--;
      this.counters.droppedReplies++;
      return;
    }
    let bytes = reply;
    if (this.faults.corruptReplies > 0) {
      this.faults.corruptReplies--;
      this.counters.corruptedReplies++;
      bytes = reply.slice();
      const last = bytes.length - 1;
      bytes[last] = (bytes[last] ?? 0) ^ 0x5a;
    }
    // The command took wire time to arrive in full; the PD answers after its turnaround.
    const notBefore = arrivedAt + this.writer.wireTime(packet.bytes.length + 1) + this.turnaroundMs;
    if (this.faults.noiseBeforeReply > 0 && this.fraction() < this.faults.noiseBeforeReply) {
      const noise = this.random(2 + Math.floor(this.fraction() * 8));
      this.counters.noiseBytes += noise.length;
      this.writer.send(noise, notBefore);
    }
    this.counters.replies++;
    this.writer.send(bytes, notBefore);
  }
}
