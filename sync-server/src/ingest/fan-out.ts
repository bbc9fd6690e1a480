import { encodeAdmissions, type FannedOutAdmission, MAX_BATCH_BYTES, MAX_REPLAY_ITEMS } from "@sesame/sync";

/*
 * The admissions fan-out, optionally paced. An admission ingested when nothing went out for
 * `windowMs` leaves at once; one that follows closer waits for the window to end, with every other
 * admission of that window, in one message. A quiet venue adds no delay, a busy one at most
 * `windowMs` (the budget from gate A to gate B is 250 ms, p99). The default window is 0: each
 * ingested batch's admissions leave at once, in one message. Pacing was there to bound each gate's
 * commits (one per message); the gate cache now holds what it receives and writes several messages
 * in one transaction (queueRemoteEntries), so pacing would only add latency. A venue whose gates
 * are short of CPU may still set it (`fanOutWindowMs`): it bounds the messages each gate checks.
 * Pure: the caller brings the time and publishes (SyncServer on its timer, the rehearsal on its
 * virtual clock).
 */

/** The fan-out's default pacing window (ms): 0, no pacing (see above). */
export const FAN_OUT_WINDOW_MS = 0;

/** A message holds at most this much of the gates' signed batch text (well under a message's limit). */
const MESSAGE_BATCH_BYTES = MAX_BATCH_BYTES;

export class AdmissionsFanOut {
  private held: FannedOutAdmission[] = [];
  private heldBatches = new Set<string>();
  private heldBytes = 0;
  private lastSentAt = Number.NEGATIVE_INFINITY;

  constructor(
    /** Signs a message's order with the operations key (protocol.ts admissionsOrder). */
    private readonly seal: (order: string) => string,
    private readonly windowMs: number = FAN_OUT_WINDOW_MS,
  ) {}

  /** When the held admissions are due to leave, or undefined when none are held. */
  get dueAt(): number | undefined {
    return this.held.length > 0 ? this.lastSentAt + this.windowMs : undefined;
  }

  /**
   * One ingested batch's admissions (in admission order), at `now`: the messages to publish now,
   * possibly none (they are held until `dueAt`).
   */
  add(admissions: readonly FannedOutAdmission[], now: number): string[] {
    const out: string[] = [];
    for (const a of admissions) {
      const newBatch = !this.heldBatches.has(a.batch.sig);
      const bytes = newBatch ? a.batch.events.length : 0;
      // A message never outgrows what a gate accepts: send what is held first.
      if (
        this.held.length >= MAX_REPLAY_ITEMS ||
        (newBatch && this.heldBatches.size > 0 && this.heldBytes + bytes > MESSAGE_BATCH_BYTES)
      )
        out.push(this.send(now));
      this.held.push(a);
      if (newBatch) {
        this.heldBatches.add(a.batch.sig);
        this.heldBytes += bytes;
      }
    }
    const due = this.dueAt;
    if (due !== undefined && now >= due) out.push(this.send(now));
    return out;
  }

  /** The held admissions as one message if they are due at `now` (or whenever, with `force`). */
  take(now: number, force = false): string | undefined {
    const due = this.dueAt;
    if (due === undefined || (!force && now < due)) return undefined;
    return this.send(now);
  }

  private send(now: number): string {
    const message = encodeAdmissions({ entries: this.held }, this.seal);
    this.held = [];
    this.heldBatches = new Set();
    this.heldBytes = 0;
    this.lastSentAt = now;
    return message;
  }
}
