import { GATE_PUBLISH_LEAVES, GATE_RECEIVE_LEAVES, venueTopics } from "./topics.js";

/*
 * Topic rights of each MQTT principal, written once and used twice: by the embedded broker's
 * authenticate/authorizePublish/authorizeSubscribe hooks and by `sesame mosquitto-config` (ACL
 * file), so that production and the embedded broker enforce the same rights. Deny by default: a
 * principal may do what its role needs and nothing else (docs/design.md §9).
 */

export type Principal =
  | { readonly kind: "server" }
  | { readonly kind: "gate"; readonly gateId: string; readonly entranceId: number };

export interface TopicRights {
  /** Topics or filters the principal may publish to (a published topic must match one). */
  readonly publish: readonly string[];
  /** Filters the principal may subscribe to (a requested filter must fall inside one). */
  readonly subscribe: readonly string[];
  /** The only topics the principal may publish retained messages to: its presence (and the signed lists). */
  readonly retain: readonly string[];
  /** The one topic a Last Will may target: the principal's own status. */
  readonly will: string;
}

export function topicRights(venueId: string, principal: Principal): TopicRights {
  const t = venueTopics(venueId);
  if (principal.kind === "server") {
    return {
      // What the server sends (docs/sync-protocol.md §2): to every gate, per entrance, venue-wide.
      publish: [
        ...GATE_RECEIVE_LEAVES.map((leaf) => t.gate("+", leaf)),
        `${t.prefix}/entrances/+/commands`,
        t.feed,
        t.admissions,
        t.trustList,
        t.gateList,
        t.serverStatus,
        t.serverHeartbeat,
      ],
      subscribe: [...t.serverSubscriptions],
      // The trust list and the gate list are retained so that a gate that connects gets them at once.
      retain: [t.serverStatus, t.trustList, t.gateList],
      will: t.serverStatus,
    };
  }
  const { gateId, entranceId } = principal;
  const status = t.gate(gateId, "status");
  return {
    publish: GATE_PUBLISH_LEAVES.map((leaf) => t.gate(gateId, leaf)),
    subscribe: [
      ...GATE_RECEIVE_LEAVES.map((leaf) => t.gate(gateId, leaf)),
      t.entranceCommands(entranceId),
      t.feed,
      t.admissions,
      t.trustList,
      t.gateList,
      `${t.prefix}/server/#`,
    ],
    retain: [status],
    will: status,
  };
}

/** MQTT topic matching (MQTT 3.1.1 §4.7): `+` one level, `#` the rest (including the parent). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split("/");
  const t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === "#") return i === f.length - 1;
    if (i >= t.length) return false;
    if (level !== "+" && level !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Every topic `inner` can match is matched by `outer` (both are filters). */
export function filterCovers(outer: string, inner: string): boolean {
  const o = outer.split("/");
  const i = inner.split("/");
  for (let k = 0; k < o.length; k++) {
    const level = o[k];
    if (level === "#") return k === o.length - 1;
    const requested = i[k];
    if (requested === undefined || requested === "#") return false;
    if (level !== "+" && level !== requested) return false;
  }
  return o.length === i.length;
}

function isWild(topic: string): boolean {
  return topic.includes("+") || topic.includes("#");
}

export function mayPublish(rights: TopicRights, topic: string): boolean {
  if (isWild(topic)) return false;
  return rights.publish.some((allowed) => topicMatches(allowed, topic));
}

/** A requested filter is allowed when every topic it can match is allowed. */
export function maySubscribe(rights: TopicRights, filter: string): boolean {
  if (filter === "" || filter.startsWith("$")) return false;
  return rights.subscribe.some((allowed) => filterCovers(allowed, filter));
}

/**
 * Why a publish is refused (undefined: allowed). `retain` is the MQTT retain flag: retained messages
 * only where the protocol keeps one (presence, the trust list), so nothing else outlives its sender.
 */
export function publishRefusal(
  rights: TopicRights,
  publish: { readonly topic: string; readonly retain: boolean },
): string | undefined {
  if (!mayPublish(rights, publish.topic)) return "not a topic of this client";
  if (publish.retain && !rights.retain.includes(publish.topic))
    return "retained messages are not allowed on this topic";
  return undefined;
}

/** Why a Last Will is refused at CONNECT (undefined: allowed): it may only say that this client went offline. */
export function willRefusal(
  rights: TopicRights,
  will: { readonly topic: string; readonly retain: boolean },
): string | undefined {
  if (will.topic !== rights.will) return `a will may only target ${rights.will}`;
  return publishRefusal(rights, will);
}

/**
 * The Mosquitto `acl_file` for a venue: one `user` block per principal, nothing for anyone else.
 * What an ACL file cannot say (Mosquitto 2.0.11): it has no retain rule (a client may leave a
 * retained message on any topic it may write), and it checks a will when it is delivered, not at
 * CONNECT (a will elsewhere is accepted, then silently not delivered) — see docs/sync-protocol.md §1.
 */
export function mosquittoAcl(
  venueId: string,
  principals: ReadonlyArray<{ readonly username: string; readonly principal: Principal }>,
): string {
  const lines = [
    `# Sésame venue ${venueId}: generated by \`sesame mosquitto-config\`; do not edit by hand.`,
    "# Deny by default: anonymous clients have no rights at all (and allow_anonymous is false);",
    "# each user may write and read only what its role needs.",
    "",
  ];
  for (const { username, principal } of principals) {
    const rights = topicRights(venueId, principal);
    lines.push(`user ${username}`);
    for (const topic of rights.publish) lines.push(`topic write ${topic}`);
    for (const topic of rights.subscribe) lines.push(`topic read ${topic}`);
    lines.push("");
  }
  return lines.join("\n");
}
