import { createNodeSigner, createNodeVerifier, type IssuerKey, keyPairFromSeed } from "@sesame/ticket";
import { describe, expect, it } from "vitest";
import { signTicketChange, verifyIssuedChange as verifyTicketChange } from "./change-signature.js";
import type { TicketChange } from "./model.js";

const seed = new Uint8Array(32).fill(7);
const key: IssuerKey = {
  keyId: 3,
  publicKey: keyPairFromSeed(seed).publicKey,
  validFrom: 0,
  validUntil: 2_000_000_000,
  revoked: false,
};
const signer = createNodeSigner();
const verifier = createNodeVerifier();
const resale: TicketChange = {
  sequence: 9,
  type: "resale",
  ticketId: 42,
  generation: 2,
  holder: "Zoé Martin",
};

describe("ticket change signature", () => {
  it("verifies a change signed by a pinned issuer key, whatever the order of its fields", () => {
    const signed = signTicketChange("stade-demo", resale, { keyId: 3, seed }, signer);
    const reordered = {
      ...signed,
      change: {
        holder: "Zoé Martin",
        generation: 2,
        ticketId: 42,
        type: "resale",
        sequence: 9,
      } as TicketChange,
    };
    expect(verifyTicketChange(reordered, "stade-demo", new Map([[3, key]]), verifier)).toEqual({ ok: true });
  });

  it("refuses a changed field, another venue, an unknown key and a revoked key", () => {
    const signed = signTicketChange("stade-demo", resale, { keyId: 3, seed }, signer);
    const keys = new Map([[3, key]]);
    const forged = { ...signed, change: { ...resale, holder: "Mallory" } };
    expect(verifyTicketChange(forged, "stade-demo", keys, verifier)).toMatchObject({
      ok: false,
      reason: "bad-signature",
    });
    expect(verifyTicketChange({ ...signed, venue: "other" }, "stade-demo", keys, verifier)).toMatchObject({
      ok: false,
      reason: "wrong-venue",
    });
    expect(verifyTicketChange(signed, "stade-demo", new Map(), verifier)).toMatchObject({
      ok: false,
      reason: "unknown-key",
    });
    expect(
      verifyTicketChange(signed, "stade-demo", new Map([[3, { ...key, revoked: true }]]), verifier),
    ).toMatchObject({
      ok: false,
      reason: "revoked-key",
    });
    expect(verifyTicketChange({ ...signed, signature: "zz" }, "stade-demo", keys, verifier).ok).toBe(false);
  });
});
