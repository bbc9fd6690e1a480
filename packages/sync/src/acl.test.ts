import { describe, expect, it } from "vitest";
import { mayPublish, maySubscribe, mosquittoAcl, topicMatches, topicRights } from "./acl.js";
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

  it("writes the same rights as a Mosquitto ACL", () => {
    const acl = mosquittoAcl("SDF", [
      { username: "sync-server", principal: { kind: "server" } },
      { username: "gate-A1", principal: { kind: "gate", gateId: "A1", entranceId: 1 } },
    ]);
    expect(acl).toContain("user gate-A1\ntopic write sesame/SDF/gates/A1/events");
    expect(acl).toContain("topic read sesame/SDF/entrances/1/commands");
    expect(acl).toContain("user sync-server\ntopic readwrite sesame/SDF/#");
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
