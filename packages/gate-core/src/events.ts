import type { Direction } from "./decide.js";
import type { RecordKind } from "./lifecycle.js";
import type { SupervisorOverride } from "./manual.js";
import type { ReasonCode } from "./reasons.js";

/**
 * One line of a gate's entry-event log, as stored in its cache, queued in its outbox and sent to
 * the sync-server. `gateSeq` numbers a gate's events without gaps; `eventId` is unique venue-wide
 * (the server stores events idempotently by it).
 */
export interface EntryLogEvent {
  readonly eventId: string;
  readonly gateId: string;
  readonly gateSeq: number;
  readonly lane: number;
  /** `alarm`: a forced passage or a tailgate (reason FORCED_PASSAGE / TAILGATE), no ticket. */
  readonly kind: RecordKind | "free-passage" | "alarm";
  readonly direction: Direction;
  readonly reason: ReasonCode;
  /** Links authorized → entered/annulled of one scan. */
  readonly authorizationId?: string;
  readonly ticketId?: number;
  readonly generation?: number;
  readonly session?: number;
  /** A `refused` credential's issuer key id (u16), when it was refused for itself: KEY_REVOKED alerts group by it. */
  readonly issuerKeyId?: number;
  readonly manual: boolean;
  readonly steward?: string;
  /**
   * A manual admission a steward alone may not make, on a supervisor's word: who, why, and the
   * ticket's real state (reason SUPERVISOR_OVERRIDE; on the authorization and its passage).
   */
  readonly override?: SupervisorOverride;
  /** Unix ms on the gate's clock. */
  readonly at: number;
  /** A short, non-identifying detail for supervisors (never the credential text). */
  readonly detail?: string;
}
