import { describe, expect, it } from "vitest";
import { type Credential, verifyCredential } from "./credential.js";
import { createNodeSigner, createSodiumVerifier, keyPairFromSeed } from "./ed25519.js";
import { createTestIssuer, T0 } from "./fixtures.js";
import { type SecondCoreVerifier, withSecondCore } from "./second-core.js";

const sodium = createSodiumVerifier();
if (!sodium) throw new Error("sodium-native's binding does not load on this machine");
const issuer = createTestIssuer("second-core");

/**
 * A verifier whose worker has started (it answers on the caller's thread until then), waited for
 * as long as it takes: what is tested is the answers, not how soon they come.
 */
async function started(): Promise<SecondCoreVerifier> {
  const verifier = withSecondCore(sodium as NonNullable<typeof sodium>, { answerBudgetMs: 10_000 });
  if (!verifier) throw new Error("no worker");
  const message = new Uint8Array([1]);
  const seed = new Uint8Array(32).fill(3);
  const signature = signer.sign(message, seed);
  const { publicKey } = issuer.issue().device; // any key: the answer is false, what counts is who gives it
  for (let i = 0; i < 200 && verifier.answeredByWorker === 0; i++) {
    verifier.begin?.(message, signature, publicKey).wait();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  expect(verifier.answeredByWorker).toBeGreaterThan(0);
  return verifier;
}

const signer = createNodeSigner();
const keyOf = (seed: Uint8Array) => keyPairFromSeed(seed).publicKey;

const flip = (bytes: Uint8Array, at: number) => {
  const out = Uint8Array.from(bytes);
  out[at] = (out[at] ?? 0) ^ 0x01;
  return out;
};

describe("the device proof on the second core", () => {
  it("gives libsodium's answer for valid and forged signatures, from the worker", async () => {
    const verifier = await started();
    const before = verifier.answeredByWorker;
    for (let i = 0; i < 200; i++) {
      const message = issuer.random.bytes(50);
      const seed = issuer.random.bytes(32);
      const { publicKey } = issuer.issue().device;
      const signature = signer.sign(message, seed);
      const key = i % 3 === 0 ? publicKey : keyOf(seed);
      const signed = i % 5 === 0 ? flip(signature, i % 64) : signature;
      const expected = sodium?.verify(message, signed, key);
      expect(verifier.begin?.(message, signed, key).wait()).toBe(expected);
    }
    expect(verifier.answeredByWorker - before).toBe(200);
  });

  it("an answer never collected does not block the next, nor mix with it", async () => {
    const verifier = await started();
    const seed = issuer.random.bytes(32);
    const good = issuer.random.bytes(50);
    const abandoned = verifier.begin?.(good, signer.sign(good, seed), keyOf(seed));
    const bad = issuer.random.bytes(50);
    const signature = flip(signer.sign(bad, seed), 3);
    // Until the worker has answered the abandoned one, the next are verified here; then by it.
    const before = verifier.answeredByWorker;
    for (let i = 0; i < 500 && verifier.answeredByWorker === before; i++) {
      expect(verifier.begin?.(bad, signature, keyOf(seed)).wait()).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(verifier.answeredByWorker).toBe(before + 1);
    // Collected after a later verification used the buffer: still its own answer.
    expect(abandoned?.wait()).toBe(true);
  });

  it("a late worker's verification is done on the caller's thread, with the same answer", async () => {
    const verifier = withSecondCore(sodium as NonNullable<typeof sodium>, { answerBudgetMs: 0 });
    if (!verifier) throw new Error("no worker");
    for (let i = 0; i < 300; i++) {
      const message = issuer.random.bytes(50);
      const seed = issuer.random.bytes(32);
      const signature = i % 2 === 0 ? signer.sign(message, seed) : flip(signer.sign(message, seed), 5);
      expect(verifier.begin?.(message, signature, keyOf(seed)).wait()).toBe(i % 2 === 0);
      if (i % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 5)); // lets the worker start
    }
    // Given no time at all, the worker answered a few at most; the caller's thread the rest.
    expect(verifier.answeredHere).toBeGreaterThan(0);
  });

  it("verifyCredential refuses every forgery with the same reason as on one core", async () => {
    const verifier = await started();
    const at = T0 + 60_000;
    const live = (): Credential => {
      const { credential, device } = issuer.issue();
      return issuer.show(credential, device, at);
    };
    const cases: Record<string, Credential> = {};
    cases.valid = live();
    const a = live();
    cases.forgedIssuer = { ...a, issuerSignature: flip(a.issuerSignature, 7) };
    const b = live();
    if (!b.proof) throw new Error("no proof");
    cases.forgedProof = { ...b, proof: { ...b.proof, signature: flip(b.proof.signature, 9) } };
    const c = live();
    if (!c.proof) throw new Error("no proof");
    cases.bothForged = {
      ...c,
      issuerSignature: flip(c.issuerSignature, 1),
      proof: { ...c.proof, signature: flip(c.proof.signature, 2) },
    };
    const { credential: noProof } = issuer.issue();
    cases.proofMissing = noProof;
    const e = issuer.issue();
    cases.otherPhone = issuer.show(e.credential, issuer.issue().device, at);
    const f = issuer.issue();
    cases.screenshot = issuer.show(f.credential, f.device, at - 5 * 60_000);
    const expected: Record<string, string> = {
      valid: "VALID",
      forgedIssuer: "FORGED",
      forgedProof: "FORGED_PROOF",
      bothForged: "FORGED",
      proofMissing: "TRUNCATED",
      otherPhone: "FORGED_PROOF",
      screenshot: "EXPIRED_CODE",
    };
    for (const [name, credential] of Object.entries(cases)) {
      const outcome = (deviceVerifier: typeof sodium) => {
        const v = verifyCredential(credential, {
          issuerKeys: issuer.issuerKeys,
          nowMs: at,
          issuerVerifier: sodium as NonNullable<typeof sodium>,
          ...(deviceVerifier ? { deviceVerifier } : {}),
        });
        return v.valid ? "VALID" : v.reason;
      };
      expect(`${name}: ${outcome(verifier)}`).toBe(`${name}: ${expected[name]}`);
      expect(outcome(sodium)).toBe(expected[name]);
    }
  });
});
