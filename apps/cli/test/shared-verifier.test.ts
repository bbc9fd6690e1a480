import { createNodeSigner, createNodeVerifier, type Ed25519Verifier, keyPairFromSeed } from "@sesame/ticket";
import { describe, expect, it } from "vitest";
import { createSharedVerifier } from "../src/rehearsal/shared-verifier.js";

describe("the rehearsal's shared verifier", () => {
  const seed = new Uint8Array(32).fill(7);
  const signer = createNodeSigner();
  const node = createNodeVerifier();
  const { publicKey: key } = keyPairFromSeed(seed);

  it("answers as the verifier it wraps, and checks each distinct message once", () => {
    let checks = 0;
    const counting: Ed25519Verifier = {
      name: "counting",
      verify: (m, s, k) => {
        checks++;
        return node.verify(m, s, k);
      },
    };
    const shared = createSharedVerifier(counting);
    const message = Buffer.from("admissions 1");
    const signature = signer.sign(message, seed);
    for (let gate = 0; gate < 32; gate++) expect(shared.verify(message, signature, key)).toBe(true);
    expect(checks).toBe(1);
    // Same key and signature, other bytes: checked anew, and refused.
    const tampered = Buffer.from("admissions 2");
    expect(shared.verify(tampered, signature, key)).toBe(false);
    expect(checks).toBe(2);
    // The last bytes seen under a signature are what is remembered: the real message is checked again.
    expect(shared.verify(message, signature, key)).toBe(true);
    expect(checks).toBe(3);
  });

  it("forgets the oldest answers beyond its size", () => {
    let checks = 0;
    const counting: Ed25519Verifier = { name: "counting", verify: () => ++checks > 0 };
    const shared = createSharedVerifier(counting, 2);
    const sig = (n: number) => new Uint8Array(64).fill(n);
    const key = new Uint8Array(32);
    const m = Buffer.from("m");
    shared.verify(m, sig(1), key);
    shared.verify(m, sig(2), key);
    shared.verify(m, sig(3), key);
    expect(checks).toBe(3);
    shared.verify(m, sig(1), key);
    expect(checks).toBe(4);
  });
});
