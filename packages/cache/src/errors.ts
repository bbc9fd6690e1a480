import { type Language, type ReasonCode, type StewardMessage, stewardMessages } from "@sesame/gate-core";

/*
 * Errors of the gate cache. Each says what is wrong and what to do; none leaves anything half
 * applied (every write is one transaction).
 */

export class CacheError extends Error {
  override readonly name: string = "CacheError";
}

/** The database file cannot be used: not SQLite, not a Sésame cache, a newer schema, damaged, another venue. */
export class CacheFileError extends CacheError {
  override readonly name = "CacheFileError";
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`gate cache ${path}: ${message}`);
  }
}

/** A gate bundle or trust list that is refused (bad signature, another venue, older than the one held). */
export class BundleError extends CacheError {
  override readonly name = "BundleError";
}

/** A ticket-feed change that cannot be applied: a gap, a conflict with what was applied, bad content. */
export class FeedError extends CacheError {
  override readonly name: string = "FeedError";
  constructor(
    message: string,
    readonly sequence: number,
  ) {
    super(message);
  }
}

/** The feed skipped a sequence number: ask for a replay from `missing`. */
export class FeedGapError extends FeedError {
  override readonly name = "FeedGapError";
  constructor(
    readonly missing: number,
    received: number,
    applied: number,
  ) {
    super(
      `ticket feed gap: change ${received} received but change ${missing} is missing (this cache has applied up to ${applied}); ask for a replay from ${missing}`,
      received,
    );
  }
}

/** A write that would break "one ticket in once" or the entry lifecycle (a bug in the caller). */
export class JournalError extends CacheError {
  override readonly name = "JournalError";
}

/**
 * A manual admission the rules refuse (docs/design.md §1): `reason` is what the steward is told;
 * `needsSupervisor` when a supervisor's override would allow it (it is not allowed, never, for a
 * ticket inside or passing at a lane, or not in the cache).
 */
export class ManualAdmissionError extends CacheError {
  override readonly name = "ManualAdmissionError";
  readonly messages: Record<Language, StewardMessage>;
  constructor(
    message: string,
    readonly reason: ReasonCode,
    readonly needsSupervisor: boolean,
    /** What the steward is told (default: the reason's plain messages). */
    messages?: Record<Language, StewardMessage>,
  ) {
    super(message);
    this.messages = messages ?? stewardMessages(reason);
  }
}
