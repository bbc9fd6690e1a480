import { checksum8, crc16 } from "./check.js";
import {
  CONTROL_CRC,
  CONTROL_SECURITY_BLOCK,
  CONTROL_SEQUENCE_MASK,
  MARK,
  MAX_PACKET_LENGTH,
  MIN_PACKET_LENGTH,
  REPLY_FLAG,
  SecurityBlock,
  SOM,
} from "./constants.js";

export interface SecurityBlockField {
  readonly type: number;
  readonly data: Uint8Array;
}

/** What goes into a packet; the codec adds SOM, length, control and check characters. */
export interface PacketFields {
  /** 0x00–0x7F, without the reply flag. */
  readonly address: number;
  readonly reply: boolean;
  readonly sequence: number;
  /** CRC-16 (true) or 8-bit checksum (false). */
  readonly crc: boolean;
  readonly securityBlock?: SecurityBlockField | undefined;
  readonly code: number;
  /** As on the wire: ciphertext for SCS_17/SCS_18. */
  readonly data: Uint8Array;
}

export interface Packet extends PacketFields {
  readonly securityBlock: SecurityBlockField | undefined;
  /** The 4 MAC bytes of a secure message (SCS_15–SCS_18). */
  readonly mac: Uint8Array | undefined;
  /** SOM through the check characters, exactly as received. */
  readonly bytes: Uint8Array;
  /** Where the MAC starts in `bytes` (= the end of the MAC'd message). */
  readonly macOffset: number;
  /** Whether a 0xFF mark byte came just before SOM (a PD answers the way it was spoken to). */
  readonly marked: boolean;
}

export class PacketFormatError extends Error {
  override readonly name = "PacketFormatError";
}

export function carriesMac(securityBlock: SecurityBlockField | undefined): boolean {
  return securityBlock !== undefined && securityBlock.type >= SecurityBlock.SCS_15;
}

export function nextSequence(sequence: number): number {
  return sequence >= 3 ? 1 : sequence + 1;
}

export interface EncodeOptions {
  /** Precede the packet with the 0xFF mark byte (default true; some devices omit it). */
  readonly mark?: boolean;
  /** Computes the 4 MAC bytes over SOM..end of data, whose length field already counts MAC and check. */
  readonly mac?: (message: Uint8Array) => Uint8Array;
}

export function encodePacket(fields: PacketFields, options: EncodeOptions = {}): Uint8Array {
  const { address, sequence, code, data, securityBlock } = fields;
  if (!Number.isInteger(address) || address < 0 || address > 0x7f) {
    throw new PacketFormatError(`address ${address} is outside 0x00–0x7F`);
  }
  if (!Number.isInteger(sequence) || sequence < 0 || sequence > 3) {
    throw new PacketFormatError(`sequence ${sequence} is outside 0–3`);
  }
  const withMac = carriesMac(securityBlock);
  if (withMac && options.mac === undefined) {
    throw new PacketFormatError(`security block 0x${securityBlock?.type.toString(16)} needs a MAC function`);
  }
  const mark = options.mark ?? true;
  const blockLength = securityBlock === undefined ? 0 : 2 + securityBlock.data.length;
  const checkLength = fields.crc ? 2 : 1;
  const length = 5 + blockLength + 1 + data.length + (withMac ? 4 : 0) + checkLength;
  if (length > MAX_PACKET_LENGTH) {
    throw new PacketFormatError(`packet of ${length} bytes exceeds ${MAX_PACKET_LENGTH}`);
  }
  const out = new Uint8Array(length + (mark ? 1 : 0));
  let at = 0;
  if (mark) out[at++] = MARK;
  const start = at;
  out[at++] = SOM;
  out[at++] = address | (fields.reply ? REPLY_FLAG : 0);
  out[at++] = length & 0xff;
  out[at++] = length >> 8;
  out[at++] =
    sequence | (fields.crc ? CONTROL_CRC : 0) | (securityBlock === undefined ? 0 : CONTROL_SECURITY_BLOCK);
  if (securityBlock !== undefined) {
    out[at++] = blockLength;
    out[at++] = securityBlock.type;
    out.set(securityBlock.data, at);
    at += securityBlock.data.length;
  }
  out[at++] = code;
  out.set(data, at);
  at += data.length;
  if (withMac && options.mac !== undefined) {
    const mac = options.mac(out.subarray(start, at));
    out.set(mac.subarray(0, 4), at);
    at += 4;
  }
  if (fields.crc) {
    const crc = crc16(out, start, at);
    out[at++] = crc & 0xff;
    out[at++] = crc >> 8;
  } else {
    out[at++] = checksum8(out, start, at);
  }
  return out;
}

/** Parses one complete packet (SOM through check characters) whose check is already known good. */
export function parsePacket(bytes: Uint8Array, marked = false): Packet {
  if (bytes.length < MIN_PACKET_LENGTH || bytes[0] !== SOM) throw new PacketFormatError("not an OSDP packet");
  const length = (bytes[2] ?? 0) | ((bytes[3] ?? 0) << 8);
  if (length !== bytes.length) throw new PacketFormatError(`length field ${length} ≠ ${bytes.length} bytes`);
  const addressByte = bytes[1] ?? 0;
  const control = bytes[4] ?? 0;
  const crc = (control & CONTROL_CRC) !== 0;
  const end = bytes.length - (crc ? 2 : 1);
  let at = 5;
  let securityBlock: SecurityBlockField | undefined;
  if (control & CONTROL_SECURITY_BLOCK) {
    const blockLength = bytes[at] ?? 0;
    if (blockLength < 2 || at + blockLength >= end) {
      throw new PacketFormatError(`security block length ${blockLength} does not fit the packet`);
    }
    securityBlock = { type: bytes[at + 1] ?? 0, data: bytes.slice(at + 2, at + blockLength) };
    at += blockLength;
  }
  const withMac = carriesMac(securityBlock);
  const macOffset = withMac ? end - 4 : end;
  if (at >= macOffset) throw new PacketFormatError("packet has no command or reply code");
  return {
    address: addressByte & 0x7f,
    reply: (addressByte & REPLY_FLAG) !== 0,
    sequence: control & CONTROL_SEQUENCE_MASK,
    crc,
    securityBlock,
    code: bytes[at] ?? 0,
    data: bytes.slice(at + 1, macOffset),
    mac: withMac ? bytes.slice(macOffset, end) : undefined,
    bytes,
    macOffset,
    marked,
  };
}

function checkIsValid(buffer: Uint8Array, start: number, length: number): boolean {
  const control = buffer[start + 4] ?? 0;
  const end = start + length;
  if (control & CONTROL_CRC) {
    const crc = crc16(buffer, start, end - 2);
    return buffer[end - 2] === (crc & 0xff) && buffer[end - 1] === crc >> 8;
  }
  return buffer[end - 1] === checksum8(buffer, start, end - 1);
}

export type ReadEvent =
  | { readonly kind: "packet"; readonly packet: Packet }
  | { readonly kind: "discarded"; readonly bytes: number; readonly reason: string };

/**
 * Cuts a byte stream into packets and resynchronises after garbage: it hunts for SOM, checks the
 * length and the CRC/checksum, and on any failure drops one byte and hunts again, so a real packet
 * that starts inside line noise is still found. Bad packets are dropped silently on the wire (as the
 * spec wants) but reported here, so callers can count them.
 */
export class PacketReader {
  private buffer: Uint8Array = new Uint8Array(0);

  reset(): void {
    this.buffer = new Uint8Array(0);
  }

  get pending(): number {
    return this.buffer.length;
  }

  push(chunk: Uint8Array): ReadEvent[] {
    const events: ReadEvent[] = [];
    let buffer: Uint8Array;
    if (this.buffer.length === 0) buffer = chunk;
    else {
      buffer = new Uint8Array(this.buffer.length + chunk.length);
      buffer.set(this.buffer);
      buffer.set(chunk, this.buffer.length);
    }
    let at = 0;
    let garbage = 0;
    const flushGarbage = (reason: string) => {
      if (garbage > 0) events.push({ kind: "discarded", bytes: garbage, reason });
      garbage = 0;
    };
    while (at < buffer.length) {
      const byte = buffer[at];
      if (byte !== SOM) {
        if (byte !== MARK) garbage++;
        at++;
        continue;
      }
      flushGarbage("bytes outside any packet");
      if (buffer.length - at < 5) break;
      const length = (buffer[at + 2] ?? 0) | ((buffer[at + 3] ?? 0) << 8);
      if (length < MIN_PACKET_LENGTH || length > MAX_PACKET_LENGTH) {
        events.push({ kind: "discarded", bytes: 1, reason: `implausible length ${length}` });
        at++;
        continue;
      }
      if (buffer.length - at < length) {
        // A SOM inside noise can announce a long packet and swallow the real one behind it:
        // if a complete, valid packet starts later in the buffer, the announced one was noise.
        const later = findCompletePacket(buffer, at + 1);
        if (later < 0) break;
        events.push({ kind: "discarded", bytes: later - at, reason: "incomplete packet overtaken" });
        at = later;
        continue;
      }
      if (!checkIsValid(buffer, at, length)) {
        const crc = ((buffer[at + 4] ?? 0) & CONTROL_CRC) !== 0;
        events.push({ kind: "discarded", bytes: 1, reason: crc ? "bad CRC" : "bad checksum" });
        at++;
        continue;
      }
      const bytes = buffer.slice(at, at + length);
      try {
        events.push({ kind: "packet", packet: parsePacket(bytes, at > 0 && buffer[at - 1] === MARK) });
      } catch (error) {
        events.push({ kind: "discarded", bytes: length, reason: (error as Error).message });
      }
      at += length;
    }
    flushGarbage("bytes outside any packet");
    this.buffer = at >= buffer.length ? new Uint8Array(0) : buffer.slice(at);
    return events;
  }
}

function findCompletePacket(buffer: Uint8Array, from: number): number {
  for (let at = buffer.indexOf(SOM, from); at >= 0; at = buffer.indexOf(SOM, at + 1)) {
    if (buffer.length - at < MIN_PACKET_LENGTH) return -1;
    const length = (buffer[at + 2] ?? 0) | ((buffer[at + 3] ?? 0) << 8);
    if (length < MIN_PACKET_LENGTH || length > MAX_PACKET_LENGTH || buffer.length - at < length) continue;
    if (checkIsValid(buffer, at, length)) return at;
  }
  return -1;
}
