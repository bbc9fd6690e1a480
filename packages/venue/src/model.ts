import type { CategoryName, SignedTrustListJson, TicketKind } from "@sesame/ticket";
import type { Supervisor } from "./supervisors.js";

/** Re-entry policy of a session: none (default), or out and back in with an exit scan. */
export type ReentryPolicy = "none" | "exit-scan";

export interface Session {
  /** u16 id carried in credentials. */
  readonly id: number;
  readonly code: string;
  readonly name: string;
  /** ISO times. */
  readonly doorsOpen: string;
  readonly start: string;
  readonly end: string;
  /** Doors close this many minutes after `end` (stragglers, re-entry). */
  readonly reentry: ReentryPolicy;
}

export interface Zone {
  readonly id: number;
  readonly code: string;
  readonly name: string;
  readonly capacity: number;
}

export interface Entrance {
  readonly id: number;
  /** What the signs say: "K" for "Porte K". */
  readonly code: string;
  readonly name: string;
  readonly zones: readonly number[];
}

export interface Gate {
  /** e.g. "A1": a kiosk with its lanes at one entrance. */
  readonly id: string;
  readonly entrance: number;
  readonly lanes: number;
}

export interface Venue {
  readonly id: string;
  readonly name: string;
  readonly timezone: string;
  /** Hex of the venue root public key that signs trust lists and gate bundles. */
  readonly rootPublicKey: string;
  readonly sessions: readonly Session[];
  readonly zones: readonly Zone[];
  readonly entrances: readonly Entrance[];
  readonly gates: readonly Gate[];
  /**
   * Who may override a steward's manual admission, each with the hash of their override code
   * (supervisors.ts); signed with the rest of the venue in the gate bundle. None: no overrides.
   */
  readonly supervisors?: readonly Supervisor[];
}

export type TicketStatus = "valid" | "cancelled";
export type RevocationReason = "resold" | "transferred" | "cancelled";

/** One ticket as a gate's cache holds it: its current generation and who holds it. */
export interface BundleTicket {
  readonly id: number;
  readonly generation: number;
  readonly kind: TicketKind;
  readonly status: TicketStatus;
  readonly sessions: readonly number[];
  readonly entrance: number;
  readonly zone: number;
  readonly seat: string;
  readonly categories: readonly CategoryName[];
  readonly holder: string;
  readonly orderReference: string;
  readonly issueSequence: number;
}

export interface Revocation {
  readonly ticketId: number;
  /** Every generation up to and including this one is revoked. */
  readonly generation: number;
  readonly reason: RevocationReason;
  readonly sequence: number;
}

/** The bundle's format; /2 writes its lists as rows of values (bundle.ts). */
export const GATE_BUNDLE_FORMAT = "sesame-gate-bundle/2";

/** What a gate receives to work offline: the venue, the trust list and every ticket's current state. */
export interface GateBundle {
  readonly format: typeof GATE_BUNDLE_FORMAT;
  readonly generatedAt: string;
  /** Every ticket change up to this feed sequence is included. */
  readonly feedSequence: number;
  readonly venue: Venue;
  readonly trustList: SignedTrustListJson;
  readonly tickets: readonly BundleTicket[];
  readonly revocations: readonly Revocation[];
}

/**
 * A change in the ticket feed, applied idempotently by sequence number. Issuer keys are not the
 * feed's business: their revocation is a new root-signed trust list.
 */
export type TicketChange =
  | { readonly sequence: number; readonly type: "issue"; readonly ticket: BundleTicket }
  | {
      readonly sequence: number;
      readonly type: "resale" | "transfer";
      readonly ticketId: number;
      readonly generation: number;
      readonly holder: string;
    }
  | { readonly sequence: number; readonly type: "cancel"; readonly ticketId: number };

export const TICKET_CHANGE_TYPES = ["issue", "resale", "transfer", "cancel"] as const;

/** Who signed a change: an issuer key of the trust list (`keyId`), and its Ed25519 signature in hex. */
export interface ChangeSignature {
  readonly keyId: number;
  readonly sig: string;
}

/** A change as the feed carries it: signed by the issuer (change-signature.ts). */
export type SignedTicketChange = TicketChange & ChangeSignature;
