/** How a serial scanner ends each code. `none`: the code ends when the line goes quiet. */
export type SuffixName = "CR" | "LF" | "CRLF" | "none";

export interface SerialFraming {
  /** Bytes the scanner sends before each code (for example STX); bytes before it are noise. */
  readonly prefix: Uint8Array;
  readonly suffix: SuffixName | Uint8Array;
  /** With suffix `none`: silence that ends a code. Scanners send a code in one burst, so 30–100 ms. */
  readonly interByteTimeoutMs: number;
  /** With a suffix: a partial code this quiet is dropped, so a half-sent code never joins the next one. */
  readonly incompleteFrameTimeoutMs: number;
  /** A Sésame code is ~320 bytes; past this the frame is dropped (memory stays bounded). */
  readonly maxFrameBytes: number;
}

export const DEFAULT_FRAMING: SerialFraming = {
  prefix: new Uint8Array(0),
  suffix: "CR",
  interByteTimeoutMs: 50,
  incompleteFrameTimeoutMs: 1000,
  maxFrameBytes: 4096,
};

export type FramerOutput =
  | { readonly kind: "frame"; readonly bytes: Uint8Array; readonly at: number }
  | {
      readonly kind: "problem";
      readonly code: "noise" | "frame-too-long" | "incomplete-frame";
      readonly message: string;
      readonly at: number;
    };

const CR = 0x0d;
const LF = 0x0a;

export function suffixBytes(suffix: SuffixName | Uint8Array): Uint8Array {
  if (suffix instanceof Uint8Array) return suffix;
  switch (suffix) {
    case "CR":
      return Uint8Array.of(CR);
    case "LF":
      return Uint8Array.of(LF);
    case "CRLF":
      return Uint8Array.of(CR, LF);
    case "none":
      return new Uint8Array(0);
  }
}

function describeBytes(bytes: Uint8Array): string {
  const names: Record<number, string> = { 13: "CR", 10: "LF", 2: "STX", 3: "ETX", 9: "TAB" };
  return Array.from(bytes, (b) => names[b] ?? `0x${b.toString(16).padStart(2, "0")}`).join(" ");
}

/** What terminator a stuck frame seems to use, to point the tech at the scanner's suffix setting. */
function terminatorHint(bytes: Uint8Array, expected: Uint8Array): string {
  if (expected.length === 0) return "";
  const hasCr = bytes.includes(CR);
  const hasLf = bytes.includes(LF);
  const seen = hasCr && hasLf ? "CR LF" : hasCr ? "CR" : hasLf ? "LF" : undefined;
  return seen === undefined
    ? ` (expected suffix ${describeBytes(expected)} never came: check the scanner's suffix setting)`
    : ` (expected suffix ${describeBytes(expected)}, but the scanner seems to send ${seen})`;
}

function indexOfSequence(haystack: Uint8Array, needle: Uint8Array): number {
  if (needle.length === 0) return 0;
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let k = 0; k < needle.length; k++) if (haystack[i + k] !== needle[k]) continue outer;
    return i;
  }
  return -1;
}

/**
 * Cuts a serial byte stream into scanner frames: prefix … suffix, or bursts separated by silence.
 * Pure: bytes and times go in, frames and problems come out; the caller owns the timers
 * (`nextDeadline`/`poll`). Memory is bounded by `maxFrameBytes` whatever the line sends.
 */
export class SerialFramer {
  readonly #framing: SerialFraming;
  readonly #suffix: Uint8Array;
  readonly #buffer: Uint8Array;
  #length = 0;
  #lastByteAt = 0;
  /** After an overflow: bytes are thrown away until the next suffix (or silence). */
  #discarding = false;
  /** Right after a suffix, stray CR/LF (a CR LF scanner on a CR setting) are not a new frame. */
  #afterSuffix = false;

  constructor(framing: Partial<SerialFraming> = {}) {
    this.#framing = { ...DEFAULT_FRAMING, ...framing };
    if (this.#framing.maxFrameBytes < 1) throw new RangeError("maxFrameBytes must be at least 1");
    this.#suffix = suffixBytes(this.#framing.suffix);
    this.#buffer = new Uint8Array(this.#framing.maxFrameBytes + this.#suffix.length + 1);
  }

  get framing(): SerialFraming {
    return this.#framing;
  }

  /** Bytes currently held for an unfinished frame. */
  get pendingBytes(): number {
    return this.#length;
  }

  push(chunk: Uint8Array, now: number): FramerOutput[] {
    const out = this.poll(now);
    for (const byte of chunk) this.#pushByte(byte, now, out);
    if (chunk.length > 0) this.#lastByteAt = now;
    return out;
  }

  /** When `poll` must next be called for a timeout to take effect, or undefined if nothing is pending. */
  nextDeadline(): number | undefined {
    if (this.#length === 0 && !this.#discarding) return undefined;
    return this.#lastByteAt + this.#quietLimit();
  }

  /** Applies timeouts: ends a suffix-less frame, or drops a stale partial one. */
  poll(now: number): FramerOutput[] {
    const out: FramerOutput[] = [];
    const deadline = this.nextDeadline();
    if (deadline === undefined || now < deadline) return out;
    const at = this.#lastByteAt;
    if (this.#discarding) {
      this.#discarding = false;
    } else if (this.#suffix.length === 0) {
      this.#emitFrame(this.#buffer.slice(0, this.#length), at, out);
    } else {
      const partial = this.#buffer.subarray(0, this.#length);
      if (!partial.every((b) => b === CR || b === LF)) {
        out.push({
          kind: "problem",
          code: "incomplete-frame",
          message: `dropped ${this.#length} bytes that never got their suffix${terminatorHint(partial, this.#suffix)}`,
          at,
        });
      }
    }
    this.#length = 0;
    return out;
  }

  #quietLimit(): number {
    return this.#suffix.length === 0
      ? this.#framing.interByteTimeoutMs
      : this.#framing.incompleteFrameTimeoutMs;
  }

  #pushByte(byte: number, now: number, out: FramerOutput[]): void {
    const suffix = this.#suffix;
    if (this.#afterSuffix && this.#length === 0 && (byte === CR || byte === LF)) return;
    this.#afterSuffix = false;
    if (this.#discarding) {
      // Track only the last few bytes so the suffix can still be recognised while discarding.
      if (suffix.length > 0) {
        this.#buffer.copyWithin(0, Math.max(0, this.#length - suffix.length + 1), this.#length);
        this.#length = Math.min(this.#length, suffix.length - 1);
        this.#buffer[this.#length++] = byte;
        if (this.#endsWithSuffix()) {
          this.#discarding = false;
          this.#length = 0;
          this.#afterSuffix = true;
        }
      }
      return;
    }
    this.#buffer[this.#length++] = byte;
    if (suffix.length > 0 && this.#endsWithSuffix()) {
      const frame = this.#buffer.slice(0, this.#length - suffix.length);
      this.#length = 0;
      this.#afterSuffix = true;
      this.#emitFrame(frame, now, out);
      return;
    }
    // A suffix may straddle the limit: only bytes that cannot be the start of a suffix count as data.
    if (this.#length > this.#framing.maxFrameBytes + Math.max(0, suffix.length - 1)) {
      const held = this.#buffer.subarray(0, this.#length);
      out.push({
        kind: "problem",
        code: "frame-too-long",
        message: `more than ${this.#framing.maxFrameBytes} bytes without a frame end${terminatorHint(held, suffix)}; discarding until ${suffix.length > 0 ? "the next suffix" : "the line goes quiet"}`,
        at: now,
      });
      this.#discarding = true;
      this.#length = 0;
    }
  }

  #endsWithSuffix(): boolean {
    const suffix = this.#suffix;
    if (this.#length < suffix.length) return false;
    const start = this.#length - suffix.length;
    for (let k = 0; k < suffix.length; k++) if (this.#buffer[start + k] !== suffix[k]) return false;
    return true;
  }

  #emitFrame(frame: Uint8Array, at: number, out: FramerOutput[]): void {
    const prefix = this.#framing.prefix;
    if (frame.length === 0) return;
    if (prefix.length === 0) {
      out.push({ kind: "frame", bytes: frame, at });
      return;
    }
    const start = indexOfSequence(frame, prefix);
    if (start < 0) {
      out.push({
        kind: "problem",
        code: "noise",
        message: `dropped ${frame.length} bytes without the prefix ${describeBytes(prefix)}`,
        at,
      });
      return;
    }
    if (start > 0) {
      out.push({
        kind: "problem",
        code: "noise",
        message: `dropped ${start} bytes of noise before the prefix ${describeBytes(prefix)}`,
        at,
      });
    }
    const data = frame.slice(start + prefix.length);
    if (data.length > 0) out.push({ kind: "frame", bytes: data, at });
  }
}
