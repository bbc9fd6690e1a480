import { createCipheriv, createDecipheriv, timingSafeEqual } from "node:crypto";

/**
 * OSDP Secure Channel cryptography (SIA OSDP v2.2 §D / Annex E), with no I/O and no state machine:
 * the control panel and the simulated peripheral both build on these functions.
 */

/** SCBK-D, the well-known default key a PD accepts only in install mode. */
export const SCBK_D: Uint8Array = Uint8Array.from([
  0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
]);

export interface SessionKeys {
  readonly enc: Uint8Array;
  readonly mac1: Uint8Array;
  readonly mac2: Uint8Array;
}

export class SecureChannelError extends Error {
  override readonly name = "SecureChannelError";
}

function requireLength(name: string, bytes: Uint8Array, length: number): void {
  if (bytes.length !== length)
    throw new SecureChannelError(`${name} must be ${length} bytes, got ${bytes.length}`);
}

export function aesEcb(key: Uint8Array, block: Uint8Array): Uint8Array {
  const cipher = createCipheriv("aes-128-ecb", key, null);
  cipher.setAutoPadding(false);
  return new Uint8Array(Buffer.concat([cipher.update(block), cipher.final()]));
}

function aesCbc(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const cipher = createCipheriv("aes-128-cbc", key, iv);
  cipher.setAutoPadding(false);
  return new Uint8Array(Buffer.concat([cipher.update(data), cipher.final()]));
}

/** S-ENC, S-MAC1, S-MAC2 = AES-ECB(SCBK, 01 82|01|02 ‖ RND.A[0..5] ‖ 00×8). */
export function deriveSessionKeys(scbk: Uint8Array, rndA: Uint8Array): SessionKeys {
  requireLength("SCBK", scbk, 16);
  requireLength("RND.A", rndA, 8);
  const derive = (second: number) => {
    const block = new Uint8Array(16);
    block[0] = 0x01;
    block[1] = second;
    block.set(rndA.subarray(0, 6), 2);
    return aesEcb(scbk, block);
  };
  return { enc: derive(0x82), mac1: derive(0x01), mac2: derive(0x02) };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** The PD's proof of the key (osdp_CCRYPT): AES-ECB(S-ENC, RND.A ‖ RND.B). */
export function clientCryptogram(keys: SessionKeys, rndA: Uint8Array, rndB: Uint8Array): Uint8Array {
  return aesEcb(keys.enc, concat(rndA, rndB));
}

/** The CP's proof of the key (osdp_SCRYPT): AES-ECB(S-ENC, RND.B ‖ RND.A). */
export function serverCryptogram(keys: SessionKeys, rndA: Uint8Array, rndB: Uint8Array): Uint8Array {
  return aesEcb(keys.enc, concat(rndB, rndA));
}

/** The initial R-MAC that seeds the MAC chain: AES-ECB(S-MAC2, AES-ECB(S-MAC1, server cryptogram)). */
export function initialRmac(keys: SessionKeys, serverCryptogramBytes: Uint8Array): Uint8Array {
  return aesEcb(keys.mac2, aesEcb(keys.mac1, serverCryptogramBytes));
}

/**
 * The 16-byte MAC of a message (SOM through the end of data). AES-CBC with S-MAC1 over all blocks
 * but the last, whose chaining value then goes through S-MAC2; the IV is the last MAC from the
 * other side. Padding (0x80 then zeros) is added only when the message is not block-aligned —
 * unlike data encryption, which always pads (libosdp does the same; the asymmetry is the spec's).
 */
export function computeMac(keys: SessionKeys, iv: Uint8Array, message: Uint8Array): Uint8Array {
  const paddedLength = message.length % 16 === 0 ? message.length : (message.length + 16) & ~15;
  let padded = message;
  if (paddedLength !== message.length) {
    padded = new Uint8Array(paddedLength);
    padded.set(message);
    padded[message.length] = 0x80;
  }
  let chain = iv;
  if (paddedLength > 16) {
    const head = aesCbc(keys.mac1, iv, padded.subarray(0, paddedLength - 16));
    chain = head.subarray(head.length - 16);
  }
  return aesCbc(keys.mac2, chain, padded.subarray(paddedLength - 16));
}

function invert(bytes: Uint8Array): Uint8Array {
  return bytes.map((byte) => ~byte & 0xff);
}

/** Encrypts a data block: pad with 0x80 then zeros (always), AES-CBC with S-ENC, IV = ~(last MAC). */
export function encryptData(keys: SessionKeys, lastMac: Uint8Array, plain: Uint8Array): Uint8Array {
  const padded = new Uint8Array((plain.length + 16) & ~15);
  padded.set(plain);
  padded[plain.length] = 0x80;
  return aesCbc(keys.enc, invert(lastMac), padded);
}

export function decryptData(keys: SessionKeys, lastMac: Uint8Array, cipherText: Uint8Array): Uint8Array {
  if (cipherText.length === 0 || cipherText.length % 16 !== 0) {
    throw new SecureChannelError(`encrypted data of ${cipherText.length} bytes is not whole AES blocks`);
  }
  const decipher = createDecipheriv("aes-128-cbc", keys.enc, invert(lastMac));
  decipher.setAutoPadding(false);
  const plain = new Uint8Array(Buffer.concat([decipher.update(cipherText), decipher.final()]));
  let end = plain.length - 1;
  while (end > 0 && plain[end] === 0) end--;
  if (plain[end] !== 0x80) throw new SecureChannelError("decrypted data has no 0x80 end marker");
  return plain.slice(0, end);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export function parseKeyHex(hex: string): Uint8Array {
  const clean = hex.replace(/[\s:]/g, "");
  if (!/^[0-9a-fA-F]{32}$/.test(clean)) {
    throw new SecureChannelError(`an SCBK is 16 bytes written as 32 hex digits, got "${hex}"`);
  }
  return Uint8Array.from(Buffer.from(clean, "hex"));
}

/** The chaining state of one established secure channel, seen from either end. */
export class SecureSession {
  /** MAC of the last command (IV for the reply's MAC and for reply data). */
  commandMac: Uint8Array;
  /** MAC of the last reply, starting with the initial R-MAC (IV for the next command). */
  replyMac: Uint8Array;

  constructor(
    readonly keys: SessionKeys,
    initialReplyMac: Uint8Array,
  ) {
    this.replyMac = initialReplyMac;
    this.commandMac = new Uint8Array(16);
  }
}
