import {
  ADMIT_REASONS,
  ALARM_REASONS,
  ASSISTED_REASONS,
  type EntryLogEvent,
  FAILURE_REASONS,
  MANUAL_REASONS,
  MAX_OVERRIDE_NOTE,
  REFUSE_REASONS,
  type ReasonCode,
} from "@sesame/gate-core";
import { Category, type CategoryName, type SignedTrustListJson, type TrustListResult } from "@sesame/ticket";
import {
  type BundleTicket,
  type ChangeSignature,
  type SignedTicketChange,
  TICKET_CHANGE_TYPES,
  type TicketChange,
} from "@sesame/venue";
import type { SignedGateList } from "./operations.js";
import {
  arr,
  bool,
  FieldError,
  HEX_64,
  int,
  isObject,
  num,
  obj,
  oneOf,
  optInt,
  optStr,
  str,
} from "./validate.js";

/*
 * The sync protocol's messages and their codecs (docs/sync-protocol.md). Pure: no I/O, no clock.
 * Every payload is a JSON object with `v` (protocol version). Decoders never throw: they return a
 * rejection with a stable reason and a specific detail.
 */

export const PROTOCOL_VERSION = 1;
/** Largest payload any party accepts; bigger ones are rejected before parsing. */
export const MAX_MESSAGE_BYTES = 512 * 1024;
/** A gate never builds an event batch larger than this (well under MAX_MESSAGE_BYTES). */
export const MAX_BATCH_BYTES = 256 * 1024;
export const MAX_BATCH_EVENTS = 1000;
/** Changes or admissions per replay answer. */
export const MAX_REPLAY_ITEMS = 2000;

export type RejectReason =
  | "oversized"
  | "malformed-json"
  | "unknown-version"
  | "invalid"
  | "bad-signature"
  | "gate-mismatch"
  | "unknown-gate"
  | "unknown-topic"
  | "duplicate-event-id"
  | "implausible-time"
  /** A well-signed event no honest gate writes (an entry without its authorization, a ticket of another entrance…). */
  | "implausible"
  /** A batch of a gate a supervisor quarantined: refused until the gate is provisioned again. */
  | "quarantined"
  | "rollback"
  | "sequence-reused"
  | "out-of-order"
  | "denied"
  | "auth-failed"
  | "expired"
  | "wrong-target"
  /** A feed change signed under an issuer key id the trust list does not hold / revokes. */
  | "unknown-key"
  | "revoked-key"
  /** An admission signed by a gate key the venue gate list revoked. */
  | "revoked-gate"
  /** An admission the admitting gate had no reason to make (a ticket of another entrance). */
  | "implausible-admission";

export type Decoded<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: RejectReason; readonly detail: string };

export function reject<T>(reason: RejectReason, detail: string): Decoded<T> {
  return { ok: false, reason, detail };
}

/** Why a gate refuses a trust list, in the words of every other refusal. */
export function trustListRejectReason(result: TrustListResult & { ok: false }): RejectReason {
  switch (result.reason) {
    case "BAD_SIGNATURE":
      return "bad-signature";
    case "ROLLBACK":
      return "rollback";
    case "WRONG_VENUE":
      return "wrong-target";
    case "MALFORMED":
      return "invalid";
  }
}

/** Size, JSON and version checks common to every topic. */
export function decodeEnvelope(
  payload: Uint8Array | string,
  maxBytes = MAX_MESSAGE_BYTES,
): Decoded<Record<string, unknown>> {
  const size = typeof payload === "string" ? Buffer.byteLength(payload) : payload.length;
  if (size > maxBytes) return reject("oversized", `payload of ${size} bytes exceeds ${maxBytes}`);
  let json: unknown;
  try {
    json = JSON.parse(typeof payload === "string" ? payload : Buffer.from(payload).toString("utf8"));
  } catch (error) {
    return reject("malformed-json", `not JSON: ${(error as Error).message.slice(0, 120)}`);
  }
  if (!isObject(json)) return reject("invalid", "payload must be a JSON object");
  if (json.v !== PROTOCOL_VERSION) {
    return reject(
      "unknown-version",
      `protocol version ${JSON.stringify(json.v ?? null)?.slice(0, 20)} (this side speaks ${PROTOCOL_VERSION})`,
    );
  }
  return { ok: true, value: json };
}

function guard<T>(fn: () => T): Decoded<T> {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    if (error instanceof FieldError) return reject("invalid", error.message);
    throw error;
  }
}

function decodeWith<T>(payload: Uint8Array | string, fn: (o: Record<string, unknown>) => T): Decoded<T> {
  const env = decodeEnvelope(payload);
  if (!env.ok) return env;
  return guard(() => fn(env.value));
}

const encode = (o: object) => JSON.stringify({ v: PROTOCOL_VERSION, ...o });

// ---------------------------------------------------------------------------------------------
// Entry events

const REASONS: readonly ReasonCode[] = [
  ...ADMIT_REASONS,
  ...ASSISTED_REASONS,
  ...REFUSE_REASONS,
  ...ALARM_REASONS,
  ...MANUAL_REASONS,
  ...FAILURE_REASONS,
];
/** Every kind of journal event a gate sends. */
export const EVENT_KINDS = [
  "authorized",
  "entered",
  "exited",
  "annulled",
  "refused",
  "free-passage",
  "alarm",
] as const;
const EVENT_ID = /^[A-Za-z0-9_.:-]{1,64}$/;
const GATE_ID = /^[A-Za-z0-9_-]{1,32}$/;
const SUPERVISOR_ID = /^[A-Za-z0-9_-]{1,32}$/;
const NOT_BLANK = /\S/;

/** Checks one entry event from the wire; the object returned holds known fields only. */
export function validateEvent(value: unknown, field = "event"): EntryLogEvent {
  const o = obj(value, field);
  const f = (name: string) => `${field}.${name}`;
  const event: {
    -readonly [K in keyof EntryLogEvent]: EntryLogEvent[K];
  } = {
    eventId: str(o.eventId, f("eventId"), 64, EVENT_ID),
    gateId: str(o.gateId, f("gateId"), 32, GATE_ID),
    gateSeq: int(o.gateSeq, f("gateSeq"), 1),
    lane: int(o.lane, f("lane"), 0, 255),
    kind: oneOf(o.kind, f("kind"), EVENT_KINDS),
    direction: oneOf(o.direction, f("direction"), ["entry", "exit"] as const),
    reason: oneOf(o.reason, f("reason"), REASONS),
    manual: bool(o.manual, f("manual")),
    at: int(o.at, f("at"), 0),
  };
  const authorizationId = optStr(o.authorizationId, f("authorizationId"), 64, EVENT_ID);
  if (authorizationId !== undefined) event.authorizationId = authorizationId;
  const ticketId = optInt(o.ticketId, f("ticketId"), 0, 0xffffffff);
  if (ticketId !== undefined) event.ticketId = ticketId;
  const generation = optInt(o.generation, f("generation"), 0, 0xffff);
  if (generation !== undefined) event.generation = generation;
  const session = optInt(o.session, f("session"), 0, 0xffff);
  if (session !== undefined) event.session = session;
  const issuerKeyId = optInt(o.issuerKeyId, f("issuerKeyId"), 0, 0xffff);
  if (issuerKeyId !== undefined) event.issuerKeyId = issuerKeyId;
  const steward = optStr(o.steward, f("steward"), 64);
  if (steward !== undefined) event.steward = steward;
  const detail = optStr(o.detail, f("detail"), 200);
  if (detail !== undefined) event.detail = detail;
  if (o.override !== undefined) {
    // A supervisor's override of a manual admission: who, why, and the ticket's real state.
    const ov = obj(o.override, f("override"));
    event.override = {
      supervisor: str(ov.supervisor, f("override.supervisor"), 32, SUPERVISOR_ID),
      note: str(ov.note, f("override.note"), MAX_OVERRIDE_NOTE, NOT_BLANK),
      state: oneOf(ov.state, f("override.state"), REASONS),
    };
  }
  return event;
}

/** The event with a fixed key order, so that the bytes a gate signs are reproducible. */
export function canonicalEvent(e: EntryLogEvent): EntryLogEvent {
  const out: Record<string, unknown> = {
    eventId: e.eventId,
    gateId: e.gateId,
    gateSeq: e.gateSeq,
    lane: e.lane,
    kind: e.kind,
    direction: e.direction,
    reason: e.reason,
  };
  if (e.authorizationId !== undefined) out.authorizationId = e.authorizationId;
  if (e.ticketId !== undefined) out.ticketId = e.ticketId;
  if (e.generation !== undefined) out.generation = e.generation;
  if (e.session !== undefined) out.session = e.session;
  if (e.issuerKeyId !== undefined) out.issuerKeyId = e.issuerKeyId;
  out.manual = e.manual;
  if (e.steward !== undefined) out.steward = e.steward;
  // A supervisor's override of a manual admission: signed with the event, so that the other gates
  // accept the admission it allows.
  if (e.override !== undefined)
    out.override = { supervisor: e.override.supervisor, note: e.override.note, state: e.override.state };
  out.at = e.at;
  if (e.detail !== undefined) out.detail = e.detail;
  return out as unknown as EntryLogEvent;
}

// ---------------------------------------------------------------------------------------------
// Gate → server: event batches

/**
 * `events` is the JSON text of the event array, carried as a string so that the signature covers
 * exact bytes (no canonicalisation on the server). `after` chains batches: no event of this gate lies
 * strictly between `after` and the first event of the batch.
 */
export interface EventBatchMessage {
  readonly gateId: string;
  readonly after: number;
  readonly events: string;
  readonly sig: string;
}

export function encodeEventBatch(m: EventBatchMessage): string {
  return encode({ gateId: m.gateId, after: m.after, events: m.events, sig: m.sig });
}

export function decodeEventBatch(payload: Uint8Array | string): Decoded<EventBatchMessage> {
  return decodeWith(payload, (o) => batchFields(o, ""));
}

/** The fields of a signed batch, as a gate sent it or as the fan-out forwards it (field prefix `at`). */
function batchFields(o: Record<string, unknown>, at: string): EventBatchMessage {
  return {
    gateId: str(o.gateId, `${at}gateId`, 32, GATE_ID),
    after: int(o.after, `${at}after`, 0),
    events: str(o.events, `${at}events`, MAX_MESSAGE_BYTES),
    sig: str(o.sig, `${at}sig`, 128, HEX_64),
  };
}

/** Parses the signed event text of a batch: events in strictly increasing gateSeq, all of one gate. */
export function decodeBatchEvents(eventsJson: string): Decoded<unknown[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(eventsJson);
  } catch (error) {
    return reject("malformed-json", `events are not JSON: ${(error as Error).message.slice(0, 120)}`);
  }
  if (!Array.isArray(parsed)) return reject("invalid", "events must be an array");
  if (parsed.length === 0) return reject("invalid", "a batch holds at least one event");
  if (parsed.length > MAX_BATCH_EVENTS) return reject("invalid", `more than ${MAX_BATCH_EVENTS} events`);
  let previous = 0;
  for (let i = 0; i < parsed.length; i++) {
    const e: unknown = parsed[i];
    const seq = isObject(e) ? e.gateSeq : undefined;
    if (typeof seq !== "number" || !Number.isInteger(seq) || seq <= previous)
      return reject("invalid", `events[${i}].gateSeq must increase strictly within a batch`);
    previous = seq;
  }
  return { ok: true, value: parsed };
}

// ---------------------------------------------------------------------------------------------
// Server → gate: acknowledgements

export interface AckRejection {
  readonly gateSeq: number;
  readonly eventId?: string;
  readonly reason: RejectReason;
  readonly detail: string;
}

export interface AckMessage {
  /** Every event of the gate up to this gateSeq is committed (or rejected, listed once) on the server. */
  readonly upToGateSeq: number;
  /** Server clock, Unix ms. */
  readonly at: number;
  /** Set when the ack answers a batch that did not follow on (its `after`): resend from upToGateSeq. */
  readonly resync?: { readonly after: number };
  readonly rejected?: readonly AckRejection[];
}

export function encodeAck(m: AckMessage): string {
  return encode(m);
}

export function decodeAck(payload: Uint8Array | string): Decoded<AckMessage> {
  return decodeWith(payload, (o) => {
    const ack: { -readonly [K in keyof AckMessage]: AckMessage[K] } = {
      upToGateSeq: int(o.upToGateSeq, "upToGateSeq", 0),
      at: int(o.at, "at", 0),
    };
    if (o.resync !== undefined) ack.resync = { after: int(obj(o.resync, "resync").after, "resync.after") };
    if (o.rejected !== undefined) {
      ack.rejected = arr(o.rejected, "rejected", MAX_BATCH_EVENTS).map((r, i) => {
        const x = obj(r, `rejected[${i}]`);
        return {
          gateSeq: int(x.gateSeq, `rejected[${i}].gateSeq`),
          ...(x.eventId === undefined ? {} : { eventId: str(x.eventId, `rejected[${i}].eventId`, 64) }),
          reason: str(x.reason, `rejected[${i}].reason`, 40) as RejectReason,
          detail: str(x.detail, `rejected[${i}].detail`, 500),
        };
      });
    }
    return ack;
  });
}

// ---------------------------------------------------------------------------------------------
// Ticket feed and admissions (live topics and replay answers)

const CATEGORY_NAMES = Object.keys(Category) as CategoryName[];

export function validateBundleTicket(value: unknown, field = "ticket"): BundleTicket {
  const o = obj(value, field);
  const f = (name: string) => `${field}.${name}`;
  return {
    id: int(o.id, f("id"), 0, 0xffffffff),
    generation: int(o.generation, f("generation"), 0, 0xffff),
    kind: oneOf(o.kind, f("kind"), ["mobile", "printed"] as const),
    status: oneOf(o.status, f("status"), ["valid", "cancelled"] as const),
    sessions: arr(o.sessions, f("sessions"), 4).map((s, i) => int(s, `${f("sessions")}[${i}]`, 0, 0xffff)),
    entrance: int(o.entrance, f("entrance"), 0, 0xffff),
    zone: int(o.zone, f("zone"), 0, 0xffff),
    seat: str(o.seat, f("seat"), 10),
    categories: arr(o.categories, f("categories"), CATEGORY_NAMES.length).map((c, i) =>
      oneOf(c, `${f("categories")}[${i}]`, CATEGORY_NAMES),
    ),
    holder: str(o.holder, f("holder"), 200),
    orderReference: str(o.orderReference, f("orderReference"), 64),
    issueSequence: int(o.issueSequence, f("issueSequence"), 0),
  };
}

/** Checks one change of the feed; its signature is checked by feed-signature.ts, against the trust list. */
export function validateChange(value: unknown, field = "change"): SignedTicketChange {
  const o = obj(value, field);
  return { ...validateChangeBody(o, field), ...validateChangeSignature(o, field) };
}

function validateChangeBody(o: Record<string, unknown>, field: string): TicketChange {
  const sequence = int(o.sequence, `${field}.sequence`, 1);
  const type = oneOf(o.type, `${field}.type`, TICKET_CHANGE_TYPES);
  switch (type) {
    case "issue":
      return { sequence, type, ticket: validateBundleTicket(o.ticket, `${field}.ticket`) };
    case "resale":
    case "transfer":
      return {
        sequence,
        type,
        ticketId: int(o.ticketId, `${field}.ticketId`, 0, 0xffffffff),
        generation: int(o.generation, `${field}.generation`, 0, 0xffff),
        holder: str(o.holder, `${field}.holder`, 200),
      };
    case "cancel":
      return { sequence, type, ticketId: int(o.ticketId, `${field}.ticketId`, 0, 0xffffffff) };
  }
}

function validateChangeSignature(o: Record<string, unknown>, field: string): ChangeSignature {
  return { keyId: int(o.keyId, `${field}.keyId`, 0, 0xffff), sig: str(o.sig, `${field}.sig`, 128, HEX_64) };
}

/** A path on the sync-server itself: one leading slash, never "//" (a protocol-relative URL). */
const SNAPSHOT_PATH = /^\/(?!\/)[A-Za-z0-9/_.?=&-]*$/;

/** Where a gate downloads the snapshot when the server no longer replays from its position. */
export interface SnapshotPointer {
  readonly feedSequence: number;
  /** Path on the sync-server's HTTP API, e.g. /api/gate/bundle. */
  readonly path: string;
}

export interface FeedMessage {
  /** Each signed by an issuer key of the trust list; a gate applies none of them unless all verify. */
  readonly changes: readonly SignedTicketChange[];
  /** Replay answers: more changes follow after the last one here. */
  readonly more?: boolean;
  readonly snapshot?: SnapshotPointer;
}

export function encodeFeed(m: FeedMessage): string {
  return encode({ stream: "feed", ...m });
}

export interface AdmissionEntry {
  /** Venue-wide admission sequence (the fan-out order), gap-free. */
  readonly seq: number;
  readonly event: EntryLogEvent;
}

/** What the server fans out for one admission: the event and the batch its gate signed it in. */
export interface FannedOutAdmission extends AdmissionEntry {
  readonly batch: EventBatchMessage;
}

/** An admission as a gate receives it: its event is taken from a signed batch of the message. */
export interface ReceivedAdmission extends AdmissionEntry {
  /** Index in AdmissionsMessage.batches of the batch that holds the event. */
  readonly batch: number;
  /** The admitting gate's event carries a supervisor's override (a manual admission outside the rules). */
  readonly overridden: boolean;
}

/**
 * On the wire an entry names a batch (`b`) and the event's gateSeq in it: the receiving gate verifies
 * each batch's signature once, however many admissions it holds, and reads the events from the
 * signed text itself, so that nothing the admitting gate did not sign can be applied.
 */
export interface AdmissionsMessage {
  readonly entries: readonly ReceivedAdmission[];
  readonly batches: readonly EventBatchMessage[];
  readonly more?: boolean;
  /**
   * The operations key's signature over the message's order (admissionsOrder): the admission numbers
   * are the server's, not the admitting gates', so without it a broker could replay a genuine batch
   * under new numbers and make gates skip the real admissions those numbers belong to.
   */
  readonly sig: string;
}

/**
 * The order of an admissions message, as the operations key signs it: each entry's admission number,
 * the batch it is in (by the admitting gate's signature, which covers the batch's text) and the
 * event's gateSeq, and whether more follow.
 */
export function admissionsOrder(
  entries: readonly { readonly seq: number; readonly batchSig: string; readonly gateSeq: number }[],
  more: boolean,
): string {
  return `${more ? "more" : "end"}\n${entries.map((e) => `${e.seq} ${e.batchSig} ${e.gateSeq}`).join("\n")}`;
}

/** The order of a received message (what its `sig` must cover). */
export function receivedAdmissionsOrder(m: AdmissionsMessage): string {
  return admissionsOrder(
    m.entries.map((e) => ({ seq: e.seq, batchSig: m.batches[e.batch]?.sig ?? "", gateSeq: e.event.gateSeq })),
    m.more === true,
  );
}

/** Builds an admissions message; `seal` signs its order (the server: its operations key). */
export function encodeAdmissions(
  m: {
    readonly entries: readonly FannedOutAdmission[];
    readonly more?: boolean;
  },
  seal: (order: string) => string,
): string {
  const batches: EventBatchMessage[] = [];
  const index = new Map<string, number>();
  const entries = m.entries.map((e) => {
    let b = index.get(e.batch.sig);
    if (b === undefined) {
      b = batches.push(e.batch) - 1;
      index.set(e.batch.sig, b);
    }
    return { seq: e.seq, b, gateSeq: e.event.gateSeq };
  });
  const order = admissionsOrder(
    m.entries.map((e) => ({ seq: e.seq, batchSig: e.batch.sig, gateSeq: e.event.gateSeq })),
    m.more === true,
  );
  return encode({
    stream: "admissions",
    batches,
    entries,
    ...(m.more ? { more: true } : {}),
    sig: seal(order),
  });
}

export type StreamMessage =
  | ({ readonly stream: "feed" } & FeedMessage)
  | ({ readonly stream: "admissions" } & AdmissionsMessage)
  | { readonly stream: "trust-list"; readonly trustList: unknown }
  | { readonly stream: "gate-list"; readonly gateList: unknown };

/** Answer to a gate-list replay request (as for the trust list). */
export function encodeGateListReply(list: SignedGateList): string {
  return encode({ stream: "gate-list", gateList: list });
}

/** Answer to a trust-list replay request (the retained message may not have arrived). */
export function encodeTrustListReply(list: SignedTrustListJson): string {
  return encode({ stream: "trust-list", trustList: list });
}

export function decodeStream(payload: Uint8Array | string): Decoded<StreamMessage> {
  return decodeWith(payload, (o): StreamMessage => {
    const stream = oneOf(o.stream, "stream", ["feed", "admissions", "trust-list", "gate-list"] as const);
    if (stream === "trust-list") return { stream, trustList: obj(o.trustList, "trustList") };
    if (stream === "gate-list") return { stream, gateList: obj(o.gateList, "gateList") };
    const more = o.more === undefined ? undefined : bool(o.more, "more");
    if (stream === "feed") {
      const changes = arr(o.changes, "changes", MAX_REPLAY_ITEMS).map((c, i) =>
        validateChange(c, `changes[${i}]`),
      );
      let snapshot: SnapshotPointer | undefined;
      if (o.snapshot !== undefined) {
        const s = obj(o.snapshot, "snapshot");
        snapshot = {
          feedSequence: int(s.feedSequence, "snapshot.feedSequence"),
          // A path on the server the gate already talks to: "//host/…" would be another host, which
          // would then receive the gate's bearer token.
          path: str(s.path, "snapshot.path", 200, SNAPSHOT_PATH),
        };
      }
      return {
        stream,
        changes,
        ...(more === undefined ? {} : { more }),
        ...(snapshot ? { snapshot } : {}),
      };
    }
    const batches = arr(o.batches, "batches", MAX_REPLAY_ITEMS).map((b, i) =>
      batchFields(obj(b, `batches[${i}]`), `batches[${i}].`),
    );
    /** Each batch's events by gateSeq, parsed once and only when an entry names the batch. */
    const parsed = new Map<number, Map<number, unknown>>();
    const entries = arr(o.entries, "entries", MAX_REPLAY_ITEMS).map((e, i): ReceivedAdmission => {
      const x = obj(e, `entries[${i}]`);
      const b = int(x.b, `entries[${i}].b`, 0, batches.length - 1);
      const gateSeq = int(x.gateSeq, `entries[${i}].gateSeq`, 1);
      let events = parsed.get(b);
      if (!events) {
        events = batchEventsBySeq(batches[b] as EventBatchMessage, b);
        parsed.set(b, events);
      }
      const raw = events.get(gateSeq);
      if (raw === undefined)
        throw new FieldError(`entries[${i}].gateSeq`, `batch ${b} holds no event ${gateSeq}`);
      const event = validateEvent(raw, `batches[${b}].events[gateSeq ${gateSeq}]`);
      if (event.gateId !== (batches[b] as EventBatchMessage).gateId)
        throw new FieldError(
          `entries[${i}]`,
          `event of gate ${event.gateId} in a batch of gate ${batches[b]?.gateId}`,
        );
      const override = (raw as Record<string, unknown>).override;
      return {
        seq: int(x.seq, `entries[${i}].seq`, 1),
        event,
        batch: b,
        overridden: override !== undefined && override !== null,
      };
    });
    const sig = str(o.sig, "sig", 128, HEX_64);
    return { stream, entries, batches, ...(more === undefined ? {} : { more }), sig };
  });
}

function batchEventsBySeq(batch: EventBatchMessage, b: number): Map<number, unknown> {
  const events = decodeBatchEvents(batch.events);
  if (!events.ok) throw new FieldError(`batches[${b}].events`, events.detail);
  const bySeq = new Map<number, unknown>();
  for (const e of events.value) bySeq.set((e as { gateSeq: number }).gateSeq, e);
  return bySeq;
}

// ---------------------------------------------------------------------------------------------
// Gate → server: replay requests

export interface ReplayRequest {
  readonly stream: "feed" | "admissions" | "trust-list" | "gate-list";
  /** First sequence wanted. */
  readonly from: number;
}

export function encodeReplay(m: ReplayRequest): string {
  return encode(m);
}

export function decodeReplay(payload: Uint8Array | string): Decoded<ReplayRequest> {
  return decodeWith(payload, (o) => ({
    stream: oneOf(o.stream, "stream", ["feed", "admissions", "trust-list", "gate-list"] as const),
    from: int(o.from, "from", 1),
  }));
}

// ---------------------------------------------------------------------------------------------
// Presence and heartbeats

export interface StatusMessage {
  readonly state: "online" | "offline";
  /** Sender's clock (absent in a Last Will, which is written at connect time). */
  readonly at?: number;
  readonly software?: string;
}

export function encodeStatus(m: StatusMessage): string {
  return encode(m);
}

export function decodeStatus(payload: Uint8Array | string): Decoded<StatusMessage> {
  return decodeWith(payload, (o) => ({
    state: oneOf(o.state, "state", ["online", "offline"] as const),
    ...(o.at === undefined ? {} : { at: int(o.at, "at") }),
    ...(o.software === undefined ? {} : { software: str(o.software, "software", 64) }),
  }));
}

export interface GateHeartbeat {
  /** Gate clock, Unix ms. */
  readonly at: number;
  /** Server clock minus gate clock, as the gate estimates it (undefined before any server contact). */
  readonly clockOffsetMs?: number;
  readonly feedSequence: number;
  readonly admissionSeq: number;
  /** Time since the gate last heard from the server (its data may be that old). */
  readonly dataAgeMs?: number;
  readonly outboxDepth: number;
  readonly ackedGateSeq: number;
}

export function encodeGateHeartbeat(m: GateHeartbeat): string {
  return encode(m);
}

export function decodeGateHeartbeat(payload: Uint8Array | string): Decoded<GateHeartbeat> {
  return decodeWith(payload, (o) => ({
    at: int(o.at, "at"),
    ...(o.clockOffsetMs === undefined
      ? {}
      : { clockOffsetMs: Math.round(num(o.clockOffsetMs, "clockOffsetMs")) }),
    feedSequence: int(o.feedSequence, "feedSequence"),
    admissionSeq: int(o.admissionSeq, "admissionSeq"),
    ...(o.dataAgeMs === undefined ? {} : { dataAgeMs: int(o.dataAgeMs, "dataAgeMs") }),
    outboxDepth: int(o.outboxDepth, "outboxDepth"),
    ackedGateSeq: int(o.ackedGateSeq, "ackedGateSeq"),
  }));
}

export interface ServerHeartbeat {
  readonly at: number;
  readonly feedSequence: number;
  readonly admissionSeq: number;
  /** Version of the current trust list: a gate that holds an older one asks for it. */
  readonly trustListVersion?: number;
  /** Version of the current venue gate list (as for the trust list). */
  readonly gateListVersion?: number;
}

export function encodeServerHeartbeat(m: ServerHeartbeat): string {
  return encode(m);
}

export function decodeServerHeartbeat(payload: Uint8Array | string): Decoded<ServerHeartbeat> {
  return decodeWith(payload, (o) => ({
    at: int(o.at, "at"),
    feedSequence: int(o.feedSequence, "feedSequence"),
    admissionSeq: int(o.admissionSeq, "admissionSeq"),
    ...(o.trustListVersion === undefined
      ? {}
      : { trustListVersion: int(o.trustListVersion, "trustListVersion") }),
    ...(o.gateListVersion === undefined
      ? {}
      : { gateListVersion: int(o.gateListVersion, "gateListVersion") }),
  }));
}

// ---------------------------------------------------------------------------------------------
// Trust list (retained)

export function encodeTrustList(list: SignedTrustListJson): string {
  return encode({ trustList: list });
}

export function decodeTrustListMessage(payload: Uint8Array | string): Decoded<unknown> {
  return decodeWith(payload, (o) => obj(o.trustList, "trustList"));
}

// ---------------------------------------------------------------------------------------------
// Venue gate list (retained; signed by the operations key, see operations.ts)

export function encodeGateList(list: SignedGateList): string {
  return encode({ gateList: list });
}

export function decodeGateListMessage(payload: Uint8Array | string): Decoded<unknown> {
  return decodeWith(payload, (o) => obj(o.gateList, "gateList"));
}

// ---------------------------------------------------------------------------------------------
// Gate → server: a message the gate refused (the server alerts; docs/sync-protocol.md)

export interface RefusalReport {
  /** The topic the refused message came on. */
  readonly topic: string;
  readonly reason: RejectReason;
  readonly detail: string;
  /** Who the message claims to come from (the admitting gate of a refused admission), if anyone. */
  readonly sender?: string;
  /** Gate clock, Unix ms. */
  readonly at: number;
}

export function encodeRefusalReport(m: RefusalReport): string {
  return encode(m);
}

export function decodeRefusalReport(payload: Uint8Array | string): Decoded<RefusalReport> {
  return decodeWith(payload, (o) => ({
    topic: str(o.topic, "topic", 200),
    reason: str(o.reason, "reason", 40) as RejectReason,
    detail: str(o.detail, "detail", 500),
    ...(o.sender === undefined ? {} : { sender: str(o.sender, "sender", 32, GATE_ID) }),
    at: int(o.at, "at"),
  }));
}

// ---------------------------------------------------------------------------------------------
// Supervisor commands

export const COMMAND_TYPES = [
  "free-passage",
  "end-free-passage",
  "lock-lane",
  "unlock-lane",
  "message",
] as const;
export type CommandType = (typeof COMMAND_TYPES)[number];

export interface Command {
  readonly id: string;
  readonly type: CommandType;
  readonly target: { readonly gate: string } | { readonly entrance: number };
  /** lock-lane / unlock-lane: the lane; absent = every lane of the gate. */
  readonly lane?: number;
  /** message: the text for stewards. */
  readonly text?: string;
  /** Who asked (supervisor name from the token). */
  readonly by: string;
  /** Unix ms: the server's clock, or the supervisor's browser for a lane-opening command (within 120 s of the server's). */
  readonly issuedAt: number;
  readonly expiresAt: number;
}

export function validateCommand(value: unknown): Command {
  const o = obj(value, "command");
  const t = obj(o.target, "command.target");
  const target =
    t.gate !== undefined
      ? { gate: str(t.gate, "command.target.gate", 32, GATE_ID) }
      : { entrance: int(t.entrance, "command.target.entrance", 0, 0xffff) };
  const command: { -readonly [K in keyof Command]: Command[K] } = {
    id: str(o.id, "command.id", 64, EVENT_ID),
    type: oneOf(o.type, "command.type", COMMAND_TYPES),
    target,
    by: str(o.by, "command.by", 64),
    issuedAt: int(o.issuedAt, "command.issuedAt"),
    expiresAt: int(o.expiresAt, "command.expiresAt"),
  };
  const lane = optInt(o.lane, "command.lane", 0, 255);
  if (lane !== undefined) command.lane = lane;
  const text = optStr(o.text, "command.text", 500);
  if (text !== undefined) command.text = text;
  if (command.type === "message" && command.text === undefined)
    throw new FieldError("command.text", "a message needs a text");
  return command;
}

/**
 * Commands that let people through without a ticket decision: besides the operations key, the
 * supervisor who gave one signs it (docs/design.md §9), so the venue server alone cannot open a
 * lane. Closing lanes and returning to normal stay the operations key's: the fail-safe direction.
 */
export const LANE_OPENING_COMMANDS: readonly CommandType[] = ["free-passage"];

export const opensLanes = (type: CommandType): boolean => LANE_OPENING_COMMANDS.includes(type);

/**
 * `command` is the JSON text of a Command, signed by the server's operations key; a command that
 * opens lanes also carries its supervisor's signature over the same text, with the root's
 * certificate of that supervisor's key.
 */
export interface CommandMessage {
  readonly command: string;
  readonly sig: string;
  readonly supervisor?: { readonly sig: string; readonly certificate: unknown };
}

export function encodeCommandMessage(m: CommandMessage): string {
  return encode(m);
}

export function decodeCommandMessage(payload: Uint8Array | string): Decoded<CommandMessage> {
  return decodeWith(payload, (o) => ({
    command: str(o.command, "command", 4096),
    sig: str(o.sig, "sig", 128, HEX_64),
    ...(o.supervisor === undefined ? {} : { supervisor: supervisorPart(o.supervisor) }),
  }));
}

function supervisorPart(value: unknown): { readonly sig: string; readonly certificate: unknown } {
  const o = obj(value, "supervisor");
  // The certificate's own form is checked with its signature (@sesame/venue).
  return {
    sig: str(o.sig, "supervisor.sig", 128, HEX_64),
    certificate: obj(o.certificate, "supervisor.certificate"),
  };
}

export type CommandAckStatus = "done" | "refused" | "expired";

export interface CommandAck {
  readonly commandId: string;
  readonly status: CommandAckStatus;
  readonly detail?: string;
  /** Gate clock, Unix ms. */
  readonly at: number;
}

export function encodeCommandAck(m: CommandAck): string {
  return encode(m);
}

export function decodeCommandAck(payload: Uint8Array | string): Decoded<CommandAck> {
  return decodeWith(payload, (o) => ({
    commandId: str(o.commandId, "commandId", 64, EVENT_ID),
    status: oneOf(o.status, "status", ["done", "refused", "expired"] as const),
    ...(o.detail === undefined ? {} : { detail: str(o.detail, "detail", 500) }),
    at: int(o.at, "at"),
  }));
}
