import { createNodeSigner, createNodeVerifier, keyPairFromSeed } from "@sesame/ticket";
import { describe, expect, it } from "vitest";
import { MemoryGateStore } from "./memory-store.js";
import {
  canonicalEvent,
  decodeAck,
  decodeBatchEvents,
  decodeEnvelope,
  decodeEventBatch,
  decodeGateHeartbeat,
  decodeReplay,
  decodeStream,
  encodeAck,
  encodeEventBatch,
  encodeGateHeartbeat,
  MAX_MESSAGE_BYTES,
  trustListRejectReason,
  validateEvent,
} from "./protocol.js";
import { signEventBatch, verifyEventBatch } from "./signing.js";

const signer = createNodeSigner();
const verifier = createNodeVerifier();

describe("protocol codecs", () => {
  it("rejects oversized, malformed and unknown-version payloads with a stable reason", () => {
    expect(decodeEnvelope("x".repeat(MAX_MESSAGE_BYTES + 1))).toMatchObject({
      ok: false,
      reason: "oversized",
    });
    expect(decodeEnvelope("{nope")).toMatchObject({ ok: false, reason: "malformed-json" });
    expect(decodeEnvelope("[1,2]")).toMatchObject({ ok: false, reason: "invalid" });
    expect(decodeEnvelope('{"v":2}')).toMatchObject({ ok: false, reason: "unknown-version" });
    expect(decodeEnvelope("{}")).toMatchObject({ ok: false, reason: "unknown-version" });
    expect(decodeEnvelope('{"v":1}')).toMatchObject({ ok: true });
  });

  it("names the bad field", () => {
    const r = decodeAck('{"v":1,"upToGateSeq":-1,"at":0}');
    expect(r).toMatchObject({ ok: false, reason: "invalid" });
    if (!r.ok) expect(r.detail).toMatch(/upToGateSeq/);
    expect(decodeReplay('{"v":1,"stream":"tickets","from":1}')).toMatchObject({
      ok: false,
      reason: "invalid",
    });
    const s = decodeStream('{"v":1,"stream":"feed","changes":[{"sequence":1,"type":"cancel"}]}');
    expect(s).toMatchObject({ ok: false });
    if (!s.ok) expect(s.detail).toMatch(/changes\[0\]\.ticketId/);
  });

  it("carries a manual admission's supervisor override, and names what is wrong with a bad one", () => {
    const override = { supervisor: "SUP-01", note: "phone battery dead", state: "MOBILE_TICKET" };
    const event = {
      eventId: "e1",
      gateId: "A1",
      gateSeq: 1,
      lane: 1,
      kind: "entered",
      direction: "entry",
      reason: "SUPERVISOR_OVERRIDE",
      ticketId: 7,
      session: 1,
      manual: true,
      steward: "S-001",
      override,
      at: 1,
    };
    expect(validateEvent(event).override).toEqual(override);
    expect(canonicalEvent(validateEvent(event)).override).toEqual(override);
    const bad = (o: unknown) => () => validateEvent({ ...event, override: o });
    expect(bad({ ...override, note: "  " })).toThrow(/override\.note/);
    expect(bad({ ...override, supervisor: "" })).toThrow(/override\.supervisor/);
    expect(bad({ ...override, state: "WHATEVER" })).toThrow(/override\.state/);
    expect(bad("SUP-01")).toThrow(/override/);
  });

  it("keeps a snapshot pointer on the sync-server: no other host, no protocol-relative path", () => {
    const feed = (path: string) =>
      decodeStream(
        JSON.stringify({ v: 1, stream: "feed", changes: [], snapshot: { feedSequence: 9, path } }),
      );
    expect(feed("/api/gate/bundle")).toMatchObject({ ok: true });
    for (const path of ["//evil.example/steal", "http://evil.example/x", "/api\\..", "api/gate/bundle"]) {
      const r = feed(path);
      expect(r, path).toMatchObject({ ok: false, reason: "invalid" });
      if (!r.ok) expect(r.detail).toMatch(/snapshot\.path/);
    }
  });

  it("says why a trust list is refused: forged, replayed, another venue's, malformed", () => {
    const refused = (reason: "BAD_SIGNATURE" | "ROLLBACK" | "WRONG_VENUE" | "MALFORMED") =>
      trustListRejectReason({ ok: false, reason, detail: "" });
    expect(refused("BAD_SIGNATURE")).toBe("bad-signature");
    expect(refused("ROLLBACK")).toBe("rollback");
    expect(refused("WRONG_VENUE")).toBe("wrong-target");
    expect(refused("MALFORMED")).toBe("invalid");
  });

  it("carries a gate's offline lane peripherals in its heartbeat, and names what is wrong with a bad one", () => {
    const heartbeat = {
      at: 1_000,
      feedSequence: 3,
      admissionSeq: 4,
      outboxDepth: 0,
      ackedGateSeq: 2,
      offlinePeripherals: [
        { lane: 2, peripheral: "reader" as const, reason: "secure channel failed: reply MAC mismatch" },
      ],
    };
    expect(decodeGateHeartbeat(encodeGateHeartbeat(heartbeat))).toEqual({ ok: true, value: heartbeat });
    const { offlinePeripherals: _none, ...without } = heartbeat;
    expect(decodeGateHeartbeat(encodeGateHeartbeat(without))).toEqual({ ok: true, value: without });
    const bad = decodeGateHeartbeat(
      JSON.stringify({
        v: 1,
        ...without,
        offlinePeripherals: [{ lane: 2, peripheral: "turnstile", reason: "" }],
      }),
    );
    expect(bad).toMatchObject({ ok: false, reason: "invalid" });
    if (!bad.ok) expect(bad.detail).toMatch(/offlinePeripherals\[0\]\.peripheral/);
  });

  it("round-trips an ack", () => {
    const ack = {
      upToGateSeq: 12,
      at: 5,
      rejected: [{ gateSeq: 3, reason: "invalid" as const, detail: "x" }],
    };
    expect(decodeAck(encodeAck(ack))).toEqual({ ok: true, value: ack });
  });

  it("validates events and keeps only known fields", () => {
    const store = new MemoryGateStore("A1");
    const e = store.append({ kind: "entered", ticketId: 5, session: 1 });
    expect(validateEvent({ ...e, extra: "dropped" })).toEqual(e);
    expect(() => validateEvent({ ...e, reason: "LET_IN" })).toThrow(/reason/);
    expect(() => validateEvent({ ...e, gateId: "A/1" })).toThrow(/gateId/);
    expect(() => validateEvent({ ...e, gateSeq: 0 })).toThrow(/gateSeq/);
    // A lane's alarm (forced passage, tailgate) travels like any event, without a ticket.
    const alarm = { ...e, kind: "alarm", reason: "FORCED_PASSAGE", ticketId: undefined, session: undefined };
    expect(validateEvent(alarm)).toMatchObject({ kind: "alarm", reason: "FORCED_PASSAGE" });
    expect(() => validateEvent({ ...alarm, kind: "burglary" })).toThrow(/kind/);
  });

  it("signs a batch over its exact bytes; any change breaks the signature", () => {
    const store = new MemoryGateStore("A1");
    const events = [
      store.append({ kind: "entered", ticketId: 1, session: 1 }),
      store.append({ kind: "refused" }),
    ];
    const seed = Buffer.alloc(32, 5);
    const pub = keyPairFromSeed(seed).publicKey;
    const batch = signEventBatch("A1", 0, events, seed, signer);
    const decoded = decodeEventBatch(encodeEventBatch(batch));
    if (!decoded.ok) throw new Error(decoded.detail);
    expect(verifyEventBatch(decoded.value, pub, verifier)).toBe(true);
    expect(verifyEventBatch({ ...decoded.value, after: 1 }, pub, verifier)).toBe(false);
    expect(verifyEventBatch({ ...decoded.value, gateId: "B1" }, pub, verifier)).toBe(false);
    const altered = decoded.value.events.replace('"entered"', '"exited"');
    expect(verifyEventBatch({ ...decoded.value, events: altered }, pub, verifier)).toBe(false);
  });

  it("refuses batches whose gateSeq does not increase", () => {
    expect(decodeBatchEvents("[]")).toMatchObject({ ok: false, reason: "invalid" });
    expect(decodeBatchEvents('[{"gateSeq":2},{"gateSeq":2}]')).toMatchObject({
      ok: false,
      reason: "invalid",
    });
    expect(decodeBatchEvents('[{"gateSeq":1},{"gateSeq":3}]')).toMatchObject({ ok: true });
    expect(decodeBatchEvents("{")).toMatchObject({ ok: false, reason: "malformed-json" });
  });
});
