import type { EntryLogEvent } from "@sesame/gate-core";
import { type IssuerKey, issuerKeyMap, type SignedTrustListJson, type TrustList } from "@sesame/ticket";
import type { TicketChange } from "@sesame/venue";
import type { SignedGateList } from "./operations.js";
import type { AppliedChanges, GateSyncStore, Snapshot } from "./store.js";

/** An in-memory GateSyncStore, for tests and benchmarks (through "@sesame/sync/testing"). */
export class MemoryGateStore implements GateSyncStore {
  private readonly outbox = new Map<number, EntryLogEvent>();
  private nextSeq = 1;
  private acked = 0;
  private feedSeq: number;
  private trustVersion = 0;
  private admissions = 0;
  private keys: ReadonlyMap<number, IssuerKey>;
  readonly changes: TicketChange[] = [];
  readonly remoteEntries = new Map<string, EntryLogEvent>();
  /** ticketId → the gate that admitted it first (from remote entries). */
  readonly seen = new Map<number, string>();
  snapshots = 0;
  /** The venue gate list saved by the sync. */
  savedGateList: SignedGateList | undefined;
  /** ticketId → entrance, from issued tickets (the admissions plausibility check). */
  readonly ticketEntrances = new Map<number, number>();
  /** Called after each remote entry (benchmarks measure fan-out latency with it). */
  onRemoteEntry: ((event: EntryLogEvent) => void) | undefined;

  constructor(
    readonly gateId: string,
    options: { feedSequence?: number; firstGateSeq?: number; trustList?: TrustList } = {},
  ) {
    this.keys = options.trustList ? issuerKeyMap(options.trustList) : new Map();
    this.trustVersion = options.trustList?.version ?? 0;
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

  /**
   * An admission as a gate's journal writes it: `authorized`, then `entered` on the same
   * authorization (the sync-server refuses an entry without its authorization). Returns the entry.
   */
  admit(
    partial: Partial<EntryLogEvent> & Required<Pick<EntryLogEvent, "ticketId" | "session">>,
  ): EntryLogEvent {
    const authorizationId = `${this.gateId}-auth-${this.nextSeq}-${Math.random().toString(36).slice(2, 10)}`;
    const { kind: _kind, ...rest } = partial;
    this.append({ ...rest, kind: "authorized", authorizationId });
    return this.append({ ...rest, kind: "entered", authorizationId });
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

  applyChanges(changes: readonly TicketChange[]): AppliedChanges | undefined {
    for (const c of changes) {
      if (c.sequence <= this.feedSeq) continue;
      if (c.sequence !== this.feedSeq + 1)
        throw new Error(`feed gap: change ${c.sequence} after ${this.feedSeq}`);
      this.changes.push(c);
      if (c.type === "issue") this.ticketEntrances.set(c.ticket.id, c.ticket.entrance);
      this.feedSeq = c.sequence;
    }
    return undefined;
  }

  applySnapshot({ bundle }: Snapshot): void {
    this.snapshots++;
    this.feedSeq = bundle.feedSequence;
    if (bundle.trustList.version >= this.trustVersion) {
      this.trustVersion = bundle.trustList.version;
      // Already verified against the root key by the sync: only its keys are read here.
      this.keys = new Map(
        bundle.trustList.keys.map((k) => [
          k.keyId,
          {
            keyId: k.keyId,
            publicKey: Uint8Array.from(Buffer.from(k.publicKey, "hex")),
            validFrom: Math.floor(Date.parse(k.validFrom) / 1000),
            validUntil: Math.floor(Date.parse(k.validUntil) / 1000),
            revoked: k.revoked,
          },
        ]),
      );
    }
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
    this.keys = issuerKeyMap(list);
  }

  issuerKeys(): ReadonlyMap<number, IssuerKey> {
    return this.keys;
  }

  gateList(): unknown {
    return this.savedGateList;
  }

  saveGateList(list: SignedGateList): void {
    this.savedGateList = list;
  }

  ticketEntrance(ticketId: number): number | undefined {
    return this.ticketEntrances.get(ticketId);
  }

  admissionCursor(): number {
    return this.admissions;
  }

  saveAdmissionCursor(seq: number): void {
    this.admissions = seq;
  }
}
