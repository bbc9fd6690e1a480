import {
  type CategoryName,
  type Credential,
  type CredentialReason,
  categoryNames,
  type Ed25519Verifier,
  type FreshnessPolicy,
  parseCredentialText,
  verifyCredential,
} from "@sesame/ticket";
import type { ReentryPolicy, Session } from "@sesame/venue";
import { type SessionTimes, sessionTimes } from "@sesame/venue/session-times";
import type { GateFacts, TicketFacts } from "./facts.js";
import {
  type Language,
  type MessageParams,
  type Outcome,
  outcomeOf,
  type ReasonCode,
  type StewardMessage,
  stewardMessages,
} from "./reasons.js";
import { localParts } from "./time.js";

export type Direction = "entry" | "exit";
/** normal; free passage (fire alarm or supervisor command); locked by a supervisor. */
export type LaneMode = "normal" | "free-passage" | "locked";

export interface ScanContext {
  readonly gateId: string;
  readonly lane: number;
  /** Entrance the gate stands at. */
  readonly entrance: number;
  readonly direction: Direction;
  readonly nowMs: number;
  readonly mode: LaneMode;
  /** The gate's clock is known to be off (sync offset, or a run of codes all off the same way). */
  readonly clockSuspect: boolean;
}

export interface Decision {
  readonly outcome: Outcome;
  readonly reason: ReasonCode;
  readonly messages: Record<Language, StewardMessage>;
  /** The credential's own verdict when it was refused for itself (the finer reason, for logs). */
  readonly credentialReason?: CredentialReason;
  /** The issuer key id the credential names, when it was refused for itself (KEY_REVOKED and KEY_NOT_VALID are grouped by it). */
  readonly issuerKeyId?: number;
  readonly detail?: string;
  readonly ticketId?: number;
  readonly generation?: number;
  /** The session the admission counts for. */
  readonly session?: number;
  /** Shown to the steward when an ID is checked or the seat matters. */
  readonly holder?: string;
  readonly seat?: string;
  readonly zone?: number;
  readonly categories?: readonly CategoryName[];
  readonly kind?: "mobile" | "printed";
  /** Gate-clock lag of the device proof in 15 s steps, for clock-skew detection. */
  readonly proofLagSteps?: number;
}

export interface DecideOptions {
  readonly issuerVerifier: Ed25519Verifier;
  readonly deviceVerifier?: Ed25519Verifier;
  readonly freshness?: FreshnessPolicy;
  /** Doors close this long after a session's end (re-entry, stragglers). */
  readonly doorsCloseAfterMs?: number;
}

const DEFAULT_CLOSE_AFTER_MS = 60 * 60_000;

function decision(reason: ReasonCode, params: MessageParams, extra: Partial<Decision> = {}): Decision {
  return { outcome: outcomeOf(reason), reason, messages: stewardMessages(reason, params), ...extra };
}

const CREDENTIAL_TO_GATE: Record<CredentialReason, ReasonCode> = {
  EMPTY: "MALFORMED",
  TOO_LONG: "MALFORMED",
  WRONG_PREFIX: "NOT_A_TICKET",
  LOWER_CASE: "SCANNER_LOWER_CASE",
  FOREIGN_CODE: "NOT_A_TICKET",
  NOT_ASCII: "MALFORMED",
  BAD_ENCODING: "MALFORMED",
  TRUNCATED: "MALFORMED",
  MALFORMED: "MALFORMED",
  UNSUPPORTED_VERSION: "UNSUPPORTED_VERSION",
  UNKNOWN_KEY: "UNKNOWN_KEY",
  KEY_REVOKED: "KEY_REVOKED",
  KEY_NOT_VALID: "KEY_NOT_VALID",
  FORGED: "FORGED",
  FORGED_PROOF: "FORGED_PROOF",
  EXPIRED_CODE: "EXPIRED_CODE",
  CODE_FROM_FUTURE: "CODE_FROM_FUTURE",
  NOT_YET_VALID: "TICKET_NOT_VALID",
  TICKET_EXPIRED: "TICKET_NOT_VALID",
};

interface SessionChoice {
  readonly session?: Session & { readonly reentry: ReentryPolicy };
  readonly refusal?: { reason: ReasonCode; params: MessageParams; detail?: string };
}

interface TimedSession {
  readonly session: Session & { readonly reentry: ReentryPolicy };
  readonly times: SessionTimes;
}

/**
 * Picks the session a scan is for among the ticket's, or says why none is. Of the sessions whose
 * doors are open: one with a passage under way (never a second session's admission meanwhile),
 * one it is inside (its doors still open), then, soonest first, one the ticket may still enter
 * (not used, or out with re-entry). A ticket whose open sessions are all used
 * (out for good) is told about its next session if it comes soon; refusals name their session.
 * A session whose times do not read is never open, and the refusal's detail says so.
 */
function chooseSession(
  ticketId: number,
  sessionIds: readonly number[],
  facts: GateFacts,
  context: Pick<ScanContext, "nowMs" | "direction">,
  closeAfterMs: number,
): SessionChoice {
  const { nowMs } = context;
  const unreadable: string[] = [];
  const mine: TimedSession[] = [];
  for (const id of sessionIds) {
    const session = facts.session(id);
    if (!session) continue;
    const times = sessionTimes(session, facts.timezone);
    if (times) mine.push({ session, times });
    else unreadable.push(`session ${id}'s times (${session.doorsOpen} to ${session.end}) do not read`);
  }
  const note = unreadable.length > 0 ? { detail: unreadable.join("; ") } : {};
  if (mine.length === 0) {
    const detail = note.detail ?? `no session ${sessionIds.join(", ")} in this venue`;
    return { refusal: { reason: "WRONG_DAY", params: { date: "?" }, detail } };
  }
  mine.sort((a, b) => a.times.doorsOpenMs - b.times.doorsOpenMs);
  const isOpen = (t: SessionTimes) => nowMs >= t.doorsOpenMs && nowMs <= t.endMs + closeAfterMs;
  const open = mine.filter((s) => isOpen(s.times));
  const presence = (s: TimedSession) => facts.presence(ticketId, s.session.id);
  const inside = open.find((s) => presence(s)?.state === "inside");
  const pending = open.find((s) => facts.pendingAuthorization(ticketId, s.session.id) !== undefined);
  if (context.direction === "exit") {
    const chosen = inside ?? pending ?? open[0];
    if (chosen) return { session: chosen.session };
  } else {
    const enterable = open.find((s) => {
      const p = presence(s);
      return p === undefined || (p.state === "outside" && s.session.reentry !== "none");
    });
    // Inside a session whose doors are open (under way, or ended and open for stragglers), a
    // second entry is a second person: the gate never admits a ticket it knows is inside. A holder
    // who left without an exit scan is admitted to the next session once those doors close.
    const chosen = pending ?? inside ?? enterable;
    if (chosen) return { session: chosen.session };
  }
  const local = (ms: number) => localParts(ms, facts.timezone);
  const named = (s: TimedSession) => s.session.name;
  // "Soon" and "just over" are measured in hours, not calendar days: an evening session's doors
  // close after midnight, and a refusal then must still say CLOSED, not WRONG_DAY.
  const near = 12 * 3_600_000;
  const upcoming = mine.find((s) => s.times.doorsOpenMs > nowMs && s.times.doorsOpenMs - nowMs <= near);
  if (upcoming) {
    const anotherOpen = facts.sessions().some((s) => {
      if (sessionIds.includes(s.id)) return false;
      const times = sessionTimes(s, facts.timezone);
      return times !== undefined && isOpen(times);
    });
    const params = { time: local(upcoming.times.doorsOpenMs).time, session: named(upcoming) };
    return { refusal: { reason: anotherOpen ? "WRONG_SESSION" : "NOT_YET_OPEN", params, ...note } };
  }
  // Open sessions all used for good and none coming soon: the first of them says when it was used.
  const used = open[0];
  if (used) return { session: used.session };
  const justOver = mine.some((s) => nowMs > s.times.endMs + closeAfterMs && nowMs - s.times.endMs <= near);
  if (justOver) return { refusal: { reason: "CLOSED", params: {}, ...note } };
  const next = mine.find((s) => s.times.doorsOpenMs > nowMs) ?? (mine.at(-1) as TimedSession);
  return {
    refusal: {
      reason: "WRONG_DAY",
      params: { date: local(next.times.doorsOpenMs).date, session: named(next) },
      ...note,
    },
  };
}

/**
 * The admission decision for one scan: pure, synchronous, no I/O. The first failing rule names
 * the outcome. Recording the decision (authorized, refused) is the caller's job.
 */
export function decideScan(
  text: string,
  context: ScanContext,
  facts: GateFacts,
  options: DecideOptions,
): Decision {
  if (context.mode === "free-passage") return decision("FREE_PASSAGE", {});
  if (context.mode === "locked") return decision("LANE_LOCKED", {});

  const parsed = parseCredentialText(text);
  if (!parsed.ok) {
    return decision(
      CREDENTIAL_TO_GATE[parsed.reason],
      {},
      { credentialReason: parsed.reason, detail: parsed.detail },
    );
  }
  return decideCredential(parsed.credential, context, facts, options);
}

export function decideCredential(
  credential: Credential,
  context: ScanContext,
  facts: GateFacts,
  options: DecideOptions,
): Decision {
  const { body } = credential;
  const ids = { ticketId: body.ticketId, generation: body.generation, kind: body.kind };
  const verdict = verifyCredential(credential, {
    issuerKeys: facts.issuerKeys,
    nowMs: context.nowMs,
    issuerVerifier: options.issuerVerifier,
    ...(options.deviceVerifier ? { deviceVerifier: options.deviceVerifier } : {}),
    ...(options.freshness ? { freshness: options.freshness } : {}),
  });
  // The validity window is the credential layer's last check: a ticket refused for it alone is
  // genuine, and the sessions say better than "not valid" what is wrong (another session, another day).
  const outsideWindow =
    !verdict.valid && (verdict.reason === "NOT_YET_VALID" || verdict.reason === "TICKET_EXPIRED")
      ? verdict
      : undefined;
  if (!verdict.valid && !outsideWindow) {
    let reason = CREDENTIAL_TO_GATE[verdict.reason];
    // A stale or early code while the gate's own clock is in doubt is the gate's fault, not the holder's.
    if (context.clockSuspect && (reason === "EXPIRED_CODE" || reason === "CODE_FROM_FUTURE"))
      reason = "CLOCK_SKEW";
    return decision(
      reason,
      {},
      {
        ...ids,
        issuerKeyId: body.keyId,
        credentialReason: verdict.reason,
        detail: verdict.detail,
        ...(verdict.proofLagSteps !== undefined ? { proofLagSteps: verdict.proofLagSteps } : {}),
      },
    );
  }
  const lag =
    verdict.valid && verdict.proofLagSteps !== undefined ? { proofLagSteps: verdict.proofLagSteps } : {};

  // Ticket status from the cache: resale and transfer bump the generation; the old code dies.
  const ticket: TicketFacts | undefined = facts.ticket(body.ticketId);
  // The current generation is the newest this gate has seen: the feed's, or one admitted since.
  const current = Math.max(ticket?.generation ?? 0, facts.newestGenerationSeen?.(body.ticketId) ?? 0);
  let newSale = false;
  if (body.generation < current) {
    const why = facts.revocationReason(body.ticketId, body.generation);
    return decision(
      why === "transferred" ? "SUPERSEDED_TRANSFERRED" : why === "cancelled" ? "CANCELLED" : "REVOKED_RESOLD",
      {},
      {
        ...ids,
        ...lag,
        detail: `generation ${body.generation} was replaced by generation ${current}`,
      },
    );
  } else if (!ticket || body.generation > ticket.generation) {
    // Validly signed but newer than what this gate knows: a last-minute sale or resale (docs/design.md §1).
    if (body.issueSequence > facts.feedSequence) newSale = true;
    else {
      return decision(
        "UNKNOWN_TICKET",
        {},
        {
          ...ids,
          ...lag,
          detail: `ticket ${body.ticketId} generation ${body.generation} (sequence ${body.issueSequence}) is not in this gate's cache (sequence ${facts.feedSequence})`,
        },
      );
    }
  } else if (ticket.status === "cancelled") {
    return decision("CANCELLED", {}, { ...ids, ...lag });
  }

  const closeAfter = options.doorsCloseAfterMs ?? DEFAULT_CLOSE_AFTER_MS;
  const choice = chooseSession(body.ticketId, body.sessions, facts, context, closeAfter);
  if (!choice.session) {
    const refusal = choice.refusal ?? { reason: "WRONG_DAY" as const, params: {} };
    const detail = [refusal.detail, outsideWindow?.detail].filter((d) => d !== undefined).join("; ");
    return decision(refusal.reason, refusal.params, {
      ...ids,
      ...lag,
      ...(outsideWindow ? { credentialReason: outsideWindow.reason } : {}),
      ...(detail ? { detail } : {}),
    });
  }
  const session = choice.session;
  if (outsideWindow) {
    // The doors of one of its sessions are open, yet the ticket says it is not valid now.
    return decision(
      "TICKET_NOT_VALID",
      {},
      { ...ids, session: session.id, credentialReason: outsideWindow.reason, detail: outsideWindow.detail },
    );
  }
  const shown = {
    ...ids,
    ...lag,
    session: session.id,
    // Only this very generation's holder: an older one's is the seller's, and the steward would
    // check the buyer's ID against it. A generation this gate does not know yet has no holder here.
    holder: ticket?.generation === body.generation ? ticket.holder : "",
    seat: body.seat,
    zone: body.zone,
    categories: categoryNames(body.categories),
  };

  // Entrance and zone: tell the holder which entrance is theirs.
  if (context.direction === "entry") {
    const here = facts.entrance(context.entrance);
    const wrong =
      body.entrance !== 0
        ? body.entrance !== context.entrance
        : here !== undefined && !here.zones.includes(body.zone);
    if (wrong) {
      const theirs =
        body.entrance !== 0
          ? facts.entrance(body.entrance)
          : facts.entrances().find((e) => e.zones.includes(body.zone));
      return decision("WRONG_ENTRANCE", { entrance: theirs?.code ?? String(body.entrance) }, shown);
    }
  }

  // Anti-passback, re-entry and exit scans.
  const presence = facts.presence(body.ticketId, session.id);
  const pending = facts.pendingAuthorization(body.ticketId, session.id);
  const at = (ms: number) => localParts(ms, facts.timezone).time;
  // An authorization in flight, either way: one passage at a time per ticket and session.
  if (pending) return decision("PASSAGE_PENDING", { gate: `${pending.gateId}/${pending.lane}` }, shown);
  if (context.direction === "exit") {
    if (presence?.state !== "inside") return decision("NOT_INSIDE", {}, shown);
    return decision(session.reentry === "exit-scan" ? "EXIT_RECORDED" : "EXIT_FINAL", {}, shown);
  }
  if (presence && (presence.state === "inside" || session.reentry === "none")) {
    return decision(
      "ALREADY_ENTERED",
      { time: at(presence.firstEntryAt), gate: presence.firstEntryGate },
      {
        ...shown,
        detail: `first entry ${new Date(presence.firstEntryAt).toISOString()} at ${presence.firstEntryGate}; last movement at ${presence.lastGate}`,
      },
    );
  }

  // Steward assistance: printed confirmations, ID checks, accessibility.
  const categories = new Set(shown.categories);
  if (body.kind === "printed") return decision("PRINTED_CONFIRMATION", { holder: shown.holder }, shown);
  if (categories.has("ID_CHECK")) return decision("ID_CHECK_REQUIRED", { holder: shown.holder }, shown);
  if (categories.has("ACCESSIBILITY")) return decision("ACCESSIBILITY_ASSISTANCE", {}, shown);
  return decision(newSale ? "ADMITTED_NEW_SALE" : "ADMITTED", {}, shown);
}
