import type { Clock } from "@sesame/bridge";
import type { VirtualClock } from "./virtual-clock.js";

/*
 * The clock a lane's OSDP control panel runs on in a virtual rehearsal, with idle polls elided.
 *
 * A control panel polls each peripheral every 50 ms whether or not anything happens: 90 minutes
 * of 100 idle lanes would be ~11 million POLL/ACK exchanges, each a few tens of µs of real work,
 * and none of them changes anything. So while a lane is quiet — no report waiting in its reader
 * or controller, no grant open — the control panel's timers (next poll, watchdog) are held back
 * instead of firing. When something happens at the lane (a code shown to the reader, a passage
 * sensor changing), it `wake()`s: the held timers are released a random part of a poll interval
 * later, which is when the next poll of a continuously polled bus would come, and from then on
 * every poll is sent and answered as bytes over the link, until the lane is quiet again.
 * Commands the gate sends (unlock, LED) never wait: the control panel writes them at once.
 * `full: true` keeps every poll (the exact bus traffic), at ~10 times the cost.
 */

interface Held {
  at: number;
  callback: (() => void) | undefined;
  /** Set once released to the virtual clock. */
  inner?: unknown;
}

export class LanePollClock implements Clock {
  private held: Held[] = [];
  private awake = false;
  private lastActivity = Number.NEGATIVE_INFINITY;
  private checking = false;
  /** Times the lane went from quiet to polled (for the report). */
  wakes = 0;

  constructor(
    private readonly clock: VirtualClock,
    private readonly options: {
      /** The lane has something in flight: reports queued, a grant open. */
      busy(): boolean;
      random(): number;
      pollIntervalMs: number;
      /** Stay polled this long after the last activity. */
      tailMs?: number;
      full?: boolean;
    },
  ) {
    if (options.full) this.awake = true;
  }

  now(): number {
    return this.clock.now();
  }

  setTimeout(callback: () => void, ms: number): unknown {
    if (this.awake) {
      const entry: Held = { at: this.clock.now() + ms, callback };
      entry.inner = this.clock.setTimeout(() => fire(entry), ms);
      return entry;
    }
    const entry: Held = { at: this.clock.now() + Math.max(0, ms), callback };
    this.held.push(entry);
    return entry;
  }

  clearTimeout(handle: unknown): void {
    if (handle === null || typeof handle !== "object" || !("callback" in handle)) return;
    const entry = handle as Held;
    entry.callback = undefined;
    if (entry.inner !== undefined) this.clock.clearTimeout(entry.inner);
  }

  /** Something happened at the lane: poll it (again) as a real control panel would. */
  wake(): void {
    this.lastActivity = this.clock.now();
    if (!this.awake) {
      this.awake = true;
      this.wakes++;
      const now = this.clock.now();
      const releaseAt = now + this.options.random() * this.options.pollIntervalMs;
      const held = this.held;
      this.held = [];
      for (const entry of held) {
        if (entry.callback === undefined) continue;
        const at = Math.max(entry.at, releaseAt);
        entry.inner = this.clock.setTimeout(() => fire(entry), at - now);
      }
    }
    this.scheduleCheck();
  }

  private scheduleCheck(): void {
    if (this.checking || this.options.full) return;
    this.checking = true;
    const tail = this.options.tailMs ?? 2 * this.options.pollIntervalMs;
    this.clock.setTimeout(() => {
      this.checking = false;
      if (!this.awake) return;
      const quietFor = this.clock.now() - this.lastActivity;
      if (quietFor >= tail && !this.options.busy()) this.awake = false;
      else this.scheduleCheck();
    }, tail);
  }
}

function fire(entry: Held): void {
  const callback = entry.callback;
  entry.callback = undefined;
  callback?.();
}
