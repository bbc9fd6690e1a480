import type { AckMessage } from "./protocol.js";

/*
 * Pure state of the gate's outbox delivery: which batches are in flight, what the server has
 * acknowledged, when to give up waiting and resend. Rows leave the outbox only on the server's ack
 * (never on a broker PUBACK); the window bounds how many events are sent and not yet acknowledged.
 */

export interface InFlightBatch {
  readonly after: number;
  readonly last: number;
  readonly count: number;
}

export type AckOutcome =
  | { readonly kind: "progress"; readonly upTo: number }
  | { readonly kind: "resync"; readonly upTo: number }
  | { readonly kind: "stale" };

export class OutboxWindow {
  private batches: InFlightBatch[] = [];
  private lastProgressAt = 0;
  private probes = 0;
  /** Highest gateSeq the server acknowledged (undefined until the first ack since start). */
  serverAcked: number | undefined;

  constructor(
    readonly maxEvents: number,
    readonly ackTimeoutMs: number,
  ) {
    if (!(maxEvents >= 1)) throw new RangeError("the in-flight window holds at least one event");
  }

  get inFlightEvents(): number {
    let n = 0;
    for (const b of this.batches) n += b.count;
    return n;
  }

  get inFlightBatches(): readonly InFlightBatch[] {
    return this.batches;
  }

  /** Events that may still be sent now. */
  capacity(): number {
    return Math.max(0, this.maxEvents - this.inFlightEvents);
  }

  /** The outbox is read after this gateSeq for the next batch (0: from the first pending row). */
  cursor(): number {
    const last = this.batches[this.batches.length - 1];
    return last ? last.last : (this.serverAcked ?? 0);
  }

  /** `after` of the next batch whose first row is `firstSeq`. */
  afterFor(firstSeq: number): number {
    const last = this.batches[this.batches.length - 1];
    if (last) return last.last;
    return this.serverAcked ?? firstSeq - 1;
  }

  sent(batch: InFlightBatch, now: number): void {
    if (this.batches.length === 0) this.lastProgressAt = now;
    this.batches.push(batch);
  }

  onAck(ack: AckMessage, now: number): AckOutcome {
    if (ack.resync) {
      // Only the answer to a batch still in flight resets the window: after a reset, the answers to
      // the other batches of the old window would otherwise reset it again and again.
      const after = ack.resync.after;
      if (!this.batches.some((b) => b.after === after)) return { kind: "stale" };
      this.batches = [];
      this.serverAcked = ack.upToGateSeq;
      return { kind: "resync", upTo: ack.upToGateSeq };
    }
    if (this.serverAcked !== undefined && ack.upToGateSeq <= this.serverAcked) return { kind: "stale" };
    this.serverAcked = ack.upToGateSeq;
    this.batches = this.batches.filter((b) => b.last > ack.upToGateSeq);
    this.lastProgressAt = now;
    this.probes = 0;
    return { kind: "progress", upTo: ack.upToGateSeq };
  }

  /**
   * What to do when the server said nothing for ackTimeoutMs while batches are in flight: first
   * resend only the oldest batch (a lost last batch or a lost ack costs one batch, not a window:
   * a busy server must not be buried under a whole window again), then, if that fails too, everything.
   */
  onTick(
    now: number,
    maxProbes = 2,
  ): { kind: "wait" } | { kind: "probe"; batch: InFlightBatch } | { kind: "reset" } {
    const oldest = this.batches[0];
    if (!oldest || now - this.lastProgressAt < this.ackTimeoutMs) return { kind: "wait" };
    this.lastProgressAt = now;
    if (this.probes < maxProbes) {
      this.probes++;
      return { kind: "probe", batch: oldest };
    }
    this.reset();
    return { kind: "reset" };
  }

  /** True when batches are in flight and the server said nothing for ackTimeoutMs. */
  timedOut(now: number): boolean {
    return this.batches.length > 0 && now - this.lastProgressAt >= this.ackTimeoutMs;
  }

  /** Forget what is in flight (connection lost, ack timeout): the next batch starts after the last ack. */
  reset(): void {
    this.batches = [];
    this.probes = 0;
  }
}

/**
 * A gap-free sequence consumer (ticket feed, admissions): applies what follows on, detects gaps,
 * and decides when to ask for a replay (one request outstanding at a time, retried after a timeout).
 */
export class SequenceTracker {
  private requested: { from: number; at: number } | undefined;

  constructor(
    public current: number,
    readonly replayTimeoutMs: number,
  ) {}

  /** Splits received items into those to apply now (in order) and whether a gap was seen. */
  split<T>(items: readonly T[], seqOf: (item: T) => number): { apply: T[]; gap: boolean } {
    const sorted = [...items].sort((a, b) => seqOf(a) - seqOf(b));
    const apply: T[] = [];
    let expected = this.current + 1;
    for (const item of sorted) {
      const seq = seqOf(item);
      if (seq < expected) continue;
      if (seq > expected) return { apply, gap: true };
      apply.push(item);
      expected++;
    }
    return { apply, gap: false };
  }

  /** Records that everything up to `seq` is applied. */
  advance(seq: number): void {
    if (seq > this.current) {
      this.current = seq;
      if (this.requested && this.current >= this.requested.from) this.requested = undefined;
    }
  }

  /**
   * Whether to ask for a replay now, from `current + 1`: on a gap, when the server's head is ahead,
   * or when `more` follows. Never twice for the same position before the timeout.
   */
  replayFrom(now: number, behind: boolean): number | undefined {
    if (!behind) return undefined;
    const from = this.current + 1;
    if (this.requested && this.requested.from === from && now - this.requested.at < this.replayTimeoutMs)
      return undefined;
    this.requested = { from, at: now };
    return from;
  }

  /** A new connection: an outstanding request may have been lost with the old one. */
  forgetRequest(): void {
    this.requested = undefined;
  }
}
