import { sessionTimes } from "@sesame/venue/session-times";
import type { GateFacts, TicketFacts } from "./facts.js";
import {
  type Language,
  type MessageParams,
  type ReasonCode,
  type StewardMessage,
  stewardMessages,
} from "./reasons.js";
import { localParts } from "./time.js";

/*
 * Manual admission rules (docs/design.md §1, "Manual admission"): a steward admits by hand, alone,
 * only a valid printed ticket of this gate's entrance for a session whose doors are open. Anything
 * else needs a supervisor's override, recorded with both identities, a note and the ticket's real
 * state. One ticket in once holds even then: a ticket inside or passing elsewhere is never admitted
 * by hand. Pure: the caller hands in the facts, the clock reading and the supervisor's verdict.
 */

/** What a supervisor's override carries on the event log and the fan-out (docs/sync-protocol.md). */
export interface SupervisorOverride {
  /** The supervisor's id, as listed in the venue's signed supervisors. */
  readonly supervisor: string;
  /** Why, in the supervisor's words (1 to 200 characters). */
  readonly note: string;
  /** The ticket's real state: the refusal a steward alone would have got (e.g. WRONG_ENTRANCE). */
  readonly state: ReasonCode;
}

export const MAX_OVERRIDE_NOTE = 200;

export interface ManualContext {
  /** The entrance the gate stands at. */
  readonly entrance: number;
  readonly nowMs: number;
  /** Doors close this long after a session's end (default 1 h, as for scans). */
  readonly doorsCloseAfterMs?: number;
}

export type ManualVerdict =
  /** A steward may admit it alone: recorded as PRINTED_CONFIRMATION. */
  | { readonly kind: "steward"; readonly ticket: TicketFacts }
  /** Only with a supervisor's override; `state` is what the override records. */
  | {
      readonly kind: "supervisor";
      readonly ticket: TicketFacts;
      readonly state: ReasonCode;
      readonly messages: Record<Language, StewardMessage>;
    }
  /** Nobody may: unknown ticket, or one ticket in once (inside, or passing at a lane now). */
  | {
      readonly kind: "refused";
      readonly reason: ReasonCode;
      readonly messages: Record<Language, StewardMessage>;
      readonly detail: string;
    };

const DEFAULT_CLOSE_AFTER_MS = 60 * 60_000;

/** Who may admit this ticket by hand for this session at this gate, and why. */
export function checkManualAdmission(
  ticketId: number,
  sessionId: number,
  context: ManualContext,
  facts: GateFacts,
): ManualVerdict {
  const refused = (reason: ReasonCode, detail: string, params: MessageParams = {}): ManualVerdict => ({
    kind: "refused",
    reason,
    messages: stewardMessages(reason, params),
    detail,
  });
  const ticket = facts.ticket(ticketId);
  if (!ticket) return refused("UNKNOWN_TICKET", `ticket ${ticketId} is not in this gate's cache`);
  const at = (ms: number) => localParts(ms, facts.timezone).time;
  const pending = facts.pendingAuthorization(ticketId, sessionId);
  if (pending) {
    const gate = `${pending.gateId}/${pending.lane}`;
    return refused("PASSAGE_PENDING", `ticket ${ticketId} is passing at ${gate} now`, { gate });
  }
  const presence = facts.presence(ticketId, sessionId);
  if (presence?.state === "inside") {
    return refused(
      "ALREADY_ENTERED",
      `ticket ${ticketId} is already inside for session ${sessionId} (entered at ${presence.firstEntryGate})`,
      { time: at(presence.firstEntryAt), gate: presence.firstEntryGate },
    );
  }
  const needsSupervisor = (state: ReasonCode, params: MessageParams = {}): ManualVerdict => ({
    kind: "supervisor",
    ticket,
    state,
    messages: stewardMessages(state, params),
  });
  if (ticket.status === "cancelled") return needsSupervisor("CANCELLED");
  const session = facts.session(sessionId);
  if (!session) return refused("WRONG_SESSION", `session ${sessionId} is not a session of this venue`);
  // Out after a final exit: back in only on a supervisor's word.
  if (presence && session.reentry === "none")
    return needsSupervisor("ALREADY_ENTERED", {
      time: at(presence.firstEntryAt),
      gate: presence.firstEntryGate,
    });
  if (!ticket.sessions.includes(sessionId)) {
    const theirs = ticket.sessions.map((id) => facts.session(id)).find((s) => s !== undefined);
    const doors = theirs ? sessionTimes(theirs, facts.timezone)?.doorsOpenMs : undefined;
    return needsSupervisor("WRONG_SESSION", {
      time: doors !== undefined ? at(doors) : "?",
      ...(theirs ? { session: theirs.name } : {}),
    });
  }
  const closeAfter = context.doorsCloseAfterMs ?? DEFAULT_CLOSE_AFTER_MS;
  const times = sessionTimes(session, facts.timezone);
  if (!times)
    return refused(
      "WRONG_SESSION",
      `session ${sessionId}'s times (${session.doorsOpen} to ${session.end}) do not read`,
    );
  if (context.nowMs < times.doorsOpenMs)
    return needsSupervisor("NOT_YET_OPEN", { time: at(times.doorsOpenMs) });
  if (context.nowMs > times.endMs + closeAfter) return needsSupervisor("CLOSED");
  const here = facts.entrance(context.entrance);
  const wrongEntrance =
    ticket.entrance !== 0
      ? ticket.entrance !== context.entrance
      : here !== undefined && !here.zones.includes(ticket.zone);
  if (wrongEntrance) {
    const theirs =
      ticket.entrance !== 0
        ? facts.entrance(ticket.entrance)
        : facts.entrances().find((e) => e.zones.includes(ticket.zone));
    return needsSupervisor("WRONG_ENTRANCE", { entrance: theirs?.code ?? String(ticket.entrance) });
  }
  // A phone ticket proves its holder with the phone: by hand, only on a supervisor's word.
  if (ticket.kind !== "printed") return needsSupervisor("MOBILE_TICKET");
  return { kind: "steward", ticket };
}

/** Checks an override's note and supervisor id as typed; returns the trimmed note or says what is wrong. */
export function overrideNoteProblem(note: unknown): string | undefined {
  if (typeof note !== "string" || note.trim() === "")
    return "the supervisor's note is empty: say why this ticket is admitted";
  if (note.trim().length > MAX_OVERRIDE_NOTE)
    return `the supervisor's note is at most ${MAX_OVERRIDE_NOTE} characters`;
  return undefined;
}

export interface OverrideLockoutOptions {
  /** Wrong codes in a row before overrides are locked (default 5). */
  readonly maxFailures?: number;
  /** How long they stay locked (default 5 min). */
  readonly lockMs?: number;
}

/**
 * Wrong supervisor codes at one gate: after `maxFailures` in a row, overrides are refused until
 * `lockMs` has passed, whatever the code. A right code resets the count. Clock readings come in.
 */
export class OverrideLockout {
  private failures = 0;
  private lockedUntil = 0;
  readonly maxFailures: number;
  readonly lockMs: number;

  constructor(options: OverrideLockoutOptions = {}) {
    this.maxFailures = options.maxFailures ?? 5;
    this.lockMs = options.lockMs ?? 5 * 60_000;
  }

  /** Until when overrides are locked, or undefined when they are not. */
  lockedAt(nowMs: number): number | undefined {
    return nowMs < this.lockedUntil ? this.lockedUntil : undefined;
  }

  /** A wrong code (or an unknown supervisor): how many tries are left before the lock, 0 once locked. */
  failed(nowMs: number): number {
    this.failures++;
    if (this.failures >= this.maxFailures) {
      this.failures = 0;
      this.lockedUntil = nowMs + this.lockMs;
      return 0;
    }
    return this.maxFailures - this.failures;
  }

  succeeded(): void {
    this.failures = 0;
  }
}
