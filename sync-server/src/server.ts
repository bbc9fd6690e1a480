import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type Command,
  type CommandType,
  decodeCommandAck,
  decodeGateHeartbeat,
  decodeRefusalReport,
  decodeReplay,
  decodeStatus,
  encodeAck,
  encodeAdmissions,
  encodeCommandMessage,
  encodeFeed,
  encodeGateList,
  encodeGateListReply,
  encodeServerHeartbeat,
  encodeStatus,
  encodeTrustList,
  encodeTrustListReply,
  type GateKeyRequest,
  type GateProvisioning,
  gateIdOfUsername,
  gateUsername,
  MAX_BATCH_BYTES,
  MAX_REPLAY_ITEMS,
  noDelay,
  type OfflinePeripheral,
  opensLanes,
  parseTopic,
  type RefusalReport,
  type RejectReason,
  SERVER_USERNAME,
  type SignedGateList,
  signAdmissionsOrder,
  signCommandText,
  type VenueTopics,
  venueTopics,
} from "@sesame/sync";
import {
  createNodeSigner,
  createNodeVerifier,
  type Ed25519Signer,
  type Ed25519Verifier,
  type IssuerKey,
  issuerKeyMap,
  verifyTrustList,
} from "@sesame/ticket";
import {
  controlCharacter,
  encodeGateBundle,
  printable,
  type SignedTicketChange,
  signBundleBytes,
  VENUE_FILES,
  type Venue,
} from "@sesame/venue";
import { connect, type MqttClient } from "mqtt";
import {
  type Alert,
  type AlertType,
  clockSkewDetail,
  gateOfflineDetail,
  mayAcknowledge,
  type NewAlert,
  quarantineDetail,
  silentGateDetail,
} from "./alerts/policy.js";
import {
  type BrokerAudit,
  type EmbeddedBroker,
  startEmbeddedBroker,
  storeCredentials,
} from "./broker/aedes.js";
import { followLog, mosquittoRefusal } from "./broker/mosquitto-log.js";
import { BrokerProcess } from "./broker/supervisor.js";
import {
  buildCommand,
  COMMAND_TYPES,
  type CommandInput,
  commandInputs,
  commandTargets,
  type SignedCommand,
  SupervisorSignatureRefused,
  signedCommands,
} from "./commands/commands.js";
import { openServerStore, SERVER_DATA } from "./db/open.js";
import { ApiError } from "./errors.js";
import {
  type FollowerTuning,
  httpIssuerSource,
  IssuerFollower,
  type IssuerSource,
  type RefusedIssuedChange,
} from "./feed/follower.js";
import { provisionGateInStore, SET_UP } from "./gates/provisioning.js";
import { type HttpOptions, startHttpApi } from "./http/api.js";
import { handleEventBatch, revokedKeyOfBatch } from "./ingest/batch.js";
import { AdmissionsFanOut, FAN_OUT_WINDOW_MS } from "./ingest/fan-out.js";
import {
  changeGateList,
  currentGateList,
  operationsCertificateProblem,
  operationsPublicKey,
  operationsSeed,
} from "./keys/operations.js";
import { TrustListDesk } from "./keys/trust-list.js";
import type { GateRecord, RejectionRecord, ServerStore, StoredEvent } from "./store.js";

export type { CommandInput } from "./commands/commands.js";
export { openServerStore } from "./db/open.js";
export { provisionGateInStore } from "./gates/provisioning.js";

/*
 * The sync-server: one venue's event store, ticket feed and HTTP API, with the embedded broker by
 * default (aedes in a child process) or an external one (Mosquitto). It consumes every gate's event
 * batches, verifies the gate's signature, stores them idempotently and in order per gate, then acks
 * (after the commit) and fans admissions out to every gate.
 */

export type BrokerChoice =
  | {
      readonly kind: "embedded";
      readonly mode?: "child" | "in-process";
      readonly host?: string;
      readonly port?: number;
    }
  | {
      readonly kind: "external";
      readonly url: string;
      /** Mosquitto's log file (`sesame mosquitto-config` writes one): its refusals are read from it. */
      readonly log?: string;
    };

export interface SyncServerTuning {
  readonly heartbeatMs: number;
  /** A gate whose clock is further than this from the server's raises a clock-skew alert. */
  readonly clockSkewAlertMs: number;
  /** A gate online without a heartbeat for this long raises a gate-offline alert (it went silent). */
  readonly gateSilenceMs: number;
  /** A gate further behind than this in the feed is sent to the snapshot instead of a replay. */
  readonly snapshotThreshold: number;
  readonly commandTtlMs: number;
  /** The embedded broker's heartbeat (aedes default 60 s; a dead broker's wills are swept every four). */
  readonly brokerHeartbeatMs?: number;
  /** Overrides the QoS of the server's uplink subscription (see subscriptionQos()). */
  readonly subscriptionQos?: 0 | 1;
  /** At most one admissions message per window while admissions keep coming (ingest/fan-out.ts). */
  readonly fanOutWindowMs: number;
}

export const DEFAULT_SERVER_TUNING: SyncServerTuning = {
  heartbeatMs: 2000,
  // Device proofs are accepted two 15 s steps either side: 10 s off is worth a look before it bites.
  clockSkewAlertMs: 10_000,
  // Three missed 5 s gate heartbeats and some slack.
  gateSilenceMs: 20_000,
  snapshotThreshold: 20_000,
  commandTtlMs: 60_000,
  fanOutWindowMs: FAN_OUT_WINDOW_MS,
};

export interface SyncServerOptions {
  readonly venueDir: string;
  readonly dataDir: string;
  readonly broker?: BrokerChoice;
  /** HTTP listener; port 0 = any free port. Undefined: no HTTP server. */
  readonly http?: HttpOptions;
  readonly now?: () => number;
  readonly log?: (line: string) => void;
  readonly tuning?: Partial<SyncServerTuning>;
  /** URLs written into gate provisioning (what gates should use); default: the listeners. */
  readonly publicMqttUrl?: string;
  readonly publicHttpUrl?: string;
  /**
   * The issuer whose signed changes this venue's feed follows (feed/follower.ts): its URL and the
   * venue token, or a source of pages (tests). Absent: the feed takes no changes from an issuer.
   */
  readonly issuer?: { readonly url: string; readonly token: string } | { readonly source: IssuerSource };
  readonly followerTuning?: Partial<FollowerTuning>;
}

export interface ServerEvents {
  entries: [events: readonly StoredEvent[]];
  alert: [alert: Alert];
  rejection: [rejection: RejectionRecord];
  presence: [gateId: string];
  "command-ack": [commandId: string, gateId: string];
  /** A command was sent (by this server's API or a library caller). */
  command: [command: Command];
  /** An alert was acknowledged. */
  "alert-ack": [alert: Alert];
  /** An open grouped alert (revoked-key-scans) counted more occurrences. */
  "alert-update": [alert: Alert];
  connected: [];
}

export class SyncServer extends EventEmitter<ServerEvents> {
  readonly venue: Venue;
  readonly topics: VenueTopics;
  readonly tuning: SyncServerTuning;
  readonly now: () => number;
  private readonly signer: Ed25519Signer = createNodeSigner();
  private readonly verifier: Ed25519Verifier = createNodeVerifier(1024);
  private readonly commandSeed: Uint8Array;
  readonly commandPublicKey: string;
  private client: MqttClient | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private readonly fanOut: AdmissionsFanOut;
  private fanOutTimer: NodeJS.Timeout | undefined;
  private inProcessBroker: EmbeddedBroker | undefined;
  /** The embedded broker's child process (tests kill it to simulate a crash). */
  brokerProcess: BrokerProcess | undefined;
  brokerUrl = "";
  mqttPort: number | undefined;
  httpPort: number | undefined;
  /** Commands not yet acknowledged by every gate they target: republished until then or expiry. */
  private readonly pendingCommands = new Map<
    string,
    { expiresAt: number; topic: string; payload: string; targets: Set<string> }
  >();
  private bundleCache: { key: string; bytes: Buffer; signature: string } | undefined;
  /** Gates whose clock is off now: alerted once on the way out of range, not at every heartbeat. */
  private readonly skewedGates = new Set<string>();
  /** Per gate, the lane peripherals ("2/reader") whose secure channel fails, as its last heartbeat said. */
  private readonly failingPeripherals = new Map<string, ReadonlySet<string>>();
  /** The open broker-denied alert of each username: one alert per intruder, not one per attempt. */
  private readonly brokerAlerts = new Map<string, number>();
  /** Gates online but silent: alerted once until they speak again. */
  private readonly silentGates = new Set<string>();
  private closeHttp: (() => Promise<void>) | undefined;
  private stopBrokerLog: (() => void) | undefined;
  /** Follows the issuer's stream of this venue's changes (when options.issuer is given). */
  follower: IssuerFollower | undefined;
  private issuerKeyCache: { signature: string; keys: ReadonlyMap<number, IssuerKey> } | undefined;
  private readonly trustLists: TrustListDesk;
  private stopped = false;

  private constructor(
    readonly store: ServerStore,
    readonly options: SyncServerOptions,
  ) {
    super();
    this.setMaxListeners(1000);
    this.venue = store.venue();
    this.topics = venueTopics(this.venue.id);
    this.tuning = { ...DEFAULT_SERVER_TUNING, ...options.tuning };

    this.now = options.now ?? Date.now;
    // The operations key signs commands and the gate list; gates accept it through its certificate,
    // which the root signed offline: the server holds no root key (docs/design.md §9).
    this.commandSeed = operationsSeed(store);
    this.fanOut = new AdmissionsFanOut((order) => this.sealAdmissions(order), this.tuning.fanOutWindowMs);
    this.commandPublicKey = operationsPublicKey(store);
    const problem = operationsCertificateProblem(store, this.now(), options);
    if (problem) throw new Error(problem);
    const areas = store.areas;
    this.trustLists = new TrustListDesk({
      keys: areas.keys,
      venue: this.venue,
      verifier: this.verifier,
      publishTrustList: (list) => this.publish(this.topics.trustList, encodeTrustList(list), true),
    });
  }

  static async start(options: SyncServerOptions): Promise<SyncServer> {
    const now = options.now ?? Date.now;
    const store = openServerStore(options.venueDir, options.dataDir, now());
    const server = new SyncServer(store, options);
    try {
      server.takeVenueTrustList();
      await server.startBroker();
      server.connectMqtt();
      server.followIssuer();
      if (options.http) {
        const http = await startHttpApi(server, options.http);
        server.httpPort = http.port;
        server.closeHttp = http.close;
      }
      server.heartbeatTimer = setInterval(() => {
        server.publishHeartbeat();
        server.republishCommands();
        server.watchSilentGates();
      }, server.tuning.heartbeatMs);
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  log(line: string): void {
    this.options.log?.(line);
  }

  private async startBroker(): Promise<void> {
    const choice = this.options.broker ?? { kind: "embedded" };
    if (choice.kind === "external") {
      this.brokerUrl = choice.url;
      if (choice.log !== undefined)
        this.stopBrokerLog = followLog(
          choice.log,
          (line) => {
            const refusal = mosquittoRefusal(line);
            if (refusal) this.onBrokerAudit(refusal);
          },
          250,
          (error) =>
            this.log(
              `broker log ${choice.log}: cannot follow it (${String(error)}): its refusals are not alerted`,
            ),
        );
      return;
    }
    const host = choice.host ?? "127.0.0.1";
    const persistenceDir = join(this.options.dataDir, SERVER_DATA.brokerDir);
    if (choice.mode === "in-process") {
      this.inProcessBroker = await startEmbeddedBroker({
        venueId: this.venue.id,
        host,
        port: choice.port ?? 0,
        persistenceDir,
        ...(this.tuning.brokerHeartbeatMs !== undefined
          ? { heartbeatMs: this.tuning.brokerHeartbeatMs }
          : {}),
        credentials: storeCredentials(this.store, this.venue.id),
        onAudit: (audit) => this.onBrokerAudit(audit),
      });
      this.mqttPort = this.inProcessBroker.port;
    } else {
      const broker = new BrokerProcess({
        venueId: this.venue.id,
        host,
        port: choice.port ?? 0,
        persistenceDir,
        dbPath: join(this.options.dataDir, SERVER_DATA.db),
        ...(this.tuning.brokerHeartbeatMs !== undefined
          ? { heartbeatMs: this.tuning.brokerHeartbeatMs }
          : {}),
      });
      broker.on("audit", (audit) => this.onBrokerAudit(audit));
      broker.on("log", (line) => this.log(`broker: ${line}`));
      broker.on("exit", (code, signal) => {
        if (!this.stopped) this.log(`embedded broker exited (${signal ?? code}); restarting`);
      });
      this.brokerProcess = broker;
      this.mqttPort = await broker.start();
    }
    this.brokerUrl = `mqtt://${host}:${this.mqttPort}`;
  }

  /**
   * A broker refusal (the embedded broker's hooks, or Mosquitto's log): a rejection on one line with
   * the client id, username, topic and why, and a broker-denied alert per username while one is open.
   * A wrong password is a rejection only (a mistyped configuration is not an attack).
   */
  private onBrokerAudit(audit: BrokerAudit): void {
    const source = audit.username || "(anonymous)";
    const action = {
      "auth-failed": "",
      "will-denied": "will on",
      "publish-denied": "publish to",
      "subscribe-denied": "subscribe to",
    }[audit.type];
    const detail =
      audit.type === "auth-failed"
        ? `client ${audit.clientId}: ${audit.detail}`
        : `client ${audit.clientId}: ${action} ${audit.topic ?? "?"} denied: ${audit.detail}`;
    this.reject(source, audit.topic, audit.type === "auth-failed" ? "auth-failed" : "denied", detail);
    if (audit.type === "auth-failed") return;
    const open = this.brokerAlerts.get(source);
    if (open !== undefined && this.store.alert(open)?.acknowledgedAt === null) return;
    const gateId = gateIdOfUsername(source);
    const alert = this.raiseAlert({
      type: "broker-denied",
      at: this.now(),
      gates: gateId ? [gateId] : [],
      detail: printable(
        `MQTT refusal for ${source}: ${detail} (further ones are in the rejections until this alert is acknowledged)`,
      ),
    });
    this.brokerAlerts.set(source, alert.id);
  }

  reject(
    source: string,
    topic: string | undefined,
    reason: RejectReason,
    detail: string,
    raw?: Buffer,
  ): undefined {
    const record = this.store.recordRejection(
      this.now(),
      source,
      topic,
      reason,
      detail,
      raw?.subarray(0, 512).toString("utf8"),
    );
    // Usernames, topics and parse errors come from whoever connected: one escaped line each.
    this.log(printable(`rejected from ${source}${topic ? ` on ${topic}` : ""}: ${reason}: ${detail}`));
    this.emit("rejection", record);
    return undefined;
  }

  // -------------------------------------------------------------------------------------------
  // MQTT

  private connectMqtt(): void {
    const password = this.store.meta("mqtt_server_password") ?? "";
    const client = connect(this.brokerUrl, {
      clientId: SERVER_USERNAME,
      username: SERVER_USERNAME,
      password,
      protocolVersion: 4,
      // Persistent session: batches published while the server restarts wait for it at the broker.
      clean: false,
      keepalive: 10,
      connectTimeout: 5000,
      reconnectPeriod: 500,
      will: {
        topic: this.topics.serverStatus,
        payload: Buffer.from(encodeStatus({ state: "offline" })),
        qos: 1,
        retain: true,
      },
    });
    this.client = client;
    client.on("connect", () => {
      noDelay(client);
      client.subscribe(
        this.topics.serverSubscriptions.map((t) => t),
        { qos: this.subscriptionQos() },
        (error) => {
          if (error) {
            this.log(`subscribe failed: ${error.message}`);
            return;
          }
          client.publish(this.topics.serverStatus, encodeStatus({ state: "online", at: this.now() }), {
            qos: 1,
            retain: true,
          });
          client.publish(this.topics.trustList, encodeTrustList(this.store.trustList()), {
            qos: 1,
            retain: true,
          });
          const gateList = currentGateList(this.store);
          if (gateList)
            client.publish(this.topics.gateList, encodeGateList(gateList), { qos: 1, retain: true });
          this.publishHeartbeat();
          this.emit("connected");
        },
      );
    });
    client.on("message", (topic, payload, packet) => {
      try {
        if (packet.retain) this.onRetained(topic, payload);
        else this.onMessage(topic, payload);
      } catch (error) {
        // Storage failure (disk full…): no ack is sent, so the gate keeps the events and resends.
        this.log(
          `failed to handle ${topic}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
        );
      }
    });
    client.on("error", (error) => this.log(`mqtt: ${error.message}`));
  }

  /**
   * QoS of the server's own subscription to the gates' uplink. With Mosquitto: 1 (batches published
   * while the server restarts wait for it at the broker). With the embedded aedes: 0 — aedes writes
   * every QoS 1 delivery to LevelDB first and may drop one overtaken by the next (moscajs/aedes#994),
   * which under load turns into resync storms; at QoS 0 batches go straight through, in order. What
   * the broker does not deliver is resent by the gates: nothing leaves an outbox before the server's ack.
   */
  private subscriptionQos(): 0 | 1 {
    if (this.tuning.subscriptionQos !== undefined) return this.tuning.subscriptionQos;
    return (this.options.broker ?? { kind: "embedded" }).kind === "embedded" ? 0 : 1;
  }

  get mqttConnected(): boolean {
    return this.client?.connected ?? false;
  }

  /** The operations key's seal on an admissions message's order (gates check it before applying). */
  private sealAdmissions(order: string): string {
    return signAdmissionsOrder(order, this.commandSeed, this.signer);
  }

  /** Publishes the fan-out's messages, and wakes up when the admissions it holds are due. */
  private sendAdmissions(messages: readonly string[]): void {
    for (const m of messages) this.publish(this.topics.admissions, m);
    const due = this.fanOut.dueAt;
    if (due === undefined || this.fanOutTimer !== undefined || this.stopped) return;
    this.fanOutTimer = setTimeout(
      () => {
        this.fanOutTimer = undefined;
        const message = this.fanOut.take(this.now());
        this.sendAdmissions(message === undefined ? [] : [message]);
      },
      Math.max(0, due - this.now()),
    );
  }

  private publish(topic: string, payload: string, retain = false, qos: 0 | 1 = 1): void {
    this.client?.publish(topic, payload, { qos, retain });
  }

  private publishHeartbeat(): void {
    if (!this.client?.connected) return;
    this.publish(
      this.topics.serverHeartbeat,
      encodeServerHeartbeat({
        at: this.now(),
        feedSequence: this.store.feedSequence(),
        admissionSeq: this.store.admissionSeq(),
        trustListVersion: this.store.trustList().version,
        ...this.gateListVersion(),
      }),
      false,
      0,
    );
  }

  /**
   * A retained message reaches the server only when it subscribes (at every connect). The protocol
   * retains nothing the server consumes but gate presence; Mosquitto cannot refuse a gate's retained
   * publish on its own topics (the embedded broker does), so the server refuses to apply it here.
   */
  private onRetained(topic: string, payload: Buffer): undefined {
    const parsed = parseTopic(this.venue.id, topic);
    if (parsed?.kind === "gate" && parsed.leaf === "status") return this.onMessage(topic, payload);
    const username = parsed?.kind === "gate" ? gateUsername(parsed.gateId) : "?";
    this.onBrokerAudit({
      type: "publish-denied",
      clientId: username,
      username,
      topic,
      detail: "a retained message where the protocol retains none: not applied",
    });
    return undefined;
  }

  private gateListVersion(): { gateListVersion?: number } {
    const list = currentGateList(this.store);
    return list ? { gateListVersion: list.version } : {};
  }

  private onMessage(topic: string, payload: Buffer): undefined {
    const parsed = parseTopic(this.venue.id, topic);
    if (parsed?.kind !== "gate") {
      this.reject("?", topic, "unknown-topic", "not a topic the server consumes", payload);
      return;
    }
    const gateId = parsed.gateId;
    const gate = this.store.gate(gateId);
    if (!gate?.publicKey) {
      this.reject(gateId, topic, "unknown-gate", `gate ${gateId} is not provisioned`, payload);
      return;
    }
    switch (parsed.leaf) {
      case "events":
        this.onEvents(gateId, gate.publicKey, topic, payload);
        return;
      case "replay":
        this.onReplay(gateId, topic, payload);
        return;
      case "status": {
        const status = decodeStatus(payload);
        if (!status.ok) return this.reject(gateId, topic, status.reason, status.detail, payload);
        this.store.setGateStatus(gateId, status.value.state, this.now());
        if (status.value.state === "offline" && gate.status === "online")
          this.raiseGateAlert("gate-offline", gateId, gateOfflineDetail(gateId));
        this.silentGates.delete(gateId);
        if (status.value.state === "online") {
          // Tell a (re)connected gate where the server stands, so that it resends from there at once.
          this.publish(
            this.topics.gate(gateId, "ack"),
            encodeAck({ upToGateSeq: gate.ackedSeq, at: this.now() }),
          );
        }
        this.emit("presence", gateId);
        return;
      }
      case "heartbeat": {
        const hb = decodeGateHeartbeat(payload);
        if (!hb.ok) return this.reject(gateId, topic, hb.reason, hb.detail, payload);
        const now = this.now();
        this.store.setGateHeartbeat(gateId, hb.value, now);
        this.silentGates.delete(gateId);
        // A heartbeat proves the gate is connected. Its retained "online" birth can be lost on the
        // way (seen with the embedded aedes, cf. aedes#994), so a gate not marked online is marked so —
        // unless it said "offline" a moment ago (a heartbeat overtaken by its own goodbye).
        if (gate.status !== "online" && (gate.status === "unknown" || now - (gate.statusAt ?? 0) > 2000)) {
          this.store.setGateStatus(gateId, "online", now);
          this.publish(this.topics.gate(gateId, "ack"), encodeAck({ upToGateSeq: gate.ackedSeq, at: now }));
        }
        this.watchClock(gateId, hb.value.clockOffsetMs);
        this.watchPeripherals(gateId, hb.value.offlinePeripherals ?? []);
        this.emit("presence", gateId);
        return;
      }
      case "refusals": {
        const report = decodeRefusalReport(payload);
        if (!report.ok) return this.reject(gateId, topic, report.reason, report.detail, payload);
        this.onGateRefusal(gateId, report.value);
        return;
      }
      case "command-acks": {
        const ack = decodeCommandAck(payload);
        if (!ack.ok) return this.reject(gateId, topic, ack.reason, ack.detail, payload);
        if (!this.store.recordCommandAck(gateId, ack.value))
          return this.reject(gateId, topic, "invalid", `no command ${ack.value.commandId}`, payload);
        const pending = this.pendingCommands.get(ack.value.commandId);
        pending?.targets.delete(gateId);
        if (pending?.targets.size === 0) this.pendingCommands.delete(ack.value.commandId);
        this.emit("command-ack", ack.value.commandId, gateId);
        return;
      }
      default:
        this.reject(gateId, topic, "unknown-topic", `the server does not consume ${parsed.leaf}`, payload);
    }
  }

  private onEvents(gateId: string, publicKey: string, topic: string, payload: Buffer): undefined {
    const now = this.now();
    const outcome = handleEventBatch(this.store, this.verifier, gateId, publicKey, payload, now);
    if (outcome.kind === "refused") {
      if (outcome.reason === "bad-signature")
        return this.unsignedBatch(gateId, topic, payload, outcome.detail);
      this.reject(gateId, topic, outcome.reason, outcome.detail, payload);
      if (outcome.reason === "quarantined") this.quarantinedBatch(gateId);
      return;
    }
    const ackTopic = this.topics.gate(gateId, "ack");
    this.publish(ackTopic, outcome.ack);
    if (outcome.kind === "resync") return;
    const { result } = outcome;
    for (const r of result.rejected) {
      this.log(
        printable(`rejected from ${gateId} on ${topic}: ${r.reason}: gateSeq ${r.gateSeq}: ${r.detail}`),
      );
      this.emit("rejection", {
        id: 0,
        at: now,
        source: gateId,
        topic,
        reason: r.reason,
        detail: `gateSeq ${r.gateSeq}: ${r.detail}`,
      });
    }
    this.sendAdmissions(this.fanOut.add(outcome.admissions, now));
    if (result.stored.length > 0) this.emit("entries", result.stored);
    for (const alert of result.alerts) {
      this.log(`ALERT ${alert.detail}`);
      this.emit("alert", alert);
    }
    // A grouped alert's new count: on the dashboard, not one more log line per batch.
    for (const alert of result.updatedAlerts) this.emit("alert-update", alert);
  }

  private onReplay(gateId: string, topic: string, payload: Buffer): undefined {
    const request = decodeReplay(payload);
    if (!request.ok) return this.reject(gateId, topic, request.reason, request.detail, payload);
    const { stream, from } = request.value;
    const out = this.topics.gate(gateId, "changes");
    if (stream === "trust-list") {
      this.publish(out, encodeTrustListReply(this.store.trustList()));
      return;
    }
    if (stream === "gate-list") {
      const list = currentGateList(this.store);
      if (list) this.publish(out, encodeGateListReply(list));
      return;
    }
    if (stream === "feed") {
      const head = this.store.feedSequence();
      const snapshot = (): undefined => {
        this.publish(
          out,
          encodeFeed({ changes: [], snapshot: { feedSequence: head, path: "/api/gate/bundle" } }),
        );
      };
      if (from <= this.store.feedBase() || head - from > this.tuning.snapshotThreshold) return snapshot();
      const changes = this.store.changesFrom(from, MAX_REPLAY_ITEMS);
      // Gates refuse changes signed by a key revoked since, and unsigned ones (stored before the feed
      // was signed): the snapshot carries their outcome instead.
      const revoked = new Set(
        this.store
          .issuerKeys()
          .filter((k) => k.revoked)
          .map((k) => k.keyId),
      );
      if (changes.some((c) => c.sig === undefined || revoked.has(c.keyId))) return snapshot();
      const last = changes[changes.length - 1];
      this.publish(out, encodeFeed({ changes, ...(last && last.sequence < head ? { more: true } : {}) }));
      return;
    }
    const head = this.store.admissionSeq();
    // The signed batches ride along: keep the answer well under what a gate accepts.
    const entries = this.store.admissionsFrom(from, MAX_REPLAY_ITEMS, MAX_BATCH_BYTES);
    const last = entries[entries.length - 1];
    this.publish(
      out,
      encodeAdmissions({ entries, ...(last && last.seq < head ? { more: true } : {}) }, (order) =>
        this.sealAdmissions(order),
      ),
    );
  }

  /**
   * A batch on a gate's topic that its key did not sign: refused, logged, and alerted (one open
   * alert per gate), saying so when it is signed with one of the gate's revoked keys (the gate was
   * provisioned again: its old key file, or the old gate itself, is still sending).
   */
  private unsignedBatch(gateId: string, topic: string, payload: Buffer, detail: string): undefined {
    const revoked = revokedKeyOfBatch(
      payload,
      gateId,
      currentGateList(this.store)?.revoked ?? [],
      this.verifier,
    );
    const why = revoked
      ? `batch is signed with gate ${gateId}'s revoked key ${revoked.publicKey} (revoked ${new Date(revoked.at).toISOString()} by ${revoked.by}: ${revoked.reason})`
      : detail;
    this.reject(gateId, topic, "bad-signature", why, payload);
    this.raiseGateAlert("forged-message", gateId, printable(`gate ${gateId}'s topic ${topic}: ${why}`));
    return undefined;
  }

  // -------------------------------------------------------------------------------------------
  // Alerts

  /** Stores and announces an alert (e.g. forced passage reported by a composition root). */
  raiseAlert(alert: NewAlert): Alert {
    const stored = this.store.raiseAlert(alert);
    this.log(`ALERT ${stored.detail}`);
    this.emit("alert", stored);
    return stored;
  }

  /**
   * A gate refused a message of the venue network (a forged admission, gate list or command): the
   * refusal is recorded with what the gate saw, and alerted (one open alert per refusing gate).
   */
  private onGateRefusal(gateId: string, report: RefusalReport): void {
    const from = report.sender === undefined ? "" : ` from ${report.sender}`;
    this.reject(
      gateId,
      report.topic,
      report.reason,
      `gate ${gateId} refused a message${from}: ${report.detail}`,
    );
    const gates =
      report.sender === undefined || report.sender === gateId ? [gateId] : [gateId, report.sender];
    // Every refusal is recorded above; the alert stays one while it is open (a forger may flood).
    if (this.store.openAlertOf("forged-message", gateId)) return;
    this.raiseAlert({
      type: "forged-message",
      at: this.now(),
      gates,
      detail: printable(
        `gate ${gateId} refused a message on ${report.topic}${from}: ${report.reason}: ${report.detail}`,
      ),
    });
  }

  /** A gate's technical alert, unless one of the same type is still open for it. */
  private raiseGateAlert(type: AlertType, gateId: string, detail: string): void {
    if (this.store.openAlertOf(type, gateId)) return;
    this.raiseAlert({ type, at: this.now(), gates: [gateId], detail });
  }

  private watchClock(gateId: string, offsetMs: number | undefined): void {
    if (offsetMs === undefined) return;
    const detail = clockSkewDetail(gateId, offsetMs, this.tuning.clockSkewAlertMs);
    if (detail === undefined) {
      this.skewedGates.delete(gateId);
      return;
    }
    if (this.skewedGates.has(gateId)) return;
    this.skewedGates.add(gateId);
    this.raiseGateAlert("clock-skew", gateId, detail);
  }

  /**
   * A lane peripheral whose secure channel fails (the gate says so in its heartbeats, every 5 s):
   * one tech alert when it starts failing, not one per heartbeat, and none after an
   * acknowledgement while the same ones still fail.
   */
  private watchPeripherals(gateId: string, offline: readonly OfflinePeripheral[]): void {
    const failing = offline.filter((p) => p.secureChannelFailed === true);
    const known = this.failingPeripherals.get(gateId);
    const key = (p: OfflinePeripheral) => `${p.lane}/${p.peripheral}`;
    const fresh = failing.filter((p) => known?.has(key(p)) !== true);
    if (failing.length === 0) this.failingPeripherals.delete(gateId);
    else this.failingPeripherals.set(gateId, new Set(failing.map(key)));
    if (fresh.length === 0) return;
    this.raiseAlert({
      type: "lane-offline",
      at: this.now(),
      gates: [gateId],
      detail: printable(
        `gate ${gateId}: ${fresh.map((p) => `lane ${p.lane} ${p.peripheral} offline: ${p.reason}`).join("; ")}`,
      ),
    });
  }

  /** The Last Will covers a dead connection; this covers a gate whose link is up but that says nothing. */
  private watchSilentGates(): void {
    const now = this.now();
    for (const g of this.store.gates()) {
      if (this.silentGates.has(g.gateId)) continue;
      const detail = silentGateDetail(
        { ...g, heartbeatAt: g.heartbeat?.receivedAt ?? null },
        now,
        this.tuning.gateSilenceMs,
      );
      if (detail === undefined) continue;
      this.silentGates.add(g.gateId);
      this.raiseGateAlert("gate-offline", g.gateId, detail);
    }
  }

  /** A supervisor (any alert) or a tech (technical alerts) acknowledges an alert. */
  acknowledgeAlert(id: number, by: { name: string; role: string }, note: unknown): Alert {
    if (note !== undefined && (typeof note !== "string" || note.length > 500))
      throw new ApiError(400, "note must be a text of at most 500 characters");
    const control = typeof note === "string" ? controlCharacter(note, true) : undefined;
    if (control)
      throw new ApiError(400, `note must not contain control characters other than line breaks (${control})`);
    const alert = this.store.alert(id);
    if (!alert) throw new ApiError(404, `no alert ${id}`);
    if (!mayAcknowledge(by.role, alert.type))
      throw new ApiError(403, `role ${by.role} may not acknowledge a ${alert.type} alert`);
    const text = typeof note === "string" && note.trim() !== "" ? note.trim() : undefined;
    if (!this.store.acknowledgeAlert(id, by.name, this.now(), text))
      throw new ApiError(409, `alert ${id} was already acknowledged`, { alert });
    const updated = this.store.alert(id) ?? alert;
    this.emit("alert-ack", updated);
    return updated;
  }

  // -------------------------------------------------------------------------------------------
  // Quarantine

  /**
   * A supervisor takes a gate out of the venue network (its key is taken, it sends implausible
   * events): recorded with who, when and why; from now on its batches are refused (logged, counted
   * on the quarantine alert) until it is provisioned again. This is the one place a quarantine
   * happens: revoking the gate in the signed venue gate list, so that every other gate ignores its
   * admissions, belongs here too.
   */
  quarantineGate(gateId: string, by: { name: string; role: string }, reason: unknown): GateRecord {
    if (typeof reason !== "string" || reason.trim() === "" || reason.length > 500)
      throw new ApiError(400, "reason must be a text of 1 to 500 characters: why the gate is quarantined");
    const control = controlCharacter(reason, false);
    if (control) throw new ApiError(400, `reason must not contain control characters (${control})`);
    const gate = this.store.gate(gateId);
    if (!gate) throw new ApiError(404, `gate ${gateId} is not in venue ${this.venue.id}'s gate list`);
    if (gate.quarantine)
      throw new ApiError(409, `gate ${gateId} is already quarantined (by ${gate.quarantine.by})`, {
        quarantine: gate.quarantine,
      });
    const quarantine = { at: this.now(), by: by.name, reason: reason.trim() };
    this.store.areas.gates.quarantine(gateId, quarantine);
    this.log(printable(`gate ${gateId} quarantined by ${by.name} (${by.role}): ${quarantine.reason}`));
    // Every other gate refuses its admissions from now on: its key is revoked in the signed gate list.
    this.revokeGate(gateId, { by: by.name, reason: quarantine.reason });
    this.raiseAlert({
      type: "gate-quarantined",
      at: quarantine.at,
      gates: [gateId],
      detail: quarantineDetail(gateId, quarantine, 0),
    });
    this.emit("presence", gateId);
    return this.store.gate(gateId) ?? gate;
  }

  /** A quarantined gate's batch was refused: counted on its quarantine alert (one per gate). */
  private quarantinedBatch(gateId: string): void {
    const quarantine = this.store.quarantineOf(gateId);
    if (!quarantine) return;
    const alert = this.store.areas.alerts.raiseGrouped(
      { type: "gate-quarantined", at: this.now(), gates: [gateId], detail: "" },
      1,
      // An open alert counts the quarantine itself, then each refused batch.
      (total, grouped) => quarantineDetail(gateId, quarantine, grouped ? total - 1 : total),
    );
    this.log(printable(`ALERT ${alert.detail}`));
    this.emit("alert", alert);
  }

  // -------------------------------------------------------------------------------------------
  // The issuer's stream (feed/follower.ts)

  private followIssuer(): void {
    const issuer = this.options.issuer;
    if (!issuer) return;
    const source = "source" in issuer ? issuer.source : httpIssuerSource(issuer.url, issuer.token);
    this.follower = new IssuerFollower(
      {
        venueId: this.venue.id,
        source,
        verifier: this.verifier,
        position: () => this.store.feedSequence(),
        issuerKeys: () => this.trustedIssuerKeys(),
        append: (changes) => {
          const result = this.store.areas.feed.appendIssued(changes, this.now());
          this.publishChanges(changes.slice(0, result.applied));
          return result;
        },
        refused: (refusal) => this.refusedIssuedChange(source.where, refusal),
        log: (line) => this.log(line),
      },
      this.options.followerTuning,
    );
    this.follower.start();
    this.log(
      `following the issuer ${source.where} for venue ${this.venue.id} from feed sequence ${this.store.feedSequence()}`,
    );
  }

  /**
   * The issuer keys a change must be signed by: those of the venue's trust list, checked against
   * the venue root's public key (whoever stored it), as a gate checks them.
   */
  private trustedIssuerKeys(): ReadonlyMap<number, IssuerKey> {
    const stored = this.store.trustList();
    if (this.issuerKeyCache?.signature === stored.signature) return this.issuerKeyCache.keys;
    const verdict = verifyTrustList(stored, Buffer.from(this.venue.rootPublicKey, "hex"), this.verifier, {
      venue: this.venue.id,
    });
    // A trust list that does not verify trusts no key: every change is refused, and says why.
    const keys: ReadonlyMap<number, IssuerKey> = verdict.ok ? issuerKeyMap(verdict.list) : new Map();
    if (!verdict.ok)
      this.log(`the stored trust list does not verify (${verdict.detail}): no issuer change is applied`);
    this.issuerKeyCache = { signature: stored.signature, keys };
    return keys;
  }

  /** A change of the issuer's stream refused: recorded, logged on one line, alerted; the feed stays. */
  private refusedIssuedChange(where: string, refusal: RefusedIssuedChange): void {
    const reason: RejectReason =
      refusal.reason === "wrong-venue"
        ? "wrong-target"
        : refusal.reason === "does-not-apply"
          ? "invalid"
          : refusal.reason;
    const detail = `change ${refusal.sequence} (issuer key ${refusal.keyId}) from the issuer ${where}: ${refusal.detail}; the feed stays at ${this.store.feedSequence()}`;
    this.reject("issuer", undefined, reason, detail);
    this.raiseAlert({
      type: "forged-message",
      at: this.now(),
      gates: [],
      detail: printable(`refused a change of the issuer's stream: ${reason}: ${detail}`),
    });
  }

  private publishChanges(changes: readonly SignedTicketChange[]): void {
    for (let i = 0; i < changes.length; i += MAX_REPLAY_ITEMS)
      this.publish(this.topics.feed, encodeFeed({ changes: changes.slice(i, i + MAX_REPLAY_ITEMS) }));
  }

  /** Where the ticketing platform's endpoints went (the 410 answers of the old ones say it). */
  issuerUrl(): string | undefined {
    const issuer = this.options.issuer;
    return issuer && "url" in issuer ? issuer.url : undefined;
  }

  // -------------------------------------------------------------------------------------------
  // Keys (keys/trust-list.ts)

  /**
   * The venue directory's trust-list.json, where the root holder puts a new list: taken at start
   * when its version is above the one held (refused and alerted when the root did not sign it).
   */
  private takeVenueTrustList(): void {
    const path = join(this.options.venueDir, VENUE_FILES.trustList);
    if (!existsSync(path)) return;
    let value: unknown;
    try {
      value = JSON.parse(readFileSync(path, "utf8"));
    } catch {
      value = undefined;
    }
    const version = (value as { version?: unknown } | undefined)?.version;
    // The list the venue was set up with, or one taken before: nothing new, nothing to say.
    if (typeof version === "number" && version <= this.store.trustList().version) return;
    try {
      this.acceptTrustList(value, `venue directory (${VENUE_FILES.trustList})`);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      // Refused, logged and alerted: the server runs on with the list it held.
    }
  }

  /**
   * A new trust list, signed offline by the venue root (`sesame root trust-list`): stored and
   * published when the root signed it and its version rises; otherwise refused (one line, an alert)
   * and nothing changes. `source` says where it came from (an account, the venue directory).
   */
  acceptTrustList(value: unknown, source: string): { readonly version: number } {
    const verdict = this.trustLists.accept(value);
    if (verdict.ok) {
      this.log(`trust list version ${verdict.trustList.version} from ${source} published`);
      return { version: verdict.trustList.version };
    }
    this.reject(source, this.topics.trustList, verdict.reason, `trust list refused: ${verdict.detail}`);
    this.raiseAlert({
      type: "forged-message",
      at: this.now(),
      gates: [],
      detail: printable(`trust list from ${source} refused (${verdict.reason}): ${verdict.detail}`),
    });
    throw new ApiError(verdict.reason === "invalid" ? 400 : 409, `trust list refused: ${verdict.detail}`);
  }

  // -------------------------------------------------------------------------------------------
  // Gates

  /**
   * Gives a gate (new) credentials for the key it made (`key`: its public key and proof of
   * possession): the key goes in the gate list, an MQTT password and HTTP token come back. Old ones
   * stop working and the old key is revoked in the gate list. A gate that is online (its presence says so, or it was
   * heard within the silence window) is refused unless `force`: provisioning it would cut the real
   * gate off, so a forced one is recorded as such and alerted. `by` is the admin (HTTP API) or
   * "set-up" (the venue's own set-up, in this process).
   */
  provisionGate(
    gateId: string,
    key: GateKeyRequest,
    options: { by?: string; force?: boolean } = {},
  ): GateProvisioning {
    const by = options.by ?? SET_UP;
    const gate = this.store.gate(gateId);
    const online = gate ? this.onlineSince(gate) : undefined;
    if (online !== undefined && options.force !== true) {
      this.log(printable(`provisioning of gate ${gateId} by ${by} refused: the gate is online (${online})`));
      throw new ApiError(
        409,
        `gate ${gateId} is online (${online}): provisioning it would cut the running gate off; send {"force": true} to provision it anyway (recorded and alerted)`,
        { gateId, online },
      );
    }
    const forced = online !== undefined;
    let provisioning: GateProvisioning;
    try {
      provisioning = provisionGateInStore(
        this.store,
        gateId,
        key,
        this.now(),
        this.provisioningUrls(),
        by,
        forced,
      );
    } catch (error) {
      // A key request refused (a proof that fails, another gate's or a revoked key): one line, and
      // alerted when it is the key that is refused — a replayed or borrowed request is an attack.
      if (error instanceof ApiError) {
        const detail = printable(`provisioning of gate ${gateId} by ${by} refused: ${error.message}`);
        this.log(detail);
        if (error.message.includes("key request is refused"))
          this.raiseAlert({
            type: "provisioning-refused",
            at: this.now(),
            gates: this.store.gate(gateId) ? [gateId] : [],
            detail,
          });
      }
      throw error;
    }
    if (provisioning.gateList) this.publishGateList(provisioning.gateList);
    this.log(
      printable(
        `gate ${gateId} provisioned by ${by}${forced ? `, forced while online (${online})` : ""}: key ${provisioning.gatePublicKey}${gate?.publicKey && gate.publicKey !== provisioning.gatePublicKey ? `, key ${gate.publicKey} revoked` : ""}`,
      ),
    );
    if (forced)
      this.raiseAlert({
        type: "forced-provisioning",
        at: this.now(),
        gates: [gateId],
        detail: printable(
          `gate ${gateId} provisioned by ${by} while online (${online}): the running gate is cut off, its key ${gate?.publicKey ?? "?"} revoked`,
        ),
      });
    this.emit("presence", gateId);
    return provisioning;
  }

  /**
   * Someone who is not an admin asked to provision a gate: exactly the insider who would take a
   * gate's identity. Logged on one line and alerted; the caller answers 403.
   */
  refuseProvisioning(gateId: string, caller: { name: string; role: string }): ApiError {
    const detail = printable(
      `${caller.name} (${caller.role}) tried to provision gate ${gateId.slice(0, 64)}: provisioning is an admin's act`,
    );
    this.log(`provisioning refused: ${detail}`);
    this.raiseAlert({
      type: "provisioning-refused",
      at: this.now(),
      gates: this.store.gate(gateId) ? [gateId] : [],
      detail,
    });
    return new ApiError(
      403,
      `role ${caller.role} may not provision a gate: provisioning hands out the gate's identity and is an admin's act (refusal recorded and alerted)`,
    );
  }

  /** Why a gate counts as online (for provisioning), or undefined when it is not. */
  private onlineSince(gate: GateRecord): string | undefined {
    const now = this.now();
    if (gate.status === "online")
      return `its presence says online since ${new Date(gate.statusAt ?? now).toISOString()}`;
    const heard = gate.heartbeat?.receivedAt;
    if (heard !== undefined && now - heard <= this.tuning.gateSilenceMs)
      return `heard ${Math.round((now - heard) / 1000)} s ago`;
    return undefined;
  }

  /**
   * Revokes a gate in the venue gate list (quarantine): a new list, signed by the operations key and
   * published to every gate, which from then on refuses admissions the gate signs. Its batches to
   * the server are another matter (see the server's quarantine). Provisioning the gate again puts a
   * new key of it in the list.
   */
  revokeGate(gateId: string, by: { readonly by: string; readonly reason: string }): SignedGateList {
    const list = changeGateList(
      this.store,
      { kind: "revoke", gateId, by: by.by, reason: by.reason },
      { now: this.now(), signer: this.signer },
    );
    this.log(
      printable(
        `gate ${gateId} revoked in the gate list (version ${list.version}) by ${by.by}: ${by.reason}`,
      ),
    );
    this.publishGateList(list);
    return list;
  }

  private publishGateList(list: SignedGateList): void {
    this.publish(this.topics.gateList, encodeGateList(list), true);
    this.publishHeartbeat();
  }

  private provisioningUrls(): { mqttUrl?: string; httpUrl?: string } {
    return {
      ...((this.options.publicMqttUrl ?? this.brokerUrl)
        ? { mqttUrl: this.options.publicMqttUrl ?? this.brokerUrl }
        : {}),
      ...((this.options.publicHttpUrl ?? (this.httpPort ? `http://127.0.0.1:${this.httpPort}` : undefined))
        ? { httpUrl: this.options.publicHttpUrl ?? `http://127.0.0.1:${this.httpPort}` }
        : {}),
    };
  }

  /** The signed gate bundle (same format and signature as the venue directory's), cached per state. */
  signedBundle(): { bytes: Buffer; signature: string; feedSequence: number } {
    const feedSequence = this.store.feedSequence();
    const trust = this.store.trustList();
    const key = `${feedSequence}:${trust.version}`;
    if (this.bundleCache?.key !== key) {
      const bytes = encodeGateBundle(this.store.bundle(trust, this.now()));
      // A snapshot is the operations key's (gates check its certificate); the root signs at set-up only.
      this.bundleCache = { key, bytes, signature: signBundleBytes(bytes, this.commandSeed, this.signer) };
    }
    return { bytes: this.bundleCache.bytes, signature: this.bundleCache.signature, feedSequence };
  }

  // -------------------------------------------------------------------------------------------
  // Commands

  /** Commands from the API (commands/commands.ts): checked, stored, signed, sent until acknowledged. */
  sendCommands(
    input: CommandInput & { venue?: unknown; signed?: unknown; certificate?: unknown },
    by: string,
  ): Command[] {
    if (typeof input.type === "string" && COMMAND_TYPES.includes(input.type as CommandType))
      if (opensLanes(input.type as CommandType)) return this.sendSupervisorCommands(input, by);
    return commandInputs(input, this.venue).map((one) => this.sendCommand(one, by));
  }

  /** The gates a command is for: its gate, or the provisioned gates of its entrance. */
  commandTargets(command: Command): string[] {
    return commandTargets(command, this.store.gates());
  }

  sendCommand(input: CommandInput, by: string): Command {
    const command = buildCommand(input, by, {
      venue: this.venue,
      gateKnown: (gateId) => this.store.gate(gateId) !== undefined,
      now: this.now(),
      defaultTtlMs: this.tuning.commandTtlMs,
      id: randomUUID(),
    });
    this.publishCommand(command, JSON.stringify(command));
    return command;
  }

  /**
   * Commands that open lanes, made and signed in the supervisor's browser: checked here as the gates
   * will (root-certified key, exact text, the caller named), then countersigned by the operations
   * key. A bad signature is refused 403, logged on one line and alerted: a dashboard session
   * (stolen, or a server-side forger) trying to open lanes without the supervisor's key.
   */
  private sendSupervisorCommands(
    input: { type?: unknown; signed?: unknown; certificate?: unknown },
    by: string,
  ): Command[] {
    let signed: SignedCommand[];
    try {
      signed = signedCommands(input, by, {
        venue: this.venue,
        gateKnown: (gateId) => this.store.gate(gateId) !== undefined,
        now: this.now(),
        rootKey: Buffer.from(this.venue.rootPublicKey, "hex"),
        verifier: this.verifier,
      });
    } catch (error) {
      if (error instanceof SupervisorSignatureRefused) {
        const detail = printable(`${by} sent a ${String(input.type)} command refused: ${error.message}`);
        this.log(`supervisor signature refused: ${detail}`);
        this.raiseAlert({ type: "supervisor-signature-refused", at: this.now(), gates: [], detail });
      }
      throw error;
    }
    const taken = signed.find((s) => this.store.command(s.command.id) !== undefined);
    if (taken) throw new ApiError(409, `command ${taken.command.id} was already sent`);
    return signed.map((s) => {
      this.publishCommand(s.command, s.json, s.supervisor);
      return s.command;
    });
  }

  private publishCommand(command: Command, json: string, supervisor?: SignedCommand["supervisor"]): void {
    this.store.insertCommand(command);
    const target = command.target;
    const topic =
      "gate" in target
        ? this.topics.gate(target.gate, "commands")
        : this.topics.entranceCommands(target.entrance);
    const payload = encodeCommandMessage({
      command: json,
      sig: signCommandText(json, this.commandSeed, this.signer),
      ...(supervisor ? { supervisor } : {}),
    });
    const targets = new Set(this.commandTargets(command));
    // A command can be lost on the way (a gate away, aedes#994): it is sent again until every gate
    // it targets has acknowledged it or it expires. Gates execute a command id once.
    this.pendingCommands.set(command.id, { expiresAt: command.expiresAt, topic, payload, targets });
    this.publish(topic, payload);
    const signer = supervisor
      ? `, signed by supervisor ${supervisor.certificate.supervisor} (${supervisor.certificate.name}, key ${supervisor.certificate.publicKey.slice(0, 16)})`
      : "";
    this.log(
      printable(
        `command ${command.type} ${JSON.stringify(command.target)} by ${command.by}${signer}: ${command.id}`,
      ),
    );
    this.emit("command", command);
  }

  private republishCommands(): void {
    const now = this.now();
    for (const [id, pending] of this.pendingCommands) {
      if (now > pending.expiresAt || pending.targets.size === 0) this.pendingCommands.delete(id);
      else this.publish(pending.topic, pending.payload);
    }
  }

  // -------------------------------------------------------------------------------------------

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.fanOutTimer);
    // Admissions held by the fan-out are stored and numbered: send them before going (a gate that
    // misses them asks for them again from the heartbeat's admission sequence).
    const held = this.fanOut.take(this.now(), true);
    if (held !== undefined) this.publish(this.topics.admissions, held);
    await this.follower?.stop();
    this.stopBrokerLog?.();
    await this.closeHttp?.();
    const client = this.client;
    if (client) {
      if (client.connected) {
        await Promise.race([
          new Promise<void>((resolve) =>
            client.publish(
              this.topics.serverStatus,
              encodeStatus({ state: "offline", at: this.now() }),
              { qos: 1, retain: true },
              () => resolve(),
            ),
          ),
          new Promise((r) => setTimeout(r, 1000)),
        ]);
      }
      await Promise.race([
        new Promise<void>((resolve) => client.end(false, {}, () => resolve())),
        new Promise((r) => setTimeout(r, 1000)),
      ]);
      client.end(true);
    }
    await this.brokerProcess?.stop();
    await this.inProcessBroker?.close();
    this.store.close();
  }
}
