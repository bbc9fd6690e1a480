import { join } from "node:path";
import type { BundleTicket, TicketChange } from "@sesame/venue";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { foldText, GateStore, nameTokens, queryWords } from "../src/index.js";
import { type DemoDir, DURING, demoVenueDir } from "./helpers.js";

const DAY = 24 * 3_600_000;

describe("text folding", () => {
  it("removes accents, case and special letters; splits hyphens and apostrophes", () => {
    expect(foldText("HÉLÈNE Lefèvre")).toBe("helene lefevre");
    expect(foldText("Søren Østergaard, Małgorzata, Yılmaz, Strauß, Cœur")).toBe(
      "soren ostergaard, malgorzata, yilmaz, strauss, coeur",
    );
    expect(nameTokens("Cédric N'Diaye")).toEqual(["cedric", "n", "diaye", "ndiaye"]);
    expect(nameTokens("Jean-Baptiste  Le Goff")).toEqual(["jean", "baptiste", "jeanbaptiste", "le", "goff"]);
    expect(queryWords("  n'diaye   ZOÉ ")).toEqual(["ndiaye", "zoe"]);
    expect(queryWords("'; DROP TABLE tickets; --")).toEqual(["drop", "table", "tickets"]);
  });
});

describe("printed-confirmation lookup", () => {
  let v: DemoDir;
  let store: GateStore;
  const ids: Record<string, number> = {};

  beforeAll(() => {
    v = demoVenueDir(400, "lookup-test");
    store = GateStore.open(join(v.temp, "lookup.db"), { rootPublicKey: v.rootPublicKey, gateId: "A1" });
    store.importBundle(v.dir);
    store.applyChanges(v.demo.changes);
    let seq = store.feedSequence;
    let id = 900_000;
    const issue = (holder: string, order: string, session = 1, seat = "R01-S001"): TicketChange => {
      ids[holder + (session === 2 ? "/2" : "")] = ++id;
      const ticket: BundleTicket = {
        id,
        generation: 1,
        kind: "printed",
        status: "valid",
        sessions: [session],
        entrance: 1,
        zone: 1,
        seat,
        categories: [],
        holder,
        orderReference: order,
        issueSequence: ++seq,
      };
      return { sequence: seq, type: "issue", ticket };
    };
    store.applyChanges([
      issue("Zoé Dupré", "P24-ZOE001", 1, "R01-S001"),
      issue("Hélène Dupré", "P24-ZOE001", 1, "R01-S002"),
      issue("Théo Dupré", "P24-ZOE001", 1, "R01-S003"),
      issue("Søren Østergaard", "P24-DK0001"),
      issue("Cédric N'Diaye", "P24-ND0001"),
      issue("Marie-Ève Côté", "P24-MEC001"),
      issue("Zoé Dupré", "P24-LATER1", 2),
      issue("O'Brien %_ Test", "P24-INJ001"),
    ]);
  });
  afterAll(() => {
    store.close();
    v.remove();
  });

  /** Holders found among the tickets issued above (the demo venue has Dupré and N'Diaye families too). */
  const names = (query: string, at = DURING) =>
    store
      .lookup(query, { at, limit: 200 })
      .hits.filter((h) => h.ticketId > 900_000)
      .map((h) => h.holder);

  it('finds names without accents or case: "HELENE" finds "Hélène"', () => {
    expect(names("HELENE DUPRE")).toEqual(["Hélène Dupré"]);
    expect(names("HELENE")).toContain("Hélène Dupré");
    expect(names("hélène")).toContain("Hélène Dupré");
    expect(names("ostergaard")).toEqual(["Søren Østergaard"]);
    expect(names("ØSTERGAARD søren")).toEqual(["Søren Østergaard"]);
  });

  it('finds partial names, in any order: "dupre" finds "Zoé Dupré"', () => {
    expect(names("dupre")).toEqual(expect.arrayContaining(["Zoé Dupré", "Hélène Dupré", "Théo Dupré"]));
    expect(names("dupr zo")).toContain("Zoé Dupré");
    expect(names("zoe dupre")).toEqual(["Zoé Dupré"]);
    expect(names("dupre zoe")).toEqual(["Zoé Dupré"]);
    expect(names("ndiaye")).toEqual(["Cédric N'Diaye"]);
    expect(names("N'DIAYE")).toEqual(["Cédric N'Diaye"]);
    expect(names("diaye cedric")).toEqual(["Cédric N'Diaye"]);
    expect(names("marie-eve cote")).toEqual(["Marie-Ève Côté"]);
    expect(names("eve")).toContain("Marie-Ève Côté");
  });

  it("finds every ticket of an order by its reference, exactly and case-insensitively", () => {
    const r = store.lookup("p24-zoe001", { at: DURING });
    expect(r.by).toBe("order");
    expect(r.hits.map((h) => [h.holder, h.seat])).toEqual([
      ["Zoé Dupré", "R01-S001"],
      ["Hélène Dupré", "R01-S002"],
      ["Théo Dupré", "R01-S003"],
    ]);
    expect(r.hits[0]).toMatchObject({
      ticketId: ids["Zoé Dupré"],
      session: 1,
      zone: { id: 1, code: "N1" },
      entrance: { id: 1, code: "A" },
      status: "valid",
      kind: "printed",
      entered: false,
    });
    expect(store.lookup("  P24-ZOE001 ", { at: DURING }).hits).toHaveLength(3);
    expect(store.lookup("P24-ZOE00", { at: DURING }).hits).toEqual([]); // exact, not a prefix
  });

  it("is scoped to the sessions whose doors are open", () => {
    expect(names("zoe dupre")).toEqual(["Zoé Dupré"]);
    expect(store.lookup("zoe dupre", { at: DURING }).sessions).toEqual([1]);
    expect(store.lookup("zoe dupre", { at: DURING + DAY }).hits.map((h) => h.ticketId)).toEqual([
      ids["Zoé Dupré/2"],
    ]);
    const later = store.lookup("P24-LATER1", { at: DURING });
    expect(later).toMatchObject({ by: "order", hits: [], otherSessions: 1 });
    expect(store.lookup("zoe", { at: DURING - DAY })).toMatchObject({ sessions: [], hits: [] });
    expect(store.lookup("zoe dupre", { at: DURING, sessions: [1, 2] }).hits).toHaveLength(2);
  });

  it("shows whether the ticket has already entered", () => {
    const id = ids["Théo Dupré"] ?? 0;
    const { authorization } = store.admitManually({
      ticketId: id,
      session: 1,
      lane: 1,
      at: DURING,
      steward: "ST-1",
    });
    store.confirmPassage(authorization.authorizationId, DURING + 1000);
    const hit = store.lookup("theo dupre", { at: DURING }).hits[0];
    expect(hit).toMatchObject({
      ticketId: id,
      entered: true,
      presence: { state: "inside", firstEntryGate: "A1" },
    });
  });

  it("limits and sorts results by ticket id (an order's tickets together)", () => {
    const all = store.lookup("dupre", { at: DURING, limit: 200 }).hits.map((h) => h.ticketId);
    expect(all).toEqual([...all].sort((a, b) => a - b));
    const two = store.lookup("dupre", { at: DURING, limit: 2 });
    expect(two.hits).toHaveLength(2);
    expect(two.more).toBe(true);
    expect(two.hits.map((h) => h.ticketId)).toEqual(all.slice(0, 2));
  });

  it("treats injection attempts and wildcards as text", () => {
    const attempts = [
      "'; DROP TABLE tickets; --",
      '" OR 1=1 --',
      "%",
      "_",
      "%%%",
      "___",
      "d%",
      "dup_e",
      "*",
      "dupre*",
      "NEAR(dupre zoe)",
      "search_names : zoe",
      "zoe OR 1",
      "\\",
      "'",
      '"',
      "P24-%",
    ];
    for (const query of attempts) {
      let hits: string[] = [];
      try {
        hits = names(query);
      } catch (error) {
        // Only the plain "too short" refusal, never a syntax error from SQL or the full-text engine.
        expect(String(error), query).toMatch(/type at least 2 letters/);
      }
      for (const h of hits) expect(foldText(h), query).toMatch(/[a-z]/);
      expect(names("zoe dupre"), query).toEqual(["Zoé Dupré"]);
    }
    // "dup_e" is "dup" + "e": words that start tokens, not a pattern.
    expect(names("dup_e")).toEqual([]);
    expect(names("%_ test")).toEqual(["O'Brien %_ Test"]);
    // The store holds its cache exclusively while open: count the rows once it is closed.
    store.close();
    const db = new Database(store.path, { readonly: true });
    expect(db.prepare("SELECT COUNT(*) AS n FROM tickets").get()).toEqual({
      n: v.demo.bundle.tickets.length + v.demo.changes.length + 8,
    });
    db.close();
    store = GateStore.open(join(v.temp, "lookup.db"), { rootPublicKey: v.rootPublicKey, gateId: "A1" });
  });

  it("says what is wrong with an unusable query", () => {
    expect(() => store.lookup("   ", { at: DURING })).toThrow(/empty search/);
    expect(() => store.lookup("z", { at: DURING })).toThrow(/at least 2 letters/);
    expect(() => store.lookup("x".repeat(101), { at: DURING })).toThrow(/longer than 100/);
    expect(() => store.lookup("a b c d e f g", { at: DURING })).toThrow(/at most 6 words/);
  });
});
