import type { Command, CommandAck, FannedOutAdmission, GateHeartbeat } from "@sesame/sync";
import type { SignedTrustListJson } from "@sesame/ticket";
import type { BundleTicket, GateBundle, Revocation, SignedTicketChange, Venue } from "@sesame/venue";
import Database from "better-sqlite3";
import type { Alert, AlertType, NewAlert } from "./alerts/policy.js";
import { AlertRepository } from "./alerts/repository.js";
import { type CommandRecord, CommandRepository } from "./commands/repository.js";
import { type Counts, DashboardQueries, type ThroughputMinute } from "./dashboard/queries.js";
import { MetaRepository } from "./db/meta.js";
import { migrateServerStore } from "./db/migrations.js";
import { FeedRepository } from "./feed/repository.js";
import {
  type GateRecord,
  GateRepository,
  type ProvisioningRecord,
  type Quarantine,
} from "./gates/repository.js";
import { type IngestResult, ingestBatch } from "./ingest/ingest.js";
import { EventRepository, type StoredEvent } from "./ingest/repository.js";
import { type IssuerKeyRecord, KeyRepository } from "./keys/repository.js";
import { type RejectionRecord, RejectionRepository } from "./rejections/repository.js";

/*
 * The sync-server's SQLite store (WAL, synchronous=FULL: an ack is sent only after a commit that
 * survives a power cut), one repository per area over one database, its schema in numbered
 * migrations (db/migrations.ts). Every entry event is stored once (unique event id), in gateSeq
 * order per gate; every ticket change gets the next feed sequence; every stored admission the next
 * admission sequence (the fan-out order). Rejected input is kept with its reason, never silently
 * dropped. The methods below are the store's public surface, each handing off to its area.
 */

export type { Alert, AlertType, NewAlert } from "./alerts/policy.js";
export { ALERT_TYPES, FORGERY_REASONS } from "./alerts/policy.js";
export type { CommandRecord } from "./commands/repository.js";
export type { Counts, ThroughputMinute } from "./dashboard/queries.js";
export type { GateRecord, ProvisioningRecord, Quarantine } from "./gates/repository.js";
export type { IngestResult } from "./ingest/ingest.js";
export { type StoredEvent, wireEvent } from "./ingest/repository.js";
export { MAX_EVENT_AGE_MS, MAX_EVENT_AHEAD_MS } from "./ingest/rules.js";
export type { IssuerKeyRecord } from "./keys/repository.js";
export type { RejectionRecord } from "./rejections/repository.js";

export interface StoreAreas {
  readonly meta: MetaRepository;
  readonly gates: GateRepository;
  readonly events: EventRepository;
  readonly alerts: AlertRepository;
  readonly rejections: RejectionRepository;
  readonly feed: FeedRepository;
  readonly keys: KeyRepository;
  readonly commands: CommandRepository;
  readonly dashboard: DashboardQueries;
}

export class ServerStore {
  readonly db: Database.Database;
  readonly areas: StoreAreas;
  private readonly reentry = new Map<number, "none" | "exit-scan">();
  private readonly entranceZones = new Map<number, readonly number[]>();

  constructor(path: string, options: { readonly?: boolean } = {}) {
    this.db = new Database(path, options.readonly ? { readonly: true, fileMustExist: true } : {});
    this.db.pragma("busy_timeout = 5000");
    if (!options.readonly) {
      this.db.pragma("journal_mode = WAL");
      this.db.pragma("synchronous = FULL");
      // Ingest touches several indexes per event: keep them in memory, and checkpoint the WAL less often.
      this.db.pragma("cache_size = -65536");
      this.db.pragma("wal_autocheckpoint = 10000");
      migrateServerStore(this.db);
    }
    const db = this.db;
    const meta = new MetaRepository(db);
    const events = new EventRepository(db);
    const feed = new FeedRepository(db, meta);
    this.areas = {
      meta,
      gates: new GateRepository(db),
      events,
      alerts: new AlertRepository(db),
      rejections: new RejectionRepository(db),
      feed,
      keys: new KeyRepository(db, meta),
      commands: new CommandRepository(db),
      dashboard: new DashboardQueries(
        db,
        events,
        () => meta.venue(),
        () => feed.feedSequence(),
      ),
    };
    this.loadVenueRules();
  }

  private loadVenueRules(): void {
    const venue = this.areas.meta.venueOrUndefined();
    if (!venue) return;
    for (const s of venue.sessions) this.reentry.set(s.id, s.reentry);
    for (const e of venue.entrances) this.entranceZones.set(e.id, e.zones);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** First load from a venue directory: venue, tickets, revocations, feed base and later changes. */
  initialize(input: {
    venue: Venue;
    bundle: GateBundle;
    changes: readonly SignedTicketChange[];
    trustList: SignedTrustListJson;
    issuerKeys: readonly IssuerKeyRecord[];
    now: number;
  }): void {
    const { meta, feed, gates, keys } = this.areas;
    this.db.transaction(() => {
      meta.setMeta("venue", JSON.stringify(input.venue));
      meta.setMeta("feed_base", String(input.bundle.feedSequence));
      keys.setTrustList(input.trustList);
      feed.loadBundle(input.bundle);
      for (const g of input.venue.gates) gates.addVenueGate(g.id, g.entrance);
      for (const k of input.issuerKeys) keys.putIssuerKey(k);
      let seq = input.bundle.feedSequence;
      for (const c of input.changes) {
        if (c.sequence <= seq) continue;
        if (c.sequence !== seq + 1) throw new Error(`changes.jsonl: sequence ${c.sequence} after ${seq}`);
        feed.storeChange(c, input.now);
        seq = c.sequence;
      }
      meta.setMeta("initialized", new Date(input.now).toISOString());
    })();
    this.loadVenueRules();
    gates.reload();
  }

  // -------------------------------------------------------------------------------------------
  // meta and venue

  meta(key: string): string | undefined {
    return this.areas.meta.meta(key);
  }

  setMeta(key: string, value: string): void {
    this.areas.meta.setMeta(key, value);
  }

  venueOrUndefined(): Venue | undefined {
    return this.areas.meta.venueOrUndefined();
  }

  venue(): Venue {
    return this.areas.meta.venue();
  }

  // -------------------------------------------------------------------------------------------
  // gates

  gate(gateId: string): GateRecord | undefined {
    return this.areas.gates.gate(gateId);
  }

  gates(): GateRecord[] {
    return this.areas.gates.gates();
  }

  saveProvisioning(
    gateId: string,
    entrance: number,
    publicKey: string,
    mqttHash: string,
    httpTokenHash: string,
    provisioning: ProvisioningRecord,
  ): void {
    this.areas.gates.saveProvisioning(gateId, entrance, publicKey, mqttHash, httpTokenHash, provisioning);
  }

  quarantineOf(gateId: string): Quarantine | undefined {
    return this.areas.gates.quarantineOf(gateId);
  }

  setGateStatus(gateId: string, status: "online" | "offline", at: number): void {
    this.areas.gates.setGateStatus(gateId, status, at);
  }

  setGateHeartbeat(gateId: string, heartbeat: GateHeartbeat, at: number): void {
    this.areas.gates.setGateHeartbeat(gateId, heartbeat, at);
  }

  // -------------------------------------------------------------------------------------------
  // ingest

  /** Stores one verified batch of a gate in one transaction (ingest/ingest.ts). */
  ingest(
    gateId: string,
    batch: { after: number; sig: string; events: string },
    rawEvents: readonly unknown[],
    receivedAt: number,
  ): IngestResult {
    return ingestBatch(
      {
        db: this.db,
        ...this.areas,
        reentryOf: (session) => this.reentry.get(session) ?? "none",
        entranceZones: (entrance) => this.entranceZones.get(entrance),
      },
      gateId,
      batch,
      rawEvents,
      receivedAt,
    );
  }

  admissionSeq(): number {
    return this.areas.events.admissionSeq();
  }

  admissionsFrom(from: number, limit: number, maxBatchBytes?: number): FannedOutAdmission[] {
    return this.areas.events.admissionsFrom(from, limit, maxBatchBytes);
  }

  eventsAfter(rowId: number, limit: number): StoredEvent[] {
    return this.areas.events.eventsAfter(rowId, limit);
  }

  lastEventRowId(): number {
    return this.areas.events.lastEventRowId();
  }

  eventsOfGate(gateId: string): StoredEvent[] {
    return this.areas.events.eventsOfGate(gateId);
  }

  eventCount(gateId?: string): number {
    return this.areas.events.eventCount(gateId);
  }

  // -------------------------------------------------------------------------------------------
  // alerts and rejections

  /** Stores a new alert (open until acknowledged). */
  raiseAlert(a: NewAlert): Alert {
    return this.areas.alerts.raise(a);
  }

  openAlertOf(type: AlertType, gateId: string): Alert | undefined {
    return this.areas.alerts.openAlertOf(type, gateId);
  }

  alert(id: number): Alert | undefined {
    return this.areas.alerts.alert(id);
  }

  acknowledgeAlert(id: number, by: string, at: number, note?: string): boolean {
    return this.areas.alerts.acknowledge(id, by, at, note);
  }

  alertsForDashboard(recent: number): Alert[] {
    return this.areas.alerts.forDashboard(recent);
  }

  alerts(limit = 100): Alert[] {
    return this.areas.alerts.recent(limit);
  }

  openAlertCount(): number {
    return this.areas.alerts.openCount();
  }

  alertsAfter(id: number, limit: number): Alert[] {
    return this.areas.alerts.after(id, limit);
  }

  lastAlertId(): number {
    return this.areas.alerts.lastId();
  }

  recordRejection(
    at: number,
    source: string,
    topic: string | undefined,
    reason: string,
    detail: string,
    raw?: string,
  ): RejectionRecord {
    return this.areas.rejections.record(at, source, topic, reason, detail, raw);
  }

  rejections(limit = 100, source?: string): RejectionRecord[] {
    return this.areas.rejections.recent(limit, source);
  }

  // -------------------------------------------------------------------------------------------
  // dashboard queries

  recentEvents(options: { limit: number; before?: number; gate?: string; kind?: string }): StoredEvent[] {
    return this.areas.dashboard.recentEvents(options);
  }

  counts(): Counts {
    return this.areas.dashboard.counts();
  }

  capacity(): Counts["capacity"] {
    return this.areas.dashboard.capacity();
  }

  ticketTotals(): Counts["tickets"] {
    return this.areas.dashboard.ticketTotals();
  }

  throughput(from: number, to: number): { lastRowId: number; minutes: ThroughputMinute[] } {
    return this.areas.dashboard.throughput(from, to);
  }

  sessionEvents(session: number, afterRowId: number, limit: number): StoredEvent[] {
    return this.areas.dashboard.sessionEvents(session, afterRowId, limit);
  }

  // -------------------------------------------------------------------------------------------
  // tickets and the feed

  feedBase(): number {
    return this.areas.feed.feedBase();
  }

  feedSequence(): number {
    return this.areas.feed.feedSequence();
  }

  changesFrom(from: number, limit: number): SignedTicketChange[] {
    return this.areas.feed.changesFrom(from, limit);
  }

  ticket(id: number): BundleTicket | undefined {
    return this.areas.feed.ticket(id);
  }

  revocationsOf(ticketId: number): Revocation[] {
    return this.areas.feed.revocationsOf(ticketId);
  }

  appendChanges<T>(
    now: number,
    build: (nextSequence: () => number) => { changes: SignedTicketChange[]; result: T },
  ): { changes: SignedTicketChange[]; result: T } {
    return this.areas.feed.appendChanges(now, build);
  }

  bundle(trustList: SignedTrustListJson, now: number): GateBundle {
    return this.areas.feed.bundle(this.venue(), trustList, now);
  }

  // -------------------------------------------------------------------------------------------
  // keys

  issuerKeys(): IssuerKeyRecord[] {
    return this.areas.keys.issuerKeys();
  }

  putIssuerKey(k: IssuerKeyRecord): void {
    this.areas.keys.putIssuerKey(k);
  }

  trustList(): SignedTrustListJson {
    return this.areas.keys.trustList();
  }

  setTrustList(list: SignedTrustListJson): void {
    this.areas.keys.setTrustList(list);
  }

  // -------------------------------------------------------------------------------------------
  // commands

  insertCommand(command: Command): void {
    this.areas.commands.insertCommand(command);
  }

  recordCommandAck(gateId: string, ack: CommandAck): boolean {
    return this.areas.commands.recordCommandAck(gateId, ack);
  }

  recentCommands(limit: number): CommandRecord[] {
    return this.areas.commands.recentCommands(limit);
  }

  command(id: string): CommandRecord | undefined {
    return this.areas.commands.command(id);
  }
}
