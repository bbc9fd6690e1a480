import { type Clock, systemClock, type Transport } from "@sesame/bridge";

/**
 * Writes bytes no faster than a UART would at `baudRate` (8N1: 10 bits a byte). PTYs and TCP hand
 * bytes over at once; real RS-485 does not, and timeouts, poll cycles and turnaround depend on it.
 * Node timers tick in milliseconds, so bytes go out in the chunk that is due at each tick.
 */
export class PacedWriter {
  private readonly bytes: number[] = [];
  private readonly dueAt: number[] = [];
  private head = 0;
  private lineFreeAt = 0;
  private timer: unknown;
  readonly byteTimeMs: number;

  constructor(
    private readonly target: () => Transport | undefined,
    baudRate: number,
    private readonly clock: Clock = systemClock,
    private readonly paced = true,
  ) {
    this.byteTimeMs = 10_000 / baudRate;
  }

  /** Time the line needs for `count` bytes. */
  wireTime(count: number): number {
    return count * this.byteTimeMs;
  }

  /** Queues bytes to start no earlier than `notBefore` and after whatever is already on the line. */
  send(bytes: Uint8Array, notBefore = 0): void {
    if (!this.paced) {
      this.target()
        ?.write(bytes)
        .catch(() => {});
      return;
    }
    const start = Math.max(this.clock.now(), notBefore, this.lineFreeAt);
    for (let i = 0; i < bytes.length; i++) {
      this.bytes.push(bytes[i] ?? 0);
      this.dueAt.push(start + (i + 1) * this.byteTimeMs);
    }
    this.lineFreeAt = start + bytes.length * this.byteTimeMs;
    this.schedule();
  }

  /** Drops what has not gone out yet (the cable was pulled, the device lost power). */
  clear(): void {
    this.bytes.length = 0;
    this.dueAt.length = 0;
    this.head = 0;
    this.lineFreeAt = 0;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  get idle(): boolean {
    return this.head >= this.bytes.length;
  }

  private schedule(): void {
    if (this.timer !== undefined || this.head >= this.bytes.length) return;
    const wait = Math.max(0, (this.dueAt[this.head] ?? 0) - this.clock.now());
    this.timer = this.clock.setTimeout(() => this.flush(), wait);
  }

  private flush(): void {
    this.timer = undefined;
    const now = this.clock.now();
    const start = this.head;
    while (this.head < this.bytes.length && (this.dueAt[this.head] ?? 0) <= now) this.head++;
    if (this.head > start) {
      const chunk = Uint8Array.from(this.bytes.slice(start, this.head));
      this.target()
        ?.write(chunk)
        .catch(() => {});
    }
    if (this.head >= this.bytes.length) {
      this.bytes.length = 0;
      this.dueAt.length = 0;
      this.head = 0;
    }
    this.schedule();
  }
}
