import { CommandCode, ReplyCode, SecurityBlock } from "./constants.js";
import {
  type EncodeOptions,
  encodePacket,
  type Packet,
  type PacketFields,
  type SecurityBlockField,
} from "./packet.js";
import {
  bytesEqual,
  computeMac,
  decryptData,
  encryptData,
  SecureChannelError,
  type SecureSession,
} from "./secureChannel.js";

/**
 * Secure Channel framing (SIA OSDP v2.2 §5.10, Annex D), written once for both ends of the link:
 * the control panel and the simulated peripherals build and open their secure packets here, and
 * keep only their own state machines (as libosdp's osdp_phy.c serves its CP and PD alike).
 *
 * The security control block: SCS_11–SCS_14 mark the handshake; then every command carries SCS_15
 * (MAC only) or SCS_17 (MAC, data encrypted) and every reply SCS_16 or SCS_18. The MAC of a
 * command is chained on the last reply's MAC and the MAC of a reply on its command's, so a packet
 * replayed, reordered or lifted from another session does not verify.
 */

/** Which key a handshake runs on: the PD's own SCBK, or the install-mode default SCBK-D. */
export type KeyKind = "scbk" | "scbk-d";

const EMPTY = new Uint8Array(0);

/** The security block type of a handshake message, or undefined if the code is not one. */
export function handshakeBlockType(code: number, reply: boolean): number | undefined {
  // osdp_CHLNG and osdp_CCRYPT share 0x76: the direction tells them apart.
  if (reply) {
    if (code === ReplyCode.CCRYPT) return SecurityBlock.SCS_12;
    if (code === ReplyCode.RMAC_I) return SecurityBlock.SCS_14;
  } else {
    if (code === CommandCode.CHLNG) return SecurityBlock.SCS_11;
    if (code === CommandCode.SCRYPT) return SecurityBlock.SCS_13;
  }
  return undefined;
}

/**
 * Encodes a handshake packet (osdp_CHLNG, osdp_CCRYPT, osdp_SCRYPT, osdp_RMAC_I) with its security
 * block: SCS_11–SCS_13 name the key (0x00 SCBK-D, 0x01 SCBK); SCS_14 says the CP's cryptogram was
 * accepted (0x01), so `key` does not show in it. Handshake packets carry no MAC.
 */
export function encodeHandshakePacket(
  fields: Omit<PacketFields, "securityBlock">,
  key: KeyKind,
  options: EncodeOptions = {},
): Uint8Array {
  const type = handshakeBlockType(fields.code, fields.reply);
  if (type === undefined) {
    throw new SecureChannelError(
      `0x${fields.code.toString(16)} is not a Secure Channel handshake ${fields.reply ? "reply" : "command"}`,
    );
  }
  const data = Uint8Array.of(type === SecurityBlock.SCS_14 ? 0x01 : key === "scbk-d" ? 0x00 : 0x01);
  return encodePacket({ ...fields, securityBlock: { type, data } }, { mark: options.mark });
}

/** The key a handshake packet names (SCS_11–SCS_13): 0x00 is SCBK-D, anything else the SCBK. */
export function handshakeKey(block: SecurityBlockField): KeyKind {
  return block.data[0] === 0x00 ? "scbk-d" : "scbk";
}

/**
 * Encodes a command (CP) or reply (PD) inside an established session: data, if any, encrypted with
 * S-ENC (SCS_17/SCS_18), and the MAC appended; the session's chain moves on to this packet's MAC.
 * The chain value it starts from is the other side's last MAC, so the bytes are those of this one
 * exchange: to repeat the packet, keep them and send them again.
 */
export function sealPacket(
  session: SecureSession,
  fields: Omit<PacketFields, "securityBlock">,
  options: Pick<EncodeOptions, "mark"> & {
    /**
     * Send this block type instead of the specification's: SCS_15/SCS_16 leave the data in clear,
     * SCS_17/SCS_18 encrypt it. Only the simulator uses it, to play a PD that gets the type wrong.
     */
    readonly blockType?: number;
  } = {},
): Uint8Array {
  const chain = fields.reply ? session.commandMac : session.replyMac;
  const type =
    options.blockType ??
    (fields.reply
      ? fields.data.length > 0
        ? SecurityBlock.SCS_18
        : SecurityBlock.SCS_16
      : fields.data.length > 0
        ? SecurityBlock.SCS_17
        : SecurityBlock.SCS_15);
  if (type < SecurityBlock.SCS_15 || type > SecurityBlock.SCS_18) {
    throw new SecureChannelError(`0x${type.toString(16)} is not a session security block type`);
  }
  const encrypted = isEncryptedBlock(type) && fields.data.length > 0;
  return encodePacket(
    {
      ...fields,
      securityBlock: { type, data: EMPTY },
      data: encrypted ? encryptData(session.keys, chain, fields.data) : fields.data,
    },
    {
      mark: options.mark,
      mac: (message) => {
        const mac = computeMac(session.keys, chain, message);
        if (fields.reply) session.replyMac = mac;
        else session.commandMac = mac;
        return mac;
      },
    },
  );
}

/** SCS_17 and SCS_18 carry encrypted data; SCS_15 and SCS_16 carry it in clear. */
function isEncryptedBlock(type: number): boolean {
  return type === SecurityBlock.SCS_17 || type === SecurityBlock.SCS_18;
}

export type OpenedPacket =
  | {
      readonly ok: true;
      readonly data: Uint8Array;
      /**
       * Set when the packet's MAC verified but its block type is the other direction's (a reply
       * with SCS_15 or SCS_17, as libosdp 3.x PDs send their status replies): it was accepted only
       * because the caller allowed it (`anySessionBlockType`).
       */
      readonly deviation?: string;
    }
  | {
      readonly ok: false;
      /** "block": not a secure packet of this direction; "mac": the MAC does not verify; "data": it does, but the data does not decrypt. */
      readonly failure: "block" | "mac" | "data";
      readonly message: string;
    };

/**
 * Opens a command (at the PD) or reply (at the CP) received inside an established session: checks
 * the security block belongs to its direction, verifies the MAC against the chain, and decrypts the
 * data of SCS_17/SCS_18. Only a packet that passes all of that moves the chain on.
 */
export function openPacket(
  session: SecureSession,
  packet: Packet,
  options: {
    /**
     * Accept any session block type (SCS_15–SCS_18) whose MAC verifies, reporting the deviation,
     * instead of only this direction's two. The MAC is checked all the same.
     */
    readonly anySessionBlockType?: boolean;
  } = {},
): OpenedPacket {
  const block = packet.securityBlock;
  const what = packet.reply ? "reply" : "command";
  const [macOnly, encrypted] = packet.reply
    ? [SecurityBlock.SCS_16, SecurityBlock.SCS_18]
    : [SecurityBlock.SCS_15, SecurityBlock.SCS_17];
  const found = block === undefined ? "no security block" : `security block 0x${block.type.toString(16)}`;
  const expected = block !== undefined && (block.type === macOnly || block.type === encrypted);
  const tolerated =
    options.anySessionBlockType === true &&
    block !== undefined &&
    block.type >= SecurityBlock.SCS_15 &&
    block.type <= SecurityBlock.SCS_18;
  if (block === undefined || (!expected && !tolerated)) {
    return { ok: false, failure: "block", message: `${found} in a secure ${what}` };
  }
  const chain = packet.reply ? session.commandMac : session.replyMac;
  const mac = computeMac(session.keys, chain, packet.bytes.subarray(0, packet.macOffset));
  if (packet.mac === undefined || !bytesEqual(mac.subarray(0, 4), packet.mac)) {
    return { ok: false, failure: "mac", message: `${what} MAC does not verify` };
  }
  let data = packet.data;
  if (isEncryptedBlock(block.type)) {
    try {
      data = decryptData(session.keys, chain, data);
    } catch (error) {
      return { ok: false, failure: "data", message: (error as Error).message };
    }
  }
  if (packet.reply) session.replyMac = mac;
  else session.commandMac = mac;
  if (expected) return { ok: true, data };
  return { ok: true, data, deviation: `${found} in a secure ${what}, MAC valid` };
}
