/*
 * What the sync-server's HTTP API and event stream send the dashboard (docs/sync-server-api.md).
 * Declared here rather than imported from the server: the browser bundle must not pull in Node code,
 * and this file is the contract the dashboard relies on.
 */

export type Role = "supervisor" | "tech" | "admin";

export interface Me {
  readonly name: string;
  readonly role: Role;
}

export interface SessionInfo {
  readonly id: number;
  readonly code: string;
  readonly name: string;
  readonly doorsOpen: string;
  readonly start: string;
  readonly end: string;
}

export interface ZoneInfo {
  readonly id: number;
  readonly code: string;
  readonly name: string;
  readonly capacity: number;
}

export interface EntranceInfo {
  readonly id: number;
  readonly code: string;
  readonly name: string;
  readonly zones: readonly number[];
}

export interface GateInfo {
  readonly id: string;
  readonly entrance: number;
  readonly lanes: number;
}

export interface VenueInfo {
  readonly id: string;
  readonly name: string;
  readonly timezone: string;
  readonly sessions: readonly SessionInfo[];
  readonly zones: readonly ZoneInfo[];
  readonly entrances: readonly EntranceInfo[];
  readonly gates: readonly GateInfo[];
}

export type Tally = Record<string, number>;

export interface Counts {
  readonly entered: number;
  readonly byGate: Tally;
  readonly byEntrance: Tally;
  readonly byZone: Tally;
  readonly bySession: Tally;
  readonly insideBySession: Tally;
  readonly refusalsByReason: Tally;
  /** Forced passages and tailgates by reason. */
  readonly alarmsByReason: Tally;
  readonly freePassages: number;
  readonly events: number;
  readonly lastRowId: number;
  readonly capacity: {
    readonly venue: number;
    readonly byZone: Tally;
    readonly byEntrance: Tally;
    readonly bySession: Tally;
  };
  readonly tickets: { readonly bySession: Tally; readonly byEntrance: Tally; readonly byZone: Tally };
}

export interface Heartbeat {
  readonly at: number;
  readonly clockOffsetMs?: number;
  readonly feedSequence: number;
  readonly admissionSeq: number;
  readonly dataAgeMs?: number;
  readonly outboxDepth: number;
  readonly ackedGateSeq: number;
  /** Server clock. */
  readonly receivedAt: number;
}

export interface GateView {
  readonly gateId: string;
  readonly entrance: number;
  readonly lanes: number | null;
  readonly provisioned: boolean;
  readonly provisionedAt: number | null;
  readonly status: "online" | "offline" | "unknown";
  readonly statusAt: number | null;
  readonly ackedGateSeq: number;
  readonly heartbeat: Heartbeat | null;
}

export type AlertType =
  | "double-entry"
  | "forgery"
  | "forced-passage"
  | "tailgate"
  | "gate-offline"
  | "clock-skew";

export interface Alert {
  readonly id: number;
  readonly type: AlertType;
  readonly at: number;
  readonly ticketId: number | null;
  readonly session: number | null;
  readonly gates: readonly string[];
  readonly eventIds: readonly string[];
  readonly detail: string;
  readonly acknowledgedBy: string | null;
  readonly acknowledgedAt: number | null;
  readonly acknowledgeNote: string | null;
}

export interface StoredEvent {
  readonly rowId: number;
  readonly eventId: string;
  readonly gateId: string;
  readonly lane: number;
  readonly kind: "authorized" | "entered" | "exited" | "annulled" | "refused" | "free-passage" | "alarm";
  readonly direction: "entry" | "exit";
  readonly reason: string;
  readonly ticketId?: number;
  readonly session?: number;
  readonly at: number;
  readonly entrance: number | null;
  readonly zone: number | null;
  readonly receivedAt: number;
}

export type CommandType = "free-passage" | "end-free-passage" | "lock-lane" | "unlock-lane" | "message";

export interface Command {
  readonly id: string;
  readonly type: CommandType;
  readonly target: { readonly gate: string } | { readonly entrance: number };
  readonly lane?: number;
  readonly text?: string;
  readonly by: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
}

export type AckStatus = "done" | "refused" | "expired";

export interface CommandAck {
  readonly gateId: string;
  readonly status: AckStatus;
  readonly detail: string | null;
  readonly at: number;
}

export interface CommandView {
  readonly command: Command;
  readonly acks: readonly CommandAck[];
  /** The gates it was sent to. */
  readonly targets: readonly string[];
}

export interface ReasonText {
  readonly code: string;
  readonly outcome: "ADMIT" | "REFUSE" | "ASSISTED" | "ALARM";
  readonly fr: { readonly headline: string; readonly tell: string };
  readonly en: { readonly headline: string; readonly tell: string };
}

export interface ThroughputMinute {
  readonly at: number;
  readonly entered: number;
  readonly refused: number;
}

export interface Snapshot {
  readonly counts: Counts;
  readonly gates: readonly GateView[];
  readonly alerts: readonly Alert[];
  readonly now: number;
}
