import type { Ed25519Verifier, IssuerKey } from "@sesame/ticket";
import {
  feedChangeOf,
  type IssuedTicketChange,
  printable,
  type SignedTicketChange,
  verifyIssuedChange,
} from "@sesame/venue";

/*
 * The venue server follows the issuer: it pulls the issuer's signed changes for its venue
 * (`GET /venues/:venue/changes?after=N`), checks each against the issuer keys of the venue's
 * root-signed trust list before anything changes, and appends it to the feed as the issuer signed
 * it (the gates check the same signature). The position is the feed's own last sequence: the
 * issuer numbers a venue's changes in the venue's feed numbering, so a change is applied only at
 * position + 1 (never twice, none skipped), and a refused change stops the follower before it.
 */

/** One page of the issuer's stream for a venue. */
export interface IssuerPage {
  readonly changes: readonly IssuedTicketChange[];
  /** The venue's last sequence at the issuer when the page was read. */
  readonly lastSequence: number;
}

/** Where the pages come from: the issuer's HTTP API, or a test's stand-in. */
export interface IssuerSource {
  /** A description for logs ("http://127.0.0.1:8480"). */
  readonly where: string;
  page(venue: string, after: number, limit: number): Promise<IssuerPage>;
}

/** Why the follower refused a change of the issuer's stream (also the alert's wording). */
export type IssuedChangeRefusal =
  | "wrong-venue"
  | "unknown-key"
  | "revoked-key"
  | "bad-signature"
  | "out-of-order"
  | "does-not-apply";

export interface RefusedIssuedChange {
  readonly sequence: number;
  readonly keyId: number;
  readonly reason: IssuedChangeRefusal;
  readonly detail: string;
}

export interface IssuerFollowerDeps {
  readonly venueId: string;
  readonly source: IssuerSource;
  readonly verifier: Ed25519Verifier;
  /** The feed's last sequence: the follower's durable position. */
  position(): number;
  /** The issuer keys of the venue's current root-signed trust list. */
  issuerKeys(): ReadonlyMap<number, IssuerKey>;
  /**
   * Appends verified changes (in order, from position + 1) to the feed in one transaction and
   * publishes them; stops at the first that does not apply to the ticket tables and says why.
   */
  append(changes: readonly SignedTicketChange[]): { applied: number; failed?: string };
  /** A refused change: logged on one line and alerted by the server. */
  refused(refusal: RefusedIssuedChange): void;
  log(line: string): void;
}

export interface FollowerTuning {
  /** Changes asked for per request. */
  readonly pageSize: number;
  /** Wait between polls once caught up. */
  readonly pollMs: number;
  /** First wait after a failure, doubled at each failure up to maxBackoffMs. */
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
}

export const DEFAULT_FOLLOWER_TUNING: FollowerTuning = {
  pageSize: 5000,
  pollMs: 200,
  minBackoffMs: 500,
  maxBackoffMs: 30_000,
};

/** What one pull did. */
export type PullOutcome =
  | { readonly kind: "applied"; readonly count: number; readonly more: boolean }
  | { readonly kind: "refused"; readonly applied: number; readonly refusal: RefusedIssuedChange }
  | { readonly kind: "unreachable"; readonly detail: string }
  /** The venue side failed (its store): retried with backoff like an unreachable issuer. */
  | { readonly kind: "failed"; readonly detail: string }
  | { readonly kind: "behind"; readonly detail: string };

export class IssuerFollower {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private failures = 0;
  /** The last problem logged (not logged again while it lasts: a poll every 200 ms would flood). */
  private lastProblem: string | undefined;
  private inFlight: Promise<PullOutcome> | undefined;
  readonly tuning: FollowerTuning;

  constructor(
    private readonly deps: IssuerFollowerDeps,
    tuning: Partial<FollowerTuning> = {},
  ) {
    this.tuning = { ...DEFAULT_FOLLOWER_TUNING, ...tuning };
  }

  /** Pulls one page and applies what verifies, in order; never throws. */
  pull(): Promise<PullOutcome> {
    this.inFlight ??= this.pullOnce()
      .catch((error: unknown) =>
        this.problem({
          kind: "failed",
          detail: `following the issuer ${this.deps.source.where} failed on the venue side: ${
            error instanceof Error ? error.message : String(error)
          }`,
        }),
      )
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }

  private async pullOnce(): Promise<PullOutcome> {
    const { venueId, source } = this.deps;
    const after = this.deps.position();
    let page: IssuerPage;
    try {
      page = await source.page(venueId, after, this.tuning.pageSize);
    } catch (error) {
      return this.problem({
        kind: "unreachable",
        detail: `issuer ${source.where} unreachable or failing for venue ${venueId} (feed at ${after}): ${
          error instanceof Error ? error.message : String(error)
        }`,
      });
    }
    if (page.lastSequence < after)
      return this.problem({
        kind: "behind",
        detail:
          `issuer ${source.where}: venue ${venueId}'s stream ends at ${page.lastSequence}, the venue's feed is at ${after}: ` +
          "the issuer does not hold this venue's feed (register the venue's tickets at its feed position)",
      });
    const keys = this.deps.issuerKeys();
    const verified: SignedTicketChange[] = [];
    let refusal: RefusedIssuedChange | undefined;
    let expected = after + 1;
    for (const issued of page.changes) {
      const sequence = issued?.change?.sequence;
      if (sequence !== expected) {
        refusal = {
          sequence: typeof sequence === "number" ? sequence : -1,
          keyId: issued?.keyId ?? -1,
          reason: "out-of-order",
          detail: `change ${String(sequence)} from the issuer where ${expected} was due`,
        };
        break;
      }
      const verdict = verifyIssuedChange(issued, venueId, keys, this.deps.verifier);
      if (!verdict.ok) {
        refusal = { sequence, keyId: issued.keyId, reason: verdict.reason, detail: verdict.detail };
        break;
      }
      verified.push(feedChangeOf(issued));
      expected++;
    }
    let applied = 0;
    if (verified.length > 0) {
      const result = this.deps.append(verified);
      applied = result.applied;
      if (result.failed !== undefined) {
        const change = verified[applied];
        refusal = {
          sequence: change?.sequence ?? -1,
          keyId: change?.keyId ?? -1,
          reason: "does-not-apply",
          detail: result.failed,
        };
      }
    }
    if (refusal) {
      const key = `${refusal.sequence}/${refusal.reason}`;
      if (this.lastProblem !== key) {
        this.lastProblem = key;
        this.deps.refused(refusal);
      }
      this.failures++;
      return { kind: "refused", applied, refusal };
    }
    this.recovered();
    return { kind: "applied", count: applied, more: this.deps.position() < page.lastSequence };
  }

  private problem(outcome: PullOutcome & { detail: string }): PullOutcome {
    this.failures++;
    if (this.lastProblem !== outcome.detail) {
      this.lastProblem = outcome.detail;
      this.deps.log(printable(outcome.detail));
    }
    return outcome;
  }

  private recovered(): void {
    if (this.failures > 0 && this.lastProblem !== undefined)
      this.deps.log(`issuer ${this.deps.source.where}: following again, feed at ${this.deps.position()}`);
    this.failures = 0;
    this.lastProblem = undefined;
  }

  /** Follows until stop(): at once while pages are full, every pollMs once caught up, backing off on failure. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    return this.inFlight?.then(() => undefined) ?? Promise.resolve();
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.pull().then((outcome) => this.schedule(this.delayAfter(outcome)));
    }, ms);
    this.timer.unref?.();
  }

  private delayAfter(outcome: PullOutcome): number {
    if (outcome.kind === "applied") return outcome.more ? 0 : this.tuning.pollMs;
    const exponent = Math.min(this.failures - 1, 16);
    return Math.min(this.tuning.maxBackoffMs, this.tuning.minBackoffMs * 2 ** exponent);
  }
}

/** The issuer's HTTP stream, read with the venue's bearer token. */
export function httpIssuerSource(baseUrl: string, token: string, timeoutMs = 10_000): IssuerSource {
  const base = baseUrl.replace(/\/+$/, "");
  return {
    where: base,
    async page(venue, after, limit) {
      const url = `${base}/venues/${encodeURIComponent(venue)}/changes?after=${after}&limit=${limit}`;
      const res = await fetch(url, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await res.text();
      if (!res.ok) {
        let reason = text.slice(0, 200);
        try {
          reason = String((JSON.parse(text) as { error?: unknown }).error ?? reason);
        } catch {
          // not JSON: the text as is
        }
        throw new Error(`HTTP ${res.status}: ${reason}`);
      }
      const body = JSON.parse(text) as { changes?: unknown; lastSequence?: unknown };
      if (!Array.isArray(body.changes) || typeof body.lastSequence !== "number")
        throw new Error("the answer has no changes list or lastSequence");
      return { changes: body.changes as IssuedTicketChange[], lastSequence: body.lastSequence };
    },
  };
}
