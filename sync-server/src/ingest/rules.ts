import type { EntryLogEvent } from "@sesame/gate-core";
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
