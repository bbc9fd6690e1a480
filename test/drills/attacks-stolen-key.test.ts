import { encodeEventBatch, type GateProvisioning, signEventBatch } from "@sesame/sync";
import { MemoryGateStore } from "@sesame/sync/testing";
import { type MqttClient, publishBounded, rawClient } from "@sesame/testing";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { errorOf, serverTools } from "./attack-tools.js";
import { audit, DrillVenue, eventually, type Holder, TOKENS } from "./harness.js";

/*
 * Attack drill (issue 15, item 5): a spare gate's key is stolen. Gate A2 (entrance A) was
 * provisioned and switched off; the intruder has its provisioning (MQTT credentials) and the key
 * file of its data directory (the gate's signing key). It signs `entered` batches for tickets of entrance B — with no authorization before
 * them, or with an authorization of its own — to have every real holder refused ALREADY_ENTERED.
 * The server stores them as rejected (implausible), acknowledges them, counts and fans out none,
 * and raises one "gate sends implausible events" alert with the count; B1 then admits those very
 * holders (0 false refusals). A supervisor quarantines A2 from the dashboard's API (a tech may not):
 * its next batch is refused whole (quarantined), logged, and counted on the quarantine alert.
 * Through the real sync-server, its broker (the embedded aedes, then Mosquitto) and gates A1, B1.
 */

const token = (role: string) => TOKENS.find((t) => t.role === role)?.token ?? "";

describe.each(["embedded", "mosquitto"] as const)("drill: a stolen gate key (%s broker)", (broker) => {
  let venue: DrillVenue;
  const clients: MqttClient[] = [];
  /** Holders of entrance B whose tickets the intruder claims entered at A2. */
  let victims: Holder[] = [];
  let forgedCount = 0;

  beforeAll(async () => {
    venue = await DrillVenue.start({
      name: `attacks-stolen-key-${broker}`,
      spectators: 200,
      entrances: 2,
      lanes: 3,
      lanesPerGate: 1,
      idleGates: ["A2"],
      broker,
      reservedPerEntrance: 6,
    });
    victims = [venue.holder(2), venue.holder(2), venue.holder(2)];
  }, 120_000);

  afterAll(async () => {
    for (const c of clients) c.end(true);
    await venue?.stop();
  });

  const { server, http, logged } = serverTools(() => venue);

  /** Connects with A2's stolen credentials. */
  const asA2 = async (p: GateProvisioning): Promise<MqttClient> => {
    const conn = await rawClient(server().brokerUrl, {
      clientId: p.mqtt.clientId,
      username: p.mqtt.username,
      password: p.mqtt.password,
    });
    if (!conn.ok) throw new Error(`could not connect as ${p.gateId}: ${conn.error}`);
    clients.push(conn.client);
    return conn.client;
  };

  /** The intruder's journal for A2: numbered as A2's would be, signed with A2's seed. */
  const forger = new MemoryGateStore("A2");
  const signedBatch = (after: number) => {
    const events = forger.outboxPending(after, 1000);
    return encodeEventBatch(signEventBatch("A2", after, events, venue.gateSeedOf("A2"), venue.signer));
  };

  it("forged entries signed with A2's key: rejected as implausible, acknowledged, not counted, not fanned out, one alert", async () => {
    onTestFailed(() => console.log(venue.logTail()));
    const topic = server().topics.gate("A2", "events");
    const entranceB = venue.demo.bundle.tickets
      .filter((t) => t.entrance === 2 && t.sessions.includes(1) && t.status === "valid")
      .map((t) => t.id);
    const claimed = [...new Set([...victims.map((v) => v.ticketId), ...entranceB])];
    // Entries with no authorization before them…
    for (const ticketId of claimed) forger.append({ kind: "entered", ticketId, session: 1 });
    // …and, for the victims, with an authorization of A2's own (a ticket of entrance B at entrance A).
    for (const v of victims) forger.admit({ ticketId: v.ticketId, session: 1 });
    forgedCount = forger.lastGateSeq;
    const admissionsBefore = server().store.admissionSeq();
    const enteredBefore = server().store.counts().entered;

    const client = await asA2(venue.provisioningOf("A2"));
    expect(await publishBounded(client, topic, signedBatch(0), 5_000)).toBe("acked");
    // Acknowledged: a gate's outbox would move on (nothing is resent forever).
    await eventually(
      () => server().store.gate("A2")?.ackedSeq === forgedCount,
      "the forged batch acknowledged",
    );

    const store = server().store;
    const refused = store.rejections(5000, "A2").filter((r) => r.reason === "implausible");
    expect(refused).toHaveLength(forgedCount);
    expect(refused.some((r) => /entry of ticket \d+ without an authorization/.test(r.detail))).toBe(true);
    expect(refused.some((r) => /is for entrance 2, not gate A2's entrance 1/.test(r.detail))).toBe(true);
    await logged(
      new RegExp(`rejected from A2 on ${topic}: implausible: gateSeq 1: an entry of ticket`),
      "each refusal logged on one line",
    );
    expect(venue.logLines.filter((l) => l.includes("[sync-server]") && /[\n\r]/.test(l))).toEqual([]);
    // Nothing stored, counted or fanned out.
    expect(store.eventsOfGate("A2")).toEqual([]);
    expect(store.admissionSeq()).toBe(admissionsBefore);
    expect(store.counts().entered).toBe(enteredBefore);
    for (const v of victims) {
      expect(venue.gate("B1").node?.store.facts().presence(v.ticketId, 1), `ticket ${v.ticketId} at B1`).toBe(
        undefined,
      );
    }
    // One alert for the gate, with the count.
    const alerts = store.alerts(100).filter((a) => a.type === "implausible-events");
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ gates: ["A2"], count: forgedCount });
    expect(alerts[0]?.detail).toMatch(
      new RegExp(`^gate A2 sends implausible events: ${forgedCount} refused`),
    );
    await logged(/ALERT gate A2 sends implausible events/, "the alert logged");
  }, 60_000);

  it("afterwards, B1 admits the holders the forged entries named (0 false refusals)", async () => {
    onTestFailed(() => console.log(venue.logTail()));
    for (const v of victims) {
      const shown = await venue.present(venue.lane("B1"), v);
      expect(shown.result, `holder of ticket ${v.ticketId} at B1`).toBe("passed");
    }
    // And entrance A's own holders at A1.
    expect((await venue.present(venue.lane("A1"), venue.holder(1))).result).toBe("passed");
    await eventually(
      () =>
        victims.every((v) =>
          server()
            .store.eventsOfGate("B1")
            .some((e) => e.kind === "entered" && e.ticketId === v.ticketId),
        ),
      "B1's entries on the server",
    );
  }, 60_000);

  it("a supervisor quarantines A2 (a tech may not): its next batch is refused whole, logged and counted on the alert", async () => {
    onTestFailed(() => console.log(venue.logTail()));
    const quarantine = (role: string, body: unknown) =>
      http("POST", "/api/gates/A2/quarantine", {
        headers: { authorization: `Bearer ${token(role)}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const byTech = await quarantine("tech", { reason: "stolen key" });
    expect(byTech.status).toBe(403);
    expect(errorOf(byTech)).toBe("role tech may not do this (needs supervisor)");
    const noReason = await quarantine("supervisor", {});
    expect(noReason.status).toBe(400);
    expect(errorOf(noReason)).toMatch(/^reason must be a text/);
    const done = await quarantine("supervisor", { reason: "key stolen: implausible events" });
    expect(done.status, done.text).toBe(200);
    const gate = (done.json as { gate: { quarantine: { by: string; reason: string; at: number } } }).gate;
    expect(gate.quarantine).toMatchObject({
      by: "supervisor Dupont",
      reason: "key stolen: implausible events",
    });
    await logged(
      /gate A2 quarantined by supervisor Dupont \(supervisor\): key stolen/,
      "the quarantine logged",
    );
    // The dashboard's gate list shows it.
    const listed = await http("GET", "/api/gates", { headers: { authorization: `Bearer ${token("tech")}` } });
    const a2 = (listed.json as { gates: Array<{ gateId: string; quarantine: unknown }> }).gates.find(
      (g) => g.gateId === "A2",
    );
    expect(a2?.quarantine).toMatchObject({ by: "supervisor Dupont" });
    expect((await quarantine("supervisor", { reason: "again" })).status).toBe(409);

    // The intruder's next batch: refused whole, nothing acknowledged.
    const topic = server().topics.gate("A2", "events");
    const victim = venue.holder(2);
    forger.append({ kind: "entered", ticketId: victim.ticketId, session: 1 });
    const client = await asA2(venue.provisioningOf("A2"));
    expect(await publishBounded(client, topic, signedBatch(forgedCount), 5_000)).toBe("acked");
    await eventually(
      () =>
        server()
          .store.rejections(10, "A2")
          .some((r) => r.reason === "quarantined"),
      "the batch refused",
    );
    await logged(
      new RegExp(`rejected from A2 on ${topic}: quarantined: gate A2 was quarantined by supervisor Dupont`),
      "logged",
    );
    expect(server().store.gate("A2")?.ackedSeq).toBe(forgedCount);
    expect(server().store.eventsOfGate("A2")).toEqual([]);
    await eventually(
      () =>
        server()
          .store.alerts(100)
          .some(
            (a) =>
              a.type === "gate-quarantined" && a.count === 2 && /1 batch\(es\) refused since/.test(a.detail),
          ),
      "the refused batch counted on the quarantine alert",
    );
    expect(
      server()
        .store.alerts(100)
        .filter((a) => a.type === "gate-quarantined"),
    ).toHaveLength(1);
    // The holder the refused batch named is admitted at B1.
    expect((await venue.present(venue.lane("B1"), victim)).result).toBe("passed");
    await venue.settle();
    const report = audit(venue);
    venue.log(`[drill] ${JSON.stringify(report)}`);
    expect(report.falseAccepts).toBe(0);
    expect(report.falseRefusals).toBe(0);
  }, 60_000);
});
