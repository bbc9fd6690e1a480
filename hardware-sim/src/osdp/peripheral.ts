import { randomBytes } from "node:crypto";
import {
  BROADCAST_ADDRESS,
  bytesEqual,
  CommandCode,
  clientCryptogram,
  decodeCommand,
  deriveSessionKeys,
  encodeHandshakePacket,
  encodePacket,
  encodeReply,
  handshakeKey,
  initialRmac,
  type KeyKind,
  NakCode,
  nextSequence,
  type OsdpCommand,
  type OsdpReply,
  openPacket,
  type Packet,
  PayloadError,
  type PdCapability,
  type PdIdentity,
  SCBK_D,
  SecureSession,
  SecurityBlock,
  type SecurityBlockField,
  sealPacket,
  serverCryptogram,
} from "@sesame/bridge";

/** What the device behind the OSDP interface does with application commands (OUT, LED, status…). */
export interface PeripheralApplication {
  command(command: OsdpCommand): OsdpReply;
}

export interface PeripheralOptions {
  readonly address: number;
  readonly identity: PdIdentity;
  readonly capabilities: readonly PdCapability[];
  /** A configured SCBK: the PD then answers only ID, CAP and the handshake in clear text. */
  readonly scbk?: Uint8Array;
  /** Accept a handshake on SCBK-D (default: only while no SCBK is set). */
  readonly installMode?: boolean;
  readonly secureChannel?: boolean;
  readonly random?: (length: number) => Uint8Array;
  /** How many volunteered reports wait for a POLL before the oldest are lost. */
  readonly reportQueueSize?: number;
  /**
   * Play a PD built on libosdp 3.x: inside the secure channel its status replies (ISTATR, OSTATR,
   * LSTATR) carry security block SCS_15, a command's type, with the data in clear and a valid MAC.
   * Off by default: the simulator sends the specification's SCS_16/SCS_18.
   */
  readonly libosdpStatusBlock?: boolean;
}

/** The replies a libosdp PD seals under SCS_15 (see `libosdpStatusBlock`). */
const LIBOSDP_SCS15_REPLIES: ReadonlySet<OsdpReply["kind"]> = new Set(["istatr", "ostatr", "lstatr"]);

export interface PeripheralCounters {
  commands: number;
  repeats: number;
  sequenceErrors: number;
  macFailures: number;
  naks: number;
  lostReports: number;
}

interface Handshake {
  readonly keyKind: KeyKind;
  readonly keys: ReturnType<typeof deriveSessionKeys>;
  readonly rndA: Uint8Array;
  readonly rndB: Uint8Array;
}

interface Answer {
  readonly reply: OsdpReply;
  /** MAC'd (and encrypted) inside the secure channel, or clear. */
  readonly secure: boolean;
  /** A handshake reply (osdp_CCRYPT, osdp_RMAC_I) and the key it runs on. */
  readonly handshake?: KeyKind;
}

const nak = (code: number, secure = false): Answer => ({ reply: { kind: "nak", code, reason: "" }, secure });

/**
 * The PD side of OSDP: sequence numbers with the cached reply on repeats, NAKs with their codes,
 * the Secure Channel (install mode with SCBK-D, KEYSET, refusal of clear text once keyed), and a
 * queue of volunteered reports that POLL drains. No I/O: packets in, reply bytes out.
 */
export class PeripheralDevice {
  readonly counters: PeripheralCounters = {
    commands: 0,
    repeats: 0,
    sequenceErrors: 0,
    macFailures: 0,
    naks: 0,
    lostReports: 0,
  };
  /** Called when a control panel writes a new key with osdp_KEYSET (a real PD keeps it in flash). */
  onKeyChanged: ((key: Uint8Array) => void) | undefined;

  private key: Uint8Array | undefined;
  private installMode: boolean;
  private readonly random: (length: number) => Uint8Array;
  private readonly reports: OsdpReply[] = [];
  private inFlightReport: OsdpReply | undefined;
  private lastSequence: number | undefined;
  private cachedReply: Uint8Array | undefined;
  private session: SecureSession | undefined;
  private handshake: Handshake | undefined;
  private powered = true;

  constructor(
    readonly options: PeripheralOptions,
    private readonly application: PeripheralApplication,
  ) {
    this.key = options.scbk;
    this.installMode = options.installMode ?? options.scbk === undefined;
    this.random = options.random ?? ((length) => new Uint8Array(randomBytes(length)));
  }

  get address(): number {
    return this.options.address;
  }

  get secure(): boolean {
    return this.session !== undefined;
  }

  get scbk(): Uint8Array | undefined {
    return this.key;
  }

  /** Queues a report (input change, card/QR read…) for the next POLL. */
  report(reply: OsdpReply): void {
    this.reports.push(reply);
    const limit = this.options.reportQueueSize ?? 256;
    while (this.reports.length > limit) {
      this.reports.shift();
      this.counters.lostReports++;
    }
  }

  get queuedReports(): number {
    return this.reports.length + (this.inFlightReport === undefined ? 0 : 1);
  }

  get isPowered(): boolean {
    return this.powered;
  }

  /** Without power the PD hears nothing and says nothing; power back on is a reboot. */
  setPowered(on: boolean): void {
    if (on && !this.powered) this.reboot();
    this.powered = on;
  }

  /** Power cycle: the link state, the secure channel and unsent reports are gone; the key stays. */
  reboot(): void {
    this.lastSequence = undefined;
    this.cachedReply = undefined;
    this.session = undefined;
    this.handshake = undefined;
    this.reports.length = 0;
    this.inFlightReport = undefined;
  }

  /** Takes a command packet seen on the bus; returns the reply's bytes, or undefined if it is not ours. */
  receive(packet: Packet): Uint8Array | undefined {
    if (packet.reply || !this.powered) return undefined;
    if (packet.address !== this.address && packet.address !== BROADCAST_ADDRESS) return undefined;
    const sequence = packet.sequence;
    if (sequence === 0) {
      // The CP restarts the link: whatever it did not see is sent again, the secure channel is over.
      if (this.inFlightReport !== undefined) this.reports.unshift(this.inFlightReport);
      this.inFlightReport = undefined;
      this.session = undefined;
      this.cachedReply = undefined;
    } else if (sequence === this.lastSequence && this.cachedReply !== undefined) {
      this.counters.repeats++;
      return this.cachedReply;
    } else if (this.lastSequence === undefined || sequence !== nextSequence(this.lastSequence)) {
      this.counters.sequenceErrors++;
      this.counters.naks++;
      return this.encode(packet, nak(NakCode.SEQUENCE_NUMBER));
    } else {
      // The CP moved on, so it has the report we gave it last time.
      this.inFlightReport = undefined;
    }
    this.counters.commands++;
    const answer = this.process(packet);
    if (answer.reply.kind === "nak") this.counters.naks++;
    if (answer.reply.kind === "busy") return this.encode(packet, answer);
    const bytes = this.encode(packet, answer);
    this.lastSequence = sequence;
    this.cachedReply = bytes;
    if (answer.reply.kind === "ack" && packet.code === CommandCode.KEYSET) {
      // The new key takes effect with the next handshake.
      this.session = undefined;
    }
    return bytes;
  }

  private process(packet: Packet): Answer {
    const block = packet.securityBlock;
    let data = packet.data;
    let secure = false;
    if (block !== undefined) {
      if (this.options.secureChannel === false) return nak(NakCode.SECURE_CHANNEL_UNSUPPORTED);
      if (block.type === SecurityBlock.SCS_11 && packet.code === CommandCode.CHLNG) {
        return this.challenge(packet, block);
      }
      if (block.type === SecurityBlock.SCS_13 && packet.code === CommandCode.SCRYPT) {
        return this.serverCryptogram(packet);
      }
      const session = this.session;
      if (session === undefined) return nak(NakCode.SECURITY_CONDITIONS);
      const opened = openPacket(session, packet);
      if (!opened.ok) {
        // A command whose MAC or data fails ends the channel; a misplaced block is only refused.
        if (opened.failure !== "block") this.session = undefined;
        if (opened.failure === "mac") this.counters.macFailures++;
        return nak(NakCode.SECURITY_CONDITIONS);
      }
      data = opened.data;
      secure = true;
    } else if (this.session !== undefined) {
      // Clear text inside a secure channel: refuse, and close the channel.
      this.session = undefined;
      return nak(NakCode.SECURITY_CONDITIONS);
    } else if (this.key !== undefined && packet.code !== CommandCode.ID && packet.code !== CommandCode.CAP) {
      return nak(NakCode.SECURITY_CONDITIONS);
    }

    let command: OsdpCommand;
    try {
      command = decodeCommand(packet.code, data);
    } catch (error) {
      return nak(error instanceof PayloadError ? error.nak : NakCode.UNABLE_TO_PROCESS, secure);
    }
    switch (command.kind) {
      case "poll": {
        const report = this.reports.shift();
        this.inFlightReport = report;
        return { reply: report ?? { kind: "ack" }, secure };
      }
      case "id":
        return { reply: { kind: "pdid", identity: this.options.identity }, secure };
      case "cap":
        return { reply: { kind: "pdcap", capabilities: this.options.capabilities }, secure };
      case "keyset":
        if (!secure) return nak(NakCode.SECURITY_CONDITIONS);
        this.key = command.key;
        this.installMode = false;
        this.onKeyChanged?.(command.key);
        return { reply: { kind: "ack" }, secure };
      case "chlng":
      case "scrypt":
        return nak(NakCode.SECURITY_CONDITIONS, secure);
      default:
        return { reply: this.application.command(command), secure };
    }
  }

  private challenge(packet: Packet, block: SecurityBlockField): Answer {
    this.session = undefined;
    let command: OsdpCommand;
    try {
      command = decodeCommand(packet.code, packet.data);
    } catch (error) {
      return nak(error instanceof PayloadError ? error.nak : NakCode.COMMAND_LENGTH);
    }
    if (command.kind !== "chlng") return nak(NakCode.SECURITY_CONDITIONS);
    const keyKind = handshakeKey(block);
    // SCBK-D is for installation only; a keyed PD never accepts it.
    const key = keyKind === "scbk-d" ? (this.installMode ? SCBK_D : undefined) : this.key;
    if (key === undefined) return nak(NakCode.SECURITY_CONDITIONS);
    const rndB = this.random(8);
    const keys = deriveSessionKeys(key, command.rndA);
    this.handshake = { keyKind, keys, rndA: command.rndA, rndB };
    return {
      reply: {
        kind: "ccrypt",
        clientUid: this.clientUid(),
        rndB,
        cryptogram: clientCryptogram(keys, command.rndA, rndB),
      },
      secure: false,
      handshake: keyKind,
    };
  }

  private serverCryptogram(packet: Packet): Answer {
    const handshake = this.handshake;
    this.handshake = undefined;
    if (handshake === undefined || packet.data.length !== 16) return nak(NakCode.SECURITY_CONDITIONS);
    const expected = serverCryptogram(handshake.keys, handshake.rndA, handshake.rndB);
    if (!bytesEqual(expected, packet.data)) return nak(NakCode.SECURITY_CONDITIONS);
    const rmac = initialRmac(handshake.keys, packet.data);
    this.session = new SecureSession(handshake.keys, rmac);
    return {
      reply: { kind: "rmac_i", rmac },
      secure: false,
      handshake: handshake.keyKind,
    };
  }

  private clientUid(): Uint8Array {
    const id = this.options.identity;
    const uid = new Uint8Array(8);
    uid[0] = id.vendorCode & 0xff;
    uid[1] = (id.vendorCode >> 8) & 0xff;
    uid[2] = id.model & 0xff;
    uid[3] = id.version & 0xff;
    new DataView(uid.buffer).setUint32(4, id.serialNumber >>> 0, true);
    return uid;
  }

  private encode(command: Packet, answer: Answer): Uint8Array {
    const { code, data } = encodeReply(answer.reply);
    const base = {
      address: command.address,
      reply: true,
      sequence: command.sequence,
      crc: command.crc,
      code,
    };
    const options = { mark: command.marked };
    if (answer.handshake !== undefined)
      return encodeHandshakePacket({ ...base, data }, answer.handshake, options);
    const session = this.session;
    if (!answer.secure || session === undefined) return encodePacket({ ...base, data }, options);
    if (this.options.libosdpStatusBlock === true && LIBOSDP_SCS15_REPLIES.has(answer.reply.kind)) {
      return sealPacket(session, { ...base, data }, { ...options, blockType: SecurityBlock.SCS_15 });
    }
    return sealPacket(session, { ...base, data }, options);
  }
}
