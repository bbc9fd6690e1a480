import type { GateProvisioning } from "@sesame/sync";
import type { Gate } from "@sesame/venue";
import type { PersonSpec } from "./population.js";
import type { Mismatch, ProfileFigures } from "./report.js";

/*
 * What crosses between the rehearsal's coordinator (the sync-server side, main thread) and its
 * sectors (groups of entrances with their gates, lanes and crowd, each in a worker thread or in
 * the main thread): plain data only, so that it survives postMessage.
 *
 * Time is cut in rounds of ROUND_MS. A sector runs its virtual clock through a round on its own:
 * everything it sends (an event batch, a person walking to another entrance) takes at least one
 * network hop (HOP_MIN_MS) to arrive, and the server's answer another, so nothing a sector does in
 * a round can reach a sector in the same round. This is the classic conservative (lookahead)
 * synchronization of parallel discrete-event simulation: the outcome does not depend on how many
 * threads ran it.
 */

/** The least one-way delay of the modeled venue network. */
export const HOP_MIN_MS = 25;
/** Length of a round: two hops, a batch's way to the server and the answer's way back. */
export const ROUND_MS = 2 * HOP_MIN_MS;
/** A network hop: HOP_MIN_MS plus an exponential tail (mean HOP_TAIL_MS, capped at HOP_MAX_MS). */
export const HOP_TAIL_MS = 5;
export const HOP_MAX_MS = 250;

/** To a sector, due at virtual time `at` (within the round it is handed over in). */
export type Inbound =
  | { readonly kind: "ack"; readonly at: number; readonly gateId: string; readonly payload: string }
  | {
      readonly kind: "admissions";
      readonly at: number;
      readonly gateId: string;
      /** Index into the round's shared payloads (one message reaches every gate). */
      readonly payload: number;
    }
  | { readonly kind: "feed"; readonly at: number; readonly gateId: string; readonly payload: number }
  | { readonly kind: "person"; readonly at: number; readonly person: PersonSpec };

/** From a sector: an event batch reaching the server at `at`, or a person reaching another entrance. */
export type Outbound =
  | { readonly kind: "batch"; readonly at: number; readonly gateId: string; readonly payload: string }
  | { readonly kind: "person"; readonly at: number; readonly person: PersonSpec };

export interface RoundOrder {
  /** Run the clock through [previous end, until). */
  readonly until: number;
  readonly inbound: readonly Inbound[];
  readonly payloads: readonly string[];
}

export interface RoundReply {
  readonly outbound: readonly Outbound[];
  /** No one left to arrive here, no one queuing or at a lane. */
  readonly idle: boolean;
  /** Events recorded by this sector's gates and not yet acknowledged by the server. */
  readonly unacked: number;
  readonly arrived: number;
  readonly admitted: number;
  readonly queuing: number;
  /** Virtual time the last person here finished. */
  readonly lastActivity: number;
}

export interface SectorConfig {
  readonly index: number;
  readonly venueDir: string;
  readonly dataDir: string;
  readonly gates: ReadonlyArray<{ readonly gate: Gate; readonly firstLane: number }>;
  /** Each gate's provisioning, as the sync-server handed it out (its GateSync runs on it). */
  readonly provisioning: Readonly<Record<string, GateProvisioning>>;
  /** Each gate's own signing key (hex seed), made for it as the gate would: the server never saw it. */
  readonly gateKeys: Readonly<Record<string, string>>;
  readonly rootPublicKey: string;
  readonly people: readonly PersonSpec[];
  readonly sharers: readonly number[];
  readonly seed: string;
  /** Virtual time the sector's clock starts at (before the first round). */
  readonly startAt: number;
  readonly windowStart: number;
  readonly windowMs: number;
  readonly sampleEveryMs: number;
  readonly fullPolling: boolean;
  /** Entrances of the venue (ids, in order), to name queue samples. */
  readonly entrances: readonly number[];
}

export interface LaneResult {
  readonly gateId: string;
  readonly lane: number;
  readonly entrance: number;
  readonly index: number;
  readonly scans: number;
  readonly admitted: number;
  readonly refused: number;
  readonly assisted: number;
}

/** Outcomes checked against the crowd's ground truth (RehearsalReport["truth"] sums them). */
export interface TruthTally {
  falseAccepts: number;
  falseRefusals: number;
  wrongReasons: number;
  noDecision: number;
  expectedAnnulled: number;
  annulled: number;
}

export function emptyTruthTally(): TruthTally {
  return {
    falseAccepts: 0,
    falseRefusals: 0,
    wrongReasons: 0,
    noDecision: 0,
    expectedAnnulled: 0,
    annulled: 0,
  };
}

export interface SectorResult {
  readonly index: number;
  readonly unlockWall: number[];
  readonly decisionWall: number[];
  readonly presentToUnlock: number[];
  readonly fanOut: number[];
  readonly waits: number[];
  readonly byReason: Record<string, number>;
  readonly byOutcome: Record<string, number>;
  readonly byProfile: Record<string, ProfileFigures>;
  readonly mismatches: Mismatch[];
  readonly truth: TruthTally;
  readonly people: number;
  readonly admitted: number;
  readonly decisions: number;
  readonly lanes: readonly LaneResult[];
  /** Per minute from the window start: arrivals and admissions here; admissions per entrance id. */
  readonly perMinute: { arrivals: number[]; admitted: number[] };
  readonly admittedPerEntranceMinute: Record<string, number[]>;
  readonly arrivedPerEntrance: Record<string, number>;
  /** Queue samples: entrance id → people queuing at each sample. */
  readonly queueSamples: Record<string, number[]>;
  readonly longestLaneSamples: number[];
  readonly maxQueue: number;
  /** Per gate: its whole event log, reduced to what the lost-event check compares. */
  readonly gateLogs: Record<string, Array<[string, number, string, number | null, string]>>;
  readonly counters: Record<string, number>;
  readonly gateAlerts: Record<string, number>;
  readonly errors: string[];
}
