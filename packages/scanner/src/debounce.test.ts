import { describe, expect, it } from "vitest";
import { ScanDebouncer } from "./debounce.js";

describe("ScanDebouncer", () => {
  it("accepts a code once while a scanner repeats it 20 times a second", () => {
    const debouncer = new ScanDebouncer({ windowMs: 1500 });
    const verdicts = Array.from({ length: 200 }, (_, i) => debouncer.check("L1", "SE1:AAA", i * 50));
    expect(verdicts.filter((v) => v.accepted)).toHaveLength(1);
    expect(verdicts.at(-1)).toMatchObject({ accepted: false, reason: "repeat", repeats: 199 });
  });

  it("accepts the code again once it has been out of view for the window", () => {
    const debouncer = new ScanDebouncer({ windowMs: 1500 });
    expect(debouncer.check("L1", "A", 0).accepted).toBe(true);
    expect(debouncer.check("L1", "A", 1499).accepted).toBe(false);
    expect(debouncer.check("L1", "A", 2998).accepted).toBe(false);
    expect(debouncer.check("L1", "A", 4498).accepted).toBe(true);
  });

  it("keeps lanes apart and lets different codes through", () => {
    const debouncer = new ScanDebouncer();
    expect(debouncer.check("L1", "A", 0).accepted).toBe(true);
    expect(debouncer.check("L2", "A", 10).accepted).toBe(true);
    expect(debouncer.check("L1", "B", 20).accepted).toBe(true);
    expect(debouncer.check("L1", "A", 30).accepted).toBe(false);
  });

  it("treats a clock stepped back as a repeat, not a new scan", () => {
    const debouncer = new ScanDebouncer();
    expect(debouncer.check("L1", "A", 10_000).accepted).toBe(true);
    expect(debouncer.check("L1", "A", 5_000).accepted).toBe(false);
  });

  it("remembers a bounded number of codes per lane", () => {
    const debouncer = new ScanDebouncer({ maxCodesPerLane: 4 });
    for (let i = 0; i < 1000; i++) debouncer.check("L1", `code-${i}`, i);
    // The oldest were forgotten: code-0 counts as new again, code-999 is still a repeat.
    expect(debouncer.check("L1", "code-999", 1000).accepted).toBe(false);
    expect(debouncer.check("L1", "code-0", 1001).accepted).toBe(true);
  });
});
