import { describe, expect, it } from "vitest";
import { checkTicket, isValidTicket } from "../src/validate.js";

/*
 * The bulk import checks tickets with isValidTicket and asks checkTicket why only when it says
 * no: the two must accept exactly the same tickets.
 */

const good = {
  id: 42,
  generation: 2,
  kind: "mobile",
  status: "valid",
  sessions: [1, 2],
  entrance: 1,
  zone: 3,
  seat: "A12",
  categories: ["CHILD"],
  holder: "Zoé Dupré",
  orderReference: "ORD-1234",
  issueSequence: 17,
};

const odd: unknown[] = [
  undefined,
  null,
  0,
  -1,
  1.5,
  2 ** 16,
  2 ** 32,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.MAX_SAFE_INTEGER + 2,
  "",
  "7",
  "mobile",
  "printed",
  "valid",
  "cancelled",
  "x".repeat(33),
  "x".repeat(65),
  "x".repeat(501),
  true,
  [],
  [1],
  [0, 65535],
  [1, 2, 3, 4, 5],
  ["1"],
  [1.5],
  ["CHILD", "NOPE"],
  ["ACCESSIBILITY"],
  ["toString"],
  {},
];

const accepts = (value: unknown) => {
  try {
    checkTicket(value, "t");
    return true;
  } catch {
    return false;
  }
};

describe("isValidTicket", () => {
  it("accepts exactly what checkTicket accepts", () => {
    let cases = 0;
    const variants: unknown[] = [good, null, [], "ticket", { ...good, extra: 1 }];
    for (const key of Object.keys(good)) {
      const { [key]: _dropped, ...without } = good as Record<string, unknown>;
      variants.push(without);
      for (const value of odd) variants.push({ ...good, [key]: value });
    }
    for (const v of variants) {
      expect(isValidTicket(v), JSON.stringify(v)).toBe(accepts(v));
      cases++;
    }
    expect(cases).toBeGreaterThan(300);
    expect(isValidTicket(good)).toBe(true);
  });
});
