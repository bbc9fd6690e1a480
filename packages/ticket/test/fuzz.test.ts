import { expect, it } from "vitest";
import { MAX_TEXT_LENGTH, verifyCredentialText } from "../src/credential.js";
import { createNodeVerifier } from "../src/ed25519.js";
import { corpusRandom, fuzzString, issuer, mutatedEntry, validEntry, validPool } from "./corpus.js";

const FUZZ_CASES = 100_000;

it(`${FUZZ_CASES.toLocaleString("en")} random and mutated strings: no throw, no acceptance, always a reason`, () => {
  const random = corpusRandom("fuzz");
  const verifier = createNodeVerifier();
  const { text: validText, nowMs } = validEntry(random);
  const seen = new Map<string, number>();
  const pool = validPool(random, 300);
  for (let i = 0; i < FUZZ_CASES; i++) {
    const input = i % 4 === 0 ? mutatedEntry(random, pool).text : fuzzString(random, validText);
    if (input === validText) continue;
    const v = verifyCredentialText(input, { issuerKeys: issuer.issuerKeys, nowMs, issuerVerifier: verifier });
    if (v.valid) expect.fail(`accepted a mutated or random input: ${JSON.stringify(input)}`);
    expect(v.detail.length).toBeGreaterThan(0);
    seen.set(v.reason, (seen.get(v.reason) ?? 0) + 1);
  }
  // The corpus reaches every stage of the parser and verifier.
  for (const reason of ["NOT_ASCII", "BAD_ENCODING", "TRUNCATED", "MALFORMED", "FORGED", "WRONG_PREFIX"]) {
    expect(seen.get(reason) ?? 0, reason).toBeGreaterThan(0);
  }
  // Oversized input is refused without being read through.
  const huge = `SE1:${"0".repeat(MAX_TEXT_LENGTH * 1024)}`;
  expect(
    verifyCredentialText(huge, { issuerKeys: issuer.issuerKeys, nowMs, issuerVerifier: verifier }),
  ).toMatchObject({
    reason: "TOO_LONG",
  });
}, 300_000);
