import type { EntryLogEvent } from "@sesame/gate-core";
import type { SignedTrustListJson, TrustList } from "@sesame/ticket";
import type { GateBundle, TicketChange } from "@sesame/venue";

/** A gate bundle as downloaded: parsed, and the exact signed bytes with their root-key signature. */
export interface Snapshot {
  readonly bundle: GateBundle;
  readonly bytes: Uint8Array;
  readonly signature: string;
}

/**
 * What the gate's sync needs from the gate's store (implemented by @sesame/cache through an
 * adapter, and by MemoryGateStore in tests). All calls are synchronous and durable on return.
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
  applyChanges(changes: readonly TicketChange[]): void;
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
  /** Version of the trust list held (0 when none). */
  trustListVersion(): number;
  /** Stores a trust list already verified against the venue root key and checked for rollback. */
  applyTrustList(signed: SignedTrustListJson, list: TrustList): void;
  /** Durable position in the admission fan-out; kept in memory by the sync when absent. */
  admissionCursor?(): number;
  saveAdmissionCursor?(seq: number): void;
}

/** An in-memory GateSyncStore: for tests, benchmarks and the simulator. */
export class MemoryGateStore implements GateSyncStore {
  private readonly outbox = new Map<number, EntryLogEvent>();
  private nextSeq = 1;
  private acked = 0;
  private feedSeq: number;
  private trustVersion = 0;
  private admissions = 0;
  readonly changes: TicketChange[] = [];
  readonly remoteEntries = new Map<string, EntryLogEvent>();
  /** ticketId → the gate that admitted it first (from remote entries). */
  readonly seen = new Map<number, string>();
  snapshots = 0;
  /** Called after each remote entry (benchmarks measure fan-out latency with it). */
  onRemoteEntry: ((event: EntryLogEvent) => void) | undefined;

  constructor(
    readonly gateId: string,
    options: { feedSequence?: number; firstGateSeq?: number } = {},
  ) {
    this.feedSeq = options.feedSequence ?? 0;
    this.nextSeq = options.firstGateSeq ?? 1;
    this.acked = this.nextSeq - 1;
  }

  /** Appends an event to the outbox as the gate's cache does after a commit. */
  append(partial: Partial<EntryLogEvent> & Pick<EntryLogEvent, "kind">): EntryLogEvent {
    const gateSeq = this.nextSeq++;
    const event: EntryLogEvent = {
      eventId: `${this.gateId}-${gateSeq}-${Math.random().toString(36).slice(2, 10)}`,
      gateId: this.gateId,
      gateSeq,
      lane: 1,
      direction: "entry",
      reason: partial.kind === "refused" ? "FORGED" : "ADMITTED",
      manual: false,
      at: Date.now(),
      ...partial,
    };
    this.outbox.set(gateSeq, event);
    return event;
  }

  get lastGateSeq(): number {
    return this.nextSeq - 1;
  }

  get ackedGateSeq(): number {
    return this.acked;
  }

  outboxPending(afterGateSeq: number, limit: number): EntryLogEvent[] {
    const out: EntryLogEvent[] = [];
    for (let seq = Math.max(afterGateSeq, this.acked) + 1; seq < this.nextSeq && out.length < limit; seq++) {
      const e = this.outbox.get(seq);
      if (e) out.push(e);
    }
    return out;
  }

  acknowledgeOutbox(upToGateSeq: number): void {
    for (let seq = this.acked + 1; seq <= upToGateSeq; seq++) this.outbox.delete(seq);
    this.acked = Math.max(this.acked, upToGateSeq);
  }

  outboxDepth(): number {
    return this.outbox.size;
  }

  feedSequence(): number {
    return this.feedSeq;
  }

  applyChanges(changes: readonly TicketChange[]): void {
    for (const c of changes) {
      if (c.sequence <= this.feedSeq) continue;
      if (c.sequence !== this.feedSeq + 1)
        throw new Error(`feed gap: change ${c.sequence} after ${this.feedSeq}`);
      this.changes.push(c);
      this.feedSeq = c.sequence;
    }
  }

  applySnapshot({ bundle }: Snapshot): void {
    this.snapshots++;
    this.feedSeq = bundle.feedSequence;
    this.trustVersion = Math.max(this.trustVersion, bundle.trustList.version);
  }

  recordRemoteEntries(events: readonly EntryLogEvent[]): void {
    for (const event of events) {
      this.remoteEntries.set(event.eventId, event);
      if (event.ticketId !== undefined && event.kind === "entered" && !this.seen.has(event.ticketId))
        this.seen.set(event.ticketId, event.gateId);
      this.onRemoteEntry?.(event);
    }
  }

  trustListVersion(): number {
    return this.trustVersion;
  }

  applyTrustList(_signed: SignedTrustListJson, list: TrustList): void {
    this.trustVersion = list.version;
  }

  admissionCursor(): number {
    return this.admissions;
  }

  saveAdmissionCursor(seq: number): void {
    this.admissions = seq;
  }
}
