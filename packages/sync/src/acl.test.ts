import { describe, expect, it } from "vitest";
import {
  filterCovers,
  mayPublish,
  maySubscribe,
  mosquittoAcl,
  publishRefusal,
  topicMatches,
  topicRights,
  willRefusal,
} from "./acl.js";
import { parseTopic, venueTopics } from "./topics.js";

describe("topic rights", () => {
  const gate = topicRights("SDF", { kind: "gate", gateId: "A1", entranceId: 1 });
  const t = venueTopics("SDF");

  it("matches MQTT filters", () => {
    expect(topicMatches("a/+/c", "a/b/c")).toBe(true);
    expect(topicMatches("a/#", "a")).toBe(true);
    expect(topicMatches("a/#", "a/b/c")).toBe(true);
    expect(topicMatches("a/+", "a/b/c")).toBe(false);
  });

  it("lets a gate publish only under its own topics", () => {
    expect(mayPublish(gate, t.gate("A1", "events"))).toBe(true);
    expect(mayPublish(gate, t.gate("B1", "events"))).toBe(false);
    expect(mayPublish(gate, t.gate("A1", "ack"))).toBe(false);
    expect(mayPublish(gate, t.feed)).toBe(false);
    expect(mayPublish(gate, "sesame/SDF/gates/+/events")).toBe(false);
  });

  it("lets a gate read its own and venue-wide topics, never another gate's", () => {
    expect(maySubscribe(gate, t.gate("A1", "ack"))).toBe(true);
    expect(maySubscribe(gate, t.entranceCommands(1))).toBe(true);
    expect(maySubscribe(gate, t.entranceCommands(2))).toBe(false);
    expect(maySubscribe(gate, t.gate("B1", "ack"))).toBe(false);
    expect(maySubscribe(gate, "sesame/SDF/gates/+/ack")).toBe(false);
    expect(maySubscribe(gate, "sesame/SDF/#")).toBe(false);
    expect(maySubscribe(gate, "sesame/SDF/server/#")).toBe(true);
    expect(maySubscribe(gate, "#")).toBe(false);
  });

  it("covers a requested filter only when every topic it matches is allowed", () => {
    expect(filterCovers("a/+/c", "a/b/c")).toBe(true);
    expect(filterCovers("a/+/c", "a/+/c")).toBe(true);
    expect(filterCovers("a/#", "a/+/c")).toBe(true);
    expect(filterCovers("a/#", "a/#")).toBe(true);
    expect(filterCovers("a/b/c", "a/+/c")).toBe(false);
    expect(filterCovers("a/+/c", "a/#")).toBe(false);
    expect(filterCovers("a/+", "a/b/c")).toBe(false);
  });

  it("lets the server publish and read only what the protocol has it send and consume", () => {
    const server = topicRights("SDF", { kind: "server" });
    for (const topic of [t.feed, t.admissions, t.trustList, t.serverStatus, t.serverHeartbeat])
      expect(mayPublish(server, topic), topic).toBe(true);
    expect(mayPublish(server, t.gate("A1", "ack"))).toBe(true);
    expect(mayPublish(server, t.entranceCommands(2))).toBe(true);
    // A gate's uplink is the gate's: the server cannot speak for a gate.
    expect(mayPublish(server, t.gate("A1", "events"))).toBe(false);
    expect(mayPublish(server, t.gate("A1", "status"))).toBe(false);
    expect(mayPublish(server, "sesame/SDF/anything")).toBe(false);
    expect(mayPublish(server, "sesame/OTHER/feed")).toBe(false);
    for (const filter of t.serverSubscriptions) expect(maySubscribe(server, filter), filter).toBe(true);
    expect(maySubscribe(server, t.feed)).toBe(false);
    expect(maySubscribe(server, "sesame/SDF/#")).toBe(false);
    expect(maySubscribe(server, "sesame/SDF/gates/#")).toBe(false);
  });

  it("allows retained messages only on presence and the trust list", () => {
    const server = topicRights("SDF", { kind: "server" });
    expect(publishRefusal(gate, { topic: t.gate("A1", "status"), retain: true })).toBeUndefined();
    expect(publishRefusal(gate, { topic: t.gate("A1", "events"), retain: false })).toBeUndefined();
    expect(publishRefusal(gate, { topic: t.gate("A1", "events"), retain: true })).toBe(
      "retained messages are not allowed on this topic",
    );
    expect(publishRefusal(gate, { topic: t.feed, retain: false })).toBe("not a topic of this client");
    expect(publishRefusal(server, { topic: t.trustList, retain: true })).toBeUndefined();
    expect(publishRefusal(server, { topic: t.serverStatus, retain: true })).toBeUndefined();
    expect(publishRefusal(server, { topic: t.feed, retain: true })).toBe(
      "retained messages are not allowed on this topic",
    );
    expect(publishRefusal(server, { topic: t.admissions, retain: true })).toBeDefined();
  });

  it("allows a will only on the client's own status topic", () => {
    expect(willRefusal(gate, { topic: t.gate("A1", "status"), retain: true })).toBeUndefined();
    expect(willRefusal(gate, { topic: t.gate("A1", "events"), retain: false })).toBe(
      "a will may only target sesame/SDF/gates/A1/status",
    );
    expect(willRefusal(gate, { topic: t.feed, retain: false })).toBeDefined();
    expect(willRefusal(gate, { topic: t.gate("B1", "status"), retain: true })).toBeDefined();
    const server = topicRights("SDF", { kind: "server" });
    expect(willRefusal(server, { topic: t.serverStatus, retain: true })).toBeUndefined();
    expect(willRefusal(server, { topic: t.feed, retain: false })).toBeDefined();
  });

  it("writes the same rights as a Mosquitto ACL", () => {
    const acl = mosquittoAcl("SDF", [
      { username: "sync-server", principal: { kind: "server" } },
      { username: "gate-A1", principal: { kind: "gate", gateId: "A1", entranceId: 1 } },
    ]);
    expect(acl).toContain("user gate-A1\ntopic write sesame/SDF/gates/A1/events");
    expect(acl).toContain("topic read sesame/SDF/entrances/1/commands");
    expect(acl).toContain("user sync-server\ntopic write sesame/SDF/gates/+/ack");
    expect(acl).toContain("topic read sesame/SDF/gates/+/events");
    expect(acl).not.toContain("sesame/SDF/#");
    expect(acl).not.toContain("gates/B1");
  });

  it("parses topics of the venue only", () => {
    expect(parseTopic("SDF", "sesame/SDF/gates/A1/events")).toEqual({
      kind: "gate",
      gateId: "A1",
      leaf: "events",
    });
    expect(parseTopic("SDF", "sesame/OTHER/feed")).toBeUndefined();
    expect(parseTopic("SDF", "sesame/SDF/gates/A1/nonsense")).toBeUndefined();
    expect(parseTopic("SDF", "sesame/SDF/entrances/01/commands")).toBeUndefined();
  });
});
