import { cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir } from "@sesame/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AT, csv, DOORS, sesame } from "./run-cli.js";

describe("sesame gate verify / gate lookup", () => {
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
      "gate-cli",
      "--doors-open",
      DOORS,
      "--spectators",
      "600",
    );
    expect(r.code, r.err).toBe(0);
    tickets = csv(join(venue, "tickets.csv"));
  }, 60_000);
  afterAll(() => dir.remove());

  const pick = (filter: (t: Record<string, string>) => boolean) => {
    const t = tickets.find(filter);
    if (!t) throw new Error("the demo venue lacks such a ticket");
    return t;
  };
  const codeOf = async (t: Record<string, string>, generation?: string) =>
    (
      await sesame(
        "wallet",
        "code",
        "--venue",
        venue,
        "--ticket",
        t.id ?? "",
        "--at",
        AT,
        ...(generation ? ["--generation", generation] : []),
      )
    ).out.trim();
  const verify = async (code: string, ...extra: string[]) => {
    const r = await sesame(
      "gate",
      "verify",
      "--venue",
      venue,
      "--gate",
      "A1",
      "--code",
      code,
      "--at",
      AT,
      ...extra,
    );
    return { ...r, json: r.out ? (JSON.parse(r.out) as Record<string, unknown>) : {} };
  };
  const atA = (t: Record<string, string>) => t.entrance === "A" && t.session === "1" && t.late === "false";

  it("admits a valid code (exit 0) and prints the decision as JSON", async () => {
    const t = pick((x) => atA(x) && x.state === "valid" && x.kind === "mobile" && x.category === "standard");
    const r = await verify(await codeOf(t));
    expect(r.code, r.err).toBe(0);
    expect(r.json).toMatchObject({
      decision: "ADMIT",
      reason: "ADMITTED",
      messages: { fr: { headline: "Entrée autorisée" }, en: { headline: "Admitted" } },
      holder: t.holder,
      ticketId: Number(t.id),
      session: 1,
      recorded: [{ kind: "authorized" }, { kind: "entered" }],
      cache: "temporary",
    });
    // Without --db every run starts from the venue again: nothing is remembered.
    expect((await verify(await codeOf(t))).code).toBe(0);
  });

  it("with --db the gate remembers: a second scan is refused as already entered (exit 1)", async () => {
    const db = join(dir.path, "a1.db");
    const t = pick((x) => atA(x) && x.state === "valid" && x.kind === "mobile" && x.category === "standard");
    const code = await codeOf(t);
    const first = await verify(code, "--db", db);
    expect(first.code, first.err).toBe(0);
    expect(existsSync(db)).toBe(true);
    const second = await verify(code, "--db", db);
    expect(second.code).toBe(1);
    expect(second.json).toMatchObject({
      decision: "REFUSE",
      reason: "ALREADY_ENTERED",
      messages: { en: { headline: "Already entered" } },
      recorded: [{ kind: "refused", gateSeq: 3 }],
    });
    // The lookup against the same cache shows the entry.
    const look = await sesame(
      "gate",
      "lookup",
      "--venue",
      venue,
      "--gate",
      "A1",
      "--db",
      db,
      "--json",
      t.order_reference ?? "",
    );
    expect(look.code, look.err).toBe(0);
    const hit = (JSON.parse(look.out) as { hits: Array<{ ticketId: number; entered: boolean }> }).hits.find(
      (h) => h.ticketId === Number(t.id),
    );
    expect(hit?.entered).toBe(true);
  });

  it("a printed confirmation needs the steward (exit 3) and is not consumed", async () => {
    const db = join(dir.path, "printed.db");
    const t = pick((x) => atA(x) && x.state === "valid" && x.kind === "printed");
    const code = await codeOf(t);
    const r = await verify(code, "--db", db);
    expect(r.code).toBe(3);
    expect(r.json).toMatchObject({
      decision: "ASSISTED",
      reason: "PRINTED_CONFIRMATION",
      holder: t.holder,
      recorded: [],
    });
    expect(String(r.json.steward)).toMatch(/steward must check and confirm/);
    expect((await verify(code, "--db", db)).code).toBe(3);
  });

  it("refuses resold codes and admits late sales from the venue's feed", async () => {
    const old = pick((x) => atA(x) && x.state === "resold-old" && x.category === "standard");
    const r = await verify(await codeOf(old, old.generation));
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ decision: "REFUSE", reason: "REVOKED_RESOLD" });
    const late = tickets.find(
      (x) => x.late === "true" && x.entrance === "A" && x.kind === "mobile" && x.category === "standard",
    );
    if (late) expect((await verify(await codeOf(late))).json).toMatchObject({ reason: "ADMITTED" });
  });

  it("finds printed confirmations by name (accents and case ignored) or order reference", async () => {
    const t = pick((x) => x.session === "1" && x.state === "valid" && /[éèëï]/.test(x.holder ?? ""));
    const plain = (t.holder ?? "").normalize("NFD").replace(/\p{M}/gu, "").toUpperCase();
    const byName = await sesame(
      "gate",
      "lookup",
      "--venue",
      venue,
      "--gate",
      "A1",
      "--limit",
      "200",
      ...plain.split(" "),
    );
    expect(byName.code, byName.err).toBe(0);
    expect(byName.out).toContain(t.holder);
    expect(byName.out).toMatch(/TICKET\s+HOLDER\s+ORDER\s+SEAT\s+ZONE\s+ENTRANCE/);
    const order = t.order_reference ?? "";
    const byOrder = await sesame(
      "gate",
      "lookup",
      "--venue",
      venue,
      "--gate",
      "A1",
      "--json",
      order.toLowerCase(),
    );
    const json = JSON.parse(byOrder.out) as { by: string; hits: Array<{ orderReference: string }> };
    expect(json.by).toBe("order");
    expect(json.hits.length).toBe(
      tickets.filter(
        (x) => x.order_reference === order && x.state !== "resold-old" && x.state !== "transferred-old",
      ).length,
    );
    const none = await sesame(
      "gate",
      "lookup",
      "--venue",
      venue,
      "--gate",
      "A1",
      "'; DROP TABLE tickets; --",
    );
    expect(none.code).toBe(1);
    expect(none.out).toMatch(/no ticket found/);
    const closed = await sesame(
      "gate",
      "lookup",
      "--venue",
      venue,
      "--gate",
      "A1",
      "--at",
      "2026-07-20T10:00:00Z",
      "martin",
    );
    expect(closed.out).toMatch(/No session's doors are open/);
  });

  it("refuses a venue feed edited after the issuer signed it", async () => {
    const edited = join(dir.path, "edited-venue");
    cpSync(venue, edited, { recursive: true });
    const file = join(edited, "changes.jsonl");
    const [first, ...rest] = readFileSync(file, "utf8").split("\n");
    const change = JSON.parse(first ?? "{}") as { ticket: { holder: string } };
    change.ticket.holder = "Quelqu'un d'autre";
    writeFileSync(file, [JSON.stringify(change), ...rest].join("\n"));
    const t = pick((x) => atA(x) && x.state === "valid" && x.kind === "mobile" && x.category === "standard");
    const r = await sesame("gate", "verify", "--venue", edited, "--gate", "A1", "--code", await codeOf(t));
    expect(r.code, r.err).toBe(1);
    expect(r.err).toMatch(
      /changes\.jsonl: bad-signature: change \d+ \(issue\): the signature does not verify/,
    );
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it("bad arguments and bad files get clear errors, never a stack trace", async () => {
    const junk = join(dir.path, "junk.db");
    writeFileSync(junk, "not a database at all\n".repeat(100));
    const cases: Array<[string[], RegExp, number]> = [
      [
        ["gate", "verify", "--venue", venue, "--gate", "Q7", "--code", "SE1:X"],
        /"Q7" is not a gate of venue SDF \(its gates: A1, B1\)/,
        2,
      ],
      [["gate", "verify", "--venue", venue, "--gate", "A1"], /missing --code/, 2],
      [
        ["gate", "verify", "--venue", venue, "--gate", "A1", "--code", "x", "--direction", "sideways"],
        /--direction must be entry or exit/,
        2,
      ],
      [
        ["gate", "verify", "--venue", venue, "--gate", "A1", "--code", "x", "--lane", "9"],
        /--lane must be between 1 and 4/,
        2,
      ],
      [
        ["gate", "verify", "--venue", venue, "--gate", "A1", "--code", "x", "--db", junk],
        /is not a SQLite database/,
        1,
      ],
      [["gate", "verify", "--venue", "/nonexistent", "--gate", "A1", "--code", "x"], /not found/, 1],
      [["gate", "lookup", "--venue", venue, "--gate", "A1"], /order reference or a name/, 2],
      [["gate", "lookup", "--venue", venue, "--gate", "A1", "x"], /at least 2 letters/, 2],
    ];
    for (const [argv, message, exit] of cases) {
      const r = await sesame(...argv);
      expect(r.code, argv.join(" ")).toBe(exit);
      expect(r.err, argv.join(" ")).toMatch(message);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
    const help = await sesame("gate", "verify", "--help");
    expect(help.out).toMatch(/exit 0 admitted, 1 refused, 3 a steward must check/);
  });

  it("a malformed code is refused with its reason, not an error", async () => {
    const r = await verify("https://example.com/not-a-ticket");
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ decision: "REFUSE", reason: "NOT_A_TICKET" });
  });
});
