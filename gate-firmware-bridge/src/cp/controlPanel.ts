import { randomBytes } from "node:crypto";
import { CommandCode, commandName, NakCode, ReplyCode, replyName, SecurityBlock } from "../osdp/constants.js";
import {
  decodeReply,
  encodeCommand,
  type OsdpCommand,
  type OsdpReply,
  PayloadError,
  type PdCapability,
  type PdIdentity,
} from "../osdp/messages.js";
import {
  encodePacket,
  nextSequence,
  type Packet,
  PacketReader,
  type SecurityBlockField,
} from "../osdp/packet.js";
import {
  bytesEqual,
  clientCryptogram,
  deriveSessionKeys,
  initialRmac,
  SCBK_D,
  SecureChannelError,
  SecureSession,
  serverCryptogram,
} from "../osdp/secureChannel.js";
import { encodeHandshakePacket, type KeyKind, openPacket, sealPacket } from "../osdp/secureFrame.js";
import type { Transport, TransportFactory } from "../transport/transport.js";
import { type Clock, systemClock } from "../util/clock.js";
import { TypedEmitter } from "../util/emitter.js";
import { ControlPanelError } from "./errors.js";

/** How the reason of an "offline" event starts when the PD's secure channel failed. */
export const SECURE_CHANNEL_FAILED = "secure channel failed";

export interface PeripheralConfig {
  readonly address: number;
  readonly name?: string;
  /**
   * The PD's Secure Channel Base Key. With a key, everything after the handshake is MAC'd (and data
   * encrypted); the control panel refuses to talk to this PD in clear text.
   */
  readonly scbk?: Uint8Array;
  /**
   * Install mode. With `scbk`: if the PD refuses that key, open the channel with SCBK-D, write `scbk`
   * with osdp_KEYSET and reconnect with it. Without `scbk`: run on SCBK-D until setKey().
   */
  readonly install?: boolean;
}

export interface ControlPanelOptions {
  /** Opens (and after a loss, reopens) the link to the bus. */
  readonly connect: TransportFactory;
  readonly clock?: Clock;
  readonly random?: (length: number) => Uint8Array;
  /** How long to wait for a reply (the spec gives a PD 200 ms). */
  readonly replyTimeoutMs?: number;
  /** Time between two polls of the same PD when nothing else is going on. */
  readonly pollIntervalMs?: number;
  /** A PD that failed to answer and has not answered for this long is reported offline. */
  readonly offlineAfterMs?: number;
  /** How often an offline PD is tried again. */
  readonly retryOfflineMs?: number;
  /**
   * Back-off after secure-channel failures: the first wait (default `retryOfflineMs`), doubled
   * with each failure in a row up to `secureRetryMaxMs` (default 8 s).
   */
  readonly secureRetryMs?: number;
  readonly secureRetryMaxMs?: number;
  /**
   * After a reader's report (RAW, KEYPAD), how long the bus's next poll waits for the decision's
   * command (an unlock, a refusal's LED) so that the command finds the bus free. The first
   * caller's command ends the wait; default 5 ms, 0 to never wait.
   */
  readonly holdPollsAfterReadMs?: number;
  /** Attempts per command before it fails with TIMEOUT. */
  readonly attempts?: number;
  /** Default time a caller waits for a command's reply, retries included. */
  readonly commandTimeoutMs?: number;
  /** CRC-16 (default) or the 8-bit checksum on outgoing packets; replies are accepted in either. */
  readonly crc?: boolean;
  /** Send the 0xFF mark byte before each packet (default true). */
  readonly mark?: boolean;
  readonly reconnectMs?: number;
}

export type PeripheralStatus = "offline" | "connecting" | "online";

export interface PeripheralInfo {
  readonly address: number;
  readonly name: string;
  readonly identity: PdIdentity | undefined;
  readonly capabilities: readonly PdCapability[];
  readonly inputs: readonly boolean[];
  readonly outputs: readonly boolean[];
  readonly tamper: boolean;
  readonly powerFailure: boolean;
  /** "scbk", "scbk-d" (install mode) or "clear". */
  readonly security: KeyKind | "clear";
}

export interface ControlPanelEvents {
  online: [address: number, info: PeripheralInfo];
  offline: [address: number, reason: string];
  /** A report the PD volunteered in answer to a POLL (ISTATR, OSTATR, LSTATR, RAW, KEYPAD…). */
  report: [address: number, reply: OsdpReply];
  /** The PD answered a POLL with ACK: it has nothing (more) to report, everything it kept is delivered. */
  idle: [address: number];
  /**
   * The first reader report after a link restart repeats, byte for byte, the one received just
   * before the link went down that the PD never saw acknowledged: the PD sent it again. Not a new
   * read, so not a `report`; said here (and as a warning) so it stays visible.
   */
  resent: [address: number, reply: OsdpReply];
  secure: [address: number, key: KeyKind];
  keyset: [address: number];
  link: [up: boolean, description: string];
  warning: [message: string, address: number | undefined];
}

export interface BusCounters {
  packetsSent: number;
  repliesAccepted: number;
  timeouts: number;
  retries: number;
  discardedBytes: number;
  badChecks: number;
  wrongAddress: number;
  staleSequence: number;
  macFailures: number;
  naks: number;
  linkResets: number;
  /** Reader reports a PD sent again after a link restart, recognized and not passed on. */
  resentReports: number;
  /** Secure channels that failed: a handshake refused, a reply that did not verify, the PD dropping it. */
  secureChannelFailures: number;
  /**
   * Replies whose MAC verified under the wrong direction's block type (libosdp PDs send status
   * replies with SCS_15): accepted, and said once per PD as a warning.
   */
  deviantBlockTypes: number;
  /** Reader reports after which the next poll waited for the decision's command. */
  pollsHeldForDecision: number;
}

type SetupStep = "id" | "cap" | "chlng" | "scrypt" | "keyset" | "istat" | "ostat" | "lstat";

interface Request {
  readonly command: OsdpCommand;
  readonly deadline: number;
  readonly urgent: boolean;
  attempts: number;
  resolve(reply: OsdpReply): void;
  reject(error: Error): void;
}

interface Handshake {
  readonly kind: KeyKind;
  readonly key: Uint8Array;
  readonly rndA: Uint8Array;
  keys?: ReturnType<typeof deriveSessionKeys>;
  serverCryptogram?: Uint8Array;
}

type Purpose =
  | { readonly kind: "request"; readonly request: Request }
  | { readonly kind: "setup"; readonly step: SetupStep }
  | { readonly kind: "poll" };

/** A packet on the wire, kept until answered: after a failure the PD must get these very bytes again. */
type Attempt = Purpose & {
  readonly link: PeripheralLink;
  readonly sequence: number;
  readonly secure: boolean;
  readonly frame: Uint8Array;
  attempts: number;
};

type Exchange = Attempt & { readonly timer: unknown };

class PeripheralLink {
  status: PeripheralStatus = "offline";
  /** True between an "online" event and the matching "offline" event. */
  announced = false;
  sequence = 0;
  session: SecureSession | undefined;
  handshake: Handshake | undefined;
  key: Uint8Array | undefined;
  keyKind: KeyKind | undefined;
  readonly queue: Request[] = [];
  setup: SetupStep[] = [];
  /** The last packet, unanswered: OSDP wants it repeated (same sequence) before anything new. */
  pending: Attempt | undefined;
  lastReplyAt = Number.NEGATIVE_INFINITY;
  failuresSinceReply = 0;
  /** Secure-channel failures since a poll or command was last answered (verified, in the channel). */
  secureFailures = 0;
  /** The reason last given in an "offline" event, so a back-off retry failing alike is not news. */
  offlineReason: string | undefined;
  /** The PD sent a reply under the wrong direction's block type, and that was said once. */
  deviationWarned = false;
  nextPollAt = 0;
  retryAt = 0;
  secureFailure: string | undefined;
  identity: PdIdentity | undefined;
  capabilities: readonly PdCapability[] = [];
  inputs: readonly boolean[] = [];
  outputs: readonly boolean[] = [];
  tamper = false;
  powerFailure = false;
  /**
   * A reader report (RAW, KEYPAD) passed on, whose receipt the PD has not seen acknowledged yet:
   * only a command with the next sequence number tells it so. Code and payload bytes.
   */
  unacknowledgedRead: Uint8Array | undefined;
  /** After a restart (sequence 0): the unacknowledged read the PD may send again at the first poll. */
  mayResend: Uint8Array | undefined;

  constructor(readonly config: PeripheralConfig) {
    this.key = config.scbk ?? (config.install ? SCBK_D : undefined);
    this.keyKind = config.scbk !== undefined ? "scbk" : config.install ? "scbk-d" : undefined;
  }

  get name(): string {
    return this.config.name ?? `PD ${this.config.address}`;
  }

  get address(): number {
    return this.config.address;
  }

  get wantsSecure(): boolean {
    return this.key !== undefined;
  }

  info(): PeripheralInfo {
    return {
      address: this.address,
      name: this.name,
      identity: this.identity,
      capabilities: this.capabilities,
      inputs: this.inputs,
      outputs: this.outputs,
      tamper: this.tamper,
      powerFailure: this.powerFailure,
      security: this.session === undefined ? "clear" : (this.keyKind ?? "clear"),
    };
  }
}

const HANDSHAKE_STEPS: readonly SetupStep[] = ["chlng", "scrypt"];

/**
 * The OSDP control panel: owns one bus (one transport), polls the peripherals on it in turn, sends
 * commands with sequence numbers, retries and timeouts, runs the Secure Channel, and reports
 * peripherals going offline and coming back. One exchange at a time, as on a half-duplex RS-485 bus.
 */
export class ControlPanel extends TypedEmitter<ControlPanelEvents> {
  readonly counters: BusCounters = {
    packetsSent: 0,
    repliesAccepted: 0,
    timeouts: 0,
    retries: 0,
    discardedBytes: 0,
    badChecks: 0,
    wrongAddress: 0,
    staleSequence: 0,
    macFailures: 0,
    naks: 0,
    linkResets: 0,
    resentReports: 0,
    secureChannelFailures: 0,
    deviantBlockTypes: 0,
    pollsHeldForDecision: 0,
  };

  private readonly clock: Clock;
  private readonly random: (length: number) => Uint8Array;
  private readonly replyTimeoutMs: number;
  private readonly pollIntervalMs: number;
  private readonly offlineAfterMs: number;
  private readonly retryOfflineMs: number;
  private readonly secureRetryMs: number;
  private readonly secureRetryMaxMs: number;
  private readonly holdPollsAfterReadMs: number;
  private readonly maxAttempts: number;
  private readonly commandTimeoutMs: number;
  private readonly crc: boolean;
  private readonly mark: boolean;
  private readonly reconnectMs: number;
  private readonly links = new Map<number, PeripheralLink>();
  private readonly reader = new PacketReader();
  private transport: Transport | undefined;
  private exchange: Exchange | undefined;
  private running = false;
  private connecting = false;
  private idleTimer: unknown;
  private idleTimerAt = Number.POSITIVE_INFINITY;
  private watchdog: unknown;
  private reconnectTimer: unknown;
  private roundRobin = 0;
  /** Until then only callers' commands start: a reader's report awaits its decision's command. */
  private pollsHeldUntil = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: ControlPanelOptions) {
    super();
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? ((length) => new Uint8Array(randomBytes(length)));
    this.replyTimeoutMs = options.replyTimeoutMs ?? 200;
    this.pollIntervalMs = options.pollIntervalMs ?? 50;
    this.offlineAfterMs = options.offlineAfterMs ?? 500;
    this.retryOfflineMs = options.retryOfflineMs ?? 500;
    this.secureRetryMs = options.secureRetryMs ?? this.retryOfflineMs;
    this.secureRetryMaxMs = Math.max(this.secureRetryMs, options.secureRetryMaxMs ?? 8_000);
    this.holdPollsAfterReadMs = options.holdPollsAfterReadMs ?? 5;
    this.maxAttempts = options.attempts ?? 3;
    this.commandTimeoutMs = options.commandTimeoutMs ?? 1_000;
    this.crc = options.crc ?? true;
    this.mark = options.mark ?? true;
    this.reconnectMs = options.reconnectMs ?? 250;
  }

  addPeripheral(config: PeripheralConfig): void {
    if (!Number.isInteger(config.address) || config.address < 0 || config.address > 0x7e) {
      throw new RangeError(`a peripheral address is 0–126 (0x7F is broadcast), got ${config.address}`);
    }
    if (this.links.has(config.address))
      throw new Error(`peripheral ${config.address} is already on this bus`);
    if (config.scbk !== undefined && config.scbk.length !== 16) {
      throw new SecureChannelError(`the SCBK of peripheral ${config.address} must be 16 bytes`);
    }
    this.links.set(config.address, new PeripheralLink(config));
    this.pump();
  }

  status(address: number): PeripheralStatus {
    return this.link(address).status;
  }

  info(address: number): PeripheralInfo {
    return this.link(address).info();
  }

  get linkUp(): boolean {
    return this.transport !== undefined;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.watchdog = this.clock.setTimeout(() => this.onWatchdog(), 100);
    void this.openTransport();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.clock.clearTimeout(this.watchdog);
    this.clock.clearTimeout(this.reconnectTimer);
    this.clearIdleTimer();
    if (this.exchange !== undefined) this.clock.clearTimeout(this.exchange.timer);
    this.exchange = undefined;
    for (const link of this.links.values()) {
      this.rejectAll(link, new ControlPanelError("STOPPED", "the control panel was stopped", link.address));
    }
    const transport = this.transport;
    this.transport = undefined;
    await transport?.close();
  }

  /**
   * Sends a command to a PD and resolves with its reply. Rejects with a ControlPanelError: OFFLINE at
   * once if the PD is offline, TIMEOUT after the retries, NAK with the PD's code, SECURE_CHANNEL if a
   * key is configured but no secure channel could be opened. The bytes are written synchronously
   * when the bus is free.
   */
  send(
    address: number,
    command: OsdpCommand,
    options: { timeoutMs?: number; urgent?: boolean } = {},
  ): Promise<OsdpReply> {
    const link = this.links.get(address);
    if (link === undefined) {
      return Promise.reject(
        new ControlPanelError("UNKNOWN_PERIPHERAL", `no peripheral ${address} on this bus`),
      );
    }
    const refusal = this.refusal(link);
    if (refusal !== undefined) return Promise.reject(refusal);
    // Encode now, so a malformed command fails here and not inside the bus loop.
    encodeCommand(command);
    return new Promise<OsdpReply>((resolve, reject) => {
      const request: Request = {
        command,
        deadline: this.clock.now() + (options.timeoutMs ?? this.commandTimeoutMs),
        urgent: options.urgent === true,
        attempts: 0,
        resolve,
        reject,
      };
      if (!request.urgent) link.queue.push(request);
      else {
        // An unlock goes ahead of LED/buzzer feedback, but never ahead of a packet already on the wire.
        const head = link.queue[0];
        const busy = head !== undefined && (head.attempts > 0 || link.pending?.kind === "request");
        let at = busy ? 1 : 0;
        while (at < link.queue.length && link.queue[at]?.urgent) at++;
        link.queue.splice(at, 0, request);
      }
      this.pump();
    });
  }

  /** Writes a new SCBK into the PD (osdp_KEYSET over the secure channel), then reconnects with it. */
  async setKey(address: number, key: Uint8Array): Promise<void> {
    if (key.length !== 16) throw new SecureChannelError("an SCBK is 16 bytes");
    const link = this.link(address);
    if (link.session === undefined) {
      throw new ControlPanelError(
        "SECURE_CHANNEL",
        `${link.name} has no secure channel open; osdp_KEYSET is only accepted inside one`,
        address,
      );
    }
    await this.send(address, { kind: "keyset", key });
  }

  private adoptKey(link: PeripheralLink, key: Uint8Array): void {
    link.key = key;
    link.keyKind = "scbk";
    this.emit("keyset", link.address);
    // The PD closes the channel after KEYSET; open a new one with the new key.
    link.session = undefined;
    link.setup = [...HANDSHAKE_STEPS];
  }

  private link(address: number): PeripheralLink {
    const link = this.links.get(address);
    if (link === undefined)
      throw new ControlPanelError("UNKNOWN_PERIPHERAL", `no peripheral ${address} on this bus`);
    return link;
  }

  private refusal(link: PeripheralLink): ControlPanelError | undefined {
    if (!this.running)
      return new ControlPanelError("STOPPED", "the control panel is not running", link.address);
    if (link.secureFailure !== undefined) {
      return new ControlPanelError(
        "SECURE_CHANNEL",
        `${link.name} is offline: secure channel failed (${link.secureFailure}); refusing to send in clear text`,
        link.address,
      );
    }
    if (link.status === "offline") {
      return new ControlPanelError(
        "OFFLINE",
        `${link.name} (address ${link.address}) is offline`,
        link.address,
      );
    }
    return undefined;
  }

  // ---------------------------------------------------------------- transport

  private async openTransport(): Promise<void> {
    if (!this.running || this.connecting || this.transport !== undefined) return;
    this.connecting = true;
    let transport: Transport;
    try {
      transport = await this.options.connect();
    } catch (error) {
      this.connecting = false;
      this.emit("warning", `bus link: ${(error as Error).message}`, undefined);
      this.scheduleReconnect();
      return;
    }
    this.connecting = false;
    if (!this.running) {
      await transport.close();
      return;
    }
    this.transport = transport;
    this.reader.reset();
    transport.onData((chunk) => this.onBytes(chunk));
    transport.onClose((error) => this.onTransportClosed(transport, error));
    // Whatever the PDs' state was, start every link afresh (sequence 0) on a new connection.
    for (const link of this.links.values()) {
      if (link.status !== "offline") this.resetLink(link, undefined);
    }
    this.emit("link", true, transport.description);
    this.pump();
  }

  private onTransportClosed(transport: Transport, error: Error | undefined): void {
    if (this.transport !== transport) return;
    this.transport = undefined;
    if (this.exchange !== undefined) {
      this.clock.clearTimeout(this.exchange.timer);
      this.failExchange(this.exchange, "the link closed");
    }
    this.emit("link", false, `${transport.description}${error ? `: ${error.message}` : ""}`);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (!this.running) return;
    this.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = this.clock.setTimeout(() => void this.openTransport(), this.reconnectMs);
  }

  // ---------------------------------------------------------------- scheduling

  private clearIdleTimer(): void {
    if (this.idleTimer !== undefined) this.clock.clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.idleTimerAt = Number.POSITIVE_INFINITY;
  }

  private onWatchdog(): void {
    if (!this.running) return;
    const now = this.clock.now();
    for (const link of this.links.values()) this.checkOffline(link, now);
    this.pump();
    this.watchdog = this.clock.setTimeout(() => this.onWatchdog(), 100);
  }

  /** Starts the next exchange if the bus is free; the heart of the scheduler. Synchronous. */
  private pump(): void {
    if (!this.running || this.exchange !== undefined || this.transport === undefined) return;
    const now = this.clock.now();
    const links = [...this.links.values()];
    if (links.length === 0) return;
    const start = this.roundRobin % links.length;
    const ordered = links.slice(start).concat(links.slice(0, start));
    const held = now < this.pollsHeldUntil;
    let best: { link: PeripheralLink; rank: number } | undefined;
    let nextDue = Number.POSITIVE_INFINITY;
    for (const link of ordered) {
      this.expireRequests(link, now);
      const due = this.dueAt(link);
      if (due === undefined) continue;
      if (due.at > now || (held && due.rank > 0)) {
        nextDue = Math.min(nextDue, held && due.rank > 0 ? Math.max(due.at, this.pollsHeldUntil) : due.at);
        continue;
      }
      // Callers' commands first (an unlock must not wait behind polls), then set-up steps, then polls.
      if (best === undefined || due.rank < best.rank) best = { link, rank: due.rank };
    }
    if (best !== undefined) {
      this.roundRobin = links.indexOf(best.link) + 1;
      this.startNext(best.link, now);
      return;
    }
    if (nextDue < this.idleTimerAt) {
      this.clearIdleTimer();
      this.idleTimerAt = nextDue;
      this.idleTimer = this.clock.setTimeout(
        () => {
          this.idleTimer = undefined;
          this.idleTimerAt = Number.POSITIVE_INFINITY;
          this.pump();
        },
        Math.max(0, nextDue - now),
      );
    }
  }

  /**
   * When this link next wants the bus, and how urgently: 0 = a caller's command, 1 = set-up of a
   * known PD (a secure channel to reopen), 2 = poll, 3 = probing a PD that is not (yet) online, so
   * an absent PD never delays the polls of the ones that are there.
   */
  private dueAt(link: PeripheralLink): { at: number; rank: number } | undefined {
    const setupRank = link.announced ? 1 : 3;
    const pending = link.pending;
    if (pending !== undefined) {
      return {
        at: link.retryAt,
        rank: pending.kind === "request" ? 0 : pending.kind === "setup" ? setupRank : 2,
      };
    }
    switch (link.status) {
      case "offline":
        return { at: link.retryAt, rank: 3 };
      case "connecting":
        return link.setup.length > 0 ? { at: link.retryAt, rank: setupRank } : undefined;
      case "online":
        if (link.setup.length > 0) return { at: link.retryAt, rank: setupRank };
        if (link.queue.length > 0) return { at: link.retryAt, rank: 0 };
        return { at: Math.max(link.nextPollAt, link.retryAt), rank: 2 };
    }
  }

  private startNext(link: PeripheralLink, now: number): void {
    const pending = link.pending;
    if (pending !== undefined) {
      this.counters.retries++;
      pending.attempts++;
      if (pending.kind === "request") pending.request.attempts++;
      this.transmit(pending);
      return;
    }
    if (link.status === "offline") {
      // Probe: restart the link from sequence 0 with the full set-up.
      this.resetLink(link, undefined);
      link.status = "connecting";
    }
    const step = link.setup[0];
    if (step !== undefined) {
      const command = this.setupCommand(link, step);
      if (command === undefined) {
        this.secureChannelFailed(link, `cannot build ${step}`);
        this.pump();
        return;
      }
      this.begin(link, { kind: "setup", step }, command);
      return;
    }
    const request = link.queue[0];
    if (request !== undefined) {
      this.begin(link, { kind: "request", request }, request.command);
      return;
    }
    link.nextPollAt = now + this.pollIntervalMs;
    this.begin(link, { kind: "poll" }, { kind: "poll" });
  }

  private expireRequests(link: PeripheralLink, now: number): void {
    while (link.queue.length > 0) {
      const request = link.queue[0];
      if (request === undefined || request.deadline > now) return;
      if (this.exchange?.kind === "request" && this.exchange.request === request) return;
      link.queue.shift();
      request.reject(
        new ControlPanelError(
          "TIMEOUT",
          `${commandName(encodeCommand(request.command).code)} to ${link.name} got no reply in time ` +
            `(${request.attempts} attempt${request.attempts === 1 ? "" : "s"})`,
          link.address,
        ),
      );
    }
  }

  // ---------------------------------------------------------------- sending

  private setupCommand(link: PeripheralLink, step: SetupStep): OsdpCommand | undefined {
    switch (step) {
      case "id":
        return { kind: "id" };
      case "cap":
        return { kind: "cap" };
      case "istat":
        return { kind: "istat" };
      case "ostat":
        return { kind: "ostat" };
      case "lstat":
        return { kind: "lstat" };
      case "chlng": {
        const kind = link.keyKind ?? "scbk";
        const key = kind === "scbk-d" ? SCBK_D : link.key;
        if (key === undefined) return undefined;
        link.session = undefined;
        link.handshake = { kind, key, rndA: this.random(8) };
        return { kind: "chlng", rndA: link.handshake.rndA };
      }
      case "scrypt": {
        const cryptogram = link.handshake?.serverCryptogram;
        return cryptogram === undefined ? undefined : { kind: "scrypt", cryptogram };
      }
      case "keyset":
        return link.config.scbk === undefined ? undefined : { kind: "keyset", key: link.config.scbk };
    }
  }

  private encode(
    link: PeripheralLink,
    command: OsdpCommand,
    sequence: number,
  ): { frame: Uint8Array; secure: boolean } {
    const { code, data } = encodeCommand(command);
    const base = { address: link.address, reply: false, sequence, crc: this.crc, code };
    const options = { mark: this.mark };
    if (code === CommandCode.CHLNG || code === CommandCode.SCRYPT) {
      const frame = encodeHandshakePacket({ ...base, data }, link.handshake?.kind ?? "scbk", options);
      return { frame, secure: false };
    }
    const session = link.session;
    if (session === undefined) {
      if (link.wantsSecure && code !== CommandCode.ID && code !== CommandCode.CAP) {
        throw new ControlPanelError(
          "SECURE_CHANNEL",
          `${link.name} has a key but no secure channel; ${commandName(code)} is not sent in clear text`,
          link.address,
        );
      }
      return { frame: encodePacket({ ...base, data }, options), secure: false };
    }
    return { frame: sealPacket(session, { ...base, data }, options), secure: true };
  }

  private begin(link: PeripheralLink, purpose: Purpose, command: OsdpCommand): void {
    let encoded: { frame: Uint8Array; secure: boolean };
    try {
      encoded = this.encode(link, command, link.sequence);
    } catch (error) {
      const message = `${link.name}: cannot send ${command.kind}: ${(error as Error).message}`;
      if (purpose.kind === "request") {
        link.queue.shift();
        purpose.request.reject(error instanceof ControlPanelError ? error : new Error(message));
      } else {
        this.emit("warning", message, link.address);
        this.resetLink(link, undefined);
      }
      this.pump();
      return;
    }
    if (purpose.kind === "request") purpose.request.attempts++;
    if (link.sequence === 0 && link.unacknowledgedRead !== undefined) {
      // Sequence 0 restarts the PD's link: a read it never saw acknowledged may come again.
      link.mayResend = link.unacknowledgedRead;
      link.unacknowledgedRead = undefined;
    }
    this.transmit({
      ...purpose,
      link,
      sequence: link.sequence,
      secure: encoded.secure,
      frame: encoded.frame,
      attempts: 1,
    });
  }

  private transmit(attempt: Attempt): void {
    const transport = this.transport;
    if (transport === undefined) return;
    this.clearIdleTimer();
    attempt.link.pending = undefined;
    // The decision's command is on its way: polling resumes behind it.
    if (attempt.kind === "request") this.pollsHeldUntil = Number.NEGATIVE_INFINITY;
    const timer = this.clock.setTimeout(() => this.onTimeout(), this.replyTimeoutMs);
    this.exchange = { ...attempt, timer };
    // Anything still buffered predates this command and cannot be its reply.
    this.reader.reset();
    this.counters.packetsSent++;
    transport.write(attempt.frame).catch((error: Error) => {
      this.emit("warning", `bus link: ${error.message}`, undefined);
    });
  }

  // ---------------------------------------------------------------- receiving

  private onBytes(chunk: Uint8Array): void {
    for (const event of this.reader.push(chunk)) {
      if (event.kind === "discarded") {
        this.counters.discardedBytes += event.bytes;
        if (event.reason.startsWith("bad")) this.counters.badChecks++;
        continue;
      }
      this.onPacket(event.packet);
    }
  }

  private onPacket(packet: Packet): void {
    const exchange = this.exchange;
    // Commands (an echo on a 2-wire bus, another master) and replies nobody waits for are not ours.
    if (!packet.reply || exchange === undefined) return;
    if (packet.address !== exchange.link.address) {
      this.counters.wrongAddress++;
      return;
    }
    if (packet.sequence !== exchange.sequence) {
      this.counters.staleSequence++;
      return;
    }
    this.clock.clearTimeout(exchange.timer);
    this.exchange = undefined;
    this.onReply(exchange, packet);
    this.pump();
  }

  private onReply(exchange: Exchange, packet: Packet): void {
    const link = exchange.link;
    const now = this.clock.now();
    let data = packet.data;
    const block = packet.securityBlock;
    if (exchange.secure) {
      const session = link.session;
      if (session === undefined) {
        this.failExchange(exchange, "secure channel closed during the exchange");
        return;
      }
      if (block === undefined) {
        // A PD that lost its session answers in clear, with a NAK; anything else in clear is refused.
        if (packet.code !== ReplyCode.NAK) {
          this.counters.macFailures++;
          this.emit(
            "warning",
            `${link.name}: clear-text reply inside the secure channel refused`,
            link.address,
          );
          this.secureChannelFailed(link, "clear-text reply inside the secure channel");
          return;
        }
      } else {
        // Any session block type is taken if the MAC verifies: libosdp PDs answer ISTAT, OSTAT and
        // LSTAT under SCS_15 (libosdp's own CP accepts that). The MAC is what proves the PD.
        const opened = openPacket(session, packet, { anySessionBlockType: true });
        if (!opened.ok) {
          if (opened.failure === "mac") {
            this.counters.macFailures++;
            this.emit(
              "warning",
              `${link.name}: reply MAC does not verify (${replyName(packet.code)}); refused, restarting the secure channel`,
              link.address,
            );
          }
          this.secureChannelFailed(link, opened.failure === "mac" ? "reply MAC mismatch" : opened.message);
          return;
        }
        if (opened.deviation !== undefined) {
          this.counters.deviantBlockTypes++;
          if (!link.deviationWarned) {
            link.deviationWarned = true;
            this.emit(
              "warning",
              `${link.name}: ${replyName(packet.code)} came with ${opened.deviation}; accepted (as libosdp does), said once for this PD`,
              link.address,
            );
          }
        }
        data = opened.data;
      }
    } else if (block !== undefined && block.type >= SecurityBlock.SCS_15) {
      // A "secure" reply to a clear command cannot be verified: not ours to trust.
      this.emit("warning", `${link.name}: secure reply to a clear-text command ignored`, link.address);
      this.secureChannelFailed(link, "secure reply to a clear-text command");
      return;
    }

    let reply: OsdpReply;
    try {
      reply = decodeReply(packet.code, data);
    } catch (error) {
      const message = error instanceof PayloadError ? error.message : String(error);
      this.emit("warning", `${link.name}: malformed reply: ${message}`, link.address);
      this.failExchange(exchange, message);
      return;
    }

    this.counters.repliesAccepted++;
    link.lastReplyAt = now;
    link.failuresSinceReply = 0;
    // A poll or command answered (inside the channel, MAC verified, when there is one): the
    // channel works, so the next failure counts as the first.
    if (exchange.kind !== "setup") link.secureFailures = 0;

    if (reply.kind === "busy") {
      // Not processed yet: send the very same bytes again a little later, without counting a failure.
      const { timer: _timer, ...attempt } = exchange;
      link.pending = { ...attempt, attempts: exchange.attempts - 1 };
      if (exchange.kind === "request") exchange.request.attempts--;
      link.retryAt = now + 50;
      return;
    }
    link.sequence = nextSequence(exchange.sequence);
    // Any reply to a later command shows the PD saw the previous reply taken.
    if (exchange.sequence !== 0) link.unacknowledgedRead = undefined;

    if (reply.kind === "nak") {
      this.counters.naks++;
      if (reply.code === NakCode.SEQUENCE_NUMBER) {
        this.resetLink(link, undefined);
        return;
      }
      if (exchange.kind === "setup") {
        this.onSetupNak(link, exchange.step, reply.code, reply.reason);
        return;
      }
      if (reply.code === NakCode.SECURITY_CONDITIONS && link.session !== undefined) {
        // The PD dropped the secure channel (a MAC it did not like, a reboot): open a new one.
        this.secureChannelFailed(link, "the PD refused our command's security (NAK 6)");
        return;
      }
    }
    this.track(link, reply);
    switch (exchange.kind) {
      case "poll": {
        link.nextPollAt = reply.kind === "ack" ? now + this.pollIntervalMs : now;
        const read =
          reply.kind === "raw" || reply.kind === "keypad" ? Uint8Array.of(packet.code, ...data) : undefined;
        const mayResend = link.mayResend;
        // Only the first poll after a restart may carry the resend: the PD puts it first.
        link.mayResend = undefined;
        if (read !== undefined) link.unacknowledgedRead = read;
        const resent = read !== undefined && mayResend !== undefined && bytesEqual(read, mayResend);
        if (read !== undefined && !resent && this.holdPollsAfterReadMs > 0) {
          // A read arrives as the bus falls free: keep it free for the decision's command (the
          // listeners below may send it at once), so an unlock never waits behind a poll.
          this.pollsHeldUntil = now + this.holdPollsAfterReadMs;
          this.counters.pollsHeldForDecision++;
        }
        if (reply.kind === "ack") this.emit("idle", link.address);
        else if (resent) {
          this.counters.resentReports++;
          this.emit(
            "warning",
            `${link.name}: the ${reply.kind === "raw" ? "read" : "keypad entry"} received just before the link restarted came again (never acknowledged, so the PD resent it): not a new one, ignored`,
            link.address,
          );
          this.emit("resent", link.address, reply);
        } else this.emit("report", link.address, reply);
        return;
      }
      case "setup":
        this.onSetupReply(link, exchange.step, reply, block);
        return;
      case "request": {
        const request = exchange.request;
        link.queue.shift();
        link.nextPollAt = now + this.pollIntervalMs;
        if (reply.kind === "nak") {
          request.reject(
            new ControlPanelError(
              "NAK",
              `${link.name} refused ${request.command.kind}: NAK ${reply.code} (${reply.reason})`,
              link.address,
              reply.code,
            ),
          );
        } else {
          if (request.command.kind === "keyset" && reply.kind === "ack")
            this.adoptKey(link, request.command.key);
          request.resolve(reply);
        }
        return;
      }
    }
  }

  private track(link: PeripheralLink, reply: OsdpReply): void {
    if (reply.kind === "istatr") link.inputs = reply.inputs;
    else if (reply.kind === "ostatr") link.outputs = reply.outputs;
    else if (reply.kind === "lstatr") {
      link.tamper = reply.tamper;
      link.powerFailure = reply.powerFailure;
    }
  }

  private onSetupReply(
    link: PeripheralLink,
    step: SetupStep,
    reply: OsdpReply,
    block: SecurityBlockField | undefined,
  ): void {
    const fail = (reason: string) => this.secureChannelFailed(link, reason);
    switch (step) {
      case "id":
        if (reply.kind === "pdid") link.identity = reply.identity;
        break;
      case "cap":
        if (reply.kind === "pdcap") link.capabilities = reply.capabilities;
        break;
      case "chlng": {
        const handshake = link.handshake;
        if (handshake === undefined) {
          fail("no handshake in progress");
          return;
        }
        if (reply.kind !== "ccrypt" || block?.type !== SecurityBlock.SCS_12) {
          fail(`expected osdp_CCRYPT, got ${reply.kind}`);
          return;
        }
        const keys = deriveSessionKeys(handshake.key, handshake.rndA);
        if (!bytesEqual(clientCryptogram(keys, handshake.rndA, reply.rndB), reply.cryptogram)) {
          fail(`the PD's cryptogram does not match our ${handshake.kind === "scbk" ? "SCBK" : "SCBK-D"}`);
          return;
        }
        handshake.keys = keys;
        handshake.serverCryptogram = serverCryptogram(keys, handshake.rndA, reply.rndB);
        break;
      }
      case "scrypt": {
        const handshake = link.handshake;
        if (handshake?.keys === undefined || handshake.serverCryptogram === undefined) {
          fail("no handshake in progress");
          return;
        }
        if (reply.kind !== "rmac_i" || block?.type !== SecurityBlock.SCS_14) {
          fail(`expected osdp_RMAC_I, got ${reply.kind}`);
          return;
        }
        const expected = initialRmac(handshake.keys, handshake.serverCryptogram);
        if (!bytesEqual(expected, reply.rmac)) {
          fail("the PD's initial R-MAC does not match");
          return;
        }
        link.session = new SecureSession(handshake.keys, expected);
        link.handshake = undefined;
        link.keyKind = handshake.kind;
        this.emit("secure", link.address, handshake.kind);
        // In install mode with a real key to give: write it now, then reconnect with it.
        if (handshake.kind === "scbk-d" && link.config.scbk !== undefined && link.setup[1] !== "keyset") {
          link.setup.splice(1, 0, "keyset");
        }
        break;
      }
      case "keyset":
        if (reply.kind !== "ack") {
          fail(`osdp_KEYSET answered with ${reply.kind}`);
          return;
        }
        link.setup.shift();
        if (link.config.scbk !== undefined) {
          link.key = link.config.scbk;
          link.keyKind = "scbk";
          link.session = undefined;
          link.setup.unshift(...HANDSHAKE_STEPS);
          this.emit("keyset", link.address);
        }
        return;
      default:
        break;
    }
    link.setup.shift();
    if (link.setup.length === 0) this.becameOnline(link);
  }

  private onSetupNak(link: PeripheralLink, step: SetupStep, code: number, reason: string): void {
    if (step === "chlng" || step === "scrypt" || step === "keyset") {
      this.secureChannelFailed(link, `NAK ${code} (${reason}) to ${step}`);
      return;
    }
    // ID/CAP/status refused: carry on without that information.
    this.emit("warning", `${link.name}: ${step} refused with NAK ${code} (${reason})`, link.address);
    link.setup.shift();
    if (link.setup.length === 0) this.becameOnline(link);
  }

  /**
   * A secure channel that failed: a handshake refused or not verifying, a reply that does not
   * verify, the PD dropping the channel. Never falls back to clear text. The first failure after
   * verified traffic restarts the link at once (as after a PD's reboot); a failed handshake, or a
   * second failure in a row, reports the PD offline ("secure channel failed: …", once per reason),
   * fails its queued commands with SECURE_CHANNEL, and waits before the next try, twice as long
   * after each failure in a row up to `secureRetryMaxMs`: no loop of handshakes, no command left
   * to time out.
   */
  private secureChannelFailed(link: PeripheralLink, reason: string): void {
    const handshakeStep = link.setup[0];
    const inHandshake = handshakeStep === "chlng" || handshakeStep === "scrypt" || handshakeStep === "keyset";
    link.handshake = undefined;
    link.session = undefined;
    if (
      inHandshake &&
      link.keyKind === "scbk" &&
      link.config.install === true &&
      link.config.scbk !== undefined
    ) {
      // Install mode: the PD may still be on SCBK-D, waiting for its key.
      link.keyKind = "scbk-d";
      link.setup = [...HANDSHAKE_STEPS, "istat", "ostat", "lstat"];
      return;
    }
    if (link.config.install === true && link.config.scbk !== undefined) link.keyKind = "scbk";
    this.counters.secureChannelFailures++;
    link.secureFailures++;
    if (!inHandshake && link.secureFailures === 1) {
      this.resetLink(link, reason);
      return;
    }
    const delay = Math.min(
      this.secureRetryMaxMs,
      this.secureRetryMs * 2 ** Math.max(0, link.secureFailures - (inHandshake ? 1 : 2)),
    );
    link.secureFailure = reason;
    this.emit(
      "warning",
      `${link.name}: secure channel failed (${link.secureFailures} in a row): ${reason}; next try in ${delay} ms`,
      link.address,
    );
    this.rejectAll(
      link,
      new ControlPanelError(
        "SECURE_CHANNEL",
        `${link.name} is offline: secure channel failed (${reason})`,
        link.address,
      ),
    );
    this.reportOffline(link, `${SECURE_CHANNEL_FAILED}: ${reason}`);
    // Offline: the next try (a probe at retryAt) restarts the link from sequence 0, handshake included.
    link.status = "offline";
    link.sequence = 0;
    link.pending = undefined;
    link.setup = [];
    link.retryAt = this.clock.now() + delay;
  }

  /**
   * Says "offline" once: when a PD announced online goes, or (a secure channel that fails before
   * the PD was ever online) when the reason is news; a back-off retry failing alike is not.
   */
  private reportOffline(link: PeripheralLink, reason: string): void {
    if (!link.announced && link.offlineReason === reason) return;
    link.announced = false;
    link.offlineReason = reason;
    this.emit("offline", link.address, reason);
  }

  private becameOnline(link: PeripheralLink): void {
    link.status = "online";
    link.secureFailure = undefined;
    link.offlineReason = undefined;
    link.nextPollAt = this.clock.now() + this.pollIntervalMs;
    if (!link.announced) {
      link.announced = true;
      this.emit("online", link.address, link.info());
    }
  }

  // ---------------------------------------------------------------- failures

  private onTimeout(): void {
    const exchange = this.exchange;
    if (exchange === undefined) return;
    this.exchange = undefined;
    this.counters.timeouts++;
    this.failExchange(exchange, "no reply");
    this.pump();
  }

  private failExchange(exchange: Exchange, reason: string): void {
    const link = exchange.link;
    const now = this.clock.now();
    link.failuresSinceReply++;
    const request = exchange.kind === "request" ? exchange.request : undefined;
    // A PD that is not online gets one try per probe: retrying at once would only hold up the bus.
    const probing = exchange.kind === "setup" && !link.announced;
    const exhausted =
      probing || exchange.attempts >= this.maxAttempts || (request !== undefined && now >= request.deadline);
    if (!exhausted) {
      const { timer: _timer, ...attempt } = exchange;
      link.pending = attempt;
    } else {
      // Give up on these bytes; whether the PD acted on them is unknown, so restart its link at sequence 0.
      if (request !== undefined) {
        const index = link.queue.indexOf(request);
        if (index >= 0) link.queue.splice(index, 1);
        request.reject(
          new ControlPanelError(
            "TIMEOUT",
            `${request.command.kind} to ${link.name}: ${reason} after ${exchange.attempts} attempt(s)`,
            link.address,
          ),
        );
      }
      if (probing) {
        // A probe of a PD that is not there: try again later.
        link.pending = undefined;
        link.status = "offline";
        link.retryAt = now + this.retryOfflineMs;
      } else this.resetLink(link, undefined);
    }
    for (const each of this.links.values()) this.checkOffline(each, now);
  }

  private checkOffline(link: PeripheralLink, now: number): void {
    // Only a PD we announced can go offline; probes of the others fail on their own (failExchange).
    if (!link.announced) return;
    const silentFor = now - link.lastReplyAt;
    const failing = link.failuresSinceReply > 0 || this.transport === undefined;
    if (failing && silentFor >= this.offlineAfterMs) {
      this.goOffline(
        link,
        this.transport === undefined ? "bus link down" : `no reply for ${Math.round(silentFor)} ms`,
      );
    }
  }

  private goOffline(link: PeripheralLink, reason: string): void {
    link.status = "offline";
    link.session = undefined;
    link.handshake = undefined;
    link.sequence = 0;
    link.setup = [];
    link.pending = undefined;
    link.retryAt = this.clock.now() + this.retryOfflineMs;
    this.rejectAll(
      link,
      new ControlPanelError(
        "OFFLINE",
        `${link.name} (address ${link.address}) went offline: ${reason}`,
        link.address,
      ),
    );
    if (this.exchange?.link === link) {
      this.clock.clearTimeout(this.exchange.timer);
      this.exchange = undefined;
    }
    if (link.announced) this.reportOffline(link, reason);
  }

  /** Restarts a link from sequence 0 with a full set-up, keeping the callers' queued commands. */
  private resetLink(link: PeripheralLink, reason: string | undefined): void {
    this.counters.linkResets++;
    if (reason !== undefined) this.emit("warning", `${link.name}: link reset: ${reason}`, link.address);
    link.sequence = 0;
    link.session = undefined;
    link.handshake = undefined;
    if (link.status === "online") link.status = "connecting";
    link.pending = undefined;
    link.setup = ["id", "cap", ...(link.wantsSecure ? HANDSHAKE_STEPS : []), "istat", "ostat", "lstat"];
  }

  private rejectAll(link: PeripheralLink, error: ControlPanelError): void {
    const queued = link.queue.splice(0);
    for (const request of queued) request.reject(error);
  }
}
