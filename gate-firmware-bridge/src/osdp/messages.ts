import { CommandCode, NakCode, nakReason, ReplyCode } from "./constants.js";

/** Payloads of the commands and replies a lane needs, typed, with their byte layouts. */

/** osdp_OUT control codes. Timed codes count in units of 100 ms. */
export const OutputAction = {
  NOP: 0,
  PERMANENT_OFF_ABORT_TIMED: 1,
  PERMANENT_ON_ABORT_TIMED: 2,
  PERMANENT_OFF_ALLOW_TIMED: 3,
  PERMANENT_ON_ALLOW_TIMED: 4,
  TEMPORARY_ON: 5,
  TEMPORARY_OFF: 6,
} as const;

export interface OutputControl {
  readonly output: number;
  readonly action: number;
  /** In 100 ms units (0–65535); used by TEMPORARY_ON / TEMPORARY_OFF. */
  readonly timer: number;
}

export const LedColor = {
  BLACK: 0,
  RED: 1,
  GREEN: 2,
  AMBER: 3,
  BLUE: 4,
  MAGENTA: 5,
  CYAN: 6,
  WHITE: 7,
} as const;

export interface LedControl {
  readonly reader: number;
  readonly led: number;
  /** 0 = no change, 1 = cancel temporary, 2 = set temporary and start its timer. */
  readonly temporary: {
    readonly code: number;
    readonly onTime: number;
    readonly offTime: number;
    readonly onColor: number;
    readonly offColor: number;
    readonly timer: number;
  };
  /** 0 = no change, 1 = set permanent state. */
  readonly permanent: {
    readonly code: number;
    readonly onTime: number;
    readonly offTime: number;
    readonly onColor: number;
    readonly offColor: number;
  };
}

export interface BuzzerControl {
  readonly reader: number;
  /** 1 = off, 2 = default tone. */
  readonly tone: number;
  /** On and off times in 100 ms units; count 0 = until told otherwise. */
  readonly onTime: number;
  readonly offTime: number;
  readonly count: number;
}

export type OsdpCommand =
  | { readonly kind: "poll" }
  | { readonly kind: "id" }
  | { readonly kind: "cap" }
  | { readonly kind: "lstat" }
  | { readonly kind: "istat" }
  | { readonly kind: "ostat" }
  | { readonly kind: "out"; readonly outputs: readonly OutputControl[] }
  | { readonly kind: "led"; readonly leds: readonly LedControl[] }
  | { readonly kind: "buz"; readonly buzzer: BuzzerControl }
  | { readonly kind: "keyset"; readonly key: Uint8Array }
  | { readonly kind: "chlng"; readonly rndA: Uint8Array }
  | { readonly kind: "scrypt"; readonly cryptogram: Uint8Array };

export interface PdIdentity {
  /** IEEE OUI, 3 bytes as a number. */
  readonly vendorCode: number;
  readonly model: number;
  readonly version: number;
  readonly serialNumber: number;
  readonly firmware: { readonly major: number; readonly minor: number; readonly build: number };
}

export interface PdCapability {
  readonly function: number;
  readonly compliance: number;
  readonly items: number;
}

/** PDCAP function codes we use. */
export const CapabilityFunction = {
  CONTACT_STATUS_MONITORING: 1,
  OUTPUT_CONTROL: 2,
  CARD_DATA_FORMAT: 3,
  READER_LED_CONTROL: 4,
  READER_AUDIBLE_OUTPUT: 5,
  CHECK_CHARACTER_SUPPORT: 8,
  COMMUNICATION_SECURITY: 9,
  RECEIVE_BUFFER_SIZE: 10,
  READERS: 13,
} as const;

export type OsdpReply =
  | { readonly kind: "ack" }
  | { readonly kind: "nak"; readonly code: number; readonly reason: string }
  | { readonly kind: "pdid"; readonly identity: PdIdentity }
  | { readonly kind: "pdcap"; readonly capabilities: readonly PdCapability[] }
  | { readonly kind: "lstatr"; readonly tamper: boolean; readonly powerFailure: boolean }
  | { readonly kind: "istatr"; readonly inputs: readonly boolean[] }
  | { readonly kind: "ostatr"; readonly outputs: readonly boolean[] }
  | {
      readonly kind: "raw";
      readonly reader: number;
      readonly format: number;
      readonly bitCount: number;
      readonly data: Uint8Array;
    }
  | { readonly kind: "keypad"; readonly reader: number; readonly digits: string }
  | { readonly kind: "busy" }
  | {
      readonly kind: "ccrypt";
      readonly clientUid: Uint8Array;
      readonly rndB: Uint8Array;
      readonly cryptogram: Uint8Array;
    }
  | { readonly kind: "rmac_i"; readonly rmac: Uint8Array };

/** A payload that does not match its layout; `nak` is the NAK code a PD answers with. */
export class PayloadError extends Error {
  override readonly name = "PayloadError";
  constructor(
    message: string,
    readonly nak: number = NakCode.COMMAND_LENGTH,
  ) {
    super(message);
  }
}

export interface CodeAndData {
  readonly code: number;
  readonly data: Uint8Array;
}

function byteIn(name: string, value: number, max = 0xff): number {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new PayloadError(`${name} must be an integer in 0–${max}, got ${value}`, NakCode.UNABLE_TO_PROCESS);
  }
  return value;
}

const EMPTY = new Uint8Array(0);

export function encodeCommand(command: OsdpCommand): CodeAndData {
  switch (command.kind) {
    case "poll":
      return { code: CommandCode.POLL, data: EMPTY };
    case "id":
      return { code: CommandCode.ID, data: Uint8Array.of(0) };
    case "cap":
      return { code: CommandCode.CAP, data: Uint8Array.of(0) };
    case "lstat":
      return { code: CommandCode.LSTAT, data: EMPTY };
    case "istat":
      return { code: CommandCode.ISTAT, data: EMPTY };
    case "ostat":
      return { code: CommandCode.OSTAT, data: EMPTY };
    case "out": {
      if (command.outputs.length === 0) throw new PayloadError("osdp_OUT needs at least one output");
      const data = new Uint8Array(4 * command.outputs.length);
      command.outputs.forEach((o, i) => {
        data[4 * i] = byteIn("output number", o.output);
        data[4 * i + 1] = byteIn("output control code", o.action, 6);
        const timer = byteIn("output timer", o.timer, 0xffff);
        data[4 * i + 2] = timer & 0xff;
        data[4 * i + 3] = timer >> 8;
      });
      return { code: CommandCode.OUT, data };
    }
    case "led": {
      if (command.leds.length === 0) throw new PayloadError("osdp_LED needs at least one LED record");
      const data = new Uint8Array(14 * command.leds.length);
      command.leds.forEach((l, i) => {
        const t = l.temporary;
        const p = l.permanent;
        const timer = byteIn("LED timer", t.timer, 0xffff);
        data.set(
          [
            byteIn("reader", l.reader),
            byteIn("LED number", l.led),
            byteIn("temporary control code", t.code, 2),
            byteIn("on time", t.onTime),
            byteIn("off time", t.offTime),
            byteIn("on colour", t.onColor),
            byteIn("off colour", t.offColor),
            timer & 0xff,
            timer >> 8,
            byteIn("permanent control code", p.code, 1),
            byteIn("on time", p.onTime),
            byteIn("off time", p.offTime),
            byteIn("on colour", p.onColor),
            byteIn("off colour", p.offColor),
          ],
          14 * i,
        );
      });
      return { code: CommandCode.LED, data };
    }
    case "buz": {
      const b = command.buzzer;
      return {
        code: CommandCode.BUZ,
        data: Uint8Array.of(
          byteIn("reader", b.reader),
          byteIn("tone", b.tone),
          byteIn("on time", b.onTime),
          byteIn("off time", b.offTime),
          byteIn("count", b.count),
        ),
      };
    }
    case "keyset": {
      if (command.key.length !== 16) throw new PayloadError("osdp_KEYSET carries a 16-byte SCBK");
      const data = new Uint8Array(18);
      data[0] = 0x01; // key type: SCBK
      data[1] = 16;
      data.set(command.key, 2);
      return { code: CommandCode.KEYSET, data };
    }
    case "chlng":
      if (command.rndA.length !== 8) throw new PayloadError("osdp_CHLNG carries 8 random bytes");
      return { code: CommandCode.CHLNG, data: command.rndA };
    case "scrypt":
      if (command.cryptogram.length !== 16)
        throw new PayloadError("osdp_SCRYPT carries a 16-byte cryptogram");
      return { code: CommandCode.SCRYPT, data: command.cryptogram };
  }
}

function expectLength(name: string, data: Uint8Array, length: number): void {
  if (data.length !== length) {
    throw new PayloadError(`${name} carries ${length} data bytes, got ${data.length}`);
  }
}

function expectMultiple(name: string, data: Uint8Array, size: number): void {
  if (data.length === 0 || data.length % size !== 0) {
    throw new PayloadError(`${name} carries records of ${size} bytes, got ${data.length} bytes`);
  }
}

/** Decodes a command as a PD receives it; throws PayloadError with the NAK code to answer. */
export function decodeCommand(code: number, data: Uint8Array): OsdpCommand {
  switch (code) {
    case CommandCode.POLL:
      expectLength("osdp_POLL", data, 0);
      return { kind: "poll" };
    case CommandCode.ID:
      expectLength("osdp_ID", data, 1);
      return { kind: "id" };
    case CommandCode.CAP:
      expectLength("osdp_CAP", data, 1);
      return { kind: "cap" };
    case CommandCode.LSTAT:
      expectLength("osdp_LSTAT", data, 0);
      return { kind: "lstat" };
    case CommandCode.ISTAT:
      expectLength("osdp_ISTAT", data, 0);
      return { kind: "istat" };
    case CommandCode.OSTAT:
      expectLength("osdp_OSTAT", data, 0);
      return { kind: "ostat" };
    case CommandCode.OUT: {
      expectMultiple("osdp_OUT", data, 4);
      const outputs: OutputControl[] = [];
      for (let i = 0; i < data.length; i += 4) {
        outputs.push({
          output: data[i] ?? 0,
          action: data[i + 1] ?? 0,
          timer: (data[i + 2] ?? 0) | ((data[i + 3] ?? 0) << 8),
        });
      }
      return { kind: "out", outputs };
    }
    case CommandCode.LED: {
      expectMultiple("osdp_LED", data, 14);
      const leds: LedControl[] = [];
      for (let i = 0; i < data.length; i += 14) {
        const b = (k: number) => data[i + k] ?? 0;
        leds.push({
          reader: b(0),
          led: b(1),
          temporary: {
            code: b(2),
            onTime: b(3),
            offTime: b(4),
            onColor: b(5),
            offColor: b(6),
            timer: b(7) | (b(8) << 8),
          },
          permanent: { code: b(9), onTime: b(10), offTime: b(11), onColor: b(12), offColor: b(13) },
        });
      }
      return { kind: "led", leds };
    }
    case CommandCode.BUZ: {
      expectLength("osdp_BUZ", data, 5);
      const b = (k: number) => data[k] ?? 0;
      return { kind: "buz", buzzer: { reader: b(0), tone: b(1), onTime: b(2), offTime: b(3), count: b(4) } };
    }
    case CommandCode.KEYSET:
      expectLength("osdp_KEYSET", data, 18);
      if (data[0] !== 0x01 || data[1] !== 16) {
        throw new PayloadError(
          "osdp_KEYSET must carry key type 1 (SCBK) of 16 bytes",
          NakCode.UNABLE_TO_PROCESS,
        );
      }
      return { kind: "keyset", key: data.slice(2) };
    case CommandCode.CHLNG:
      expectLength("osdp_CHLNG", data, 8);
      return { kind: "chlng", rndA: data.slice() };
    case CommandCode.SCRYPT:
      expectLength("osdp_SCRYPT", data, 16);
      return { kind: "scrypt", cryptogram: data.slice() };
    default:
      throw new PayloadError(`command 0x${code.toString(16)} is not implemented`, NakCode.UNKNOWN_COMMAND);
  }
}

function bits(data: Uint8Array): boolean[] {
  return Array.from(data, (b) => b !== 0);
}

export function encodeReply(reply: OsdpReply): CodeAndData {
  switch (reply.kind) {
    case "ack":
      return { code: ReplyCode.ACK, data: EMPTY };
    case "nak":
      return { code: ReplyCode.NAK, data: Uint8Array.of(reply.code) };
    case "pdid": {
      const id = reply.identity;
      const data = new Uint8Array(12);
      data[0] = id.vendorCode & 0xff;
      data[1] = (id.vendorCode >> 8) & 0xff;
      data[2] = (id.vendorCode >> 16) & 0xff;
      data[3] = id.model & 0xff;
      data[4] = id.version & 0xff;
      new DataView(data.buffer).setUint32(5, id.serialNumber >>> 0, true);
      data[9] = id.firmware.major & 0xff;
      data[10] = id.firmware.minor & 0xff;
      data[11] = id.firmware.build & 0xff;
      return { code: ReplyCode.PDID, data };
    }
    case "pdcap":
      return {
        code: ReplyCode.PDCAP,
        data: Uint8Array.from(reply.capabilities.flatMap((c) => [c.function, c.compliance, c.items])),
      };
    case "lstatr":
      return {
        code: ReplyCode.LSTATR,
        data: Uint8Array.of(reply.tamper ? 1 : 0, reply.powerFailure ? 1 : 0),
      };
    case "istatr":
      return { code: ReplyCode.ISTATR, data: Uint8Array.from(reply.inputs, (b) => (b ? 1 : 0)) };
    case "ostatr":
      return { code: ReplyCode.OSTATR, data: Uint8Array.from(reply.outputs, (b) => (b ? 1 : 0)) };
    case "raw": {
      const data = new Uint8Array(4 + reply.data.length);
      data[0] = reply.reader;
      data[1] = reply.format;
      data[2] = reply.bitCount & 0xff;
      data[3] = reply.bitCount >> 8;
      data.set(reply.data, 4);
      return { code: ReplyCode.RAW, data };
    }
    case "keypad": {
      const digits = Buffer.from(reply.digits, "latin1");
      return { code: ReplyCode.KEYPAD, data: Uint8Array.from([reply.reader, digits.length, ...digits]) };
    }
    case "busy":
      return { code: ReplyCode.BUSY, data: EMPTY };
    case "ccrypt": {
      const data = new Uint8Array(32);
      data.set(reply.clientUid, 0);
      data.set(reply.rndB, 8);
      data.set(reply.cryptogram, 16);
      return { code: ReplyCode.CCRYPT, data };
    }
    case "rmac_i":
      return { code: ReplyCode.RMAC_I, data: reply.rmac };
  }
}

/** Decodes a reply as the control panel receives it; throws PayloadError on a bad layout. */
export function decodeReply(code: number, data: Uint8Array): OsdpReply {
  switch (code) {
    case ReplyCode.ACK:
      return { kind: "ack" };
    case ReplyCode.NAK: {
      if (data.length < 1) throw new PayloadError("osdp_NAK without an error code");
      const nak = data[0] ?? 0;
      return { kind: "nak", code: nak, reason: nakReason(nak) };
    }
    case ReplyCode.PDID: {
      expectLength("osdp_PDID", data, 12);
      const b = (k: number) => data[k] ?? 0;
      return {
        kind: "pdid",
        identity: {
          vendorCode: b(0) | (b(1) << 8) | (b(2) << 16),
          model: b(3),
          version: b(4),
          serialNumber: new DataView(data.buffer, data.byteOffset, data.length).getUint32(5, true),
          firmware: { major: b(9), minor: b(10), build: b(11) },
        },
      };
    }
    case ReplyCode.PDCAP: {
      expectMultiple("osdp_PDCAP", data, 3);
      const capabilities: PdCapability[] = [];
      for (let i = 0; i < data.length; i += 3) {
        capabilities.push({ function: data[i] ?? 0, compliance: data[i + 1] ?? 0, items: data[i + 2] ?? 0 });
      }
      return { kind: "pdcap", capabilities };
    }
    case ReplyCode.LSTATR:
      expectLength("osdp_LSTATR", data, 2);
      return { kind: "lstatr", tamper: data[0] !== 0, powerFailure: data[1] !== 0 };
    case ReplyCode.ISTATR:
      return { kind: "istatr", inputs: bits(data) };
    case ReplyCode.OSTATR:
      return { kind: "ostatr", outputs: bits(data) };
    case ReplyCode.RAW: {
      if (data.length < 4) throw new PayloadError(`osdp_RAW carries at least 4 bytes, got ${data.length}`);
      const bitCount = (data[2] ?? 0) | ((data[3] ?? 0) << 8);
      const payload = data.slice(4);
      if (Math.ceil(bitCount / 8) !== payload.length) {
        throw new PayloadError(`osdp_RAW announces ${bitCount} bits but carries ${payload.length} bytes`);
      }
      return { kind: "raw", reader: data[0] ?? 0, format: data[1] ?? 0, bitCount, data: payload };
    }
    case ReplyCode.KEYPAD: {
      if (data.length < 2 || data.length !== 2 + (data[1] ?? 0)) {
        throw new PayloadError("osdp_KEYPAD digit count does not match its data");
      }
      return {
        kind: "keypad",
        reader: data[0] ?? 0,
        digits: Buffer.from(data.subarray(2)).toString("latin1"),
      };
    }
    case ReplyCode.BUSY:
      return { kind: "busy" };
    case ReplyCode.CCRYPT:
      expectLength("osdp_CCRYPT", data, 32);
      return {
        kind: "ccrypt",
        clientUid: data.slice(0, 8),
        rndB: data.slice(8, 16),
        cryptogram: data.slice(16, 32),
      };
    case ReplyCode.RMAC_I:
      expectLength("osdp_RMAC_I", data, 16);
      return { kind: "rmac_i", rmac: data.slice() };
    default:
      throw new PayloadError(`reply 0x${code.toString(16)} is not one this control panel understands`);
  }
}
