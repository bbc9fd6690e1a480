/**
 * The lane's bookkeeping, with no I/O: authorizations (grants) against passages. Every passage the
 * turnstile reports is counted exactly once, as attributed to a grant, as a tailgate, as forced, or
 * as a fire-alarm passage; every granted passage ends attributed or annulled (no-show).
 */

export type Direction = "entry" | "exit";
export const DIRECTIONS: readonly Direction[] = ["entry", "exit"];

export interface Grant {
  readonly id: number;
  readonly direction: Direction;
  readonly passages: number;
  remaining: number;
  readonly issuedAt: number;
  /** When the controller relocks by itself (the OUT timer runs out). */
  readonly expiresAt: number;
}

export type PassageAttribution =
  | { readonly kind: "authorized"; readonly grantId: number; readonly grantComplete: boolean }
  /** More people than authorizations, right behind an authorized passage. */
  | { readonly kind: "tailgate" }
  /** A passage with no authorization at all. */
  | { readonly kind: "forced" }
  /** Free passage during a fire alarm: counted, not attributed. */
  | { readonly kind: "fire-alarm" }
  /** Free passage ordered by a supervisor (the lane is held open): counted, not attributed. */
  | { readonly kind: "free-passage" };

export interface DirectionCounters {
  authorizations: number;
  authorizedPassages: number;
  attributedPassages: number;
  annulledPassages: number;
  tailgatePassages: number;
  forcedPassages: number;
  fireAlarmPassages: number;
  freePassages: number;
}

export interface LaneCounters extends DirectionCounters {
  /** Granted passages whose window is still open. */
  pendingPassages: number;
  refusals: number;
  failedUnlocks: number;
  byDirection: Record<Direction, DirectionCounters>;
}

function zero(): DirectionCounters {
  return {
    authorizations: 0,
    authorizedPassages: 0,
    attributedPassages: 0,
    annulledPassages: 0,
    tailgatePassages: 0,
    forcedPassages: 0,
    fireAlarmPassages: 0,
    freePassages: 0,
  };
}

export interface LedgerOptions {
  /** A passage this soon after an authorized one, with no grant left, is a tailgate (else forced). */
  readonly tailgateWindowMs?: number;
  /** Passage reports lag the turnstile (poll cycle, pulse length): a grant stays open this long after its window. */
  readonly reportGraceMs?: number;
}

export class LaneLedger {
  private readonly tailgateWindowMs: number;
  private readonly reportGraceMs: number;
  private readonly open: Grant[] = [];
  private readonly counts: Record<Direction, DirectionCounters> = { entry: zero(), exit: zero() };
  private readonly lastAuthorizedPassageAt: Record<Direction, number> = {
    entry: Number.NEGATIVE_INFINITY,
    exit: Number.NEGATIVE_INFINITY,
  };
  private nextId = 1;
  private refusals = 0;
  private failedUnlocks = 0;
  fireAlarm = false;
  /** Directions a supervisor's free passage holds open. */
  readonly freePassage: Record<Direction, boolean> = { entry: false, exit: false };

  constructor(options: LedgerOptions = {}) {
    this.tailgateWindowMs = options.tailgateWindowMs ?? 3_000;
    this.reportGraceMs = options.reportGraceMs ?? 1_000;
  }

  authorize(direction: Direction, passages: number, windowMs: number, now: number): Grant {
    const grant: Grant = {
      id: this.nextId++,
      direction,
      passages,
      remaining: passages,
      issuedAt: now,
      expiresAt: now + windowMs,
    };
    this.open.push(grant);
    this.counts[direction].authorizations++;
    this.counts[direction].authorizedPassages += passages;
    return grant;
  }

  /** Takes back a grant whose unlock never reached the controller. */
  withdraw(grant: Grant): void {
    const index = this.open.indexOf(grant);
    if (index < 0) return;
    this.open.splice(index, 1);
    const c = this.counts[grant.direction];
    c.authorizations--;
    c.authorizedPassages -= grant.passages;
    this.failedUnlocks++;
  }

  refused(): void {
    this.refusals++;
  }

  passage(direction: Direction, now: number): PassageAttribution {
    const c = this.counts[direction];
    if (this.fireAlarm) {
      c.fireAlarmPassages++;
      return { kind: "fire-alarm" };
    }
    if (this.freePassage[direction]) {
      c.freePassages++;
      return { kind: "free-passage" };
    }
    // The oldest open grant in this direction takes the passage (people queue in scan order).
    const grant = this.open.find((g) => g.direction === direction && g.remaining > 0);
    if (grant !== undefined) {
      grant.remaining--;
      c.attributedPassages++;
      this.lastAuthorizedPassageAt[direction] = now;
      if (grant.remaining === 0) this.open.splice(this.open.indexOf(grant), 1);
      return { kind: "authorized", grantId: grant.id, grantComplete: grant.remaining === 0 };
    }
    if (now - this.lastAuthorizedPassageAt[direction] <= this.tailgateWindowMs) {
      c.tailgatePassages++;
      return { kind: "tailgate" };
    }
    c.forcedPassages++;
    return { kind: "forced" };
  }

  /** Closes grants whose window (plus the report grace) is over; their unused passages are annulled. */
  expire(now: number): { grant: Grant; unused: number }[] {
    const expired: { grant: Grant; unused: number }[] = [];
    for (const grant of [...this.open]) {
      if (now < grant.expiresAt + this.reportGraceMs) continue;
      this.open.splice(this.open.indexOf(grant), 1);
      this.counts[grant.direction].annulledPassages += grant.remaining;
      expired.push({ grant, unused: grant.remaining });
    }
    return expired;
  }

  /** A fire alarm annuls every open grant: nobody's passage can be attributed while the lane is free. */
  setFireAlarm(active: boolean): { grant: Grant; unused: number }[] {
    this.fireAlarm = active;
    if (!active) return [];
    const annulled = this.open.splice(0).map((grant) => ({ grant, unused: grant.remaining }));
    for (const { grant, unused } of annulled) this.counts[grant.direction].annulledPassages += unused;
    return annulled;
  }

  openGrants(direction?: Direction): readonly Grant[] {
    return direction === undefined ? [...this.open] : this.open.filter((g) => g.direction === direction);
  }

  /** When the earliest open grant must be closed; undefined when none is open. */
  nextExpiry(): number | undefined {
    let next: number | undefined;
    for (const grant of this.open) {
      const at = grant.expiresAt + this.reportGraceMs;
      if (next === undefined || at < next) next = at;
    }
    return next;
  }

  counters(): LaneCounters {
    const total = zero();
    for (const direction of DIRECTIONS) {
      for (const key of Object.keys(total) as (keyof DirectionCounters)[])
        total[key] += this.counts[direction][key];
    }
    return {
      ...total,
      pendingPassages: this.open.reduce((sum, g) => sum + g.remaining, 0),
      refusals: this.refusals,
      failedUnlocks: this.failedUnlocks,
      byDirection: { entry: { ...this.counts.entry }, exit: { ...this.counts.exit } },
    };
  }
}
