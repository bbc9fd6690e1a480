import type { EntryLogEvent } from "@sesame/gate-core";
import type { IssuerKey, SignedTrustListJson, TrustList } from "@sesame/ticket";
import type { GateBundle, TicketChange } from "@sesame/venue";
import type { SignedGateList } from "./operations.js";
import type { AdmissionEntry } from "./protocol.js";

/** A gate bundle as downloaded: parsed, and the exact signed bytes with their signature. */
export interface Snapshot {
  readonly bundle: GateBundle;
  readonly bytes: Uint8Array;
  readonly signature: string;
  /** The key that signed `bytes` (bundleSigner): the certified operations key, or the root; default the root. */
  readonly signerKey?: Uint8Array;
}

/** What a store says of the changes it was given: those it refused (each changed nothing). */
export interface AppliedChanges {
  /** Changes no honest issuer makes (a resale of a cancelled ticket…): the sync reports each. */
  readonly refused?: readonly { readonly sequence: number; readonly detail: string }[];
}

/**
 * What the gate's sync needs from the gate's store (implemented by @sesame/cache through an
 * adapter, and by MemoryGateStore of "@sesame/sync/testing" in tests). All calls are synchronous
 * and durable on return.
 */
export interface GateSyncStore {
  /** Unacknowledged outbox rows with gateSeq > afterGateSeq, in gateSeq order, at most `limit`. */
  outboxPending(afterGateSeq: number, limit: number): readonly EntryLogEvent[];
  /** The server committed every event up to this gateSeq: the rows may leave the outbox. */
  acknowledgeOutbox(upToGateSeq: number): void;
  outboxDepth(): number;
  /** Every ticket change up to this sequence is applied. */
  feedSequence(): number;
  /** Applies changes that follow on from feedSequence() (sync checks the order first); idempotent. */
  applyChanges(changes: readonly TicketChange[]): AppliedChanges | undefined;
  /**
   * Replaces tickets, revocations and the trust list by a snapshot (already checked against the venue
   * root key by the sync; `bytes` and `signature` are the signed file, for stores that check again).
   * Keeps the seen table and the outbox.
   */
  applySnapshot(snapshot: Snapshot): void;
  /**
   * Other gates admitted (or let out) these tickets: the gate now refuses them as already entered.
   * One message of the fan-out at a time, all or nothing (one durable write, not one per entry).
   */
  recordRemoteEntries(events: readonly EntryLogEvent[]): void;
  /**
   * When present, used instead of recordRemoteEntries: every admission of a fan-out message that
   * passed the checks, this gate's own included, with its place in the venue's order (`seq`), so
   * that the store orders a ticket's movements by it rather than by the gates' clocks.
   */
  recordAdmissions?(entries: readonly AdmissionEntry[]): void;
  /** The issuer keys of the trust list held (verified against the root key): they sign the ticket feed. */
  issuerKeys(): ReadonlyMap<number, IssuerKey>;
  /** Version of the trust list held (0 when none). */
  trustListVersion(): number;
  /** Stores a trust list already verified against the venue root key and checked for rollback. */
  applyTrustList(signed: SignedTrustListJson, list: TrustList): void;
  /** The venue gate list held (signed JSON, as applied last); kept in memory by the sync when absent. */
  gateList?(): unknown;
  /** Stores a gate list already verified against the operations key and checked for rollback. */
  saveGateList?(list: SignedGateList): void;
  /** The entrance of a ticket the gate holds (the admissions plausibility check); undefined if unknown. */
  ticketEntrance?(ticketId: number): number | undefined;
  /** Durable position in the admission fan-out; kept in memory by the sync when absent. */
  admissionCursor?(): number;
  saveAdmissionCursor?(seq: number): void;
}
