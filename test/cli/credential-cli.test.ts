import { readFileSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir } from "@sesame/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AT, csv, DOORS, sesame } from "./run-cli.js";

describe("sesame venue demo → wallet code → credential inspect", () => {
  const dir = makeTempDir();
  const venue = join(dir.path, "venue");
  let tickets: Array<Record<string, string>> = [];

  beforeAll(async () => {
    const r = await sesame(
      "venue",
      "demo",
      "--out",
      venue,
      "--seed",
      "cli-test",
      "--doors-open",
      DOORS,
      "--spectators",
      "600",
    );
    expect(r.code, r.err).toBe(0);
    tickets = csv(join(venue, "tickets.csv"));
  });
  afterAll(() => dir.remove());

  const pickTicket = (filter: (t: Record<string, string>) => boolean) => {
    const t = tickets.find(filter);
    if (!t) throw new Error("the demo venue lacks such a ticket");
    return t;
  };

  it("writes the documented files with realistic content", () => {
    expect(tickets.length).toBeGreaterThan(600);
    expect(new Set(tickets.map((t) => t.state))).toEqual(
      new Set(["valid", "resold-old", "transferred-old", "cancelled"]),
    );
    expect(tickets.some((t) => t.kind === "printed")).toBe(true);
    expect(tickets.some((t) => /[éèëïôç]/.test(t.holder ?? ""))).toBe(true);
    expect(readFileSync(join(venue, "sessions.csv"), "utf8")).toContain(DOORS);
    expect(readFileSync(join(venue, "gates.csv"), "utf8")).toMatch(/^gate,entrance,lanes\n/);
  });

  it("a holder's live code verifies (exit 0) and a stale one is named EXPIRED_CODE (exit 1)", async () => {
    const t = pickTicket((x) => x.state === "valid" && x.kind === "mobile" && x.session === "1");
    const code = (await sesame("wallet", "code", "--venue", venue, "--ticket", t.id ?? "")).out.trim();
    expect(code).toMatch(/^SE1:/);
    const ok = await sesame("credential", "inspect", code, "--venue", venue, "--at", AT);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({
      valid: true,
      reason: "VALID",
      ticket: { ticketId: Number(t.id) },
    });
    const stale = await sesame(
      "credential",
      "inspect",
      code,
      "--venue",
      venue,
      "--at",
      "2026-07-26T18:05:00Z",
    );
    expect(stale.code).toBe(1);
    expect(JSON.parse(stale.out)).toMatchObject({ valid: false, reason: "EXPIRED_CODE" });
  });

  it("a tampered code is refused with its reason", async () => {
    const t = pickTicket((x) => x.state === "valid" && x.kind === "mobile");
    const code = (await sesame("wallet", "code", "--venue", venue, "--ticket", t.id ?? "")).out.trim();
    const i = 20;
    const tampered = code.slice(0, i) + (code[i] === "A" ? "B" : "A") + code.slice(i + 1);
    const r = await sesame("credential", "inspect", tampered, "--venue", venue);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).reason).toMatch(/FORGED|MALFORMED/);
  });

  it("a printed confirmation's static code verifies, and an old generation is still a valid signature", async () => {
    const p = pickTicket((x) => x.kind === "printed" && x.state === "valid");
    const printed = (await sesame("wallet", "code", "--venue", venue, "--ticket", p.id ?? "")).out.trim();
    expect(JSON.parse((await sesame("credential", "inspect", printed, "--venue", venue)).out)).toMatchObject({
      valid: true,
      ticket: { kind: "printed" },
    });
    const old = pickTicket((x) => x.state === "resold-old");
    const r = await sesame(
      "wallet",
      "code",
      "--venue",
      venue,
      "--ticket",
      old.id ?? "",
      "--generation",
      old.generation ?? "",
    );
    expect(r.code).toBe(0);
  });

  it("bad arguments get clear errors, never a stack trace", async () => {
    const cases: Array<[string[], RegExp]> = [
      [["venue", "demo"], /missing --out/],
      [["venue", "demo", "--out", venue], /not empty/],
      [["venue", "demo", "--out", "/tmp/x", "--spectators", "many"], /whole number/],
      [["wallet", "code", "--venue", venue, "--ticket", "1"], /not in/],
      [["wallet", "code", "--venue", "/nonexistent", "--ticket", "100001"], /not found/],
      [["credential", "inspect"], /exactly one CODE/],
      [["credential", "inspect", "SE1:AAA", "--at", "yesterday"], /ISO time/],
      [["credential", "inspect", "x", "--bogus"], /Unknown option/],
      [["launch", "rockets"], /unknown command/],
    ];
    for (const [argv, message] of cases) {
      const r = await sesame(...argv);
      expect(r.code, argv.join(" ")).not.toBe(0);
      expect(r.err, argv.join(" ")).toMatch(message);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
  });

  it("without a trust list the fields are shown but nothing is called valid", async () => {
    const t = pickTicket((x) => x.state === "valid" && x.kind === "mobile");
    const code = (await sesame("wallet", "code", "--venue", venue, "--ticket", t.id ?? "")).out.trim();
    const r = await sesame("credential", "inspect", code);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toMatchObject({
      valid: false,
      reason: "UNKNOWN_KEY",
      ticket: { ticketId: Number(t.id) },
    });
  });
});
