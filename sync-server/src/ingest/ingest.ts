import type { EntryLogEvent } from "@sesame/gate-core";
import type { AckRejection, AdmissionEntry, RejectReason } from "@sesame/sync";
import type Database from "better-sqlite3";
import {
  type Alert,
  batchAlerts,
  doubleEntryAlert,
  groupedEventIds,
  implausibleEventsDetail,
  keyScans,
  keyScansDetail,
} from "../alerts/policy.js";
import type { AlertRepository } from "../alerts/repository.js";
import type { FeedRepository } from "../feed/repository.js";
import type { GateRepository } from "../gates/repository.js";
import type { RejectionRepository } from "../rejections/repository.js";
import type { EventRepository, StoredEvent } from "./repository.js";
import { ADMISSION_KINDS, checkEvent, checkPlausible, type PlausibilityFacts } from "./rules.js";

/*
 * A gate's verified batch into the store, in one transaction: each event checked (rules.ts: its
 * form, then whether an honest gate could have written it), stored once, numbered for the fan-out
 * when it admits or lets out, the ticket's presence tracked, and the alerts the policy draws from it
 * raised — all committed before the gate is acknowledged. An implausible event is stored as
 * rejected with its reason and acknowledged (the gate's outbox moves on), never counted nor fanned
 * out, and raises the gate's one grouped "gate sends implausible events" alert.
 */

export type IngestResult =
  | { readonly kind: "resync"; readonly acked: number }
  | {
      readonly kind: "stored";
      readonly acked: number;
      readonly stored: readonly StoredEvent[];
      readonly admissions: readonly AdmissionEntry[];
      readonly alerts: readonly Alert[];
      /** Open grouped alerts this batch added to (a new count and last-seen time). */
      readonly updatedAlerts: readonly Alert[];
      readonly rejected: readonly AckRejection[];
    };

export interface IngestDeps {
  readonly db: Database.Database;
  readonly events: EventRepository;
  readonly gates: GateRepository;
  readonly feed: FeedRepository;
  readonly alerts: AlertRepository;
  readonly rejections: RejectionRepository;
  /** A session's re-entry rule (from the venue). */
  reentryOf(session: number): "none" | "exit-scan";
  /** The zones an entrance serves (from the venue). */
  entranceZones(entrance: number): readonly number[] | undefined;
}

/** Raw text kept of a refused event: enough to see what came. */
const RAW_LIMIT = 4096;

/**
 * Events at or below the gate's ack are duplicates (a reused gateSeq with another event id is
 * rejected, not dropped); a batch whose `after` is beyond the ack does not follow on and stores
 * nothing (the gate resends).
 */
export function ingestBatch(
  deps: IngestDeps,
  gateId: string,
  batch: { after: number; sig: string; events: string },
  rawEvents: readonly unknown[],
  receivedAt: number,
): IngestResult {
  const ackedBefore = deps.gates.ackedSeq(gateId);
  if (ackedBefore === undefined) throw new Error(`gate ${gateId} is not provisioned`);
  if (batch.after > ackedBefore) return { kind: "resync", acked: ackedBefore };
  return deps.db.transaction((): IngestResult => {
    let acked = ackedBefore;
    const stored: StoredEvent[] = [];
    const admissions: AdmissionEntry[] = [];
    const alerts: Alert[] = [];
    const rejected: AckRejection[] = [];
    let batchId: number | undefined;
    const implausible: Array<{ eventId: string; detail: string }> = [];
    const facts: PlausibilityFacts = {
      gateEntrance: deps.gates.entranceOf(gateId),
      ticket: (id) => deps.feed.ticketPlace(id),
      entranceZones: (entrance) => deps.entranceZones(entrance),
      authorizationSteps: (id) => deps.events.authorizationSteps(gateId, id),
    };
    const reject = (
      seq: number,
      eventId: string | undefined,
      reason: RejectReason,
      detail: string,
      raw: unknown,
    ) => {
      deps.events.insertRejectedEvent(
        gateId,
        seq,
        eventId ?? null,
        reason,
        detail,
        JSON.stringify(raw).slice(0, RAW_LIMIT),
        receivedAt,
      );
      deps.rejections.record(receivedAt, gateId, undefined, reason, `gateSeq ${seq}: ${detail}`);
      rejected.push({ gateSeq: seq, ...(eventId === undefined ? {} : { eventId }), reason, detail });
      acked = seq;
    };
    for (const raw of rawEvents) {
      const o = raw as { gateSeq: number; eventId?: unknown };
      const seq = o.gateSeq;
      if (seq <= acked) {
        const rawId = typeof o.eventId === "string" ? o.eventId : undefined;
        const known = deps.events.eventIdAt(gateId, seq);
        if (rawId !== undefined && known !== undefined && known !== rawId) {
          // A gate whose cache was reset numbers from 1 again: keep its events visible, never drop them.
          deps.rejections.record(
            receivedAt,
            gateId,
            undefined,
            "sequence-reused",
            `gateSeq ${seq} already holds event ${known}; event ${rawId} refused`,
            JSON.stringify(raw),
            RAW_LIMIT,
          );
        }
        continue;
      }
      const check = checkEvent(raw, gateId, receivedAt);
      if (!check.ok) {
        reject(seq, check.eventId, check.reason, check.detail, raw);
        continue;
      }
      const event = check.event;
      const plausible = checkPlausible(event, facts);
      if (!plausible.ok) {
        // A replayed event of another gate is a duplicate first: say so, as before these rules.
        if (deps.events.eventIdStored(event.eventId)) {
          reject(
            seq,
            event.eventId,
            "duplicate-event-id",
            `event id ${event.eventId} is already stored for another gate or sequence`,
            raw,
          );
          continue;
        }
        reject(seq, event.eventId, "implausible", plausible.detail, raw);
        implausible.push({ eventId: event.eventId, detail: plausible.detail });
        continue;
      }
      batchId ??= deps.events.insertBatch(gateId, batch.after, receivedAt, batch.sig, batch.events);
      const zone = event.ticketId === undefined ? null : deps.feed.zoneOf(event.ticketId);
      const entrance = deps.gates.entranceOf(gateId);
      const rowId = deps.events.insertEvent(event, { entrance, zone, receivedAt, batchId });
      if (rowId === undefined) {
        reject(
          seq,
          event.eventId,
          "duplicate-event-id",
          `event id ${event.eventId} is already stored for another gate or sequence`,
          raw,
        );
        continue;
      }
      stored.push({ ...event, rowId, entrance, zone, receivedAt });
      acked = seq;
      if (ADMISSION_KINDS.has(event.kind) && event.ticketId !== undefined) {
        admissions.push({ seq: deps.events.insertAdmission(rowId), event });
        const alert = trackPresence(deps, event, receivedAt);
        if (alert) alerts.push(alert);
      }
    }
    deps.gates.setAcked(gateId, acked);
    for (const a of batchAlerts(gateId, stored, receivedAt, () =>
      Boolean(deps.alerts.openAlertOf("clock-skew", gateId)),
    ))
      alerts.push(deps.alerts.raise(a));
    const last = implausible[implausible.length - 1];
    if (last)
      alerts.push(
        deps.alerts.raiseGrouped(
          {
            type: "implausible-events",
            at: receivedAt,
            gates: [gateId],
            eventIds: implausible.slice(0, 50).map((e) => e.eventId),
            detail: "",
          },
          implausible.length,
          (total) => implausibleEventsDetail(gateId, total, last.detail),
        ),
      );
    const updatedAlerts: Alert[] = [];
    for (const scans of keyScans(stored)) {
      const open = deps.alerts.openKeyAlertOf(scans.type, gateId, scans.issuerKeyId);
      if (open) {
        const count = open.count + scans.count;
        updatedAlerts.push(
          deps.alerts.addOccurrences(
            open.id,
            scans.count,
            receivedAt,
            groupedEventIds(open.eventIds, scans.eventIds),
            keyScansDetail(scans.type, gateId, scans.issuerKeyId, count),
          ),
        );
        continue;
      }
      alerts.push(
        deps.alerts.raise({
          type: scans.type,
          at: receivedAt,
          gates: [gateId],
          eventIds: scans.eventIds,
          count: scans.count,
          issuerKeyId: scans.issuerKeyId,
          detail: keyScansDetail(scans.type, gateId, scans.issuerKeyId, scans.count),
        }),
      );
    }
    return { kind: "stored", acked, stored, admissions, alerts, updatedAlerts, rejected };
  })();
}

/** Presence per ticket and session; the policy says whether this entry is a double one. */
function trackPresence(deps: IngestDeps, event: EntryLogEvent, now: number): Alert | undefined {
  const { ticketId, session } = event;
  if (ticketId === undefined || session === undefined) return undefined;
  const before = deps.events.presence(ticketId, session);
  if (event.kind === "exited") {
    if (before) deps.events.exit(ticketId, session, event.gateId, event.eventId);
    return undefined;
  }
  const alert = doubleEntryAlert(event, before, deps.reentryOf(session), now);
  const raised = alert ? deps.alerts.raise(alert) : undefined;
  deps.events.enter(ticketId, session, event.gateId, event.eventId);
  return raised;
}
