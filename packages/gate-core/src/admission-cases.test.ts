import { Category, createNodeVerifier, encodeCredentialText, type IssuerKey } from "@sesame/ticket";
import { createTestIssuer, T0 } from "@sesame/ticket/fixtures";
import { demoLayout, type Session, type Venue } from "@sesame/venue";
import { describe, expect, it } from "vitest";
import { type DecideOptions, decideScan, type ScanContext } from "./decide.js";
import { MemoryFacts } from "./memory-facts.js";
import { FORGERY_REASONS } from "./reasons.js";

/*
 * Regression tests of issue 16's cases 2, 3 and 6 and of its "Also" paragraph, one per case, named
 * after it: each failed before its fix.
 */

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0_S = T0 / 1000;
const issuer = createTestIssuer("gate-core-admission-cases", 7);
const options: DecideOptions = { issuerVerifier: createNodeVerifier() };
const layout = demoLayout({ doorsOpenMs: T0, entrances: 2, lanes: 4, spectators: 1000 });
const iso = (ms: number) => new Date(ms).toISOString();

/** Two sessions on one day: the afternoon's doors still open (an hour after its end) when the evening's open. */
const afternoon: Session = {
  id: 1,
  code: "DAY-S1",
  name: "Session 1 (afternoon)",
  doorsOpen: iso(T0),
  start: iso(T0 + HOUR),
  end: iso(T0 + 2 * HOUR),
  reentry: "none",
};
const evening: Session = {
  id: 2,
  code: "DAY-S2",
  name: "Session 2 (evening)",
  doorsOpen: iso(T0 + 2.5 * HOUR),
  start: iso(T0 + 3 * HOUR),
  end: iso(T0 + 5 * HOUR),
  reentry: "none",
};
/** The layout's first day (session 1, Paris 19:00) and the next day's session 2. */
const tomorrow = layout.sessions.find((s) => s.id === 2) as Session;

const context = (nowMs: number, overrides: Partial<ScanContext> = {}): ScanContext => ({
  gateId: "A1",
  lane: 1,
  entrance: 1,
  direction: "entry",
  nowMs,
  mode: "normal",
  clockSuspect: false,
  ...overrides,
});

function factsOf(venue: Pick<Venue, "sessions" | "entrances" | "zones" | "timezone">): MemoryFacts {
  const facts = new MemoryFacts(venue, issuer.issuerKeys);
  facts.feedSequence = 100;
  return facts;
}

/** Issues a ticket, puts `cached` of it in the facts (generation and holder), and shows it at `at`. */
function scanText(
  facts: MemoryFacts,
  overrides: Parameters<typeof issuer.issue>[0],
  at: number,
  cached: { generation: number; holder: string } | undefined = { generation: 1, holder: "Hélène Dupré" },
) {
  const { credential, device } = issuer.issue({ issueSequence: 50, zone: 1, entrance: 1, ...overrides });
  const body = credential.body;
  if (cached)
    facts.tickets.set(body.ticketId, {
      id: body.ticketId,
      generation: cached.generation,
      kind: body.kind,
      status: "valid",
      sessions: body.sessions,
      entrance: body.entrance,
      zone: body.zone,
      seat: body.seat,
      categories: [],
      holder: cached.holder,
      orderReference: "P24-ABCDEF",
    });
  return { id: body.ticketId, text: encodeCredentialText(issuer.show(credential, device, at)) };
}

describe("issue 16, case 2: a ticket valid for two sessions on one day", () => {
  const venue = { ...layout, sessions: [afternoon, evening] };

  it("is admitted in the second session after a final exit from the first, whose doors are still open", () => {
    const facts = factsOf(venue);
    const at = T0 + 2.75 * HOUR;
    const t = scanText(facts, { sessions: [1, 2] }, at);
    facts.recordMovement(t.id, 1, "entry", T0 + 10 * MIN, "A1");
    facts.recordMovement(t.id, 1, "exit", T0 + 2 * HOUR + 5 * MIN, "A1");
    const d = decideScan(t.text, context(at), facts, options);
    expect(d.reason, d.detail).toBe("ADMITTED");
    expect(d.session).toBe(2);
  });

  it("the sessions in any order: the soonest unused one is chosen; inside one still under way, refused", () => {
    // The afternoon runs late: it has not ended when the evening's doors open.
    const late = { ...afternoon, end: iso(T0 + 3 * HOUR) };
    const facts = factsOf({ ...venue, sessions: [evening, late] });
    const at = T0 + 2.75 * HOUR;
    const fresh = scanText(facts, { sessions: [2, 1] }, at);
    expect(decideScan(fresh.text, context(at), facts, options)).toMatchObject({
      reason: "ADMITTED",
      session: 1,
    });
    const inside = scanText(facts, { sessions: [2, 1] }, at);
    facts.recordMovement(inside.id, 1, "entry", T0 + 10 * MIN, "B1");
    // Inside session 1 while it runs: a second person with this ticket, not let into session 2.
    expect(decideScan(inside.text, context(at), facts, options)).toMatchObject({
      reason: "ALREADY_ENTERED",
      session: 1,
    });
  });

  it("inside the first, its doors still open (no exit scan): a second person; once they close, the holder enters the second", () => {
    const facts = factsOf(venue);
    // The first session ended at T0 + 2 h; its doors close an hour later. The second's opened at 2.5 h.
    const during = T0 + 2.75 * HOUR;
    const t = scanText(facts, { sessions: [1, 2] }, during);
    facts.recordMovement(t.id, 1, "entry", T0 + 10 * MIN, "A1");
    expect(decideScan(t.text, context(during), facts, options)).toMatchObject({
      reason: "ALREADY_ENTERED",
      session: 1,
    });
    const after = T0 + 3.25 * HOUR;
    const later = scanText(facts, { sessions: [1, 2] }, after);
    facts.recordMovement(later.id, 1, "entry", T0 + 10 * MIN, "A1");
    expect(decideScan(later.text, context(after), facts, options)).toMatchObject({
      reason: "ADMITTED",
      session: 2,
    });
  });

  it("out of the first for good before the second's doors open: NOT_YET_OPEN for the second, with its time", () => {
    const facts = factsOf(venue);
    const at = T0 + 2 * HOUR + 10 * MIN;
    const t = scanText(facts, { sessions: [1, 2] }, at);
    facts.recordMovement(t.id, 1, "entry", T0 + 10 * MIN, "A1");
    facts.recordMovement(t.id, 1, "exit", T0 + 2 * HOUR + 5 * MIN, "A1");
    const d = decideScan(t.text, context(at), facts, options);
    expect(d.reason, d.detail).toBe("NOT_YET_OPEN");
    // Paris (UTC+2 in July): the evening's doors open at 21:30.
    expect(d.messages.en.tell).toBe("Doors open at 21:30.");
  });

  it("another day's ticket is refused WRONG_DAY with its session and day, not TICKET_NOT_VALID", () => {
    const facts = factsOf(layout);
    const at = T0 + 30 * MIN;
    // Valid from two hours before its doors open, as the issuer signs it: not yet valid today.
    const doors = Date.parse(tomorrow.doorsOpen) / 1000;
    const t = scanText(facts, { sessions: [2], validFrom: doors - 7200, validUntil: doors + 12 * 3600 }, at);
    const d = decideScan(t.text, context(at), facts, options);
    expect(d.reason, d.detail).toBe("WRONG_DAY");
    expect(d.credentialReason).toBe("NOT_YET_VALID");
    expect(d.messages.en.tell).toBe(`Your ticket is for ${tomorrow.name}, on 27/07.`);
    expect(d.messages.fr.tell).toBe(`Votre billet est pour ${tomorrow.name}, le 27/07.`);
  });

  it("a later session's ticket is refused WRONG_SESSION with its session and time, not TICKET_NOT_VALID", () => {
    const facts = factsOf(venue);
    const at = T0 + 30 * MIN;
    const doors = Date.parse(evening.doorsOpen) / 1000;
    const t = scanText(facts, { sessions: [2], validFrom: doors - 3600, validUntil: doors + 8 * 3600 }, at);
    const d = decideScan(t.text, context(at), facts, options);
    expect(d.reason, d.detail).toBe("WRONG_SESSION");
    expect(d.messages.en.tell).toBe(`Your session (${evening.name}) opens its doors at 21:30.`);
  });

  it("a ticket whose validity window is over while its session's doors are open is still TICKET_NOT_VALID", () => {
    const facts = factsOf(venue);
    const at = T0 + 30 * MIN;
    const t = scanText(facts, { sessions: [1], validFrom: T0_S - 7200, validUntil: T0_S }, at);
    expect(decideScan(t.text, context(at), facts, options)).toMatchObject({
      reason: "TICKET_NOT_VALID",
      credentialReason: "TICKET_EXPIRED",
    });
  });
});

describe("issue 16, case 3: an ID check never shows an older generation's holder", () => {
  it("a resold generation the cache does not know yet: the holder is not known here, the app shows it", () => {
    const facts = factsOf(layout);
    const at = T0 + 30 * MIN;
    // The cache holds the seller's generation 1; the buyer shows generation 2, sold after the feed.
    const t = scanText(facts, { generation: 2, issueSequence: 150, categories: Category.ID_CHECK }, at, {
      generation: 1,
      holder: "Serge Vendeur",
    });
    const d = decideScan(t.text, context(at), facts, options);
    expect(d.reason, d.detail).toBe("ID_CHECK_REQUIRED");
    expect(d.holder).toBe("");
    for (const m of [d.messages.en, d.messages.fr]) expect(m.tell).not.toContain("Serge Vendeur");
    expect(d.messages.en.tell).toBe(
      "Holder not known at this gate yet: check the ID against the holder shown in the official app.",
    );
  });

  it("the generation the cache holds: its holder is named", () => {
    const facts = factsOf(layout);
    const at = T0 + 30 * MIN;
    const t = scanText(facts, { generation: 2, categories: Category.ID_CHECK }, at, {
      generation: 2,
      holder: "Bérénice Acheteur",
    });
    const d = decideScan(t.text, context(at), facts, options);
    expect(d).toMatchObject({ reason: "ID_CHECK_REQUIRED", holder: "Bérénice Acheteur" });
    expect(d.messages.en.tell).toBe("Check an ID: Bérénice Acheteur");
  });
});

describe("issue 16, case 6: session times are read in the venue's time zone, never the machine's", () => {
  it("local times of a venue in Tokyo open its doors at Tokyo's hour, whatever the gate's own zone", () => {
    const tokyo: Session = {
      id: 1,
      code: "TKY-S1",
      name: "Tokyo session",
      doorsOpen: "2026-07-26T18:00:00",
      start: "2026-07-26T19:00:00",
      end: "2026-07-26T21:00:00",
      reentry: "none",
    };
    const facts = factsOf({ ...layout, timezone: "Asia/Tokyo", sessions: [tokyo] });
    const doors = Date.UTC(2026, 6, 26, 9, 0, 0); // 18:00 in Tokyo (UTC+9)
    const inside = scanText(
      facts,
      { validFrom: doors / 1000 - 7200, validUntil: doors / 1000 + 8 * 3600 },
      doors + 5 * MIN,
    );
    expect(decideScan(inside.text, context(doors + 5 * MIN), facts, options).reason).toBe("ADMITTED");
    const early = scanText(
      facts,
      { validFrom: doors / 1000 - 7200, validUntil: doors / 1000 + 8 * 3600 },
      doors - 30 * MIN,
    );
    const d = decideScan(early.text, context(doors - 30 * MIN), facts, options);
    expect(d.reason).toBe("NOT_YET_OPEN");
    expect(d.messages.en.tell).toBe("Doors open at 18:00.");
  });

  it("an unparseable session time makes no scan throw: a refusal that names the session's times", () => {
    const broken: Session = { ...afternoon, doorsOpen: "soon" };
    const facts = factsOf({ ...layout, sessions: [broken] });
    const at = T0 + 30 * MIN;
    const t = scanText(facts, { sessions: [1] }, at);
    const d = decideScan(t.text, context(at), facts, options);
    expect(d.outcome).toBe("REFUSE");
    expect(d.detail).toContain("session 1's times");
    // Nor does a time zone Intl does not know (a venue imported before zones were checked).
    const unknownZone = factsOf({ ...layout, timezone: "Mars/Olympus_Mons" });
    const u = scanText(unknownZone, {}, at);
    expect(decideScan(u.text, context(at), unknownZone, options).reason).toBe("ADMITTED");
    unknownZone.recordMovement(u.id, 1, "entry", T0 + 12 * MIN, "B1");
    expect(decideScan(u.text, context(at), unknownZone, options).messages.en.tell).toBe(
      "Ticket used at 17:12, gate B1.",
    );
  });
});

describe("issue 16, also: an issuer key outside its validity window, and a scanner that lower-cases", () => {
  it("a key whose validity is over (a rotation): KEY_NOT_VALID with its key id, not KEY_REVOKED, not a forgery", () => {
    const facts = factsOf(layout);
    const key = issuer.issuerKeys.get(issuer.keyId) as IssuerKey;
    facts.issuerKeys = new Map([[key.keyId, { ...key, validUntil: T0_S - 3600 }]]);
    const at = T0 + 30 * MIN;
    const d = decideScan(scanText(facts, {}, at).text, context(at), facts, options);
    expect(d).toMatchObject({ reason: "KEY_NOT_VALID", credentialReason: "KEY_NOT_VALID", issuerKeyId: 7 });
    expect(d.messages.en.headline).toBe("Ticket needs renewing");
    expect(FORGERY_REASONS.has("KEY_NOT_VALID")).toBe(false);
  });

  it("a code whose prefix the scanner lower-cased (se1:): the steward is told to fix the scanner's setting", () => {
    const facts = factsOf(layout);
    const at = T0 + 30 * MIN;
    const { text } = scanText(facts, {}, at);
    const d = decideScan(`se1:${text.slice(4)}`, context(at), facts, options);
    expect(d.reason).toBe("SCANNER_LOWER_CASE");
    expect(d.credentialReason).toBe("LOWER_CASE");
    expect(d.messages.en.headline).toBe("Scanner setting: lower case");
    expect(d.messages.en.tell).not.toContain("official app");
    // The whole code lower-cased is the same setting.
    expect(decideScan(text.toLowerCase(), context(at), facts, options).reason).toBe("SCANNER_LOWER_CASE");
  });
});
