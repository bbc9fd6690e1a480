/*
 * What the sync-server's HTTP API and event stream send the dashboard (docs/sync-server-api.md):
 * the server's own contract, imported type-only, so that the browser bundle pulls in no Node code
 * and the dashboard's types cannot drift from what the server sends.
 */

export type {
  AckStatus,
  Alert,
  AlertType,
  Command,
  CommandAck,
  CommandType,
  CommandView,
  Counts,
  EntranceInfo,
  GateInfo,
  GateView,
  Heartbeat,
  Me,
  ReasonText,
  SessionInfo,
  Snapshot,
  StoredEvent,
  Tally,
  ThroughputMinute,
  VenueInfo,
  ZoneInfo,
} from "@sesame/sync-server/contract";
