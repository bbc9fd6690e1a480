/**
 * The lane's bookkeeping, with no I/O: authorizations (grants) against passages. Every passage the
 * turnstile reports is counted exactly once, as attributed to a grant (on time or late), as a
 * tailgate, as forced, or as a fire-alarm or free passage; every granted passage ends attributed,
 * attributed late, or annulled (no-show).
 *
 * Late attribution: a grant whose window ended while the gate could not hear the lane controller
 * (the controller had not yet answered a poll with "nothing to report" since the window ended) is
 * annulled, but stays claimable: the controller keeps its passage reports while unheard and
 * delivers them when it is heard again, and such a passage is the holder's. A claim lasts until
 * the controller next says it has nothing more to report, and never longer than `lateClaimMs`
 * after the window ended. A grant closed while the controller was heard is a no-show and is never
 * claimable: a stranger forcing the arm later must not consume that ticket.
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
  /** What the caller calls this grant (the gate's authorization id), given back with its passages. */
  readonly reference?: string;
}

export type PassageAttribution =
  | { readonly kind: "authorized"; readonly grantId: number; readonly grantComplete: boolean }
  /**
   * Reported after the grant was annulled, from the backlog the controller kept while the gate
   * could not hear it (see above): the holder's passage, late.
   */
  | { readonly kind: "late"; readonly grantId: number; readonly reference?: string }
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
  /** Passages attributed to a grant after it was annulled (counted no longer annulled). */
  latePassages: number;
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
    latePassages: 0,
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
  /** A grant annulled while the controller was unheard stays claimable at most this long after its window. */
  readonly lateClaimMs?: number;
}

/** A grant annulled while the controller was unheard, which a passage from its backlog may still claim. */
export interface LateClaim {
  readonly grant: Grant;
  /** When it can no longer be claimed, whatever the controller says. */
  readonly lapsesAt: number;
}

/** How a grant ended with passages unused. */
export interface ClosedGrant {
  readonly grant: Grant;
  readonly unused: number;
  /** Annulled while the controller was unheard: a passage it kept may still claim it. */
  readonly claimable: boolean;
}

export class LaneLedger {
  private readonly tailgateWindowMs: number;
  private readonly reportGraceMs: number;
  private readonly lateClaimMs: number;
  private readonly open: Grant[] = [];
  private readonly claims: LateClaim[] = [];
  /** When the controller last answered a poll with nothing to report (its backlog delivered). */
  private idleAt = Number.NEGATIVE_INFINITY;
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
    this.lateClaimMs = options.lateClaimMs ?? 120_000;
  }

  authorize(
    direction: Direction,
    passages: number,
    windowMs: number,
    now: number,
    reference?: string,
  ): Grant {
    const grant: Grant = {
      id: this.nextId++,
      direction,
      passages,
      remaining: passages,
      issuedAt: now,
      expiresAt: now + windowMs,
      ...(reference !== undefined ? { reference } : {}),
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
    this.lapseClaims(now);
    const claim = this.claims.find((k) => k.grant.direction === direction && k.grant.remaining > 0);
    if (claim !== undefined) {
      const late = claim.grant;
      late.remaining--;
      if (late.remaining === 0) this.claims.splice(this.claims.indexOf(claim), 1);
      c.annulledPassages--;
      c.latePassages++;
      // A second body right behind it in the backlog is a tailgater, as it would have been live.
      this.lastAuthorizedPassageAt[direction] = now;
      return {
        kind: "late",
        grantId: late.id,
        ...(late.reference !== undefined ? { reference: late.reference } : {}),
      };
    }
    if (now - this.lastAuthorizedPassageAt[direction] <= this.tailgateWindowMs) {
      c.tailgatePassages++;
      return { kind: "tailgate" };
    }
    c.forcedPassages++;
    return { kind: "forced" };
  }

  /**
   * Closes grants whose window (plus the report grace) is over; their unused passages are annulled.
   * A grant whose window ended without the controller having said since that it has nothing more
   * to report (it was unheard: cable out, offline, a backlog still coming) stays claimable.
   */
  expire(now: number): ClosedGrant[] {
    this.lapseClaims(now);
    const expired: ClosedGrant[] = [];
    for (const grant of [...this.open]) {
      if (now < grant.expiresAt + this.reportGraceMs) continue;
      this.open.splice(this.open.indexOf(grant), 1);
      this.counts[grant.direction].annulledPassages += grant.remaining;
      const lapsesAt = grant.expiresAt + this.lateClaimMs;
      const claimable = grant.remaining > 0 && this.idleAt < grant.expiresAt && now < lapsesAt;
      if (claimable) this.claims.push({ grant, lapsesAt });
      expired.push({ grant, unused: grant.remaining, claimable });
    }
    return expired;
  }

  /**
   * A grant annulled elsewhere while the controller was unheard (a gate restart's recovery: the
   * process that authorized it died): claimable as if it had expired here, `endedAgoMs` after its
   * window ended (negative: it has not ended yet). Counted as an authorization, annulled, so the
   * counters still reconcile. Returns undefined when its claim would already have lapsed.
   */
  addLateClaim(direction: Direction, reference: string, endedAgoMs: number, now: number): Grant | undefined {
    const lapsesAt = now - endedAgoMs + this.lateClaimMs;
    if (lapsesAt <= now) return undefined;
    const grant: Grant = {
      id: this.nextId++,
      direction,
      passages: 1,
      remaining: 1,
      issuedAt: now - endedAgoMs,
      expiresAt: now - endedAgoMs,
      reference,
    };
    const c = this.counts[direction];
    c.authorizations++;
    c.authorizedPassages++;
    c.annulledPassages++;
    this.claims.push({ grant, lapsesAt });
    return grant;
  }

  /**
   * The controller answered a poll with nothing to report: everything it kept has been delivered,
   * so no later passage can claim these grants. (A recovered grant whose window, plus the report
   * grace, has not ended yet stays claimable: its holder may still walk through the arm the dead
   * process unlocked.) Returns the claims that lapsed.
   */
  controllerIdle(now: number): LateClaim[] {
    this.idleAt = now;
    const lapsed: LateClaim[] = [];
    for (const claim of [...this.claims]) {
      if (now < claim.grant.expiresAt + this.reportGraceMs) continue;
      this.claims.splice(this.claims.indexOf(claim), 1);
      lapsed.push(claim);
    }
    return lapsed;
  }

  /** Grants a late passage may still claim, oldest first. */
  lateClaims(): readonly LateClaim[] {
    return [...this.claims];
  }

  private lapseClaims(now: number): void {
    for (let i = this.claims.length - 1; i >= 0; i--) {
      if ((this.claims[i]?.lapsesAt ?? 0) <= now) this.claims.splice(i, 1);
    }
  }

  /** A fire alarm annuls every open grant: nobody's passage can be attributed while the lane is free. */
  setFireAlarm(active: boolean): ClosedGrant[] {
    this.fireAlarm = active;
    if (!active) return [];
    const annulled = this.open
      .splice(0)
      .map((grant): ClosedGrant => ({ grant, unused: grant.remaining, claimable: false }));
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
