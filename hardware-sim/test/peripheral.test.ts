import { encodePacket, type Packet, PacketReader } from "@sesame/bridge";
import { describe, expect, it } from "vitest";
import { LaneController } from "../src/index.js";

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));
const toHex = (b: Uint8Array | undefined) =>
  Buffer.from(b ?? new Uint8Array())
    .toString("hex")
    .toUpperCase();

function packet(bytes: Uint8Array): Packet {
  const [event] = new PacketReader().push(bytes);
  if (event?.kind !== "packet") throw new Error("test bytes are not a packet");
  return event.packet;
}

function command(
  address: number,
  sequence: number,
  code: number,
  data: Uint8Array,
  securityBlock?: { type: number; data: Uint8Array },
) {
  return packet(
    encodePacket({ address, reply: false, sequence, crc: true, code, data, securityBlock }, { mark: false }),
  );
}

describe("simulated PD, driven with published bytes", () => {
  it("answers the specification's osdp_ID packet with its PDID from address 0x80", () => {
    const pd = new LaneController({ address: 0 }).device;
    const reply = packet(pd.receive(packet(hex("53 00 09 00 04 61 00 C0 66"))) ?? new Uint8Array());
    expect(reply).toMatchObject({ address: 0, reply: true, sequence: 0, crc: true, code: 0x45 });
    expect(reply.data.length).toBe(12);
  });

  it("answers the published osdp_POLL with exactly the published osdp_ACK", () => {
    const pd = new LaneController({ address: 0 }).device;
    expect(toHex(pd.receive(packet(hex("53 00 08 00 04 60 EB AA"))))).toBe("5380080004" + "4059AC");
  });

  it("repeats its cached reply byte for byte when the sequence number repeats, NAKs a skipped one", () => {
    const controller = new LaneController({ address: 2 });
    const pd = controller.device;
    pd.receive(command(2, 0, 0x60, hex("")));
    const first = pd.receive(command(2, 1, 0x65, hex("")));
    controller.setFireAlarm(true); // the state changes, yet a repeat must give the old reply
    const repeat = pd.receive(command(2, 1, 0x65, hex("")));
    expect(toHex(repeat)).toBe(toHex(first));
    const skipped = packet(pd.receive(command(2, 3, 0x60, hex(""))) ?? new Uint8Array());
    expect(skipped).toMatchObject({ code: 0x41 });
    expect(skipped.data).toEqual(hex("04"));
    controller.close();
  });

  it("runs the Annex E handshake on SCBK-D in install mode and produces the published cryptograms", () => {
    const pd = new LaneController({ address: 0, installMode: true }).device;
    // The PD's random number is the Annex E RND.B.
    (pd as unknown as { random: (n: number) => Uint8Array }).random = () => hex("A0A1A2A3A4A5A6A7");
    pd.receive(command(0, 0, 0x60, hex("")));
    const ccrypt = packet(
      pd.receive(command(0, 1, 0x76, hex("B0B1B2B3B4B5B6B7"), { type: 0x11, data: hex("00") })) ??
        new Uint8Array(),
    );
    expect(ccrypt.securityBlock).toEqual({ type: 0x12, data: hex("00") });
    expect(toHex(ccrypt.data.subarray(8, 16))).toBe("A0A1A2A3A4A5A6A7");
    expect(toHex(ccrypt.data.subarray(16))).toBe("FDE5D2F428EC16312471EA3C02BD7796");
    const rmac = packet(
      pd.receive(
        command(0, 2, 0x77, hex("26D3356E07762D262801FC8E6665A891"), { type: 0x13, data: hex("00") }),
      ) ?? new Uint8Array(),
    );
    expect(rmac.securityBlock).toEqual({ type: 0x14, data: hex("01") });
    expect(toHex(rmac.data)).toBe("B2A30057EB98BA2229EC1F875662B524");
    expect(pd.secure).toBe(true);
  });

  it("inside the Annex E session, answers the sealed osdp_POLL with exactly the sealed osdp_ACK", () => {
    const pd = new LaneController({ address: 0, installMode: true }).device;
    (pd as unknown as { random: (n: number) => Uint8Array }).random = () => hex("A0A1A2A3A4A5A6A7");
    pd.receive(command(0, 0, 0x76, hex("B0B1B2B3B4B5B6B7"), { type: 0x11, data: hex("00") }));
    pd.receive(command(0, 1, 0x77, hex("26D3356E07762D262801FC8E6665A891"), { type: 0x13, data: hex("00") }));
    // The session's first packets, as the bridge's secureFrame.test.ts has them (derived apart from
    // this code): POLL with SCS_15 and its MAC on the initial R-MAC, ACK with SCS_16 on the POLL's.
    const ack = pd.receive(packet(hex("53 00 0E 00 0E 02 15 60 74 DD 15 A5 32 77")));
    expect(toHex(ack)).toBe("53800E000E021640438EDA790D4E");
  });

  it("once keyed, refuses SCBK-D and clear-text commands but still identifies itself", () => {
    const pd = new LaneController({ address: 0, scbk: new Uint8Array(16).fill(7) }).device;
    expect(packet(pd.receive(command(0, 0, 0x61, hex("00"))) ?? new Uint8Array()).code).toBe(0x45);
    const out = packet(pd.receive(command(0, 1, 0x68, hex("00 05 32 00"))) ?? new Uint8Array());
    expect([out.code, ...out.data]).toEqual([0x41, 0x06]);
    const chlng = packet(
      pd.receive(command(0, 2, 0x76, hex("B0B1B2B3B4B5B6B7"), { type: 0x11, data: hex("00") })) ??
        new Uint8Array(),
    );
    expect([chlng.code, ...chlng.data]).toEqual([0x41, 0x06]);
  });

  it("answers a malformed command with the right NAK and an unknown one with NAK 3", () => {
    const pd = new LaneController({ address: 0 }).device;
    const short = packet(pd.receive(command(0, 0, 0x68, hex("00 05"))) ?? new Uint8Array());
    expect([short.code, ...short.data]).toEqual([0x41, 0x02]);
    const unknown = packet(pd.receive(command(0, 1, 0x6b, hex("00"))) ?? new Uint8Array());
    expect([unknown.code, ...unknown.data]).toEqual([0x41, 0x03]);
    expect(pd.receive(command(5, 0, 0x60, hex("")))).toBeUndefined();
  });
});
