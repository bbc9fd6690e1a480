import type { ReasonCode } from "@sesame/gate-core";
import type { ReentryPolicy, RevocationReason, TicketChange } from "@sesame/venue";

/*
 * The reference model of admission (issue 16): what a gate should decide from what it knows, and
 * nothing else. Pure: the harness (admission-model.test.ts) feeds it what happened — ticket changes
 * the gate applied, its own authorizations, the movements it recorded or heard of — and compares its
 * verdict with the real gate's.
 *
 * A movement's order is causal, never a clock's: each carries a vector of how many movements of
 * each gate its gate knew when it happened. Of the movements a gate knows, those no other known
 * movement follows decide the ticket's state; when they disagree (two gates that had not heard of
 * each other) the model accepts either verdict, and the double entry that may follow must be alerted.
 */

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
/** Doors close this long after a session's end (the admission core's default). */
export const CLOSE_AFTER_MS = HOUR;
/** "Soon" and "just over", as the admission core measures them. */
const NEAR_MS = 12 * HOUR;

export interface ModelSession {
  readonly id: number;
  readonly doorsOpen: number;
  readonly end: number;
  readonly reentry: ReentryPolicy;
}

export interface ModelGeneration {
  readonly generation: number;
  readonly holder: string;
  /** Feed sequence of the change that made it (the credential's issueSequence). */
  readonly issueSequence: number;
}

export interface ModelTicket {
  readonly id: number;
  readonly sessions: readonly number[];
  readonly idCheck: boolean;
  /** Every generation the issuer made, oldest first. */
  readonly generations: ModelGeneration[];
  cancelled: boolean;
}

export type Vector = ReadonlyMap<string, number>;

export interface Movement {
  readonly gate: string;
  readonly eventId: string;
  readonly ticketId: number;
  readonly session: number;
  readonly direction: "entry" | "exit";
  readonly vector: Vector;
}

/** Whether `a` happened before `b` (b's gate knew of a when b happened). */
export function happenedBefore(a: Movement, b: Movement): boolean {
  if (a === b) return false;
  for (const [gate, n] of a.vector) if ((b.vector.get(gate) ?? 0) < n) return false;
  return true;
}

export type PresenceState = "none" | "inside" | "outside";

/** The states a ticket may be in for a session, from a set of movements (more than one: concurrent). */
export function possibleStates(
  known: readonly Movement[],
  ticketId: number,
  session: number,
): PresenceState[] {
  const mine = known.filter((m) => m.ticketId === ticketId && m.session === session);
  if (mine.length === 0) return ["none"];
  const latest = mine.filter((m) => !mine.some((n) => happenedBefore(m, n)));
  return [...new Set(latest.map((m) => (m.direction === "entry" ? "inside" : "outside") as PresenceState))];
}

/** The ticket as a gate's feed shows it: generation, status, holders and why generations were revoked. */
export interface FeedView {
  generation: number;
  cancelled: boolean;
  readonly holders: Map<number, string>;
  readonly revoked: Map<number, RevocationReason>;
}

/**
 * Applies one feed change as the issue wants it applied: a resale or transfer only of a valid
 * ticket, never rewriting a revocation's reason. Returns false for a change the feed must refuse.
 */
export function applyToView(view: FeedView, change: TicketChange): boolean {
  switch (change.type) {
    case "issue":
      return true;
    case "resale":
    case "transfer":
      if (view.cancelled || change.generation <= view.generation) return false;
      view.revoked.set(view.generation, change.type === "resale" ? "resold" : "transferred");
      view.generation = change.generation;
      view.holders.set(change.generation, change.holder);
      return true;
    case "cancel":
      if (view.cancelled) return false;
      view.cancelled = true;
      view.revoked.set(view.generation, "cancelled");
      return true;
  }
}

/** What the gate knows when it decides. */
export interface GateKnowledge {
  readonly feed: FeedView;
  readonly feedSequence: number;
  /**
   * The highest generation of this ticket the gate has seen admitted (0: none): by its own journal,
   * or by another gate's movement the fan-out brought.
   */
  readonly seenGeneration: number;
  readonly known: readonly Movement[];
  /** The ticket's authorizations open at this gate (sessions). */
  readonly pendingSessions: readonly number[];
  /** The gate's clock. */
  readonly now: number;
}

export interface Expectation {
  /** Every reason the gate may give. */
  readonly reasons: ReadonlySet<ReasonCode>;
  /** Sessions an admission may count for. */
  readonly sessions: ReadonlySet<number>;
  /** Every verdict admits (a refusal refuses a valid holder) / every verdict refuses. */
  readonly mustAdmit: boolean;
  readonly mustRefuse: boolean;
  /** The admissions the gate saw (its journal, the fan-out), not its feed, show this generation superseded. */
  readonly supersededByJournal: boolean;
  /** Admitted as a generation the gate's feed does not know yet (its holder is not known here). */
  readonly newSale: boolean;
  readonly why: string;
}

const ADMITTING: ReadonlySet<ReasonCode> = new Set<ReasonCode>([
  "ADMITTED",
  "ADMITTED_NEW_SALE",
  "ID_CHECK_REQUIRED",
  "EXIT_RECORDED",
  "EXIT_FINAL",
]);
export const admits = (reason: ReasonCode) => ADMITTING.has(reason);

function verdict(reasons: ReasonCode[], why: string, extra: Partial<Expectation> = {}): Expectation {
  const set = new Set(reasons);
  return {
    reasons: set,
    sessions: new Set(),
    mustAdmit: [...set].every(admits),
    mustRefuse: ![...set].some(admits),
    supersededByJournal: false,
    newSale: false,
    why,
    ...extra,
  };
}

const SUPERSEDED: Record<RevocationReason, ReasonCode> = {
  resold: "REVOKED_RESOLD",
  transferred: "SUPERSEDED_TRANSFERRED",
  cancelled: "CANCELLED",
};

/** Every combination of one state per session. */
function combinations(options: ReadonlyArray<readonly PresenceState[]>): PresenceState[][] {
  return options.reduce<PresenceState[][]>(
    (acc, states) => acc.flatMap((combo) => states.map((s) => [...combo, s])),
    [[]],
  );
}

/** What a gate should decide for this scan, from its knowledge alone. */
export function expectScan(
  ticket: ModelTicket,
  generation: number,
  direction: "entry" | "exit",
  gate: GateKnowledge,
  sessions: ReadonlyMap<number, ModelSession>,
): Expectation {
  const shown = ticket.generations[generation - 1];
  if (!shown) throw new Error(`model: ticket ${ticket.id} has no generation ${generation}`);
  const { feed } = gate;
  const highest = Math.max(feed.generation, gate.seenGeneration);
  if (generation < highest) {
    const why = feed.revoked.get(generation);
    if (generation < feed.generation && why)
      return verdict([SUPERSEDED[why]], `generation ${generation} ${why} (feed)`);
    // Only an admission proves the newer generation: resold or transferred, the gate cannot tell.
    return verdict(
      ["REVOKED_RESOLD", "SUPERSEDED_TRANSFERRED"],
      `generation ${generation}, but this gate saw generation ${gate.seenGeneration} admitted`,
      { supersededByJournal: true },
    );
  }
  let newSale = false;
  if (generation > feed.generation) {
    if (shown.issueSequence <= gate.feedSequence)
      return verdict(["UNKNOWN_TICKET"], `generation ${generation} should be in the feed already`);
    newSale = true;
  } else if (feed.cancelled) return verdict(["CANCELLED"], "cancelled (feed)");

  const mine = ticket.sessions.map((id) => {
    const s = sessions.get(id);
    if (!s) throw new Error(`model: no session ${id}`);
    return s;
  });
  const isOpen = (s: ModelSession) => gate.now >= s.doorsOpen && gate.now <= s.end + CLOSE_AFTER_MS;
  const open = mine.filter(isOpen).sort((a, b) => a.doorsOpen - b.doorsOpen);
  if (open.length === 0) {
    if (mine.some((s) => s.doorsOpen > gate.now && s.doorsOpen - gate.now <= NEAR_MS))
      return verdict(["NOT_YET_OPEN", "WRONG_SESSION"], "its session's doors are not open yet");
    if (mine.some((s) => gate.now > s.end + CLOSE_AFTER_MS && gate.now - s.end <= NEAR_MS))
      return verdict(["CLOSED"], "its session is over");
    return verdict(["WRONG_DAY"], "its sessions are on another day");
  }
  const pending = gate.pendingSessions.filter((id) => ticket.sessions.includes(id));
  const states = open.map((s) => possibleStates(gate.known, ticket.id, s.id));
  const reasons = new Set<ReasonCode>();
  const chosen = new Set<number>();
  const admitReason: ReasonCode = ticket.idCheck
    ? "ID_CHECK_REQUIRED"
    : newSale
      ? "ADMITTED_NEW_SALE"
      : "ADMITTED";
  for (const combo of combinations(states)) {
    const inside = open.find((_, i) => combo[i] === "inside");
    if (pending.length > 0) {
      reasons.add("PASSAGE_PENDING");
      // An exit of a ticket not inside: "not inside" is as true as "a passage is pending".
      if (direction === "exit" && !inside) reasons.add("NOT_INSIDE");
      continue;
    }
    if (direction === "exit") {
      if (!inside) reasons.add("NOT_INSIDE");
      else {
        reasons.add(inside.reentry === "exit-scan" ? "EXIT_RECORDED" : "EXIT_FINAL");
        chosen.add(inside.id);
      }
      continue;
    }
    if (inside) {
      reasons.add("ALREADY_ENTERED");
      continue;
    }
    // The session this scan is for: the soonest open one not used up.
    const usable = open.find(
      (s, i) => combo[i] === "none" || (combo[i] === "outside" && s.reentry === "exit-scan"),
    );
    if (!usable) {
      reasons.add("ALREADY_ENTERED");
      continue;
    }
    reasons.add(admitReason);
    chosen.add(usable.id);
  }
  const why = `open ${open.map((s, i) => `S${s.id}:${states[i]?.join("|")}`).join(" ")}${pending.length ? ` pending S${pending.join(",")}` : ""}${newSale ? " (new sale)" : ""}`;
  return verdict([...reasons], why, { sessions: chosen, newSale });
}
