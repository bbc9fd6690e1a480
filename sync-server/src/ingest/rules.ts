import type { AnnulCause, EntryLogEvent } from "@sesame/gate-core";
import { FieldError, type RejectReason, validateEvent } from "@sesame/sync";

/*
 * What the server accepts of a gate's batch, event by event. Pure: the ingest stores what passes
 * and keeps what does not with its reason (never silently dropped).
 */

/**
 * An event time this far from the server's clock is no gate's clock, however skewed (the
 * clock-skew alert fires at 10 s): a day ahead, or older than any outbox a gate keeps. Refused,
 * kept in rejected_events with its raw text, so that it cannot skew counts, throughput or exports.
 */
export const MAX_EVENT_AHEAD_MS = 24 * 3_600_000;
export const MAX_EVENT_AGE_MS = 366 * 24 * 3_600_000;

/** Events that move a ticket in or out: they get an admission sequence and are fanned out to every gate. */
export const ADMISSION_KINDS: ReadonlySet<string> = new Set(["entered", "exited"]);

export type EventCheck =
  | { readonly ok: true; readonly event: EntryLogEvent }
  | { readonly ok: false; readonly reason: RejectReason; readonly detail: string; readonly eventId?: string };

/** One raw event of a batch signed by `gateId`, received at `receivedAt` (server clock). */
export function checkEvent(raw: unknown, gateId: string, receivedAt: number): EventCheck {
  const o = raw as { gateSeq: number; eventId?: unknown };
  const rawId = typeof o.eventId === "string" ? o.eventId : undefined;
  const idOf = rawId === undefined ? {} : { eventId: rawId };
  let event: EntryLogEvent;
  try {
    event = validateEvent(raw, `events[gateSeq ${o.gateSeq}]`);
  } catch (error) {
    const detail = error instanceof FieldError ? error.message : String(error);
    return { ok: false, reason: "invalid", detail, ...idOf };
  }
  if (event.gateId !== gateId)
    return {
      ok: false,
      reason: "gate-mismatch",
      detail: `event claims gate ${event.gateId} in a batch signed by ${gateId}`,
      ...idOf,
    };
  const drift = event.at - receivedAt;
  if (drift > MAX_EVENT_AHEAD_MS || drift < -MAX_EVENT_AGE_MS)
    return {
      ok: false,
      reason: "implausible-time",
      detail: `event time ${new Date(event.at).toISOString()} is ${Math.round(Math.abs(drift) / 3_600_000)} h ${drift > 0 ? "ahead of" : "behind"} the server's clock`,
      eventId: event.eventId,
    };
  return { ok: true, event };
}

/*
 * What a gate may say, against what the server knows (docs/design.md §9, "the server verifies what
 * gates say"). A gate's key proves which gate signed a batch, not that its events happened: a stolen
 * key can sign anything. The real sequences a gate's journal writes (packages/cache) are:
 *
 *   authorized → entered | exited                        (the passage)
 *   authorized → annulled [→ entered | exited, detail late-passage, unless a fire alarm annulled it]
 *   refused, free-passage, alarm                          (no ticket is moved)
 *
 * so an `entered` or `exited` must close an authorization this gate opened before (same
 * authorization id, ticket, session and direction) and closed at most by an annulment; an
 * `authorized` must name a ticket the venue sold for that session and, for an entry, for this
 * gate's entrance; a steward's manual one a printed ticket. A manual admission carrying a
 * supervisor's override is within the rules: its checks belong to the override.
 */

/** A ticket as the rules need it: what never changes over its resales and transfers. */
export interface TicketPlace {
  readonly kind: "mobile" | "printed";
  readonly sessions: readonly number[];
  readonly entrance: number;
  readonly zone: number;
}

/** An event this gate already stored for an authorization. */
export interface AuthorizationStep {
  readonly kind: EntryLogEvent["kind"];
  readonly direction: EntryLogEvent["direction"];
  readonly ticketId: number | null;
  readonly session: number | null;
  readonly detail: string | null;
}

export interface PlausibilityFacts {
  /** The entrance the venue's gate list puts the gate at; null for a gate it does not list. */
  readonly gateEntrance: number | null;
  ticket(ticketId: number): TicketPlace | undefined;
  /** The zones an entrance serves (tickets of entrance 0 enter by zone). */
  entranceZones(entrance: number): readonly number[] | undefined;
  /** What this gate stored for the authorization, in its order. */
  authorizationSteps(authorizationId: string): readonly AuthorizationStep[];
}

export type Plausibility = { readonly ok: true } | { readonly ok: false; readonly detail: string };

const PLAUSIBLE: Plausibility = { ok: true };
const implausible = (detail: string): Plausibility => ({ ok: false, detail });

/**
 * The `detail` of an entry the lane controller reported after the gate annulled its authorization
 * (the gate cache's LATE_PASSAGE: the plausibility test holds them equal).
 */
export const LATE_PASSAGE_DETAIL = "late-passage";

/** An `annulled` event's detail is its cause; after this one, passages are free passages. */
const FIRE_ALARM: AnnulCause = "fire-alarm";

/** The supervisor's override a manual admission carries, if any (the override's checks are its own). */
function hasOverride(event: EntryLogEvent): boolean {
  return (event as { readonly override?: unknown }).override != null;
}

/** Whether the event could have come from an honest gate, given what the server knows. */
export function checkPlausible(event: EntryLogEvent, facts: PlausibilityFacts): Plausibility {
  if (event.kind === "authorized") return checkAuthorized(event, facts);
  if (event.kind === "entered" || event.kind === "exited") return checkPassage(event, facts);
  return PLAUSIBLE;
}

function checkAuthorized(event: EntryLogEvent, facts: PlausibilityFacts): Plausibility {
  const { ticketId, session } = event;
  if (event.authorizationId === undefined) return implausible("an authorization without an authorization id");
  if (ticketId === undefined || session === undefined)
    return implausible(`authorization ${event.authorizationId} names no ticket and session`);
  if (event.manual && hasOverride(event)) return PLAUSIBLE;
  const ticket = facts.ticket(ticketId);
  if (!ticket) return implausible(`ticket ${ticketId} was not sold for this venue`);
  if (!ticket.sessions.includes(session))
    return implausible(
      `ticket ${ticketId} is not for session ${session} (it is for ${ticket.sessions.join(", ")})`,
    );
  if (event.direction === "entry") {
    const here = facts.gateEntrance;
    if (here === null) return implausible(`gate ${event.gateId} stands at no entrance of the venue`);
    const zones = facts.entranceZones(here);
    const valid = ticket.entrance !== 0 ? ticket.entrance === here : (zones?.includes(ticket.zone) ?? false);
    if (!valid)
      return implausible(
        `ticket ${ticketId} is for entrance ${ticket.entrance === 0 ? `of zone ${ticket.zone}` : ticket.entrance}, not gate ${event.gateId}'s entrance ${here}`,
      );
  }
  if (event.manual && event.reason === "PRINTED_CONFIRMATION" && ticket.kind !== "printed")
    return implausible(
      `a steward admitted ${ticket.kind} ticket ${ticketId} by hand as a printed confirmation, without a supervisor's override`,
    );
  return PLAUSIBLE;
}

function checkPassage(event: EntryLogEvent, facts: PlausibilityFacts): Plausibility {
  const what = `${event.kind === "entered" ? "an entry" : "an exit"} of ticket ${event.ticketId ?? "(none)"}`;
  if (event.authorizationId === undefined) return implausible(`${what} without an authorization`);
  const steps = facts.authorizationSteps(event.authorizationId);
  const opened = steps.find((s) => s.kind === "authorized");
  if (!opened)
    return implausible(
      `${what} closes authorization ${event.authorizationId}, which gate ${event.gateId} never opened`,
    );
  if (opened.ticketId !== (event.ticketId ?? null) || opened.session !== (event.session ?? null))
    return implausible(
      `${what} for session ${event.session ?? "(none)"} closes authorization ${event.authorizationId} of ticket ${opened.ticketId} for session ${opened.session}`,
    );
  const direction = event.kind === "entered" ? "entry" : "exit";
  if (opened.direction !== direction || event.direction !== direction)
    return implausible(
      `${what} closes authorization ${event.authorizationId}, opened for an ${opened.direction}`,
    );
  if (steps.some((s) => s.kind === "entered" || s.kind === "exited"))
    return implausible(`${what}: authorization ${event.authorizationId} already had its passage`);
  const annulled = steps.find((s) => s.kind === "annulled");
  if (annulled) {
    if (event.detail !== LATE_PASSAGE_DETAIL)
      return implausible(
        `${what} closes authorization ${event.authorizationId}, annulled before, and is no late passage`,
      );
    if (annulled.detail === FIRE_ALARM)
      return implausible(
        `${what} claims authorization ${event.authorizationId}, annulled by the fire alarm (passages then are free passages)`,
      );
  }
  return PLAUSIBLE;
}
