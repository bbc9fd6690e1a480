import { describe, expect, it } from "vitest";
import { uuidv7 } from "../src/ids.js";

describe("uuidv7 event ids", () => {
  it("are RFC 9562 version 7, unique and increasing even within one millisecond or when the clock steps back", () => {
    const ids = [
      ...Array.from({ length: 5000 }, () => uuidv7(1_800_000_000_000)),
      uuidv7(1_700_000_000_000),
      uuidv7(1_800_000_000_001),
    ];
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });
});
