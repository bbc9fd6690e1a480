/** Big-endian byte writer for the credential's fixed layouts. */
export class ByteWriter {
  private buffer = new Uint8Array(256);
  private length = 0;

  private grow(n: number): void {
    if (this.length + n <= this.buffer.length) return;
    const next = new Uint8Array(Math.max(this.buffer.length * 2, this.length + n));
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
  }
  u8(v: number): this {
    this.grow(1);
    this.buffer[this.length++] = v & 0xff;
    return this;
  }
  u16(v: number): this {
    this.grow(2);
    this.buffer[this.length++] = (v >>> 8) & 0xff;
    this.buffer[this.length++] = v & 0xff;
    return this;
  }
  u32(v: number): this {
    this.grow(4);
    for (const shift of [24, 16, 8, 0]) this.buffer[this.length++] = (v >>> shift) & 0xff;
    return this;
  }
  bytes(b: Uint8Array): this {
    this.grow(b.length);
    this.buffer.set(b, this.length);
    this.length += b.length;
    return this;
  }
  ascii(s: string): this {
    return this.bytes(new TextEncoder().encode(s));
  }
  finish(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

/** Thrown only inside a parser and turned into a typed outcome at its boundary. */
export class Truncated extends Error {
  constructor(readonly field: string) {
    super(`truncated in ${field}`);
  }
}

/** Big-endian reader that names the field it was reading when the bytes ran out. */
export class ByteReader {
  offset = 0;
  constructor(readonly data: Uint8Array) {}

  private need(n: number, field: string): void {
    if (this.offset + n > this.data.length) throw new Truncated(field);
  }
  get remaining(): number {
    return this.data.length - this.offset;
  }
  u8(field: string): number {
    this.need(1, field);
    return this.data[this.offset++] ?? 0;
  }
  u16(field: string): number {
    this.need(2, field);
    const v = ((this.data[this.offset] ?? 0) << 8) | (this.data[this.offset + 1] ?? 0);
    this.offset += 2;
    return v;
  }
  u32(field: string): number {
    this.need(4, field);
    let v = 0;
    for (let i = 0; i < 4; i++) v = v * 256 + (this.data[this.offset + i] ?? 0);
    this.offset += 4;
    return v;
  }
  bytes(n: number, field: string): Uint8Array {
    this.need(n, field);
    const b = this.data.subarray(this.offset, this.offset + n);
    this.offset += n;
    return b;
  }
}
