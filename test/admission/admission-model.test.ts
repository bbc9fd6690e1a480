import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GateStore } from "@sesame/cache";
import { GateBackend } from "@sesame/gate";
import { type Decision, type EntryLogEvent, outcomeOf, type ReasonCode } from "@sesame/gate-core";
import { doubleEntryAlert, type TicketPresence } from "@sesame/sync-server";
import { Category, createNodeSigner, seededRandom } from "@sesame/ticket";
import {
  type BundleTicket,
  generateDemoVenue,
  type Session,
  type TicketChange,
  type WalletEntry,
  walletCode,
  writeVenueDirectory,
} from "@sesame/venue";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  admits,
  applyToView,
  type Expectation,
  expectScan,
  type FeedView,
  HOUR,
  type ModelSession,
  type ModelTicket,
  type Movement,
} from "./model.js";

/*
 * The model-based test of admission (issue 16, "The test that finds these"). fast-check draws a run:
 * two or three gates, each the real GateBackend on its own GateStore (SQLite, in memory), their
 * clocks skewed and stepped within the ±30 s a device proof tolerates, and a sequence of entries,
 * exits, passages, no-shows, resales, transfers, cancellations, a resale the feed must refuse,
 * feed deliveries, uploads to the server and a fan-out delivered late and out of order. Before every
 * scan the reference model (model.ts) says what the gate should decide from what it knew; after
 * the run, the server's double-entry policy is asked about every double entry that happened.
 *
 * Invariants (a violation names one, and the issue's case it belongs to):
 *   no-throw          no scan (nor a steward's confirmation) ends in an error;
 *   admitted-refusable  a gate never admits what its own knowledge shows inside, used, pending or
 *                     superseded (feed or journal);
 *   refused-valid     a valid holder is never refused on information the gate should not have;
 *   wrong-reason      every refusal's reason is the model's (and every admission its session);
 *   holder            the steward is never shown another generation's holder;
 *   double-entry      every double entry (gates that had not heard of each other) is flagged by the
 *                     server's policy once both entries reached it.
 *
 * Fixed seed; SESAME_MODEL_RUNS=<n> runs more (docs/gate-cache.md, "The admission model"),
 * SESAME_MODEL_SEED=<n> another seed, SESAME_MODEL_HUNT=all (or =1,4,5) hunts each case on its own and prints
 * after how many runs it was found.
 */

process.env.TZ = "UTC"; // the gates' operating-system zone, never the venue's (case 6)

const RUNS = Number(process.env.SESAME_MODEL_RUNS ?? 200);
const SEED = Number(process.env.SESAME_MODEL_SEED ?? 16);
const HUNT = process.env.SESAME_MODEL_HUNT;
const HUNT_RUNS = Number(process.env.SESAME_MODEL_HUNT_RUNS ?? 2000);
const GATE_IDS = ["A1", "A2", "A3"] as const;
const SECOND = 1000;
const MAX_SKEW_S = 25;
const TIMEZONE = "Asia/Tokyo";
const OFFSET_MS = 9 * HOUR;

/** A venue-local wall-clock time on the day of the run, as true Unix ms. */
const local = (h: number, m = 0) => Date.UTC(2026, 6, 25, h, m) - OFFSET_MS;
/** A time of the run as the venue's wall clock shows it (traces). */
const venueTime = (ms: number) => new Date(ms + OFFSET_MS).toISOString().slice(11, 19);
const pad = (n: number) => String(n).padStart(2, "0");
const wall = (h: number, m: number, zoned: boolean) =>
  `2026-07-25T${pad(h)}:${pad(m)}:00${zoned ? "+09:00" : ""}`;

/** One day, four sessions: two in the morning (with and without re-entry), two overlapping in the afternoon. */
const SESSION_TIMES = [
  { id: 1, doors: [10, 0], start: [11, 0], end: [13, 0], reentry: "exit-scan" },
  { id: 2, doors: [10, 0], start: [11, 0], end: [13, 0], reentry: "none" },
  { id: 3, doors: [14, 0], start: [14, 30], end: [16, 0], reentry: "none" },
  { id: 4, doors: [16, 30], start: [17, 0], end: [19, 0], reentry: "exit-scan" },
] as const;

/** Double entries the server missed because their movements reached it in another order (known gap). */
let serverOutOfOrderMisses = 0;

const MODEL_SESSIONS: ReadonlyMap<number, ModelSession> = new Map(
  SESSION_TIMES.map((s) => [
    s.id,
    {
      id: s.id,
      doorsOpen: local(s.doors[0], s.doors[1]),
      end: local(s.end[0], s.end[1]),
      reentry: s.reentry,
    },
  ]),
);

/** The morning (sessions 1 and 2 open) and the afternoon (3 still open, 4 opened). */
const PHASES = { morning: local(11, 0), afternoon: local(16, 35) } as const;

const TICKETS = [
  { id: 101, sessions: [1], idCheck: false, holder: "Alice Martin" },
  { id: 102, sessions: [1], idCheck: true, holder: "Bruno Petit" },
  { id: 103, sessions: [2], idCheck: false, holder: "Chloé Durand" },
  { id: 104, sessions: [3, 4], idCheck: false, holder: "Denis Roux" },
] as const;
const FIRST_FEED = TICKETS.length;

type Variant = "zoned" | "local";

interface VenueFixture {
  readonly dirs: Record<Variant, string>;
  readonly rootPublicKey: Uint8Array;
  readonly issuerSeed: Uint8Array;
  remove(): void;
}

const signer = createNodeSigner();

function buildVenues(): VenueFixture {
  const temp = mkdtempSync(join(tmpdir(), "sesame-admission-model-"));
  const demo = generateDemoVenue({
    spectators: 4,
    doorsOpenMs: local(10, 0),
    entrances: 1,
    lanes: 6,
    lanesPerGate: 2,
    random: seededRandom("admission-model"),
    signer,
  });
  const zone = demo.venue.entrances[0]?.zones[0] ?? 1;
  const tickets: BundleTicket[] = TICKETS.map((t, i) => ({
    id: t.id,
    generation: 1,
    kind: "mobile",
    status: "valid",
    sessions: t.sessions,
    entrance: 1,
    zone,
    seat: `R01-S00${i + 1}`,
    categories: t.idCheck ? ["ID_CHECK"] : [],
    holder: t.holder,
    orderReference: `P24-MODEL${i}`,
    issueSequence: i + 1,
  }));
  const dirs = {} as Record<Variant, string>;
  for (const variant of ["zoned", "local"] as const) {
    const zoned = variant === "zoned";
    const sessions: Session[] = SESSION_TIMES.map((s) => ({
      id: s.id,
      code: `S${s.id}`,
      name: `Session ${s.id}`,
      doorsOpen: wall(s.doors[0], s.doors[1], zoned),
      start: wall(s.start[0], s.start[1], zoned),
      end: wall(s.end[0], s.end[1], zoned),
      reentry: s.reentry,
    }));
    const venue = { ...demo.venue, timezone: TIMEZONE, sessions };
    const bundle = { ...demo.bundle, venue, tickets, revocations: [], feedSequence: FIRST_FEED };
    dirs[variant] = join(temp, variant);
    writeVenueDirectory(
      dirs[variant],
      { ...demo, venue, bundle, changes: [], wallets: [], rows: [] },
      signer,
    );
  }
  return {
    dirs,
    rootPublicKey: Uint8Array.from(Buffer.from(demo.venue.rootPublicKey, "hex")),
    issuerSeed: Uint8Array.from(Buffer.from(Object.values(demo.secrets.issuerSeeds)[0] ?? "", "hex")),
    remove: () => rmSync(temp, { recursive: true, force: true }),
  };
}

/** What a holder's phone keeps for one generation (its device key derived from the ticket and generation). */
function wallet(ticket: ModelTicket, generation: number, issueSequence: number, zone: number): WalletEntry {
  const times = ticket.sessions.map((id) => MODEL_SESSIONS.get(id) as ModelSession);
  const index = TICKETS.findIndex((t) => t.id === ticket.id);
  return {
    body: {
      kind: "mobile",
      keyId: 1,
      ticketId: ticket.id,
      generation,
      issueSequence,
      sessions: ticket.sessions,
      entrance: 1,
      zone,
      seat: `R01-S00${index + 1}`,
      categories: ticket.idCheck ? Category.ID_CHECK : 0,
      validFrom: Math.floor((Math.min(...times.map((s) => s.doorsOpen)) - 2 * HOUR) / SECOND),
      validUntil: Math.floor((Math.max(...times.map((s) => s.end)) + 2 * HOUR) / SECOND),
    },
    deviceSeed: createHash("sha256").update(`admission-model/${ticket.id}/${generation}`).digest("hex"),
  };
}

// ------------------------------------------------------------------------------------------------
// A run: what fast-check draws

/*
 * Gate and ticket indexes are taken modulo what the run has; -1 means "the gate (ticket) of the
 * previous scan", so that a run follows one holder through several steps often enough.
 */
type Action =
  | {
      readonly k: "scan";
      readonly gate: number;
      readonly ticket: number;
      /** 0: the newest generation's code; 1, 2: an older one (the seller's). */
      readonly back: number;
      readonly exit: boolean;
      /** Right after an authorization: the holder walks through, stays at the lane, or walks away. */
      readonly after: "pass" | "wait" | "noshow";
    }
  | { readonly k: "pass"; readonly gate: number; readonly i: number }
  | { readonly k: "noshow"; readonly gate: number; readonly i: number }
  | { readonly k: "resale"; readonly ticket: number; readonly transfer: boolean }
  | { readonly k: "cancel"; readonly ticket: number }
  | { readonly k: "bogus"; readonly ticket: number }
  | { readonly k: "feed"; readonly gate: number; readonly n: number }
  | { readonly k: "upload"; readonly gate: number }
  | { readonly k: "deliver"; readonly gate: number; readonly i: number }
  | { readonly k: "tick"; readonly s: number }
  | { readonly k: "clock"; readonly gate: number; readonly skew: number };

interface Plan {
  readonly variant: Variant;
  readonly phase: keyof typeof PHASES;
  readonly gates: number;
  readonly skews: readonly number[];
  readonly actions: readonly Action[];
}

const gateArb = fc.oneof(
  { weight: 2, arbitrary: fc.constant(-1) },
  { weight: 3, arbitrary: fc.nat({ max: 2 }) },
);
const ticketArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant(-1) },
  { weight: 2, arbitrary: fc.nat({ max: TICKETS.length - 1 }) },
);
const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.record({
      k: fc.constant("scan" as const),
      gate: gateArb,
      ticket: ticketArb,
      back: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.nat({ max: 2 }) }),
      exit: fc.boolean(),
      after: fc.oneof(
        { weight: 6, arbitrary: fc.constant("pass" as const) },
        { weight: 3, arbitrary: fc.constant("wait" as const) },
        { weight: 1, arbitrary: fc.constant("noshow" as const) },
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ k: fc.constant("pass" as const), gate: gateArb, i: fc.nat({ max: 3 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ k: fc.constant("noshow" as const), gate: gateArb, i: fc.nat({ max: 3 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ k: fc.constant("resale" as const), ticket: ticketArb, transfer: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("cancel" as const), ticket: ticketArb }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("bogus" as const), ticket: ticketArb }) },
  {
    weight: 3,
    arbitrary: fc.record({
      k: fc.constant("feed" as const),
      gate: gateArb,
      n: fc.integer({ min: 1, max: 4 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ k: fc.constant("upload" as const), gate: gateArb }) },
  {
    weight: 4,
    arbitrary: fc.record({ k: fc.constant("deliver" as const), gate: gateArb, i: fc.nat({ max: 5 }) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ k: fc.constant("tick" as const), s: fc.integer({ min: 1, max: 20 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant("clock" as const),
      gate: gateArb,
      // Steps to the edges of the tolerance as often as anywhere within it.
      skew: fc.oneof(
        fc.constantFrom(-MAX_SKEW_S, MAX_SKEW_S),
        fc.integer({ min: -MAX_SKEW_S, max: MAX_SKEW_S }),
      ),
    }),
  },
);

const planArb: fc.Arbitrary<Plan> = fc.record({
  variant: fc.oneof(
    { weight: 5, arbitrary: fc.constant("zoned" as const) },
    { weight: 1, arbitrary: fc.constant("local" as const) },
  ),
  phase: fc.constantFrom("morning" as const, "afternoon" as const),
  gates: fc.constantFrom(2, 3),
  skews: fc.array(fc.integer({ min: -MAX_SKEW_S, max: MAX_SKEW_S }), { minLength: 3, maxLength: 3 }),
  actions: fc.array(actionArb, { maxLength: 50, size: "max" }),
});

// ------------------------------------------------------------------------------------------------
// Running a plan against the real gates

/** The issue's case a violation shows (1–7), or "other" for something the issue does not name. */
type Case = 1 | 2 | 3 | 4 | 5 | 6 | 7 | "other";

interface Violation {
  readonly invariant:
    | "no-throw"
    | "admitted-refusable"
    | "refused-valid"
    | "wrong-reason"
    | "holder"
    | "double-entry";
  readonly case: Case;
  readonly detail: string;
  /** What happened, one line per action, up to the violation. */
  readonly trace: readonly string[];
}

interface Pending {
  readonly authorizationId: string;
  readonly ticketId: number;
  readonly session: number;
  readonly direction: "entry" | "exit";
}

interface ModelGate {
  readonly id: string;
  readonly store: GateStore;
  readonly backend: GateBackend;
  skew: number;
  position: number;
  readonly views: Map<number, FeedView>;
  /** Tickets for which a change the feed must refuse reached this gate (refused or not). */
  readonly bogusSeen: Set<number>;
  /** The highest generation of each ticket seen admitted: own journal and fan-out. */
  readonly seenGeneration: Map<number, number>;
  readonly pending: Pending[];
  readonly known: Movement[];
  readonly vector: Map<string, number>;
  readonly toUpload: Array<{ movement: Movement; event: EntryLogEvent }>;
}

const STATE_REASONS: ReadonlySet<ReasonCode> = new Set<ReasonCode>([
  "ALREADY_ENTERED",
  "NOT_INSIDE",
  "PASSAGE_PENDING",
  "ADMITTED",
  "ADMITTED_NEW_SALE",
  "ID_CHECK_REQUIRED",
  "EXIT_RECORDED",
  "EXIT_FINAL",
]);
const SESSION_REASONS: ReadonlySet<ReasonCode> = new Set<ReasonCode>([
  "WRONG_SESSION",
  "NOT_YET_OPEN",
  "CLOSED",
  "WRONG_DAY",
  "TICKET_NOT_VALID",
]);

async function runPlan(plan: Plan, venue: VenueFixture): Promise<Violation[]> {
  const trace: string[] = [];
  const violations: Violation[] = [];
  const violation = (v: Omit<Violation, "trace">) => violations.push({ ...v, trace: [...trace] });
  const zone = 1;
  const tickets: ModelTicket[] = TICKETS.map((t) => ({
    id: t.id,
    sessions: t.sessions,
    idCheck: t.idCheck,
    generations: [{ generation: 1, holder: t.holder, issueSequence: TICKETS.indexOf(t) + 1 }],
    cancelled: false,
  }));
  const changes: TicketChange[] = [];
  const bogus = new Set<number>();
  let now = PHASES[plan.phase];

  const gates: ModelGate[] = [];
  try {
    for (let g = 0; g < plan.gates; g++) {
      const id = GATE_IDS[g] as string;
      const store = GateStore.open(":memory:", { rootPublicKey: venue.rootPublicKey, gateId: id });
      try {
        store.importBundle(venue.dirs[plan.variant]);
      } catch (error) {
        store.close();
        // Offset-less session times may be refused when the venue is read: clearly, naming the field.
        const message = error instanceof Error ? error.message : String(error);
        if (plan.variant === "local" && /doorsOpen|doors_open|start|end/.test(message)) return [];
        throw error;
      }
      const gate: ModelGate = {
        id,
        store,
        skew: (plan.skews[g] ?? 0) * SECOND,
        // Lanes without a controller: the harness reports passages and no-shows to the store itself.
        backend: new GateBackend({
          store,
          gateId: id,
          entrance: 1,
          lanes: [
            { lane: 1, direction: "entry" },
            { lane: 2, direction: "exit" },
          ],
          now: () => now + (gates[g]?.skew ?? 0),
        }),
        position: FIRST_FEED,
        views: new Map(
          TICKETS.map((t) => [
            t.id,
            { generation: 1, cancelled: false, holders: new Map([[1, t.holder]]), revoked: new Map() },
          ]),
        ),
        bogusSeen: new Set(),
        seenGeneration: new Map(),
        pending: [],
        known: [],
        vector: new Map(),
        toUpload: [],
      };
      gates.push(gate);
    }

    // The server's side of the double-entry rule: presence in the order batches reach it.
    const serverPresence = new Map<string, TicketPresence>();
    const alerted = new Set<string>();
    /** The order movements happened in (event id → rank), and the keys whose movements reached the server in another order. */
    const happened = new Map<string, number>();
    const lastArrived = new Map<string, number>();
    const heardOutOfOrder = new Set<string>();
    const fanout: Array<{ movement: Movement; event: EntryLogEvent }> = [];
    const delivered = gates.map(() => new Set<string>());
    /** Double entries that really happened (ticket:session). */
    const doubleEntries = new Set<string>();
    const truth = new Map<string, { inside: boolean; entered: boolean }>();

    const upload = (gate: ModelGate) => {
      for (const item of gate.toUpload.splice(0)) {
        const { event } = item;
        const key = `${event.ticketId}:${event.session}`;
        const rank = happened.get(event.eventId) ?? -1;
        if (rank < (lastArrived.get(key) ?? -1)) heardOutOfOrder.add(key);
        lastArrived.set(key, Math.max(rank, lastArrived.get(key) ?? -1));
        const before = serverPresence.get(key);
        if (event.kind === "exited") {
          if (before) serverPresence.set(key, { ...before, state: "outside" });
        } else {
          const reentry = MODEL_SESSIONS.get(event.session ?? 0)?.reentry ?? "none";
          if (doubleEntryAlert(event, before, reentry, now)) alerted.add(key);
          serverPresence.set(key, { state: "inside", lastGate: event.gateId, lastEvent: event.eventId });
        }
        fanout.push(item);
      }
    };

    const clock = (g: ModelGate) => `${g.id}@${venueTime(now + g.skew)}`;

    /** The holder of a pending authorization walks through (its passage recorded) or walks away. */
    const resolve = (gate: ModelGate, index: number, kind: "pass" | "noshow", label: string) => {
      const p = gate.pending[index] as Pending;
      gate.pending.splice(index, 1);
      const at = now + gate.skew;
      if (kind === "noshow") {
        gate.store.annul(p.authorizationId, at);
        trace.push(`${label}: no-show of ${p.ticketId} S${p.session} ${p.direction} at ${clock(gate)}`);
        return;
      }
      const event = gate.store.confirmPassage(p.authorizationId, at).event;
      if (!event) return;
      gate.vector.set(gate.id, (gate.vector.get(gate.id) ?? 0) + 1);
      const movement: Movement = {
        gate: gate.id,
        eventId: event.eventId,
        ticketId: p.ticketId,
        session: p.session,
        direction: p.direction,
        vector: new Map(gate.vector),
      };
      gate.known.push(movement);
      happened.set(event.eventId, happened.size);
      gate.toUpload.push({ movement, event });
      const key = `${p.ticketId}:${p.session}`;
      const was = truth.get(key) ?? { inside: false, entered: false };
      const reentry = MODEL_SESSIONS.get(p.session)?.reentry;
      if (p.direction === "entry") {
        if (was.inside || (was.entered && reentry === "none")) doubleEntries.add(key);
        truth.set(key, { inside: true, entered: true });
      } else truth.set(key, { ...was, inside: false });
      trace.push(
        `${label}: ${p.ticketId} ${p.direction === "entry" ? "enters" : "exits"} S${p.session} at ${clock(gate)}`,
      );
    };

    let lastGate = 0;
    let lastTicket = 0;
    for (const [step, action] of plan.actions.entries()) {
      const label = `#${step} ${JSON.stringify(action)}`;
      const gate =
        "gate" in action ? gates[action.gate < 0 ? lastGate : action.gate % gates.length] : undefined;
      const ticketIndex =
        "ticket" in action ? (action.ticket < 0 ? lastTicket : action.ticket % tickets.length) : 0;
      switch (action.k) {
        case "tick":
          now += action.s * SECOND;
          trace.push(`${label}: true time ${venueTime(now)}`);
          break;
        case "clock":
          if (!gate) break;
          gate.skew = action.skew * SECOND;
          trace.push(`${label}: ${clock(gate)} (skew ${action.skew} s)`);
          break;
        case "resale":
        case "cancel":
        case "bogus": {
          const ticket = tickets[ticketIndex] as ModelTicket;
          const last = ticket.generations.at(-1) as { generation: number };
          const sequence = FIRST_FEED + changes.length + 1;
          if (action.k === "cancel") {
            if (ticket.cancelled) break;
            ticket.cancelled = true;
            changes.push({ sequence, type: "cancel", ticketId: ticket.id });
          } else if (action.k === "resale") {
            // The issuer resells or transfers only a valid ticket.
            if (ticket.cancelled) break;
            const generation = last.generation + 1;
            const holder = `${action.transfer ? "Recipient" : "Buyer"} ${generation} of ${ticket.id}`;
            ticket.generations.push({ generation, holder, issueSequence: sequence });
            changes.push({
              sequence,
              type: action.transfer ? "transfer" : "resale",
              ticketId: ticket.id,
              generation,
              holder,
            });
          } else {
            // A resale of a cancelled ticket reaching the feed, what the gates must refuse (case 7):
            // the cancellation first if the ticket is still valid.
            if (bogus.has(ticket.id)) break;
            bogus.add(ticket.id);
            if (!ticket.cancelled) {
              ticket.cancelled = true;
              changes.push({ sequence, type: "cancel", ticketId: ticket.id });
            }
            const generation = last.generation + 1;
            changes.push({
              sequence: FIRST_FEED + changes.length + 1,
              type: "resale",
              ticketId: ticket.id,
              generation,
              holder: `Bogus ${generation} of ${ticket.id}`,
            });
          }
          for (const c of changes.slice(sequence - FIRST_FEED - 1))
            trace.push(`${label}: feed change ${JSON.stringify(c)}`);
          break;
        }
        case "feed": {
          for (let n = 0; gate && n < action.n; n++) {
            const change = changes[gate.position - FIRST_FEED];
            if (!change) break;
            const view = gate.views.get(
              change.type === "issue" ? change.ticket.id : change.ticketId,
            ) as FeedView;
            const ticketId = change.type === "issue" ? change.ticket.id : change.ticketId;
            const valid = applyToView(view, change);
            if (!valid) gate.bogusSeen.add(ticketId);
            try {
              gate.store.applyChanges([change]);
              gate.position = change.sequence;
              trace.push(
                `${label}: ${gate.id} applied change ${change.sequence}${valid ? "" : " (one it must refuse)"}`,
              );
            } catch (error) {
              const message = error instanceof Error ? error.message : String(error);
              trace.push(`${label}: ${gate.id} refused change ${change.sequence}: ${message}`);
              if (valid)
                violation({
                  invariant: "no-throw",
                  case: "other",
                  detail: `${gate.id} refused a valid feed change ${JSON.stringify(change)}: ${message}`,
                });
              break;
            }
          }
          break;
        }
        case "upload":
          if (!gate) break;
          trace.push(`${label}: ${gate.toUpload.length} movements of ${gate.id} reach the server`);
          upload(gate);
          break;
        case "deliver": {
          if (!gate) break;
          const g = gates.indexOf(gate);
          const seen = delivered[g] as Set<string>;
          // The fan-out brings every admission, the gate's own included (its place in the venue's order).
          const waiting = fanout.filter((f) => !seen.has(f.event.eventId));
          const item = waiting[action.i % Math.max(1, waiting.length)];
          if (!item) break;
          seen.add(item.event.eventId);
          try {
            recordFanout(gate.store, item.event, fanout.indexOf(item) + 1);
          } catch (error) {
            violation({
              invariant: "no-throw",
              case: "other",
              detail: `${gate.id} could not record a fan-out event: ${error instanceof Error ? error.message : error}`,
            });
          }
          if (item.event.gateId !== gate.id) gate.known.push(item.movement);
          const heard = item.event.generation ?? 0;
          const ticketId = item.event.ticketId ?? 0;
          gate.seenGeneration.set(ticketId, Math.max(gate.seenGeneration.get(ticketId) ?? 0, heard));
          for (const [k, n] of item.movement.vector) gate.vector.set(k, Math.max(gate.vector.get(k) ?? 0, n));
          trace.push(
            `${label}: ${gate.id} hears ${item.event.gateId}'s ${item.event.kind} of ${item.event.ticketId} S${item.event.session} (stamped ${venueTime(item.event.at)})`,
          );
          break;
        }
        case "pass":
        case "noshow":
          if (gate && gate.pending.length > 0) resolve(gate, action.i % gate.pending.length, action.k, label);
          break;
        case "scan": {
          if (!gate) break;
          lastGate = gates.indexOf(gate);
          lastTicket = ticketIndex;
          const ticket = tickets[ticketIndex] as ModelTicket;
          const generation = Math.max(1, ticket.generations.length - action.back);
          const shown = ticket.generations[generation - 1] as { issueSequence: number; holder: string };
          const direction = action.exit ? "exit" : "entry";
          const code = walletCode(
            wallet(ticket, generation, shown.issueSequence, zone),
            venue.issuerSeed,
            now,
            signer,
          );
          const expected = expectScan(
            ticket,
            generation,
            direction,
            {
              feed: gate.views.get(ticket.id) as FeedView,
              feedSequence: gate.position,
              seenGeneration: gate.seenGeneration.get(ticket.id) ?? 0,
              known: gate.known,
              pendingSessions: gate.pending.filter((p) => p.ticketId === ticket.id).map((p) => p.session),
              now: now + gate.skew,
            },
            MODEL_SESSIONS,
          );
          const what = `${ticket.id} gen ${generation} ${direction} at ${clock(gate)}`;
          let decision: Decision;
          let authorizationId: string | undefined;
          try {
            const lane = direction === "entry" ? 1 : 2;
            let outcome = await gate.backend.scan(lane, code);
            if (outcome.decision.outcome === "ASSISTED") {
              checkHolder(outcome.decision);
              outcome = await gate.backend.confirmAssisted(lane, "steward-1");
            }
            decision = outcome.decision;
            authorizationId = outcome.authorizationId;
          } catch (error) {
            trace.push(`${label}: ${what} THREW`);
            violation({
              invariant: "no-throw",
              case: direction === "exit" ? 5 : "other",
              detail: `scan of ${what} threw ${error instanceof Error ? `${error.name}: ${error.message}` : error} (model: ${[...expected.reasons].join("|")}, ${expected.why})`,
            });
            break;
          }
          trace.push(
            `${label}: ${what} → ${decision.reason}${decision.session ? ` S${decision.session}` : ""} (model: ${[...expected.reasons].join("|")}; ${expected.why})`,
          );
          checkDecision(decision, expected, what);
          if (authorizationId && decision.session !== undefined) {
            gate.pending.push({ authorizationId, ticketId: ticket.id, session: decision.session, direction });
            const g = decision.generation ?? generation;
            gate.seenGeneration.set(ticket.id, Math.max(gate.seenGeneration.get(ticket.id) ?? 0, g));
            if (action.after !== "wait") resolve(gate, gate.pending.length - 1, action.after, label);
          }

          function checkHolder(d: Decision) {
            const others = ticket.generations.filter((x) => x.generation !== generation).map((x) => x.holder);
            const shownText = [d.holder ?? "", d.messages.en.tell, d.messages.fr.tell].join(" / ");
            const leaked = others.find((name) => shownText.includes(name));
            if (leaked)
              violation({
                invariant: "holder",
                case: 3,
                detail: `${what}: the steward is shown ${JSON.stringify(leaked)}, the holder of another generation ("${d.messages.en.tell}")`,
              });
          }

          function checkDecision(d: Decision, e: Expectation, scan: string) {
            const caseOf = (): Case => {
              // Offset-less session times show as doors opened or closed at the wrong time.
              const timed =
                SESSION_REASONS.has(d.reason) || [...e.reasons].some((r) => SESSION_REASONS.has(r));
              if (plan.variant === "local" && timed) return 6;
              if (gate?.bogusSeen.has(ticket.id)) return 7;
              if (e.supersededByJournal) return 4;
              if (ticket.sessions.length > 1) return 2;
              if (SESSION_REASONS.has(d.reason) || [...e.reasons].some((r) => SESSION_REASONS.has(r)))
                return 2;
              if (STATE_REASONS.has(d.reason) && [...e.reasons].every((r) => STATE_REASONS.has(r))) return 1;
              return "other";
            };
            checkHolder(d);
            if ((d.reason as string) === "SCAN_FAILED") {
              violation({
                invariant: "no-throw",
                case: direction === "exit" ? 5 : "other",
                detail: `${scan}: the scan failed (${d.detail ?? "SCAN_FAILED"}), model ${[...e.reasons].join("|")} (${e.why})`,
              });
            } else if (!e.reasons.has(d.reason)) {
              const admitted = outcomeOf(d.reason) !== "REFUSE";
              violation({
                invariant:
                  admitted && e.mustRefuse
                    ? "admitted-refusable"
                    : !admitted && e.mustAdmit
                      ? "refused-valid"
                      : "wrong-reason",
                case: caseOf(),
                detail: `${scan}: gate ${d.reason}${d.session ? ` S${d.session}` : ""}, model ${[...e.reasons].join("|")} (${e.why})`,
              });
            } else if (admits(d.reason) && e.sessions.size > 0 && !e.sessions.has(d.session ?? -1)) {
              violation({
                invariant: "wrong-reason",
                case: caseOf(),
                detail: `${scan}: ${d.reason} for session ${d.session}, model: session ${[...e.sessions].join("|")} (${e.why})`,
              });
            }
          }
          break;
        }
      }
    }

    // Everything reaches the server: every double entry must now be flagged.
    for (const gate of gates) upload(gate);
    for (const key of doubleEntries) {
      // Known gap, left open in issue 16: the server's presence follows the order batches reach it,
      // so a double entry whose movements reach it in another order than they happened can look
      // like a re-entry and go unflagged (regression: "a double entry the server hears out of order").
      if (!alerted.has(key) && heardOutOfOrder.has(key)) serverOutOfOrderMisses++;
      else if (!alerted.has(key))
        violation({
          invariant: "double-entry",
          case: "other",
          detail: `ticket:session ${key} entered twice, and the server's policy raised no double-entry alert`,
        });
    }
    return violations;
  } finally {
    for (const gate of gates) {
      gate.backend.close();
      gate.store.close();
    }
  }
}

/**
 * One fan-out entry into a gate's cache, with its place in the venue's admissions order (the
 * server's sequence): a cache that orders movements by it takes it (recordRemoteEntries' second
 * argument); one that does not ignores it.
 */
function recordFanout(store: GateStore, event: EntryLogEvent, position: number): void {
  const record = store.recordRemoteEntries.bind(store) as (
    events: readonly EntryLogEvent[],
    positions?: readonly number[],
  ) => unknown;
  record([event], [position]);
}

function describeViolation(v: Violation): string {
  return [
    `${v.invariant} (issue 16 case ${v.case}): ${v.detail}`,
    "run:",
    ...v.trace.map((l) => `  ${l}`),
  ].join("\n");
}

/** The property: a run violates none of the invariants `relevant` keeps. */
function property(venue: VenueFixture, relevant: (v: Violation) => boolean = () => true) {
  return fc.asyncProperty(planArb, async (plan) => {
    const found = (await runPlan(plan, venue)).filter(relevant);
    const first = found[0];
    if (first) throw new Error(describeViolation(first));
  });
}

describe("admission model (issue 16): real gates and caches against the reference model", () => {
  let venue: VenueFixture;
  beforeAll(() => {
    venue = buildVenues();
  });
  afterAll(() => venue?.remove());

  it(`${RUNS} random runs (seed ${SEED}): no scan throws, no gate admits what it knows to refuse or refuses a valid holder, every reason the model's, every double entry flagged`, async () => {
    await fc.assert(property(venue), { seed: SEED, numRuns: RUNS });
    if (serverOutOfOrderMisses > 0)
      console.warn(
        `admission model: ${serverOutOfOrderMisses} double entries the server heard out of order went unflagged (known gap, issue 16)`,
      );
  }, 600_000);

  // The known gap, as its own case: it fails today (the server's presence follows arrival order);
  // when the server learns to flag it, this fails and must become an ordinary test.
  it.fails("a double entry the server hears out of order is alerted (known gap: the server follows arrival order)", () => {
    const entry = (gateId: string, kind: "entered" | "exited", n: number): EntryLogEvent => ({
      eventId: `e-${gateId}-${n}`,
      gateId,
      gateSeq: n,
      lane: 1,
      kind,
      direction: kind === "entered" ? "entry" : "exit",
      reason: kind === "entered" ? "ADMITTED" : "EXIT_RECORDED",
      ticketId: 101,
      generation: 1,
      session: 1,
      manual: false,
      at: 0,
    });
    // Truth: A2 admits, then A1 (neither had heard of the other), then the A1 holder goes out.
    // The server hears A1's entry and exit first, then A2's entry.
    let presence: TicketPresence | undefined;
    let alert = false;
    for (const event of [entry("A1", "entered", 1), entry("A1", "exited", 2), entry("A2", "entered", 1)]) {
      if (event.kind === "exited") {
        if (presence) presence = { ...presence, state: "outside" };
        continue;
      }
      alert ||= doubleEntryAlert(event, presence, "exit-scan", 0) !== undefined;
      presence = { state: "inside", lastGate: event.gateId, lastEvent: event.eventId };
    }
    expect(alert).toBe(true);
  });

  it.runIf(process.env.SESAME_MODEL_STATS === "1")(
    "stats: how many of 300 runs break each invariant, by case",
    async () => {
      const counts = new Map<string, number>();
      for (const plan of fc.sample(planArb, { seed: SEED, numRuns: 300 })) {
        const found = await runPlan(plan, venue);
        const kinds = new Set(found.map((v) => `${v.case}/${v.invariant}`));
        for (const k of kinds) counts.set(k, (counts.get(k) ?? 0) + 1);
        counts.set("steps drawn", (counts.get("steps drawn") ?? 0) + plan.actions.length);
      }
      console.log([...counts].sort().join("\n"));
    },
    600_000,
  );

  it.runIf(HUNT !== undefined)(
    "hunt: after how many runs each case of the issue is found",
    async () => {
      const table: string[] = [];
      const all: Case[] = [1, 2, 3, 4, 5, 6, 7, "other"];
      const cases = HUNT === "all" ? all : all.filter((c) => (HUNT ?? "").split(",").includes(String(c)));
      for (const c of cases) {
        const details = await fc.check(
          property(venue, (v) => v.case === c),
          { seed: SEED, numRuns: HUNT_RUNS },
        );
        if (!details.failed) {
          table.push(`case ${c}: not found in ${HUNT_RUNS} runs (seed ${SEED})`);
          continue;
        }
        const error =
          details.errorInstance instanceof Error
            ? details.errorInstance.message
            : String(details.errorInstance);
        table.push(
          `case ${c}: found at run ${details.numRuns} (seed ${SEED}, ${details.numShrinks} shrinks)\n${error}`,
        );
      }
      console.log(table.join("\n\n"));
      expect(table.length).toBe(cases.length);
    },
    3_600_000,
  );
});
