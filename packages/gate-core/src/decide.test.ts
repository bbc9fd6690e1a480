import {
  Category,
  createNodeVerifier,
  encodeCredentialText,
  type IssuerKey,
  keyPairFromSeed,
} from "@sesame/ticket";
import { createTestIssuer, T0 } from "@sesame/ticket/fixtures";
import { demoLayout, type Session } from "@sesame/venue";
import { describe, expect, it } from "vitest";
import { type DecideOptions, decideScan, type ScanContext } from "./decide.js";
import { MemoryFacts } from "./memory-facts.js";
import {
  ADMIT_REASONS,
  ASSISTED_REASONS,
  FORGERY_REASONS,
  REFUSE_REASONS,
  type ReasonCode,
  stewardMessages,
} from "./reasons.js";

const MIN = 60_000;
const HOUR = 60 * MIN;
const issuer = createTestIssuer("gate-core-decide", 7);
const layout = demoLayout({ doorsOpenMs: T0, entrances: 2, lanes: 4, spectators: 1000 });
// A third session on the first day, in the evening, to tell WRONG_SESSION from NOT_YET_OPEN.
const evening: Session = {
  id: 3,
  code: "ATH-S3",
  name: "Athlétisme — session 3 (J1)",
  doorsOpen: new Date(T0 + 2 * HOUR).toISOString(),
  start: new Date(T0 + 3 * HOUR).toISOString(),
  end: new Date(T0 + 4 * HOUR).toISOString(),
  reentry: "none",
};
const venue = { ...layout, sessions: [...layout.sessions, evening] };
const options: DecideOptions = { issuerVerifier: createNodeVerifier() };
const T0_S = T0 / 1000;

interface Case {
  reason: ReasonCode;
  /** Builds the facts and the scanned text. */
  setup(facts: MemoryFacts): { text: string; context?: Partial<ScanContext> };
}

function freshFacts(): MemoryFacts {
  const facts = new MemoryFacts(venue, issuer.issuerKeys);
  facts.feedSequence = 100;
  return facts;
}

/** Issues a ticket, registers it in the cache (unless `inCache` is false) and shows its code at `shownAt`. */
function ticket(
  facts: MemoryFacts,
  overrides: Parameters<typeof issuer.issue>[0] = {},
  {
    inCache = true,
    shownAt = T0 + 30 * MIN,
    cacheGeneration,
    status = "valid",
  }: { inCache?: boolean; shownAt?: number; cacheGeneration?: number; status?: "valid" | "cancelled" } = {},
) {
  const { credential, device } = issuer.issue({ issueSequence: 50, zone: 1, entrance: 1, ...overrides });
  const body = credential.body;
  if (inCache) {
    facts.tickets.set(body.ticketId, {
      id: body.ticketId,
      generation: cacheGeneration ?? body.generation,
      kind: body.kind,
      status,
      sessions: body.sessions,
      entrance: body.entrance,
      zone: body.zone,
      seat: body.seat,
      categories: [],
      holder: "Hélène Dupré",
      orderReference: "P24-ABCDEF",
    });
  }
  const text = encodeCredentialText(
    body.kind === "printed" ? credential : issuer.show(credential, device, shownAt),
  );
  return { text, id: body.ticketId };
}

const CASES: Case[] = [
  { reason: "ADMITTED", setup: (f) => ticket(f) },
  { reason: "ADMITTED_NEW_SALE", setup: (f) => ticket(f, { issueSequence: 150 }, { inCache: false }) },
  {
    reason: "EXIT_RECORDED",
    setup: (f) => {
      const t = ticket(f, { sessions: [2], validUntil: T0_S + 40 * 3600 }, { shownAt: T0 + 25 * HOUR });
      f.recordMovement(t.id, 2, "entry", T0 + 24.5 * HOUR, "A1");
      return { text: t.text, context: { direction: "exit", nowMs: T0 + 25 * HOUR } };
    },
  },
  {
    reason: "EXIT_FINAL",
    setup: (f) => {
      const t = ticket(f);
      f.recordMovement(t.id, 1, "entry", T0 + 10 * MIN, "A1");
      return { text: t.text, context: { direction: "exit" } };
    },
  },
  { reason: "FREE_PASSAGE", setup: (f) => ({ ...ticket(f), context: { mode: "free-passage" } }) },
  { reason: "LANE_LOCKED", setup: (f) => ({ ...ticket(f), context: { mode: "locked" } }) },
  {
    reason: "PRINTED_CONFIRMATION",
    setup: (f) => ticket(f, { kind: "printed", devicePublicKey: undefined }),
  },
  { reason: "ID_CHECK_REQUIRED", setup: (f) => ticket(f, { categories: Category.ID_CHECK }) },
  { reason: "ACCESSIBILITY_ASSISTANCE", setup: (f) => ticket(f, { categories: Category.ACCESSIBILITY }) },
  { reason: "MALFORMED", setup: () => ({ text: "SE1:AB" }) },
  { reason: "NOT_A_TICKET", setup: () => ({ text: "https://example.org/ticket/42" }) },
  { reason: "SCANNER_LOWER_CASE", setup: (f) => ({ text: `se1:${ticket(f).text.slice(4)}` }) },
  { reason: "UNSUPPORTED_VERSION", setup: () => ({ text: "SE2:ABCDEF" }) },
  { reason: "UNKNOWN_KEY", setup: (f) => ticket(f, { keyId: 99 }) },
  {
    reason: "KEY_REVOKED",
    setup: (f) => {
      const key = issuer.issuerKeys.get(issuer.keyId) as IssuerKey;
      f.issuerKeys = new Map([[key.keyId, { ...key, revoked: true }]]);
      return ticket(f);
    },
  },
  {
    reason: "KEY_NOT_VALID",
    setup: (f) => {
      const key = issuer.issuerKeys.get(issuer.keyId) as IssuerKey;
      f.issuerKeys = new Map([[key.keyId, { ...key, validUntil: T0_S - 3600 }]]);
      return ticket(f);
    },
  },
  {
    reason: "FORGED",
    setup: (f) => {
      const t = ticket(f);
      return { text: t.text.slice(0, 12) + (t.text[12] === "A" ? "B" : "A") + t.text.slice(13) };
    },
  },
  {
    reason: "FORGED_PROOF",
    setup: (f) => {
      const { credential } = issuer.issue({ zone: 1, entrance: 1 });
      f.tickets.set(credential.body.ticketId, {
        id: credential.body.ticketId,
        generation: 1,
        kind: "mobile",
        status: "valid",
        sessions: [1],
        entrance: 1,
        zone: 1,
        seat: "",
        categories: [],
        holder: "X",
        orderReference: "P24-X",
      });
      const thief = keyPairFromSeed(new Uint8Array(32).fill(4));
      return { text: encodeCredentialText(issuer.show(credential, thief, T0 + 30 * MIN)) };
    },
  },
  { reason: "EXPIRED_CODE", setup: (f) => ticket(f, {}, { shownAt: T0 + 28 * MIN }) },
  { reason: "CODE_FROM_FUTURE", setup: (f) => ticket(f, {}, { shownAt: T0 + 32 * MIN }) },
  {
    reason: "CLOCK_SKEW",
    setup: (f) => ({ ...ticket(f, {}, { shownAt: T0 + 20 * MIN }), context: { clockSuspect: true } }),
  },
  { reason: "TICKET_NOT_VALID", setup: (f) => ticket(f, { validFrom: T0_S - 7200, validUntil: T0_S }) },
  { reason: "UNKNOWN_TICKET", setup: (f) => ticket(f, { issueSequence: 90 }, { inCache: false }) },
  {
    reason: "REVOKED_RESOLD",
    setup: (f) => {
      const t = ticket(f, { generation: 1 }, { cacheGeneration: 2 });
      f.revocations.set(`${t.id}/1`, "resold");
      return t;
    },
  },
  {
    reason: "SUPERSEDED_TRANSFERRED",
    setup: (f) => {
      const t = ticket(f, { generation: 1 }, { cacheGeneration: 2 });
      f.revocations.set(`${t.id}/1`, "transferred");
      return t;
    },
  },
  { reason: "CANCELLED", setup: (f) => ticket(f, {}, { status: "cancelled" }) },
  { reason: "WRONG_DAY", setup: (f) => ticket(f, { sessions: [2], validUntil: T0_S + 40 * 3600 }) },
  { reason: "WRONG_SESSION", setup: (f) => ticket(f, { sessions: [3] }) },
  {
    reason: "NOT_YET_OPEN",
    setup: (f) => ({ ...ticket(f, {}, { shownAt: T0 - 30 * MIN }), context: { nowMs: T0 - 30 * MIN } }),
  },
  {
    reason: "CLOSED",
    setup: (f) => {
      const at = T0 + 4.5 * HOUR + 61 * MIN;
      return { ...ticket(f, { validUntil: T0_S + 12 * 3600 }, { shownAt: at }), context: { nowMs: at } };
    },
  },
  { reason: "WRONG_ENTRANCE", setup: (f) => ticket(f, { entrance: 2, zone: 2 }) },
  {
    reason: "ALREADY_ENTERED",
    setup: (f) => {
      const t = ticket(f);
      f.recordMovement(t.id, 1, "entry", T0 + 12 * MIN, "B1");
      return t;
    },
  },
  {
    reason: "PASSAGE_PENDING",
    setup: (f) => {
      const t = ticket(f);
      f.pending.set(`${t.id}/1`, { authorizationId: "a1", gateId: "A1", lane: 2, at: T0 + 29 * MIN });
      return t;
    },
  },
  { reason: "NOT_INSIDE", setup: (f) => ({ ...ticket(f), context: { direction: "exit" } }) },
];

const baseContext: ScanContext = {
  gateId: "A1",
  lane: 1,
  entrance: 1,
  direction: "entry",
  nowMs: T0 + 30 * MIN,
  mode: "normal",
  clockSuspect: false,
};

describe("admission decisions, one per reason code", () => {
  it.each(CASES.map((c) => ({ ...c, name: c.reason })))("$name", ({ reason, setup }) => {
    const facts = freshFacts();
    const { text, context } = setup(facts);
    const d = decideScan(text, { ...baseContext, ...context }, facts, options);
    expect(d.reason, d.detail).toBe(reason);
    expect(d.messages.fr.headline.length).toBeGreaterThan(0);
    expect(d.messages.en.headline.length).toBeGreaterThan(0);
  });

  it("a revoked key's ticket is refused for its key, named, and is not a forgery", () => {
    const facts = freshFacts();
    const key = issuer.issuerKeys.get(issuer.keyId) as IssuerKey;
    facts.issuerKeys = new Map([[key.keyId, { ...key, revoked: true }]]);
    const d = decideScan(ticket(facts).text, baseContext, facts, options);
    expect(d).toMatchObject({ reason: "KEY_REVOKED", credentialReason: "KEY_REVOKED", issuerKeyId: 7 });
    // A key rotation must not bury supervisors in forgery alerts: the server groups these per key.
    expect(FORGERY_REASONS.has("KEY_REVOKED")).toBe(false);
    expect(FORGERY_REASONS.has("FORGED")).toBe(true);
  });

  it("covers every reason code", () => {
    const covered = new Set(CASES.map((c) => c.reason));
    for (const r of [...ADMIT_REASONS, ...ASSISTED_REASONS, ...REFUSE_REASONS])
      expect(covered, r).toContain(r);
  });

  it("tells the holder which entrance is theirs, and when and where a ticket was used", () => {
    const facts = freshFacts();
    const wrong = decideScan(ticket(facts, { entrance: 2, zone: 2 }).text, baseContext, facts, options);
    expect(wrong.messages.fr.headline).toBe("Entrée porte B");
    expect(wrong.messages.en.headline).toBe("Use gate B");
    const t = ticket(facts);
    facts.recordMovement(t.id, 1, "entry", T0 + 12 * MIN, "B1");
    const again = decideScan(t.text, baseContext, facts, options);
    expect(again.messages.fr.tell).toBe("Billet déjà utilisé à 19:12, porte B1.");
    const early = decideScan(
      ticket(facts, {}, { shownAt: T0 - 30 * MIN }).text,
      { ...baseContext, nowMs: T0 - 30 * MIN },
      facts,
      options,
    );
    expect(early.messages.fr.tell).toBe("Ouverture des portes à 19:00.");
  });

  it("re-entry with an exit scan where the session allows it, never where it does not", () => {
    const facts = freshFacts();
    const day2 = T0 + 25 * HOUR;
    const t = ticket(facts, { sessions: [2], validUntil: T0_S + 40 * 3600 }, { shownAt: day2 });
    facts.recordMovement(t.id, 2, "entry", day2 - HOUR, "A1");
    facts.recordMovement(t.id, 2, "exit", day2 - 10 * MIN, "A1");
    expect(decideScan(t.text, { ...baseContext, nowMs: day2 }, facts, options).reason).toBe("ADMITTED");
    const s1 = ticket(facts);
    facts.recordMovement(s1.id, 1, "entry", T0 + 5 * MIN, "A1");
    facts.recordMovement(s1.id, 1, "exit", T0 + 10 * MIN, "A1");
    expect(decideScan(s1.text, baseContext, facts, options).reason).toBe("ALREADY_ENTERED");
  });

  it("every reason has French and English messages", () => {
    for (const r of [...ADMIT_REASONS, ...ASSISTED_REASONS, ...REFUSE_REASONS]) {
      const m = stewardMessages(r, {
        entrance: "K",
        time: "19:00",
        date: "27/07",
        gate: "B1",
        holder: "Zoé",
      });
      expect(m.fr.headline).not.toBe(m.en.headline === "" ? "" : undefined);
      expect(m.fr.tell.length + m.en.tell.length).toBeGreaterThan(0);
    }
  });
});
