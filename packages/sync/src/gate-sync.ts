import { EventEmitter } from "node:events";
import type { EntryLogEvent } from "@sesame/gate-core";
import {
  createNodeSigner,
  createNodeVerifier,
  createSodiumVerifier,
  type Ed25519Signer,
  type Ed25519Verifier,
  keyPairFromSeed,
  type SignedTrustListJson,
  verifyTrustList,
} from "@sesame/ticket";
import { decodeGateBundle, type SignedTicketChange } from "@sesame/venue";
import { connect, type IClientOptions, type MqttClient } from "mqtt";
import { verifyAdmissions } from "./admissions-check.js";
import { verifyFeedMessage } from "./feed-signature.js";
import {
  GateKeys,
  operationsKeyAt,
  type SignedOperationsCertificate,
  verifyGateList,
  verifyOperationsCertificate,
} from "./operations.js";
import {
  type AckRejection,
  type Command,
  type CommandAckStatus,
  type Decoded,
  decodeAck,
  decodeCommandMessage,
  decodeGateListMessage,
  decodeServerHeartbeat,
  decodeStatus,
  decodeStream,
  decodeTrustListMessage,
  encodeCommandAck,
  encodeEventBatch,
  encodeGateHeartbeat,
  encodeRefusalReport,
  encodeReplay,
  encodeStatus,
  MAX_BATCH_BYTES,
  MAX_BATCH_EVENTS,
  type ReceivedAdmission,
  type RejectReason,
  type SnapshotPointer,
  type StreamMessage,
  trustListRejectReason,
  validateCommand,
} from "./protocol.js";
import type { GateProvisioning } from "./provisioning.js";
import {
  bundleSigner,
  checkSupervisorPart,
  signEventBatch,
  verifyAdmissionsSeal,
  verifyCommandText,
} from "./signing.js";
import type { GateSyncStore } from "./store.js";
import { parseTopic, type VenueTopics, venueTopics } from "./topics.js";
import { FieldError } from "./validate.js";
import { type InFlightBatch, OutboxWindow, SequenceTracker } from "./window.js";

/*
 * The gate's side of the venue network (docs/sync-protocol.md): delivers the outbox with QoS 1 in a
 * bounded window and deletes rows only on the sync-server's own ack; applies the ticket feed and the
 * admission fan-out in sequence, asking for replays (or downloading a snapshot) on a gap; keeps a
 * retained presence with a Last Will; sends heartbeats; executes signed supervisor commands.
 * Every network wait has a timeout; any outage ends in a reconnect with backoff and a resend.
 */

export interface GateSyncTuning {
  /** Events per published batch. */
  readonly batchEvents: number;
  /** Events sent and not yet acknowledged by the server. */
  readonly windowEvents: number;
  /** No ack for this long while events are in flight: resend from the last ack. */
  readonly ackTimeoutMs: number;
  readonly replayTimeoutMs: number;
  readonly heartbeatMs: number;
  readonly keepaliveSeconds: number;
  readonly connectTimeoutMs: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
  /** Outbox poll when nobody calls notifyOutbox(). */
  readonly pollMs: number;
  readonly snapshotTimeoutMs: number;
  /** QoS of the gate's subscriptions (0: see onConnected for why). */
  readonly subscriptionQos: 0 | 1;
}

export const DEFAULT_GATE_TUNING: GateSyncTuning = {
  batchEvents: 250,
  windowEvents: 4000,
  ackTimeoutMs: 5000,
  replayTimeoutMs: 3000,
  heartbeatMs: 5000,
  keepaliveSeconds: 10,
  connectTimeoutMs: 5000,
  reconnectMinMs: 200,
  reconnectMaxMs: 5000,
  pollMs: 250,
  snapshotTimeoutMs: 30_000,
  subscriptionQos: 0,
};

export interface CommandResult {
  readonly status: "done" | "refused";
  readonly detail?: string;
}

export interface SyncLogEntry {
  readonly level: "info" | "warn" | "error";
  readonly code: string;
  readonly detail: string;
  readonly topic?: string;
  readonly reason?: RejectReason;
}

/**
 * What GateSync uses of an MQTT client: mqtt.js's MqttClient is one, and so is an in-memory client
 * (the virtual rehearsal's), which lets the same sync code run without a broker.
 */
export interface SyncMqttClient {
  readonly connected: boolean;
  /** The client's socket, when it has one (for noDelay). */
  readonly stream?: unknown;
  on(event: "connect" | "close" | "offline", listener: () => void): unknown;
  on(event: "message", listener: (topic: string, payload: Uint8Array | string) => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  removeAllListeners(): unknown;
  publish(
    topic: string,
    payload: string | Buffer,
    options: { qos: 0 | 1; retain?: boolean },
    callback?: (error?: Error) => void,
  ): unknown;
  subscribeAsync(
    filters: string[],
    options: { qos: 0 | 1 },
  ): Promise<ReadonlyArray<{ readonly topic: string; readonly qos: number }>>;
  end(force?: boolean, options?: object, callback?: () => void): unknown;
}

/** Opens an MQTT connection (a fresh client per attempt: reconnection is GateSync's). */
export type MqttConnector = (url: string, options: IClientOptions) => SyncMqttClient;

/** The real one: mqtt.js over TCP or WebSocket. */
export const mqttConnector: MqttConnector = (url, options) => connect(url, options);

/** How the snapshot is downloaded: fetch, or a stand-in with its shape. */
export type HttpConnector = (
  url: URL,
  init: { headers: Record<string, string>; signal: AbortSignal },
) => Promise<Response>;

/**
 * Time and timers, as the bridge's Clock: the system's, or a virtual clock that runs a whole match
 * day in minutes. `immediate` runs a callback once the current work is done (default: a 0 ms timer).
 */
export interface SyncClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  immediate?(callback: () => void): void;
}

export const systemSyncClock: SyncClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  immediate: (callback) => setImmediate(callback),
};

export interface GateSyncOptions {
  readonly provisioning: GateProvisioning;
  /** The gate's own event-signing key (made by the gate; its public half is provisioning.gatePublicKey). */
  readonly signingSeed: Uint8Array;
  readonly store: GateSyncStore;
  /** Overrides provisioning.mqtt.url. */
  readonly brokerUrl?: string;
  /** Overrides provisioning.http.baseUrl (snapshot download). */
  readonly httpBaseUrl?: string;
  readonly onCommand?: (command: Command) => CommandResult | Promise<CommandResult>;
  readonly log?: (entry: SyncLogEntry) => void;
  /** Only the time; `clock` gives time and timers (and wins over this). */
  readonly now?: () => number;
  readonly clock?: SyncClock;
  /** A fraction in [0, 1) for the reconnect jitter (Math.random unless given: tests and the rehearsal seed it). */
  readonly random?: () => number;
  /** Default: mqtt.js's connect. */
  readonly mqtt?: MqttConnector;
  /** Default: fetch. */
  readonly http?: HttpConnector;
  readonly signer?: Ed25519Signer;
  /** Checks trust lists, feed changes, snapshots and commands. Default: libsodium, else node:crypto. */
  readonly verifier?: Ed25519Verifier;
  readonly tuning?: Partial<GateSyncTuning>;
  readonly software?: string;
  /**
   * Every commit to the outbox is followed by notifyOutbox() (the gate assembly's backend does so):
   * the poll then reads the outbox again only after a notification, not on every tick while it is
   * empty (an ack, a reconnect or an ack timeout still read it).
   */
  readonly outboxNotified?: boolean;
}

export interface GateSyncStatus {
  readonly connected: boolean;
  readonly serverAckedGateSeq: number | undefined;
  readonly inFlightEvents: number;
  readonly outboxDepth: number;
  readonly feedSequence: number;
  readonly admissionSeq: number;
  readonly clockOffsetMs: number | undefined;
  readonly lastServerContactAt: number | undefined;
  readonly connects: number;
  /** Messages refused since start (malformed, or failing their signature checks): none changed anything. */
  readonly refusedMessages: number;
}

export interface GateSyncEvents {
  connected: [];
  disconnected: [];
  ack: [upToGateSeq: number, rejected: readonly AckRejection[]];
  "remote-entry": [event: EntryLogEvent];
  "feed-applied": [sequence: number];
  snapshot: [feedSequence: number];
  command: [command: Command, status: CommandAckStatus];
  log: [entry: SyncLogEntry];
}

/** Small messages (acks, single events) must not wait for Nagle's algorithm and delayed ACKs (~40 ms each). */
export function noDelay(client: MqttClient | SyncMqttClient): void {
  // (An in-memory client has no socket.)
  const stream = client.stream as { setNoDelay?: (on: boolean) => void } | undefined;
  stream?.setNoDelay?.(true);
}

export class GateSync extends EventEmitter<GateSyncEvents> {
  readonly gateId: string;
  private readonly topics: VenueTopics;
  private readonly tuning: GateSyncTuning;
  private readonly now: () => number;
  private readonly signer: Ed25519Signer;
  private readonly verifier: Ed25519Verifier;
  private readonly seed: Uint8Array;
  private readonly rootKey: Uint8Array;
  /** The operations key's certificate (checked against the root at construction). */
  private readonly operations: SignedOperationsCertificate;
  /** The venue gate list held: who may sign admissions. */
  private gateKeys: GateKeys | undefined;
  /** The newest gate-list version the server's heartbeat announced. */
  private announcedGateListVersion: number | undefined;
  /** Only throttles gate-list requests (its "sequence" is the held version). */
  private readonly gateListRequests: SequenceTracker;
  private readonly window: OutboxWindow;
  private readonly feed: SequenceTracker;
  private readonly admissions: SequenceTracker;
  /** Only throttles trust-list requests (its "sequence" is the held version). */
  private readonly trust: SequenceTracker;
  private client: SyncMqttClient | undefined;
  private connected = false;
  private stopped = true;
  private readonly clock: SyncClock;
  private reconnectTimer: unknown;
  private tickTimer: unknown;
  private heartbeatTimer: { timer: unknown } | undefined;
  private pumpScheduled = false;
  /** The last outbox read found nothing to send, and no notifyOutbox() came since. */
  private outboxDrained = false;
  private backoffMs: number;
  private connects = 0;
  private clockOffsetMs: number | undefined;
  private lastServerContactAt: number | undefined;
  private serverOnline: boolean | undefined;
  private snapshotInProgress = false;
  private refusedMessages = 0;
  private readonly handledCommands = new Map<string, { status: CommandAckStatus; detail?: string }>();
  private readonly runningCommands = new Set<string>();

  constructor(private readonly options: GateSyncOptions) {
    super();
    const p = options.provisioning;
    this.gateId = p.gateId;
    this.topics = venueTopics(p.venueId);
    this.tuning = { ...DEFAULT_GATE_TUNING, ...options.tuning };
    this.clock = options.clock ?? (options.now ? { ...systemSyncClock, now: options.now } : systemSyncClock);
    this.now = () => this.clock.now();
    this.signer = options.signer ?? createNodeSigner();
    // libsodium where its binding loads (~0.1 ms a check, no key import: the feed's budget is one
    // check per change); else node:crypto, with room for every gate key of a venue (admissions).
    this.verifier = options.verifier ?? createSodiumVerifier() ?? createNodeVerifier(1024);
    this.seed = Buffer.from(options.signingSeed);
    const held = Buffer.from(keyPairFromSeed(this.seed).publicKey).toString("hex");
    if (held !== p.gatePublicKey.toLowerCase())
      throw new Error(
        `provisioning: it is for key ${p.gatePublicKey}, but this gate's key is ${held}: provision the gate again with its key`,
      );
    this.rootKey = Buffer.from(p.rootPublicKey, "hex");
    const certificate = verifyOperationsCertificate(
      p.operationsCertificate,
      this.rootKey,
      this.verifier,
      p.venueId,
    );
    if (!certificate.ok)
      throw new Error(`provisioning: operations certificate refused: ${certificate.detail}`);
    this.operations = certificate.value;
    this.gateKeys = this.heldGateList();
    this.gateListRequests = new SequenceTracker(this.gateKeys?.version ?? 0, this.tuning.replayTimeoutMs);
    this.window = new OutboxWindow(this.tuning.windowEvents, this.tuning.ackTimeoutMs);
    this.feed = new SequenceTracker(options.store.feedSequence(), this.tuning.replayTimeoutMs);
    this.admissions = new SequenceTracker(
      options.store.admissionCursor?.() ?? 0,
      this.tuning.replayTimeoutMs,
    );
    this.trust = new SequenceTracker(0, this.tuning.replayTimeoutMs);
    this.backoffMs = this.tuning.reconnectMinMs;
  }

  /** Starts connecting (and keeps reconnecting); resolves at once, without waiting for the broker. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connectNow();
    this.armTick();
    this.heartbeatTimer = this.every(this.tuning.heartbeatMs, () => this.sendHeartbeat());
  }

  /** An interval on the clock: `handle.timer` is the pending timeout, re-armed after each run. */
  private every(ms: number, run: () => void): { timer: unknown } {
    const handle = { timer: undefined as unknown };
    const arm = () => {
      handle.timer = this.clock.setTimeout(() => {
        if (this.stopped) return;
        arm();
        run();
      }, ms);
    };
    arm();
    return handle;
  }

  /**
   * The outbox poll and ack-timeout watch. With outboxNotified it sleeps while nothing is in
   * flight and the outbox was read empty; a notification, a send or a reset wakes it.
   */
  private armTick(): void {
    if (this.stopped || this.tickTimer !== undefined) return;
    this.tickTimer = this.clock.setTimeout(() => {
      this.tickTimer = undefined;
      if (this.stopped) return;
      this.tick();
      if (!this.options.outboxNotified || !this.outboxDrained || this.window.inFlightEvents > 0)
        this.armTick();
    }, this.tuning.pollMs);
  }

  /** Forgets what is in flight: the next read starts after the last ack. */
  private resetWindow(): void {
    this.window.reset();
    this.outboxDrained = false;
    this.armTick();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.clock.setTimeout(resolve, ms));
  }

  /** Publishes a retained "offline" and disconnects. Never waits more than ~2 s. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.clock.clearTimeout(this.reconnectTimer);
    this.clock.clearTimeout(this.tickTimer);
    this.tickTimer = undefined;
    this.clock.clearTimeout(this.heartbeatTimer?.timer);
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    if (client.connected) {
      // In MQTT 3.1.1 the will is not sent on a clean DISCONNECT: say "offline" ourselves.
      await Promise.race([
        new Promise<void>((resolve) =>
          client.publish(
            this.topics.gate(this.gateId, "status"),
            encodeStatus({ state: "offline", at: this.now() }),
            { qos: 1, retain: true },
            () => resolve(),
          ),
        ),
        this.sleep(1000),
      ]);
    }
    await Promise.race([
      new Promise<void>((resolve) => client.end(false, {}, () => resolve())),
      this.sleep(1000),
    ]);
    client.end(true);
    this.setConnected(false);
  }

  /** Call after each outbox commit: the new event is sent at once (coalesced with others). */
  notifyOutbox(): void {
    this.outboxDrained = false;
    this.armTick();
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    const run = () => {
      this.pumpScheduled = false;
      this.pump();
    };
    if (this.clock.immediate) this.clock.immediate(run);
    else this.clock.setTimeout(run, 0);
  }

  status(): GateSyncStatus {
    return {
      connected: this.connected,
      serverAckedGateSeq: this.window.serverAcked,
      inFlightEvents: this.window.inFlightEvents,
      outboxDepth: this.options.store.outboxDepth(),
      feedSequence: this.feed.current,
      admissionSeq: this.admissions.current,
      clockOffsetMs: this.clockOffsetMs,
      lastServerContactAt: this.lastServerContactAt,
      connects: this.connects,
      refusedMessages: this.refusedMessages,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Connection

  private brokerUrl(): string {
    const url = this.options.brokerUrl ?? this.options.provisioning.mqtt.url;
    if (!url) throw new Error("no broker URL: give brokerUrl or provisioning.mqtt.url");
    return url;
  }

  private connectNow(): void {
    if (this.stopped) return;
    const p = this.options.provisioning;
    const options: IClientOptions = {
      clientId: p.mqtt.clientId,
      username: p.mqtt.username,
      password: p.mqtt.password,
      protocolVersion: 4,
      // A persistent session keeps the feed, admissions and commands queued while the gate is away
      // (an optimisation only: sequence numbers and replays are what guarantee nothing is missed).
      clean: false,
      keepalive: this.tuning.keepaliveSeconds,
      connectTimeout: this.tuning.connectTimeoutMs,
      // Reconnection is ours (backoff, and a fresh client object so that no half-sent state survives).
      reconnectPeriod: 0,
      resubscribe: false,
      will: {
        topic: this.topics.gate(this.gateId, "status"),
        payload: Buffer.from(encodeStatus({ state: "offline" })),
        qos: 1,
        retain: true,
      },
    };
    let client: SyncMqttClient;
    try {
      client = (this.options.mqtt ?? mqttConnector)(this.brokerUrl(), options);
    } catch (error) {
      this.log("error", "connect-failed", (error as Error).message);
      this.scheduleReconnect();
      return;
    }
    this.client = client;
    let closed = false;
    const onGone = (why: string) => {
      if (closed || this.client !== client) return;
      closed = true;
      client.removeAllListeners();
      client.on("error", () => {});
      client.end(true);
      this.client = undefined;
      this.setConnected(false);
      this.resetWindow();
      this.log("warn", "disconnected", why);
      this.scheduleReconnect();
    };
    client.on("connect", () => {
      if (this.client !== client) return;
      noDelay(client);
      void this.onConnected(client).catch((error: unknown) => onGone(`after connect: ${String(error)}`));
    });
    client.on("message", (topic, payload) => this.onMessage(topic, payload));
    client.on("error", (error) => {
      this.log("warn", "mqtt-error", error.message);
      // Refused credentials, protocol errors: mqtt.js does not always close by itself.
      onGone(error.message);
    });
    client.on("close", () => onGone("connection closed"));
    client.on("offline", () => onGone("offline"));
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    this.clock.clearTimeout(this.reconnectTimer);
    const jitter = 0.8 + (this.options.random ?? Math.random)() * 0.4;
    const delay = Math.round(this.backoffMs * jitter);
    this.backoffMs = Math.min(this.tuning.reconnectMaxMs, this.backoffMs * 2);
    this.reconnectTimer = this.clock.setTimeout(() => this.connectNow(), delay);
  }

  private async onConnected(client: SyncMqttClient): Promise<void> {
    const t = this.topics;
    // QoS 0 on every subscription, on purpose: everything a gate receives has its own end-to-end
    // recovery (acks are cumulative and probed after a timeout, feed and admissions are sequence-
    // numbered and replayed, commands are resent until acknowledged, the trust list version rides on
    // the server heartbeat). A broker-side QoS 1 queue adds nothing to that, and with aedes it costs
    // a LevelDB write per gate per message and lets a QoS 1 message overtaken by another be dropped
    // (moscajs/aedes#994), which stalls a gate until its ack timeout.
    const filters = [
      t.gate(this.gateId, "ack"),
      t.gate(this.gateId, "changes"),
      t.gate(this.gateId, "commands"),
      t.entranceCommands(this.options.provisioning.entranceId),
      t.trustList,
      t.gateList,
      t.feed,
      t.admissions,
      `${t.prefix}/server/#`,
    ];
    const granted = await Promise.race([
      client.subscribeAsync(filters, { qos: this.tuning.subscriptionQos }),
      this.sleep(this.tuning.connectTimeoutMs).then(() => {
        throw new Error("subscribe timed out");
      }),
    ]);
    const refused = granted.filter((g) => g.qos === 128).map((g) => g.topic);
    if (refused.length > 0) this.log("error", "subscribe-refused", refused.join(", "));
    if (this.client !== client) return;
    this.backoffMs = this.tuning.reconnectMinMs;
    this.connects++;
    this.resetWindow();
    this.feed.forgetRequest();
    this.admissions.forgetRequest();
    client.publish(
      t.gate(this.gateId, "status"),
      encodeStatus({
        state: "online",
        at: this.now(),
        ...(this.options.software ? { software: this.options.software } : {}),
      }),
      { qos: 1, retain: true },
    );
    this.setConnected(true);
    // Catch up at once rather than wait for the next server heartbeat.
    this.requestReplay("feed", true);
    this.requestReplay("admissions", true);
    this.sendHeartbeat();
    this.pump();
  }

  private setConnected(connected: boolean): void {
    if (this.connected === connected) return;
    this.connected = connected;
    this.emit(connected ? "connected" : "disconnected");
  }

  // -------------------------------------------------------------------------------------------
  // Outbox

  private tick(): void {
    if (!this.connected) return;
    const action = this.window.onTick(this.now());
    if (action.kind === "probe") {
      this.log(
        "warn",
        "ack-timeout",
        `no ack within ${this.tuning.ackTimeoutMs} ms: resending the oldest batch`,
      );
      this.resend(action.batch);
    } else if (action.kind === "reset") {
      this.log(
        "warn",
        "ack-timeout",
        `still no ack: resending everything after ${this.window.serverAcked ?? "the start"}`,
      );
      this.outboxDrained = false;
    }
    this.pump();
  }

  /** Sends one in-flight batch again, as it was (same rows, same `after`). */
  private resend(batch: InFlightBatch): void {
    const client = this.client;
    if (!client?.connected) return;
    const rows = this.options.store
      .outboxPending(batch.after, batch.count)
      .filter((r) => r.gateSeq <= batch.last);
    if (rows.length === 0) return;
    const message = signEventBatch(this.gateId, batch.after, rows, this.seed, this.signer);
    client.publish(this.topics.gate(this.gateId, "events"), encodeEventBatch(message), { qos: 1 });
  }

  /** Sends outbox rows while the window has room. Synchronous: publishes are fire-and-forget. */
  private pump(): void {
    const client = this.client;
    if (!client || !this.connected || !client.connected) return;
    // Nothing was recorded since the outbox was last read empty (and the window did not move back).
    if (this.outboxDrained && this.options.outboxNotified) return;
    const store = this.options.store;
    const limit = Math.min(this.tuning.batchEvents, MAX_BATCH_EVENTS);
    for (;;) {
      const room = this.window.capacity();
      if (room <= 0) return;
      const asked = Math.min(limit, room);
      const rows = store.outboxPending(this.window.cursor(), asked);
      const first = rows[0];
      if (!first) {
        this.outboxDrained = true;
        return;
      }
      const after = this.window.afterFor(first.gateSeq);
      let batch = signEventBatch(this.gateId, after, rows, this.seed, this.signer);
      let count = rows.length;
      // Rare: unusually long events. Halve until the batch fits.
      while (batch.events.length > MAX_BATCH_BYTES && count > 1) {
        count = Math.ceil(count / 2);
        batch = signEventBatch(this.gateId, after, rows.slice(0, count), this.seed, this.signer);
      }
      const last = rows[count - 1] ?? first;
      client.publish(
        this.topics.gate(this.gateId, "events"),
        encodeEventBatch(batch),
        { qos: 1 },
        (error) => {
          // The PUBACK means nothing for durability; an error only says the connection is gone.
          if (error) this.log("warn", "publish-failed", error.message);
        },
      );
      this.window.sent({ after, last: last.gateSeq, count }, this.now());
      this.armTick();
      // Fewer rows than asked, all sent: the outbox is read to its end (nothing is recorded while
      // this runs), so do not read it again to find it empty.
      if (rows.length < asked && count === rows.length) {
        this.outboxDrained = true;
        return;
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Inbound messages

  private onMessage(topic: string, payload: Uint8Array | string): void {
    try {
      this.dispatch(topic, payload);
    } catch (error) {
      // A bug in a handler must not take the connection down: log it and keep going.
      this.log(
        "error",
        "handler-failed",
        `${topic}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  private dispatch(topic: string, payload: Uint8Array | string): void {
    const parsed = parseTopic(this.options.provisioning.venueId, topic);
    if (!parsed) {
      this.rejected(topic, { ok: false, reason: "unknown-topic", detail: "not a Sésame topic" });
      return;
    }
    switch (parsed.kind) {
      case "gate":
        if (parsed.gateId !== this.gateId) return;
        if (parsed.leaf === "ack") {
          this.onAck(topic, payload);
          return;
        }
        if (parsed.leaf === "changes") {
          this.onStream(topic, payload);
          return;
        }
        if (parsed.leaf === "commands") {
          this.onCommandMessage(topic, payload);
          return;
        }
        return;
      case "entrance-commands":
        this.onCommandMessage(topic, payload);
        return;
      case "feed":
      case "admissions":
        this.onStream(topic, payload);
        return;
      case "trust-list":
        this.onTrustList(topic, payload);
        return;
      case "gate-list":
        this.onGateListMessage(topic, payload);
        return;
      case "server-heartbeat":
        this.onServerHeartbeat(topic, payload);
        return;
      case "server-status":
        this.onServerStatus(topic, payload);
        return;
    }
  }

  private rejected(topic: string, result: Decoded<unknown> & { ok: false }): void {
    this.log("warn", "rejected", `${topic}: ${result.reason}: ${result.detail}`, topic, result.reason);
  }

  private serverContact(serverAt: number): void {
    const now = this.now();
    this.lastServerContactAt = now;
    this.clockOffsetMs = serverAt - now;
  }

  private onAck(topic: string, payload: Uint8Array | string): void {
    const ack = decodeAck(payload);
    if (!ack.ok) {
      this.rejected(topic, ack);
      return;
    }
    this.serverContact(ack.value.at);
    const outcome = this.window.onAck(ack.value, this.now());
    if (outcome.kind === "stale") return;
    if (outcome.kind === "progress") {
      this.options.store.acknowledgeOutbox(outcome.upTo);
      const rejected = ack.value.rejected ?? [];
      for (const r of rejected)
        this.log(
          "error",
          "event-rejected",
          `gateSeq ${r.gateSeq}: ${r.reason}: ${r.detail}`,
          topic,
          r.reason,
        );
      this.emit("ack", outcome.upTo, rejected);
    } else {
      this.options.store.acknowledgeOutbox(outcome.upTo);
      this.outboxDrained = false;
      this.log("info", "resync", `server holds up to ${outcome.upTo}: resending from there`);
    }
    this.pump();
  }

  private onStream(topic: string, payload: Uint8Array | string): void {
    const message = decodeStream(payload);
    if (!message.ok) {
      this.refuse(topic, message.reason, message.detail);
      return;
    }
    const m = message.value;
    if (m.stream === "feed" && !this.feedVerified(topic, m.changes)) return;
    this.lastServerContactAt = this.now();
    if (m.stream === "trust-list") {
      this.applyTrustList(topic, m.trustList);
      return;
    }
    if (m.stream === "gate-list") {
      this.applyGateList(topic, m.gateList);
      return;
    }
    if (m.stream === "feed") {
      if (m.snapshot && m.snapshot.feedSequence > this.feed.current) {
        void this.downloadSnapshot(m.snapshot);
        return;
      }
      const { apply, gap } = this.feed.split(m.changes, (c) => c.sequence);
      const last = apply[apply.length - 1];
      if (last) {
        try {
          const outcome = this.options.store.applyChanges(apply);
          this.feed.advance(last.sequence);
          // Changes no honest issuer makes (a resale of a cancelled ticket): they changed nothing.
          for (const r of outcome?.refused ?? []) this.refuse(topic, "implausible", r.detail);
          this.emit("feed-applied", last.sequence);
        } catch (error) {
          this.log("error", "feed-apply-failed", (error as Error).message);
          this.requestReplay("feed", true);
          return;
        }
      }
      if (gap || m.more) this.requestReplay("feed", true);
      return;
    }
    // The order is the server's: sealed by the operations key, or a replay under new numbers could
    // move the admissions position past real admissions.
    const operationsKey = this.operationsKey(topic);
    if (!operationsKey) return;
    if (!verifyAdmissionsSeal(m, operationsKey, this.verifier)) {
      this.refuse(
        topic,
        "bad-signature",
        "admissions message whose order is not signed by the venue's operations key (renumbered or forged): nothing applied",
      );
      return;
    }
    const { apply, gap } = this.admissions.split(m.entries, (e) => e.seq);
    const last = apply[apply.length - 1];
    if (last) {
      // Only what would be applied is checked (entries already held are not reported again).
      const accepted = this.checkAdmissions(topic, { ...m, entries: apply });
      if (!accepted) return;
      const remote = accepted.map((entry) => entry.event).filter((event) => event.gateId !== this.gateId);
      const store = this.options.store;
      try {
        // With their places in the venue's order, this gate's own included (they place its passages).
        if (store.recordAdmissions) store.recordAdmissions(accepted);
        else store.recordRemoteEntries(remote);
      } catch (error) {
        // Nothing of the message was applied (all or nothing): ask for it again rather than skip it.
        this.log("error", "admissions-apply-failed", (error as Error).message);
        this.requestReplay("admissions", true);
        return;
      }
      for (const event of remote) this.emit("remote-entry", event);
      this.admissions.advance(last.seq);
      this.options.store.saveAdmissionCursor?.(last.seq);
    }
    if (gap || m.more) this.requestReplay("admissions", true);
  }

  /** Every change signed by an issuer key of the trust list held; else the message is refused. */
  private feedVerified(topic: string, changes: readonly SignedTicketChange[]): boolean {
    const venueId = this.options.provisioning.venueId;
    const verdict = verifyFeedMessage(venueId, changes, this.options.store.issuerKeys(), this.verifier);
    // The sender a gate can name is the issuer key the change claims: the detail says which.
    if (!verdict.ok) this.refuse(topic, verdict.reason, verdict.detail);
    return verdict.ok;
  }

  /**
   * The admissions of the message that may be applied, or undefined when it is refused whole
   * (unknown or revoked gate, bad signature): then nothing is applied and the position stays.
   */
  private checkAdmissions(
    topic: string,
    m: Extract<StreamMessage, { stream: "admissions" }>,
  ): readonly ReceivedAdmission[] | undefined {
    const store = this.options.store;
    const check = verifyAdmissions(m, {
      gateKeys: this.gateKeys,
      announcedGateListVersion: this.announcedGateListVersion,
      verifier: this.verifier,
      ...(store.ticketEntrance ? { ticketEntrance: (id: number) => store.ticketEntrance?.(id) } : {}),
    });
    if (!check.ok) {
      if (check.behind) {
        // A gate provisioned since the list held: fetch the newer list; the admissions follow it.
        this.log("info", "gate-list-behind", `${topic}: ${check.detail}: asking for the current gate list`);
        this.requestReplay("gate-list", true);
        return undefined;
      }
      this.refuse(topic, check.reason, check.detail, check.sender);
      return undefined;
    }
    for (const { entry, detail } of check.implausible)
      this.refuse(
        topic,
        "implausible-admission",
        `admission ${entry.seq} not applied: ${detail}`,
        entry.event.gateId,
      );
    return check.accepted;
  }

  /** A refused message: one log line with topic and sender, and a report the server alerts on. */
  private refuse(topic: string, reason: RejectReason, detail: string, sender?: string): void {
    this.refusedMessages++;
    const from = sender === undefined ? "" : ` (from ${sender})`;
    this.log("warn", "rejected", `${topic}${from}: ${reason}: ${detail}`, topic, reason);
    this.client?.publish(
      this.topics.gate(this.gateId, "refusals"),
      encodeRefusalReport({
        topic,
        reason,
        // Within what a report may carry (the server refuses longer fields).
        detail: detail.slice(0, 500),
        at: this.now(),
        ...(sender === undefined ? {} : { sender }),
      }),
      { qos: 1 },
    );
  }

  private requestReplay(stream: "feed" | "admissions" | "trust-list" | "gate-list", behind: boolean): void {
    const client = this.client;
    if (!client || !this.connected) return;
    const tracker =
      stream === "feed"
        ? this.feed
        : stream === "admissions"
          ? this.admissions
          : stream === "trust-list"
            ? this.trust
            : this.gateListRequests;
    const from = tracker.replayFrom(this.now(), behind);
    if (from === undefined) return;
    client.publish(this.topics.gate(this.gateId, "replay"), encodeReplay({ stream, from }), { qos: 1 });
  }

  private onServerHeartbeat(topic: string, payload: Uint8Array | string): void {
    const hb = decodeServerHeartbeat(payload);
    if (!hb.ok) {
      this.rejected(topic, hb);
      return;
    }
    this.serverContact(hb.value.at);
    if (hb.value.feedSequence > this.feed.current) this.requestReplay("feed", true);
    if (hb.value.admissionSeq > this.admissions.current) this.requestReplay("admissions", true);
    // The retained trust list can be lost on the way (aedes#994): the heartbeat says which is current.
    const held = this.options.store.trustListVersion();
    if (hb.value.trustListVersion !== undefined && hb.value.trustListVersion > held) {
      this.trust.current = held;
      this.requestReplay("trust-list", true);
    }
    if (hb.value.gateListVersion !== undefined) {
      this.announcedGateListVersion = hb.value.gateListVersion;
      const heldList = this.gateKeys?.version ?? 0;
      if (hb.value.gateListVersion > heldList) {
        this.gateListRequests.current = heldList;
        this.requestReplay("gate-list", true);
      }
    }
  }

  private onServerStatus(topic: string, payload: Uint8Array | string): void {
    const status = decodeStatus(payload);
    if (!status.ok) {
      this.rejected(topic, status);
      return;
    }
    const online = status.value.state === "online";
    if (online && this.serverOnline === false) {
      // The server came back (birth): whatever was in flight may have died with it. Resend.
      this.log("info", "server-online", "sync-server is back: resending unacknowledged events");
      this.resetWindow();
      this.feed.forgetRequest();
      this.admissions.forgetRequest();
      this.requestReplay("feed", true);
      this.requestReplay("admissions", true);
      this.pump();
    }
    this.serverOnline = online;
  }

  private onTrustList(topic: string, payload: Uint8Array | string): void {
    const message = decodeTrustListMessage(payload);
    if (!message.ok) {
      this.rejected(topic, message);
      return;
    }
    this.applyTrustList(topic, message.value);
  }

  private applyTrustList(topic: string, value: unknown): void {
    const held = this.options.store.trustListVersion();
    const result = verifyTrustList(value, this.rootKey, this.verifier, {
      venue: this.options.provisioning.venueId,
      currentVersion: held,
    });
    if (!result.ok) {
      const offered = (value as { version?: unknown } | null)?.version;
      this.rejected(topic, {
        ok: false,
        reason: trustListRejectReason(result),
        detail: `trust list ${typeof offered === "number" ? `version ${offered} ` : ""}refused, version ${held} kept: ${result.detail}`,
      });
      return;
    }
    if (result.list.version === held) return;
    this.options.store.applyTrustList(value as SignedTrustListJson, result.list);
    this.trust.advance(result.list.version);
    this.log("info", "trust-list", `trust list version ${result.list.version} applied`);
  }

  // -------------------------------------------------------------------------------------------
  // The venue gate list

  /** The gate list of the store, else of the provisioning; checked again (it is cheap, once). */
  private heldGateList(): GateKeys | undefined {
    const p = this.options.provisioning;
    const stored = this.options.store.gateList?.();
    const key = Buffer.from(this.operations.publicKey, "hex");
    let best: GateKeys | undefined;
    for (const candidate of [stored, p.gateList]) {
      if (candidate === undefined) continue;
      const r = verifyGateList(candidate, key, this.verifier, p.venueId);
      if (r.ok && r.value.version > (best?.version ?? 0)) best = new GateKeys(r.value);
    }
    return best;
  }

  private onGateListMessage(topic: string, payload: Uint8Array | string): void {
    const message = decodeGateListMessage(payload);
    if (!message.ok) {
      this.rejected(topic, message);
      return;
    }
    this.applyGateList(topic, message.value);
  }

  private applyGateList(topic: string, value: unknown): void {
    const held = this.gateKeys?.version ?? 0;
    const key = this.operationsKey(topic);
    if (!key) return;
    const r = verifyGateList(value, key, this.verifier, this.options.provisioning.venueId);
    if (!r.ok) {
      this.refuse(topic, r.reason, `gate list refused, version ${held} kept: ${r.detail}`);
      return;
    }
    if (r.value.version < held) {
      this.refuse(
        topic,
        "rollback",
        `gate list version ${r.value.version} is older than version ${held} held`,
      );
      return;
    }
    if (r.value.version === held) return;
    this.options.store.saveGateList?.(r.value);
    this.gateKeys = new GateKeys(r.value);
    this.gateListRequests.advance(r.value.version);
    this.log("info", "gate-list", `gate list version ${r.value.version} applied`);
    // Admissions held back for a gate this list may name: ask for them again.
    this.admissions.forgetRequest();
    this.requestReplay("admissions", true);
  }

  /** The operations key, while its certificate is valid; else the refusal is logged and reported. */
  private operationsKey(topic: string): Uint8Array | undefined {
    const key = operationsKeyAt(this.operations, this.now() + (this.clockOffsetMs ?? 0));
    if (key.ok) return key.key;
    this.refuse(topic, "expired", key.detail);
    return undefined;
  }

  private async downloadSnapshot(pointer: SnapshotPointer): Promise<void> {
    if (this.snapshotInProgress) return;
    this.snapshotInProgress = true;
    try {
      const base = this.options.httpBaseUrl ?? this.options.provisioning.http.baseUrl;
      if (!base) throw new Error("no HTTP base URL for the snapshot: give httpBaseUrl");
      const url = new URL(pointer.path, base);
      // The gate's bearer token goes only to the sync-server it was provisioned with.
      if (url.origin !== new URL(base).origin)
        throw new Error(`snapshot pointer ${pointer.path} leads away from ${new URL(base).origin}`);
      const response = await (this.options.http ?? fetch)(url, {
        headers: { authorization: `Bearer ${this.options.provisioning.http.token}` },
        signal: AbortSignal.timeout(this.tuning.snapshotTimeoutMs),
      });
      if (!response.ok) throw new Error(`snapshot download: HTTP ${response.status}`);
      const signature = response.headers.get("sesame-bundle-signature") ?? "";
      const bytes = new Uint8Array(await response.arrayBuffer());
      const signerKey = bundleSigner(
        bytes,
        signature,
        {
          rootKey: this.rootKey,
          certificate: this.operations,
          venueId: this.options.provisioning.venueId,
          now: this.now() + (this.clockOffsetMs ?? 0),
        },
        this.verifier,
      );
      if (!signerKey)
        throw new Error(
          "snapshot signature does not verify against the operations key or the venue root key",
        );
      const bundle = decodeGateBundle(bytes);
      if (bundle.venue.id !== this.options.provisioning.venueId)
        throw new Error("snapshot is for another venue");
      const trust = verifyTrustList(bundle.trustList, this.rootKey, this.verifier, {
        venue: bundle.venue.id,
      });
      if (!trust.ok) throw new Error(`snapshot trust list refused: ${trust.detail}`);
      if (bundle.feedSequence > this.feed.current) {
        this.options.store.applySnapshot({ bundle, bytes, signature, signerKey });
        this.feed.advance(bundle.feedSequence);
        this.emit("snapshot", bundle.feedSequence);
        this.log("info", "snapshot", `snapshot at feed sequence ${bundle.feedSequence} applied`);
      }
    } catch (error) {
      this.log("error", "snapshot-failed", error instanceof Error ? error.message : String(error));
    } finally {
      this.snapshotInProgress = false;
    }
    this.feed.forgetRequest();
    this.requestReplay("feed", true);
  }

  // -------------------------------------------------------------------------------------------
  // Commands

  private onCommandMessage(topic: string, payload: Uint8Array | string): void {
    const message = decodeCommandMessage(payload);
    if (!message.ok) {
      this.rejected(topic, message);
      return;
    }
    const operationsKey = this.operationsKey(topic);
    if (!operationsKey) return;
    if (!verifyCommandText(message.value.command, message.value.sig, operationsKey, this.verifier)) {
      this.refuse(topic, "bad-signature", "command not signed by the venue's operations key");
      return;
    }
    let command: Command;
    try {
      command = validateCommand(JSON.parse(message.value.command));
    } catch (error) {
      const detail =
        error instanceof FieldError ? error.message : `command is not JSON: ${(error as Error).message}`;
      this.rejected(topic, { ok: false, reason: "invalid", detail });
      return;
    }
    const target = command.target;
    const mine =
      "gate" in target
        ? target.gate === this.gateId
        : target.entrance === this.options.provisioning.entranceId;
    if (!mine) {
      this.rejected(topic, {
        ok: false,
        reason: "wrong-target",
        detail: `command ${command.id} is not for this gate`,
      });
      return;
    }
    const serverNow = this.now() + (this.clockOffsetMs ?? 0);
    // Before anything runs: a command that opens lanes needs its supervisor's signature too. It is
    // acknowledged as refused (the server stops resending) but not remembered, so that the same
    // command, properly signed, can still arrive.
    const supervisor = checkSupervisorPart(command, message.value, {
      rootKey: this.rootKey,
      verifier: this.verifier,
      venueId: this.options.provisioning.venueId,
      now: serverNow,
    });
    if (!supervisor.ok) {
      this.refuse(topic, supervisor.reason, `${supervisor.detail} (sent as by ${command.by})`);
      this.ackCommand(command.id, "refused", `refused: ${supervisor.detail}`.slice(0, 500));
      return;
    }
    const previous = this.handledCommands.get(command.id);
    if (previous) {
      this.ackCommand(command.id, previous.status, previous.detail);
      return;
    }
    // A resend that arrives while the command runs (mqtt.js may hand over both in one tick): the
    // ack of the first answers it.
    if (this.runningCommands.has(command.id)) return;
    if (serverNow > command.expiresAt) {
      this.remember(command.id, "expired", "arrived after it expired");
      this.emit("command", command, "expired");
      this.ackCommand(command.id, "expired", "arrived after it expired");
      return;
    }
    const handler = this.options.onCommand;
    if (!handler) {
      this.remember(command.id, "refused", "this gate executes no commands");
      this.ackCommand(command.id, "refused", "this gate executes no commands");
      return;
    }
    this.runningCommands.add(command.id);
    void (async () => {
      let result: CommandResult;
      try {
        result = await handler(command);
      } catch (error) {
        result = { status: "refused", detail: error instanceof Error ? error.message : String(error) };
      }
      this.runningCommands.delete(command.id);
      this.remember(command.id, result.status, result.detail);
      this.emit("command", command, result.status);
      this.ackCommand(command.id, result.status, result.detail);
    })();
  }

  private remember(id: string, status: CommandAckStatus, detail?: string): void {
    this.handledCommands.set(id, detail === undefined ? { status } : { status, detail });
    if (this.handledCommands.size > 1000) {
      const oldest = this.handledCommands.keys().next();
      if (!oldest.done) this.handledCommands.delete(oldest.value);
    }
  }

  private ackCommand(commandId: string, status: CommandAckStatus, detail?: string): void {
    this.client?.publish(
      this.topics.gate(this.gateId, "command-acks"),
      encodeCommandAck({ commandId, status, at: this.now(), ...(detail === undefined ? {} : { detail }) }),
      { qos: 1 },
    );
  }

  // -------------------------------------------------------------------------------------------

  private sendHeartbeat(): void {
    const client = this.client;
    if (!client || !this.connected) return;
    const now = this.now();
    client.publish(
      this.topics.gate(this.gateId, "heartbeat"),
      encodeGateHeartbeat({
        at: now,
        ...(this.clockOffsetMs === undefined ? {} : { clockOffsetMs: this.clockOffsetMs }),
        feedSequence: this.feed.current,
        admissionSeq: this.admissions.current,
        ...(this.lastServerContactAt === undefined
          ? {}
          : { dataAgeMs: Math.max(0, now - this.lastServerContactAt) }),
        outboxDepth: this.options.store.outboxDepth(),
        ackedGateSeq: this.window.serverAcked ?? 0,
      }),
      { qos: 0 },
    );
  }

  private log(
    level: SyncLogEntry["level"],
    code: string,
    detail: string,
    topic?: string,
    reason?: RejectReason,
  ): void {
    const entry: SyncLogEntry = {
      level,
      code,
      detail,
      ...(topic === undefined ? {} : { topic }),
      ...(reason === undefined ? {} : { reason }),
    };
    this.options.log?.(entry);
    this.emit("log", entry);
  }
}
