import { type EntryLogEvent, FORGERY_REASONS, type RefuseReason } from "@sesame/gate-core";

/*
 * The alert policy: which events, heartbeats and silences make an alert, what it says, and who may
 * acknowledge it. Pure (no SQL, MQTT or HTTP): the ingest and the server's watchdogs hand it what
 * they saw and store what it returns.
 */

/**
 * What a supervisor must look at: a ticket used twice (double-entry), forged or forwarded codes
 * (forgery), tickets under an issuer key the trust list revokes (revoked-key-scans: one alert per
 * key and gate, its count growing, not one per scan: a key rotation must not bury supervisors) or
 * whose validity window is over or not begun (key-not-valid-scans, grouped the same way),
 * someone through a lane without a ticket (forced-passage) or behind someone else's (tailgate) —
 * both from the gates' `alarm` events —, a gate gone offline or silent (gate-offline), a gate clock
 * off the server's (clock-skew), a lane controller or reader whose secure channel fails (lane-offline: a
 * wrong key, or replies that do not verify — the gate reports it in its heartbeat), a gate whose signed events no honest gate writes
 * (implausible-events: its key is likely stolen), a gate a supervisor quarantined, and the batches it
 * still sends (gate-quarantined). The last two are grouped per gate with a count. A client the broker refused a publish, a will or a
 * subscription (broker-denied: someone is using credentials for more than their role); a message of
 * the venue network that a gate refused as not authentic (forged-message: a forged ticket change, admission, gate
 * list or command); a wrong supervisor code typed at a kiosk to override a manual admission
 * (override-refused). Provisioning asked by someone who is not an admin, or a key request refused
 * (a replayed, borrowed or revoked key; provisioning-refused: the insider who would take a gate's
 * identity), and a gate provisioned while it was online, forced by
 * an admin (forced-provisioning: the real gate was cut off). A command that opens lanes sent without
 * a valid signature of the supervisor who names it (supervisor-signature-refused: a stolen
 * dashboard session, or a forger on the server's side).
 */
export type AlertType =
  | "double-entry"
  | "forgery"
  | "revoked-key-scans"
  | "key-not-valid-scans"
  | "forced-passage"
  | "tailgate"
  | "gate-offline"
  | "clock-skew"
  | "lane-offline"
  | "implausible-events"
  | "gate-quarantined"
  | "broker-denied"
  | "forged-message"
  | "override-refused"
  | "provisioning-refused"
  | "forced-provisioning"
  | "supervisor-signature-refused";
export const ALERT_TYPES: readonly AlertType[] = [
  "double-entry",
  "forgery",
  "revoked-key-scans",
  "key-not-valid-scans",
  "forced-passage",
  "tailgate",
  "gate-offline",
  "clock-skew",
  "lane-offline",
  "implausible-events",
  "gate-quarantined",
  "broker-denied",
  "forged-message",
  "override-refused",
  "provisioning-refused",
  "forced-provisioning",
  "supervisor-signature-refused",
];

export interface Alert {
  readonly id: number;
  readonly type: AlertType;
  readonly at: number;
  readonly ticketId: number | null;
  readonly session: number | null;
  readonly gates: readonly string[];
  readonly eventIds: readonly string[];
  readonly detail: string;
  /** How many occurrences it stands for: 1, except for an alert that groups them (revoked-key-scans…). */
  readonly count: number;
  /** When the last of them was seen (server clock); `at` is when the first was. */
  readonly lastAt: number;
  /** The issuer key a revoked-key-scans or key-not-valid-scans alert is about (null when the gate did not say). */
  readonly issuerKeyId: number | null;
  /** Who acknowledged it and when (server clock); null while it is open. */
  readonly acknowledgedBy: string | null;
  readonly acknowledgedAt: number | null;
  readonly acknowledgeNote: string | null;
}

export interface NewAlert {
  readonly type: AlertType;
  readonly at: number;
  readonly ticketId?: number;
  readonly session?: number;
  readonly gates: readonly string[];
  readonly eventIds?: readonly string[];
  readonly detail: string;
  /** Occurrences it stands for (default 1). */
  readonly count?: number;
  readonly issuerKeyId?: number | null;
}

/** Reasons that mean a forged, forwarded or foreign code: gate-core's, the kiosk raises its local alert on the same. */
export { FORGERY_REASONS };

/** Alerts a tech may acknowledge: the technical ones. Security alerts are the supervisors'. */
export const TECH_ALERTS: ReadonlySet<AlertType> = new Set(["gate-offline", "clock-skew", "lane-offline"]);

const ALARM_ALERTS: ReadonlyArray<{ reason: string; type: AlertType; what: [string, string] }> = [
  { reason: "FORCED_PASSAGE", type: "forced-passage", what: ["forced passage", "forced passages"] },
  { reason: "TAILGATE", type: "tailgate", what: ["tailgate", "tailgates"] },
];

/** At most this many event ids are listed in one alert (a burst is one incident, not fifty). */
const MAX_ALERT_EVENTS = 50;

/** Where a ticket stands for a session, as far as the server has seen. */
export interface TicketPresence {
  readonly state: "inside" | "outside";
  readonly lastGate: string;
  readonly lastEvent: string;
}

/**
 * An entry while the ticket is inside, or a second entry at all when the session has no re-entry,
 * is a double entry.
 */
export function doubleEntryAlert(
  event: EntryLogEvent,
  before: TicketPresence | undefined,
  reentry: "none" | "exit-scan",
  at: number,
): NewAlert | undefined {
  const { ticketId, session } = event;
  if (event.kind !== "entered" || ticketId === undefined || session === undefined) return undefined;
  if (!before || (before.state !== "inside" && reentry !== "none")) return undefined;
  return {
    type: "double-entry",
    at,
    ticketId,
    session,
    gates: [before.lastGate, event.gateId],
    eventIds: [before.lastEvent, event.eventId],
    detail:
      before.lastGate === event.gateId
        ? `ticket ${ticketId} entered twice at gate ${event.gateId} for session ${session}`
        : `ticket ${ticketId} entered at gates ${before.lastGate} and ${event.gateId} for session ${session}`,
  };
}

/**
 * Alerts from one batch's refusals and alarms (raised in the ingest transaction, so that an
 * acknowledged batch never loses its alerts): one forgery alert per batch listing its forged codes,
 * likewise for forced passages and tailgates, and a clock-skew alert when the gate refused for its
 * own clock — unless one is still open for that gate (`clockSkewOpen`, asked only then).
 */
export function batchAlerts(
  gateId: string,
  stored: readonly EntryLogEvent[],
  at: number,
  clockSkewOpen: () => boolean,
): NewAlert[] {
  const out: NewAlert[] = [];
  for (const alarm of ALARM_ALERTS) {
    const events = stored.filter((e) => e.kind === "alarm" && e.reason === alarm.reason);
    if (events.length === 0) continue;
    const lanes = [...new Set(events.map((e) => e.lane))].sort((x, y) => x - y).join(", ");
    out.push({
      type: alarm.type,
      at,
      gates: [gateId],
      eventIds: events.slice(0, MAX_ALERT_EVENTS).map((e) => e.eventId),
      detail:
        events.length === 1
          ? `${alarm.what[0]} at gate ${gateId} lane ${lanes}`
          : `${events.length} ${alarm.what[1]} at gate ${gateId} (lanes ${lanes})`,
    });
  }
  const forged = stored.filter((e) => e.kind === "refused" && FORGERY_REASONS.has(e.reason));
  const first = forged[0];
  if (first) {
    const byReason = new Map<string, number>();
    for (const e of forged) byReason.set(e.reason, (byReason.get(e.reason) ?? 0) + 1);
    const reasons = [...byReason].map(([r, n]) => (n > 1 ? `${r} ×${n}` : r)).join(", ");
    out.push({
      type: "forgery",
      at,
      ...(forged.length === 1 && first.ticketId !== undefined ? { ticketId: first.ticketId } : {}),
      ...(forged.length === 1 && first.session !== undefined ? { session: first.session } : {}),
      gates: [gateId],
      eventIds: forged.slice(0, MAX_ALERT_EVENTS).map((e) => e.eventId),
      detail:
        forged.length === 1
          ? `forged or foreign code refused at gate ${gateId} lane ${first.lane} (${reasons})`
          : `${forged.length} forged or foreign codes refused at gate ${gateId} (${reasons})`,
    });
  }
  const overrides = stored.filter((e) => e.kind === "refused" && e.reason === "OVERRIDE_REFUSED");
  const firstOverride = overrides[0];
  if (firstOverride) {
    const stewards = [...new Set(overrides.map((e) => e.steward ?? "?"))].join(", ");
    out.push({
      type: "override-refused",
      at,
      ...(overrides.length === 1 && firstOverride.ticketId !== undefined
        ? { ticketId: firstOverride.ticketId }
        : {}),
      gates: [gateId],
      eventIds: overrides.slice(0, MAX_ALERT_EVENTS).map((e) => e.eventId),
      detail:
        overrides.length === 1
          ? `supervisor override refused at gate ${gateId} lane ${firstOverride.lane}, typed for steward ${stewards} (${firstOverride.detail ?? "wrong code"})`
          : `${overrides.length} supervisor overrides refused at gate ${gateId}, typed for steward(s) ${stewards}`,
    });
  }
  const skewed = stored.filter((e) => e.kind === "refused" && e.reason === "CLOCK_SKEW");
  if (skewed.length > 0 && !clockSkewOpen())
    out.push({
      type: "clock-skew",
      at,
      gates: [gateId],
      eventIds: skewed.slice(0, MAX_ALERT_EVENTS).map((e) => e.eventId),
      detail: `gate ${gateId} refused ${skewed.length} code(s) because its own clock looks wrong`,
    });
  return out;
}

/** What the "gate sends implausible events" alert says, for `total` events refused so far. */
export function implausibleEventsDetail(gateId: string, total: number, last: string): string {
  return `gate ${gateId} sends implausible events: ${total} refused (last: ${last})`;
}

/** What the quarantine alert says, with the batches refused since. */
export function quarantineDetail(
  gateId: string,
  q: { readonly by: string; readonly reason: string },
  refusedBatches: number,
): string {
  const since = refusedBatches === 0 ? "" : `; ${refusedBatches} batch(es) refused since`;
  return `gate ${gateId} quarantined by ${q.by}: ${q.reason}${since}`;
}

/**
 * Refusals of a genuine ticket for its issuer key, each with the alert that groups them per key and
 * gate: a revoked key, or one outside its validity window (after a rotation). Neither is a forgery.
 */
export const KEY_ALERTS = [
  {
    reason: "KEY_REVOKED",
    type: "revoked-key-scans",
    key: "revoked issuer key",
    why: "revoked in the trust list",
  },
  {
    reason: "KEY_NOT_VALID",
    type: "key-not-valid-scans",
    key: "issuer key",
    why: "outside its validity window in the trust list",
  },
] as const satisfies ReadonlyArray<{ reason: RefuseReason; type: AlertType; key: string; why: string }>;

export type KeyAlertType = (typeof KEY_ALERTS)[number]["type"];

/** One batch's refusals of one issuer key for one reason (null: events from a gate that does not send the key id). */
export interface KeyScans {
  readonly type: KeyAlertType;
  readonly issuerKeyId: number | null;
  readonly count: number;
  readonly eventIds: readonly string[];
}

/**
 * A batch's KEY_REVOKED and KEY_NOT_VALID refusals, per reason and issuer key. The ingest adds each
 * group to the open alert of its type, key and gate, or opens one: a key rotation makes one alert per
 * key and gate whose count grows, never a forgery alert per scan.
 */
export function keyScans(stored: readonly EntryLogEvent[]): KeyScans[] {
  const out: KeyScans[] = [];
  for (const { reason, type } of KEY_ALERTS) {
    const byKey = new Map<number | null, string[]>();
    for (const e of stored) {
      if (e.kind !== "refused" || e.reason !== reason) continue;
      const key = e.issuerKeyId ?? null;
      const ids = byKey.get(key) ?? [];
      ids.push(e.eventId);
      byKey.set(key, ids);
    }
    for (const [issuerKeyId, ids] of byKey)
      out.push({ type, issuerKeyId, count: ids.length, eventIds: ids.slice(0, MAX_ALERT_EVENTS) });
  }
  return out;
}

/** What a grouped key alert says, for its running count. */
export function keyScansDetail(
  type: KeyAlertType,
  gateId: string,
  issuerKeyId: number | null,
  count: number,
): string {
  const alert = KEY_ALERTS.find((k) => k.type === type) ?? KEY_ALERTS[0];
  const key = issuerKeyId === null ? `a ${alert.key}` : `${alert.key} ${issuerKeyId}`;
  const why = alert.why;
  return `${count} ${count === 1 ? "scan" : "scans"} at gate ${gateId} of tickets under ${key} (${why})`;
}

/** The event ids a grouped alert lists: the first ones, at most as many as any alert lists. */
export function groupedEventIds(before: readonly string[], added: readonly string[]): string[] {
  return [...before, ...added].slice(0, MAX_ALERT_EVENTS);
}

/** A gate's clock offset (server minus gate) beyond the limit: what the alert says; undefined within it. */
export function clockSkewDetail(gateId: string, offsetMs: number, limitMs: number): string | undefined {
  if (Math.abs(offsetMs) <= limitMs) return undefined;
  const seconds = Math.round(offsetMs / 1000);
  return `gate ${gateId}'s clock is ${Math.abs(seconds)} s ${seconds > 0 ? "behind" : "ahead of"} the server's`;
}

export function gateOfflineDetail(gateId: string): string {
  return `gate ${gateId} went offline`;
}

/**
 * A gate marked online that has said nothing (heartbeat or status) for longer than `silenceMs`:
 * what the alert says; undefined while it is heard (the Last Will covers a dead connection, this a
 * live link that carries nothing).
 */
export function silentGateDetail(
  gate: {
    readonly gateId: string;
    readonly status: string;
    readonly statusAt: number | null;
    readonly heartbeatAt: number | null;
  },
  now: number,
  silenceMs: number,
): string | undefined {
  if (gate.status !== "online") return undefined;
  const lastHeard = Math.max(gate.heartbeatAt ?? 0, gate.statusAt ?? 0);
  if (now - lastHeard <= silenceMs) return undefined;
  return `gate ${gate.gateId} has sent no heartbeat for ${Math.round((now - lastHeard) / 1000)} s`;
}

/** A supervisor acknowledges any alert, a tech only the technical ones. */
export function mayAcknowledge(role: string, type: AlertType): boolean {
  return role === "supervisor" || (role === "tech" && TECH_ALERTS.has(type));
}
