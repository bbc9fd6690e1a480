import { describe, expect, it } from "vitest";
import { crc16, encodePacket, type Packet, PacketReader, parsePacket, type ReadEvent } from "../src/index.js";

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));
const packets = (events: ReadEvent[]): Packet[] =>
  events.flatMap((e) => (e.kind === "packet" ? [e.packet] : []));

// Golden packets. ID is SIA OSDP v2.2 Annex E CRC example 2. POLL, ACK and NAK are the byte
// sequences in OSDPBench's test helpers (a public OSDP.Net tool), independent of this code.
const ID = hex("53 00 09 00 04 61 00 C0 66");
const POLL = hex("53 00 08 00 04 60 EB AA");
const ACK = hex("53 80 08 00 04 40 59 AC");
const NAK_1 = hex("53 80 09 00 04 41 01 27 A4");

describe("OSDP packet encoding", () => {
  it("encodes osdp_POLL to address 0, sequence 0, CRC exactly as published", () => {
    const bytes = encodePacket({
      address: 0,
      reply: false,
      sequence: 0,
      crc: true,
      code: 0x60,
      data: hex(""),
    });
    expect(Buffer.from(bytes).toString("hex")).toBe(`ff${Buffer.from(POLL).toString("hex")}`);
  });

  it("encodes osdp_ID as in the specification's CRC example", () => {
    const bytes = encodePacket(
      { address: 0, reply: false, sequence: 0, crc: true, code: 0x61, data: hex("00") },
      { mark: false },
    );
    expect(bytes).toEqual(ID);
  });

  it("encodes replies with bit 7 of the address set (ACK, NAK)", () => {
    expect(
      encodePacket(
        { address: 0, reply: true, sequence: 0, crc: true, code: 0x40, data: hex("") },
        { mark: false },
      ),
    ).toEqual(ACK);
    expect(
      encodePacket(
        { address: 0, reply: true, sequence: 0, crc: true, code: 0x41, data: hex("01") },
        { mark: false },
      ),
    ).toEqual(NAK_1);
  });

  it("encodes checksum mode as in the specification's checksum example", () => {
    const bytes = encodePacket(
      { address: 0, reply: false, sequence: 0, crc: false, code: 0x61, data: hex("00") },
      { mark: false },
    );
    expect(bytes).toEqual(hex("53 00 08 00 00 61 00 44"));
  });

  it("refuses what cannot go on the wire, with a clear message", () => {
    const base = { reply: false, sequence: 0, crc: true, code: 0x60, data: hex("") };
    expect(() => encodePacket({ ...base, address: 0x80 })).toThrow(/address 128/);
    expect(() => encodePacket({ ...base, address: 1, sequence: 4 })).toThrow(/sequence 4/);
    expect(() => encodePacket({ ...base, address: 1, data: new Uint8Array(2000) })).toThrow(/exceeds/);
    expect(() => encodePacket({ ...base, address: 1, securityBlock: { type: 0x15, data: hex("") } })).toThrow(
      /MAC/,
    );
  });
});

describe("OSDP packet reader", () => {
  it("reads the published packets and their fields", () => {
    const [poll] = packets(new PacketReader().push(POLL));
    expect(poll).toMatchObject({ address: 0, reply: false, sequence: 0, crc: true, code: 0x60 });
    const [nak] = packets(new PacketReader().push(NAK_1));
    expect(nak).toMatchObject({ address: 0, reply: true, code: 0x41 });
    expect(nak?.data).toEqual(hex("01"));
  });

  it("reads an osdp_RAW card report laid out as in open-osdp's documentation", () => {
    // 53 80 16 00 07 50 00 00 4b 00 … : reply from PD 0, seq 3, CRC, RAW reader 0, format 0, 75 bits.
    const body = hex("53 80 16 00 07 50 00 00 4b 00 09 a4 49 4a a3 27 4c d5 2b c0");
    const packet = encodePacket(
      { address: 0, reply: true, sequence: 3, crc: true, code: 0x50, data: body.subarray(6) },
      { mark: false },
    );
    expect(packet.subarray(0, body.length)).toEqual(body);
    const [raw] = packets(new PacketReader().push(packet));
    expect(raw).toMatchObject({ sequence: 3, code: 0x50 });
  });

  it("finds packets across chunk boundaries and after garbage, and reports the garbage", () => {
    const reader = new PacketReader();
    const stream = Uint8Array.from([0x01, 0x02, 0xff, ...POLL, 0x99, 0xff, ...ACK]);
    const events: ReadEvent[] = [];
    for (let i = 0; i < stream.length; i += 3) events.push(...reader.push(stream.subarray(i, i + 3)));
    expect(packets(events).map((p) => p.code)).toEqual([0x60, 0x40]);
    const discarded = events
      .filter((e) => e.kind === "discarded")
      .reduce((n, e) => n + (e.kind === "discarded" ? e.bytes : 0), 0);
    expect(discarded).toBe(3);
  });

  it("drops a packet with a bad CRC and resynchronises on the next one", () => {
    const bad = POLL.slice();
    bad[bad.length - 1] = (bad[bad.length - 1] ?? 0) ^ 0x01;
    const events = new PacketReader().push(Uint8Array.from([...bad, ...ACK]));
    expect(packets(events).map((p) => p.code)).toEqual([0x40]);
    expect(events.some((e) => e.kind === "discarded" && e.reason === "bad CRC")).toBe(true);
  });

  it("is not stalled by a SOM in noise that announces a long packet", () => {
    // 53 xx 00 01 announces 256 bytes; the real reply behind it must still come out.
    const events = new PacketReader().push(Uint8Array.from([0x53, 0x00, 0x00, 0x01, 0x04, ...ACK]));
    expect(packets(events).map((p) => p.code)).toEqual([0x40]);
  });

  it("notes whether the mark byte preceded the packet", () => {
    expect(packets(new PacketReader().push(Uint8Array.from([0xff, ...POLL])))[0]?.marked).toBe(true);
    expect(packets(new PacketReader().push(POLL))[0]?.marked).toBe(false);
  });

  it("never throws and never invents a packet from random noise", () => {
    const reader = new PacketReader();
    let seed = 12345;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed & 0xff;
    };
    let found = 0;
    for (let round = 0; round < 2000; round++) {
      const chunk = Uint8Array.from({ length: 1 + (round % 40) }, random);
      found += packets(reader.push(chunk)).length;
    }
    // A random 16-bit CRC match is possible but needs a plausible header too: vanishingly rare.
    expect(found).toBeLessThanOrEqual(1);
    expect(reader.pending).toBeLessThanOrEqual(1024);
  });

  it("rejects a structurally broken packet whose CRC is right", () => {
    // Control 0x0D: CRC and a security block, whose length byte (9) runs past the packet's end.
    const body = hex("53 01 0A 00 0D 09 15 60");
    const crc = crc16(body);
    const events = new PacketReader().push(Uint8Array.from([...body, crc & 0xff, crc >> 8]));
    expect(packets(events)).toEqual([]);
    expect(events).toContainEqual(expect.objectContaining({ kind: "discarded", bytes: 10 }));
    expect(() => parsePacket(body.subarray(0, 5))).toThrow(/not an OSDP packet/);
  });
});
