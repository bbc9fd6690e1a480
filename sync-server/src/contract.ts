/*
 * The HTTP API's and event stream's contract with the dashboard (docs/sync-server-api.md): the
 * shapes the server sends, as types only. The dashboard imports them with `import type` from
 * `@sesame/sync-server/contract`, so that its browser bundle pulls in no server code and its
 * types cannot drift from what the server sends.
 */

import type { Outcome, StewardMessage } from "@sesame/gate-core";
import type { Command, CommandAckStatus, CommandType, GateHeartbeat } from "@sesame/sync";
import type { Entrance, Gate, Session, Venue, Zone } from "@sesame/venue";
import type { Alert, AlertType } from "./alerts/policy.js";
import type { CommandAckRecord } from "./commands/repository.js";
import type { Counts, ThroughputMinute as StoredThroughputMinute } from "./dashboard/queries.js";
import type { GateView } from "./http/routes/route.js";
import type { StoredEvent } from "./ingest/repository.js";
import type { RejectionRecord } from "./rejections/repository.js";

export type { Alert, AlertType, Command, CommandType, Counts, GateView, RejectionRecord, StoredEvent };

/** Who a dashboard caller is (GET/POST /api/session). */
export interface Me {
  readonly name: string;
  readonly role: "supervisor" | "tech" | "admin";
}

/** GET /api/venue: the venue without its root key. */
export type VenueInfo = Omit<Venue, "rootPublicKey">;
export type SessionInfo = Session;
export type ZoneInfo = Zone;
export type EntranceInfo = Entrance;
export type GateInfo = Gate;

export type Tally = Record<string, number>;

/** A gate's last heartbeat, with the server's time of receipt. */
export type Heartbeat = GateHeartbeat & { readonly receivedAt: number };

export type AckStatus = CommandAckStatus;
export type CommandAck = CommandAckRecord;

/** A command with its acknowledgements and the gates it was sent to (GET /api/commands, the stream). */
export interface CommandView {
  readonly command: Command;
  readonly acks: readonly CommandAck[];
  readonly targets: readonly string[];
}

/** GET /api/reasons: a reason code, its outcome (or ALARM) and the stewards' texts. */
export interface ReasonText {
  readonly code: string;
  readonly outcome: Outcome | "ALARM";
  readonly fr: StewardMessage;
  readonly en: StewardMessage;
}

/** GET /api/throughput: one minute of the chart. */
export type ThroughputMinute = Readonly<StoredThroughputMinute>;

/** The stream's first message, at every (re)connection. */
export interface Snapshot {
  readonly counts: Counts;
  readonly gates: readonly GateView[];
  readonly alerts: readonly Alert[];
  readonly now: number;
}
