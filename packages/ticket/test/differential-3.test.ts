import { expect, it } from "vitest";
import { runDifferentialShard } from "./differential.js";

it("tweetnacl, node:crypto and libsodium agree on shard 3 of the 10,000-credential corpus", () => {
  const { valid, refused } = runDifferentialShard(3);
  expect(valid).toBeGreaterThan(500);
  for (const reason of ["FORGED", "FORGED_PROOF", "UNKNOWN_KEY"])
    expect(refused.get(reason) ?? 0).toBeGreaterThan(10);
}, 600_000);
