/** OSDP wire constants (SIA OSDP v2.2 / IEC 60839-11-5). */

export const MARK = 0xff;
export const SOM = 0x53;
export const BROADCAST_ADDRESS = 0x7f;
/** A PD sets bit 7 of the address byte in every reply. */
export const REPLY_FLAG = 0x80;

export const CONTROL_SEQUENCE_MASK = 0x03;
export const CONTROL_CRC = 0x04;
export const CONTROL_SECURITY_BLOCK = 0x08;

/** SOM, address, length (2), control, code, checksum: the smallest packet there is. */
export const MIN_PACKET_LENGTH = 7;
/**
 * Our ceiling for one packet (SOM through check). The spec lets a PD advertise its buffer size;
 * libosdp uses 256. A QR payload reported as RAW fits well below this.
 */
export const MAX_PACKET_LENGTH = 1024;

export const CommandCode = {
  POLL: 0x60,
  ID: 0x61,
  CAP: 0x62,
  LSTAT: 0x64,
  ISTAT: 0x65,
  OSTAT: 0x66,
  OUT: 0x68,
  LED: 0x69,
  BUZ: 0x6a,
  COMSET: 0x6e,
  KEYSET: 0x75,
  CHLNG: 0x76,
  SCRYPT: 0x77,
} as const;

export const ReplyCode = {
  ACK: 0x40,
  NAK: 0x41,
  PDID: 0x45,
  PDCAP: 0x46,
  LSTATR: 0x48,
  ISTATR: 0x49,
  OSTATR: 0x4a,
  RAW: 0x50,
  KEYPAD: 0x53,
  COM: 0x54,
  CCRYPT: 0x76,
  RMAC_I: 0x78,
  BUSY: 0x79,
} as const;

export const NakCode = {
  CHECK_CHARACTER: 0x01,
  COMMAND_LENGTH: 0x02,
  UNKNOWN_COMMAND: 0x03,
  SEQUENCE_NUMBER: 0x04,
  SECURE_CHANNEL_UNSUPPORTED: 0x05,
  SECURITY_CONDITIONS: 0x06,
  BIO_TYPE: 0x07,
  BIO_FORMAT: 0x08,
  UNABLE_TO_PROCESS: 0x09,
} as const;

const nakReasons: Record<number, string> = {
  [NakCode.CHECK_CHARACTER]: "bad checksum or CRC",
  [NakCode.COMMAND_LENGTH]: "command length error",
  [NakCode.UNKNOWN_COMMAND]: "unknown command",
  [NakCode.SEQUENCE_NUMBER]: "sequence number error",
  [NakCode.SECURE_CHANNEL_UNSUPPORTED]: "secure channel not supported",
  [NakCode.SECURITY_CONDITIONS]: "unsupported security block or security conditions not met",
  [NakCode.BIO_TYPE]: "biometric type not supported",
  [NakCode.BIO_FORMAT]: "biometric format not supported",
  [NakCode.UNABLE_TO_PROCESS]: "unable to process command record",
};

export function nakReason(code: number): string {
  return nakReasons[code] ?? `unknown NAK code 0x${code.toString(16).padStart(2, "0")}`;
}

/** Security block types: handshake (0x11–0x14), then MAC only (0x15/0x16) or MAC + encrypted data (0x17/0x18). */
export const SecurityBlock = {
  SCS_11: 0x11,
  SCS_12: 0x12,
  SCS_13: 0x13,
  SCS_14: 0x14,
  SCS_15: 0x15,
  SCS_16: 0x16,
  SCS_17: 0x17,
  SCS_18: 0x18,
} as const;

const commandNames = new Map<number, string>(Object.entries(CommandCode).map(([name, code]) => [code, name]));
const replyNames = new Map<number, string>(Object.entries(ReplyCode).map(([name, code]) => [code, name]));

export function commandName(code: number): string {
  return `osdp_${commandNames.get(code) ?? `0x${code.toString(16)}`}`;
}

export function replyName(code: number): string {
  return `osdp_${replyNames.get(code) ?? `0x${code.toString(16)}`}`;
}
