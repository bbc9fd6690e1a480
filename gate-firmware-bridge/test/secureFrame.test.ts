import { describe, expect, it } from "vitest";
import {
  clientCryptogram,
  computeMac,
  crc16,
  deriveSessionKeys,
  encodeHandshakePacket,
  encodePacket,
  encodeReply,
  encryptData,
  handshakeKey,
  initialRmac,
  openPacket,
  type Packet,
  PacketReader,
  SCBK_D,
  SecureSession,
  SecurityBlock,
  sealPacket,
  serverCryptogram,
} from "../src/index.js";

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));
const toHex = (b: Uint8Array) => Buffer.from(b).toString("hex").toUpperCase();

/** Reads one packet, its CRC checked. */
function read(bytes: Uint8Array): Packet {
  const events = new PacketReader().push(bytes);
  const [event] = events;
  if (events.length !== 1 || event?.kind !== "packet")
    throw new Error(`not one good packet: ${toHex(bytes)}`);
  return event.packet;
}

// The SIA OSDP v2.2 Annex E session: SCBK-D, RND.A (the CP's) = B0..B7, RND.B (the PD's) = A0..A7,
// whose session keys, cryptograms and initial R-MAC the Annex publishes (secureChannel.test.ts).
// The Annex stops at the initial R-MAC; the packets below carry that session on, PD address 0, CRC,
// no mark byte. They were derived apart from this code, from the spec's rules, with OpenSSL (pyca
// cryptography): CRC-16 init 0x1D0F; MAC = AES-CBC with S-MAC1 over all blocks but the last and
// S-MAC2 over the last, IV = the other side's last MAC, 0x80 padding only if not block-aligned, 4
// bytes sent; data = AES-CBC with S-ENC, IV = ~(the other side's last MAC), 0x80 padding always.
const RND_A = hex("B0B1B2B3B4B5B6B7");
const RND_B = hex("A0A1A2A3A4A5A6A7");
const CLIENT_UID = hex("5A 01 00 01 02 07 05 0D");
const keys = deriveSessionKeys(SCBK_D, RND_A);
const RMAC_I = initialRmac(keys, serverCryptogram(keys, RND_A, RND_B));

const WIRE = {
  // Handshake (SCS_11–SCS_14), sequence 0 then 1.
  chlng: hex("53 00 13 00 0C 03 11 00 76 B0 B1 B2 B3 B4 B5 B6 B7 52 32"),
  ccrypt: hex(
    "53 80 2B 00 0C 03 12 00 76 5A 01 00 01 02 07 05 0D A0 A1 A2 A3 A4 A5 A6 A7" +
      "FD E5 D2 F4 28 EC 16 31 24 71 EA 3C 02 BD 77 96 01 DE",
  ),
  scrypt: hex("53 00 1B 00 0D 03 13 00 77 26 D3 35 6E 07 76 2D 26 28 01 FC 8E 66 65 A8 91 7B DA"),
  rmacI: hex("53 80 1B 00 0D 03 14 01 78 B2 A3 00 57 EB 98 BA 22 29 EC 1F 87 56 62 B5 24 55 85"),
  // Sequence 2: osdp_POLL with a MAC only (SCS_15), answered by osdp_ACK (SCS_16).
  poll: hex("53 00 0E 00 0E 02 15 60 74 DD 15 A5 32 77"),
  ack: hex("53 80 0E 00 0E 02 16 40 43 8E DA 79 0D 4E"),
  // Sequence 3: osdp_OUT 00 05 32 00 encrypted (SCS_17), answered by an osdp_RAW of 24 bytes
  // (a QR read) encrypted (SCS_18): a three-block MAC, so S-MAC1 chains before S-MAC2.
  out: hex("53 00 1E 00 0F 02 17 68 46 AB CB 9A 35 9F 5A C6 64 0B DF C7 EB 51 D9 3E 94 5C E1 B2 42 91"),
  raw: hex(
    "53 80 2E 00 0F 02 18 50 6E 4B 66 2D A1 A4 9C 51 33 CA 7B BE DF 49 F6 5C DF 27 3E 0B 54 1D 28 D7" +
      "E8 6F 55 A4 13 1C 5D A8 8F 07 A9 DE 5E 21",
  ),
};
/** The full 16-byte MACs the chain holds after each packet. */
const CHAIN = {
  poll: "74DD15A50D81056E0294D2110B622FEB",
  ack: "438EDA7948BBB94B313F3EC719310BC1",
  out: "945CE1B29CCAE3E62EBE17A4354FCD8A",
  raw: "8F07A9DEB184DE5C2B758287204EB564",
};
const OUT_DATA = hex("00 05 32 00");
const RAW_DATA = Uint8Array.of(0x00, 0x00, 160, 0x00, ...new TextEncoder().encode("SESAME-TICKET-000042"));

const command = (sequence: number, code: number, data: Uint8Array) => ({
  address: 0,
  reply: false,
  sequence,
  crc: true,
  code,
  data,
});
const reply = (sequence: number, code: number, data: Uint8Array) => ({
  ...command(sequence, code, data),
  reply: true,
});
const noMark = { mark: false };

describe("Secure Channel handshake packets (Annex E session)", () => {
  it("encodes osdp_CHLNG and osdp_SCRYPT (CP → PD) byte for byte, naming SCBK-D", () => {
    expect(encodeHandshakePacket(command(0, 0x76, RND_A), "scbk-d", noMark)).toEqual(WIRE.chlng);
    const cryptogram = serverCryptogram(keys, RND_A, RND_B);
    expect(encodeHandshakePacket(command(1, 0x77, cryptogram), "scbk-d", noMark)).toEqual(WIRE.scrypt);
  });

  it("encodes osdp_CCRYPT and osdp_RMAC_I (PD → CP) byte for byte", () => {
    const ccrypt = encodeReply({
      kind: "ccrypt",
      clientUid: CLIENT_UID,
      rndB: RND_B,
      cryptogram: clientCryptogram(keys, RND_A, RND_B),
    });
    expect(encodeHandshakePacket(reply(0, ccrypt.code, ccrypt.data), "scbk-d", noMark)).toEqual(WIRE.ccrypt);
    expect(encodeHandshakePacket(reply(1, 0x78, RMAC_I), "scbk-d", noMark)).toEqual(WIRE.rmacI);
  });

  it("reads the key a handshake names and the blocks back", () => {
    const chlng = read(WIRE.chlng);
    expect(chlng.securityBlock?.type).toBe(SecurityBlock.SCS_11);
    expect(chlng.securityBlock && handshakeKey(chlng.securityBlock)).toBe("scbk-d");
    expect(chlng.data).toEqual(RND_A);
    expect(read(WIRE.ccrypt).securityBlock?.type).toBe(SecurityBlock.SCS_12);
    expect(read(WIRE.scrypt).securityBlock?.type).toBe(SecurityBlock.SCS_13);
    expect(read(WIRE.rmacI).securityBlock).toEqual({ type: SecurityBlock.SCS_14, data: Uint8Array.of(1) });
    const withScbk = read(encodeHandshakePacket(command(0, 0x76, RND_A), "scbk", noMark));
    expect(withScbk.securityBlock && handshakeKey(withScbk.securityBlock)).toBe("scbk");
  });

  it("refuses to frame a message that is not part of the handshake", () => {
    expect(() => encodeHandshakePacket(command(0, 0x60, hex("")), "scbk")).toThrow(/not a Secure Channel/);
    // 0x76 is osdp_CHLNG one way and osdp_CCRYPT the other; 0x78 is only a reply.
    expect(() => encodeHandshakePacket(command(0, 0x78, RMAC_I), "scbk")).toThrow(/handshake command/);
  });
});

describe("Secure Channel session packets, both directions (Annex E session)", () => {
  it("seals at one end and opens at the other, byte for byte, the MAC chain moving on each time", () => {
    const cp = new SecureSession(keys, RMAC_I);
    const pd = new SecureSession(keys, RMAC_I);

    // CP → PD, MAC only.
    expect(sealPacket(cp, command(2, 0x60, hex("")), noMark)).toEqual(WIRE.poll);
    expect(toHex(cp.commandMac)).toBe(CHAIN.poll);
    expect(openPacket(pd, read(WIRE.poll))).toEqual({ ok: true, data: hex("") });
    expect(toHex(pd.commandMac)).toBe(CHAIN.poll);

    // PD → CP, MAC only, chained on the command's MAC.
    expect(sealPacket(pd, reply(2, 0x40, hex("")), noMark)).toEqual(WIRE.ack);
    expect(toHex(pd.replyMac)).toBe(CHAIN.ack);
    expect(openPacket(cp, read(WIRE.ack))).toEqual({ ok: true, data: hex("") });
    expect(toHex(cp.replyMac)).toBe(CHAIN.ack);

    // CP → PD, data encrypted.
    expect(sealPacket(cp, command(3, 0x68, OUT_DATA), noMark)).toEqual(WIRE.out);
    expect(openPacket(pd, read(WIRE.out))).toEqual({ ok: true, data: OUT_DATA });
    expect(toHex(pd.commandMac)).toBe(CHAIN.out);

    // PD → CP, data encrypted, over several blocks.
    expect(sealPacket(pd, reply(3, 0x50, RAW_DATA), noMark)).toEqual(WIRE.raw);
    expect(openPacket(cp, read(WIRE.raw))).toEqual({ ok: true, data: RAW_DATA });
    expect(toHex(cp.replyMac)).toBe(CHAIN.raw);
    expect(toHex(cp.commandMac)).toBe(CHAIN.out);
  });

  it("adds the mark byte when asked, the MAC unchanged", () => {
    const cp = new SecureSession(keys, RMAC_I);
    expect(sealPacket(cp, command(2, 0x60, hex("")))).toEqual(Uint8Array.of(0xff, ...WIRE.poll));
  });
});

describe("Secure Channel packets that must not open", () => {
  /** A PD session that has taken the POLL and sent the ACK: the OUT is next. */
  const pdBeforeOut = () => {
    const pd = new SecureSession(keys, RMAC_I);
    openPacket(pd, read(WIRE.poll));
    sealPacket(pd, reply(2, 0x40, hex("")));
    return pd;
  };
  /** Changes one byte and puts the CRC right again, so only the Secure Channel can notice. */
  const tamper = (bytes: Uint8Array, at: number) => {
    const changed = bytes.slice();
    changed[at] = (changed[at] ?? 0) ^ 0x01;
    const crc = crc16(changed, 0, changed.length - 2);
    changed[changed.length - 2] = crc & 0xff;
    changed[changed.length - 1] = crc >> 8;
    return read(changed);
  };

  it("refuses a changed MAC or ciphertext, and leaves the chain where it was", () => {
    const pd = pdBeforeOut();
    const chain = toHex(pd.commandMac);
    expect(openPacket(pd, tamper(WIRE.out, WIRE.out.length - 3))).toMatchObject({
      ok: false,
      failure: "mac",
    });
    expect(openPacket(pd, tamper(WIRE.out, 9))).toMatchObject({ ok: false, failure: "mac" });
    expect(toHex(pd.commandMac)).toBe(chain);
    expect(openPacket(pd, read(WIRE.out))).toEqual({ ok: true, data: OUT_DATA });
  });

  it("refuses a replay: a packet's MAC holds for its place in the chain only", () => {
    const pd = pdBeforeOut();
    expect(openPacket(pd, read(WIRE.poll))).toMatchObject({ ok: false, failure: "mac" });
  });

  it("refuses a block of the other direction, a handshake block, and clear text", () => {
    const cp = new SecureSession(keys, RMAC_I);
    const pd = new SecureSession(keys, RMAC_I);
    // A reply framed as a command (SCS_15), with a MAC that would otherwise verify.
    const misframed = encodePacket(
      { ...reply(2, 0x40, hex("")), securityBlock: { type: SecurityBlock.SCS_15, data: hex("") } },
      { mark: false, mac: (message) => computeMac(keys, cp.commandMac, message) },
    );
    expect(openPacket(cp, read(misframed))).toMatchObject({
      ok: false,
      failure: "block",
      message: "security block 0x15 in a secure reply",
    });
    expect(openPacket(pd, read(WIRE.chlng))).toMatchObject({ ok: false, failure: "block" });
    expect(openPacket(pd, read(hex("53 00 08 00 04 60 EB AA")))).toMatchObject({
      ok: false,
      failure: "block",
      message: "no security block in a secure command",
    });
  });

  it("on request, takes a reply under a command's block type (libosdp's status replies) if its MAC verifies", () => {
    const pd = new SecureSession(keys, RMAC_I);
    const cp = new SecureSession(keys, RMAC_I);
    sealPacket(cp, command(2, 0x60, hex("")), { mark: false });
    pd.commandMac = cp.commandMac;
    // osdp_LSTATR 00 00 as a libosdp PD sends it: SCS_15, data in clear, MAC on the command's chain.
    const lstatr = read(
      sealPacket(pd, reply(2, 0x48, hex("00 00")), { mark: false, blockType: SecurityBlock.SCS_15 }),
    );
    expect(lstatr.securityBlock?.type).toBe(SecurityBlock.SCS_15);
    expect(lstatr.data).toEqual(hex("00 00"));
    const chain = cp.commandMac;
    expect(openPacket(cp, lstatr)).toMatchObject({ ok: false, failure: "block" });
    expect(cp.replyMac).not.toEqual(pd.replyMac);
    expect(openPacket(cp, lstatr, { anySessionBlockType: true })).toEqual({
      ok: true,
      data: hex("00 00"),
      deviation: "security block 0x15 in a secure reply, MAC valid",
    });
    expect(cp.replyMac).toEqual(pd.replyMac);
    expect(cp.commandMac).toEqual(chain);
  });

  it("refuses a reply under a command's block type whose MAC does not verify, tolerant or not", () => {
    const pd = new SecureSession(keys, RMAC_I);
    const cp = new SecureSession(keys, RMAC_I);
    sealPacket(cp, command(2, 0x60, hex("")), { mark: false });
    pd.commandMac = cp.commandMac;
    const bytes = sealPacket(pd, reply(2, 0x49, hex("00 01")), {
      mark: false,
      blockType: SecurityBlock.SCS_15,
    });
    const forged = bytes.slice();
    forged[forged.length - 3] = (forged[forged.length - 3] ?? 0) ^ 0x80; // a MAC byte
    const crc = crc16(forged, 0, forged.length - 2);
    forged[forged.length - 2] = crc & 0xff;
    forged[forged.length - 1] = crc >> 8;
    expect(openPacket(cp, read(forged), { anySessionBlockType: true })).toMatchObject({
      ok: false,
      failure: "mac",
    });
    // Tolerance covers the session types only: a handshake block stays refused.
    const handshake = encodePacket(
      { ...reply(2, 0x40, hex("")), securityBlock: { type: SecurityBlock.SCS_14, data: hex("01") } },
      { mark: false, mac: (message) => computeMac(keys, cp.commandMac, message) },
    );
    expect(openPacket(cp, read(handshake), { anySessionBlockType: true })).toMatchObject({
      ok: false,
      failure: "block",
    });
  });

  it("says when the MAC holds but the data does not decrypt", () => {
    const pd = pdBeforeOut();
    // Encrypted on another chain value but MAC'd on the right one: only the padding check can tell.
    const forged = encodePacket(
      {
        ...command(3, 0x68, encryptData(keys, new Uint8Array(16), OUT_DATA)),
        securityBlock: { type: SecurityBlock.SCS_17, data: hex("") },
      },
      { mark: false, mac: (message) => computeMac(keys, pd.replyMac, message) },
    );
    expect(openPacket(pd, read(forged))).toMatchObject({ ok: false, failure: "data" });
  });
});
