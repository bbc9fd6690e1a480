import { expect } from "vitest";
import { verifyCredentialText } from "../src/credential.js";
import {
  createNodeVerifier,
  createSodiumVerifier,
  nodeVerifierNoCache,
  tweetnaclVerifier,
} from "../src/ed25519.js";
import { corpusRandom, issuer, mutatedEntry, validEntry, validPool } from "./corpus.js";

/** Total size of the differential corpus, split in shards so that vitest can run them side by side. */
export const DIFFERENTIAL_TOTAL = 10_000;
export const DIFFERENTIAL_SHARDS = 4;

/**
 * Verifies one shard of the corpus with tweetnacl, node:crypto and libsodium (the scan path's
 * verifier, when its binding loads) and expects the same outcome for
 * every credential. Returns counts so the test can show that both valid and invalid cases ran.
 */
export function runDifferentialShard(shard: number): { valid: number; refused: Map<string, number> } {
  const random = corpusRandom(`differential-${shard}`);
  const node = createNodeVerifier();
  const sodium = createSodiumVerifier();
  const refused = new Map<string, number>();
  let valid = 0;
  const perShard = DIFFERENTIAL_TOTAL / DIFFERENTIAL_SHARDS;
  const pool = validPool(random, 200);
  for (let i = 0; i < perShard; i++) {
    const entry = i % 3 === 0 ? validEntry(random) : mutatedEntry(random, pool);
    const base = { issuerKeys: issuer.issuerKeys, nowMs: entry.nowMs };
    const slow = verifyCredentialText(entry.text, { ...base, issuerVerifier: tweetnaclVerifier });
    const fast = verifyCredentialText(entry.text, {
      ...base,
      issuerVerifier: node,
      deviceVerifier: nodeVerifierNoCache,
    });
    const slowOutcome = slow.valid ? "VALID" : slow.reason;
    const fastOutcome = fast.valid ? "VALID" : fast.reason;
    if (slowOutcome !== fastOutcome) {
      expect.fail(
        `verifiers disagree on ${entry.text}: tweetnacl ${slowOutcome}, node:crypto ${fastOutcome}`,
      );
    }
    if (sodium) {
      const scan = verifyCredentialText(entry.text, { ...base, issuerVerifier: sodium });
      const scanOutcome = scan.valid ? "VALID" : scan.reason;
      if (scanOutcome !== fastOutcome)
        expect.fail(
          `verifiers disagree on ${entry.text}: libsodium ${scanOutcome}, node:crypto ${fastOutcome}`,
        );
    }
    if (fast.valid) valid++;
    else refused.set(fast.reason, (refused.get(fast.reason) ?? 0) + 1);
  }
  return { valid, refused };
}
