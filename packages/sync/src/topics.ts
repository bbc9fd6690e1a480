/*
 * The MQTT topic tree of one venue (docs/sync-protocol.md §2). Every topic lives under
 * `sesame/<venueId>/`; a gate publishes only under `gates/<its id>/` (see acl.ts).
 */

/** Ids that appear in topics and MQTT usernames: no wildcards, separators or spaces. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

export function isValidId(id: string): boolean {
  return ID_PATTERN.test(id);
}

/** What a gate publishes under its own prefix. */
export const GATE_PUBLISH_LEAVES = [
  "events",
  "replay",
  "status",
  "heartbeat",
  "command-acks",
  // Messages the gate refused (a forged admission…): the server raises the alert.
  "refusals",
] as const;
export type GatePublishLeaf = (typeof GATE_PUBLISH_LEAVES)[number];
/** What the server publishes under one gate's prefix. */
export const GATE_RECEIVE_LEAVES = ["ack", "changes", "commands"] as const;
export type GateReceiveLeaf = (typeof GATE_RECEIVE_LEAVES)[number];

export interface VenueTopics {
  readonly prefix: string;
  gate(gateId: string, leaf: GatePublishLeaf | GateReceiveLeaf): string;
  entranceCommands(entranceId: number): string;
  readonly feed: string;
  readonly admissions: string;
  readonly trustList: string;
  readonly gateList: string;
  readonly serverStatus: string;
  readonly serverHeartbeat: string;
  /** Filters the sync-server subscribes to (every gate's uplink). */
  readonly serverSubscriptions: readonly string[];
}

export function venueTopics(venueId: string): VenueTopics {
  if (!isValidId(venueId)) throw new RangeError(`venue id ${JSON.stringify(venueId)} is not topic-safe`);
  const prefix = `sesame/${venueId}`;
  return {
    prefix,
    gate: (gateId, leaf) => `${prefix}/gates/${gateId}/${leaf}`,
    entranceCommands: (entranceId) => `${prefix}/entrances/${entranceId}/commands`,
    feed: `${prefix}/feed`,
    admissions: `${prefix}/admissions`,
    trustList: `${prefix}/trust-list`,
    gateList: `${prefix}/gate-list`,
    serverStatus: `${prefix}/server/status`,
    serverHeartbeat: `${prefix}/server/heartbeat`,
    serverSubscriptions: GATE_PUBLISH_LEAVES.map((leaf) => `${prefix}/gates/+/${leaf}`),
  };
}

export type ParsedTopic =
  | { readonly kind: "gate"; readonly gateId: string; readonly leaf: GatePublishLeaf | GateReceiveLeaf }
  | { readonly kind: "entrance-commands"; readonly entranceId: number }
  | {
      readonly kind:
        | "feed"
        | "admissions"
        | "trust-list"
        | "gate-list"
        | "server-status"
        | "server-heartbeat";
    };

const ALL_GATE_LEAVES: readonly string[] = [...GATE_PUBLISH_LEAVES, ...GATE_RECEIVE_LEAVES];

/** Parses a topic of this venue; undefined for anything outside the tree. */
export function parseTopic(venueId: string, topic: string): ParsedTopic | undefined {
  const parts = topic.split("/");
  if (parts[0] !== "sesame" || parts[1] !== venueId) return undefined;
  const rest = parts.slice(2);
  if (rest.length === 3 && rest[0] === "gates") {
    const [, gateId = "", leaf = ""] = rest;
    if (!isValidId(gateId) || !ALL_GATE_LEAVES.includes(leaf)) return undefined;
    return { kind: "gate", gateId, leaf: leaf as GatePublishLeaf | GateReceiveLeaf };
  }
  if (rest.length === 3 && rest[0] === "entrances" && rest[2] === "commands") {
    const id = Number(rest[1]);
    return Number.isInteger(id) && id >= 0 && String(id) === rest[1]
      ? { kind: "entrance-commands", entranceId: id }
      : undefined;
  }
  const joined = rest.join("/");
  switch (joined) {
    case "feed":
      return { kind: "feed" };
    case "admissions":
      return { kind: "admissions" };
    case "trust-list":
      return { kind: "trust-list" };
    case "gate-list":
      return { kind: "gate-list" };
    case "server/status":
      return { kind: "server-status" };
    case "server/heartbeat":
      return { kind: "server-heartbeat" };
    default:
      return undefined;
  }
}

/** MQTT usernames: a gate logs in as `gate-<id>` so that no gate id can collide with the server's. */
export const SERVER_USERNAME = "sync-server";

export function gateUsername(gateId: string): string {
  return `gate-${gateId}`;
}

export function gateIdOfUsername(username: string): string | undefined {
  if (!username.startsWith("gate-")) return undefined;
  const id = username.slice(5);
  return isValidId(id) ? id : undefined;
}
