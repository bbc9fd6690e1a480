import {
  encodeAdmissions,
  encodeEventBatch,
  parseGateList,
  SERVER_USERNAME,
  signAdmissionsOrder,
  signEventBatch,
} from "@sesame/sync";
import { MemoryGateStore, testGateKey } from "@sesame/sync/testing";
import { operationsSeed } from "@sesame/sync-server";
import { type MqttClient, publishBounded, rawClient } from "@sesame/testing";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { errorOf, serverTools } from "./attack-tools.js";
import { DrillVenue, eventually, USERS } from "./harness.js";

/*
 * Attack drill (issue 15, item 6): an insider takes a gate's identity by provisioning it again.
 * Through the real sync-server, its broker (the embedded aedes, then Mosquitto) and gates A1 and B1
 * running with their simulated lanes. A tech and a supervisor, signed in on the dashboard, ask to
 * provision A1: refused 403, logged on one line, alerted, A1's key unchanged. An admin asks while
 * A1 is online: refused 409 (saying how to force), A1 still admits. The admin forces it: done,
 * recorded (who, when, forced) in the gate table of the API, alerted; A1's old key is replaced in
 * the venue gate list that B1 holds, so that B1 refuses an admission signed with the old key, and
 * the server refuses (logs and alerts) a batch signed with it. A1 made its own key pair in its data
 * directory: provisioning took only its public key; the admin's forced provisioning brings a new one.
 */

describe.each(["embedded", "mosquitto"] as const)("drill: taking a gate's identity (%s broker)", (broker) => {
  let venue: DrillVenue;
  const clients: MqttClient[] = [];
  const cookies = new Map<string, string>();

  beforeAll(async () => {
    venue = await DrillVenue.start({
      name: `attacks-provision-${broker}`,
      spectators: 150,
      entrances: 2,
      lanes: 2,
      lanesPerGate: 1,
      broker,
      reservedPerEntrance: 6,
    });
  }, 120_000);

  afterAll(async () => {
    for (const c of clients) c.end(true);
    await venue?.stop();
  });

  const { server, http, logged } = serverTools(() => venue);
  const signIn = async (name: string): Promise<string> => {
    const user = USERS.find((u) => u.name === name);
    const r = await http("POST", "/api/session", {
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name, password: user?.password }),
    });
    expect(r.status, r.text).toBe(200);
    return String(r.headers["set-cookie"]).split(";")[0] ?? "";
  };
  /**
   * As the dashboard asks it (the session cookie and the CSRF header), with the key request of a key
   * pair made for the gate (the insider's own: the gate's private key never left the gate).
   */
  const provision = async (name: string, gateId: string, body?: Record<string, unknown>) => {
    const cookie = cookies.get(name) ?? (await signIn(name));
    cookies.set(name, cookie);
    const key = testGateKey(server().venue.id, gateId);
    return http("POST", `/api/gates/${gateId}/provision`, {
      headers: { cookie, "x-sesame": "1", "content-type": "application/json" },
      body: JSON.stringify({ ...key.request, ...body }),
    });
  };
  const alertsOf = (type: string) =>
    server()
      .store.alerts(1000)
      .filter((a) => a.type === type);
  const oneLineEach = () =>
    expect(venue.logLines.filter((l) => l.includes("[sync-server]") && /[\n\r]/.test(l))).toEqual([]);

  it("a tech and a supervisor trying to provision a gate: refused 403, logged on one line, alerted", async () => {
    onTestFailed(() => console.log(venue.logTail()));
    const key = server().store.gate("A1")?.publicKey;
    for (const [name, role] of [
      ["martin", "tech"],
      ["dupont", "supervisor"],
    ] as const) {
      const r = await provision(name, "A1");
      expect(r.status, r.text).toBe(403);
      expect(errorOf(r)).toBe(
        `role ${role} may not provision a gate: provisioning hands out the gate's identity and is an admin's act (refusal recorded and alerted)`,
      );
      await logged(
        new RegExp(`provisioning refused: ${name} \\(${role}\\) tried to provision gate A1`),
        `${name}'s attempt logged`,
      );
    }
    expect(
      alertsOf("provisioning-refused")
        .map((a) => a.detail)
        .sort(),
    ).toEqual([
      "dupont (supervisor) tried to provision gate A1: provisioning is an admin's act",
      "martin (tech) tried to provision gate A1: provisioning is an admin's act",
    ]);
    await logged(/ALERT martin \(tech\) tried to provision gate A1/, "the alert logged");
    expect(server().store.gate("A1")?.publicKey).toBe(key);
    expect(server().store.gate("A1")?.provisioning?.by).toBe("set-up");
    oneLineEach();
  }, 60_000);

  it("an admin provisioning an online gate without force: refused 409, the gate keeps admitting", async () => {
    onTestFailed(() => console.log(venue.logTail()));
    await eventually(() => server().store.gate("A1")?.status === "online", "A1 online");
    const key = server().store.gate("A1")?.publicKey;
    const r = await provision("leroy", "A1");
    expect(r.status, r.text).toBe(409);
    expect(errorOf(r)).toMatch(
      /^gate A1 is online \(.+\): provisioning it would cut the running gate off; send \{"force": true\} to provision it anyway \(recorded and alerted\)$/,
    );
    await logged(/provisioning of gate A1 by leroy refused: the gate is online/, "the refusal logged");
    expect(server().store.gate("A1")?.publicKey).toBe(key);
    expect((await venue.present(venue.lane("A1"), venue.holder(1))).result).toBe("passed");
  }, 60_000);

  it("forced: done, recorded and alerted; the old key is replaced in B1's gate list, which refuses admissions signed with it", async () => {
    onTestFailed(() => console.log(venue.logTail()));
    const oldSeed = venue.gateSeedOf("A1");
    const oldKey = venue.provisioningOf("A1").gatePublicKey;
    const r = await provision("leroy", "A1", { force: true });
    expect(r.status, r.text).toBe(200);
    const fresh = r.json as {
      gatePublicKey: string;
      gateList: unknown;
      mqtt: { username: string; password: string; clientId: string };
    };
    expect(fresh.gatePublicKey).not.toBe(oldKey);

    // Recorded: who, when, forced, in the API's gate table.
    const listed = await http("GET", "/api/gates", { headers: { cookie: cookies.get("dupont") ?? "" } });
    const a1 = (listed.json as { gates: Array<{ gateId: string; provisioning: unknown }> }).gates.find(
      (g) => g.gateId === "A1",
    );
    expect(a1?.provisioning).toMatchObject({ by: "leroy", forced: true, at: expect.any(Number) });
    await logged(/gate A1 provisioned by leroy, forced while online/, "the provisioning logged");
    const [alert] = alertsOf("forced-provisioning");
    expect(alert?.gates).toEqual(["A1"]);
    expect(alert?.detail).toContain(`its key ${oldKey} revoked`);
    await logged(/ALERT gate A1 provisioned by leroy while online/, "the alert logged");

    // The old key is revoked in the gate list B1 now holds.
    const list = parseGateList(fresh.gateList);
    expect(list.revoked).toContainEqual(
      expect.objectContaining({ gateId: "A1", publicKey: oldKey, by: "leroy" }),
    );
    const b1 = venue.gate("B1").node;
    await eventually(() => {
      const held = b1?.store.gateListJson();
      return held !== undefined && parseGateList(JSON.parse(held)).version >= list.version;
    }, "B1 holds the new gate list");

    // An admission signed with A1's old key (the running A1 still signs with it, as would whoever
    // kept its old provisioning): published on the fan-out, B1 refuses it.
    const conn = await rawClient(server().brokerUrl, {
      clientId: "intruder",
      username: SERVER_USERNAME,
      password: server().store.meta("mqtt_server_password") ?? "",
    });
    if (!conn.ok) throw new Error(`could not connect with the server's password: ${conn.error}`);
    clients.push(conn.client);
    const holder = venue.holder(2);
    const event = new MemoryGateStore("A1", { firstGateSeq: 900_000 }).append({
      kind: "entered",
      ticketId: holder.ticketId,
      session: 1,
    });
    const batch = signEventBatch("A1", event.gateSeq - 1, [event], oldSeed, venue.signer);
    // Sealed with the operations key, as a compromised venue server could: the gate key decides.
    const opsSeed = operationsSeed(server().store);
    const payload = encodeAdmissions(
      { entries: [{ seq: server().store.admissionSeq() + 1, event, batch }] },
      (order) => signAdmissionsOrder(order, opsSeed, venue.signer),
    );
    expect(await publishBounded(conn.client, server().topics.admissions, payload)).toBe("acked");
    await eventually(
      () =>
        venue
          .gate("B1")
          .lines.some(
            (l) => l.includes("rejected") && l.includes(server().topics.admissions) && l.includes("A1"),
          ),
      "B1 refused the admission signed with A1's old key, logging topic and sender",
    );
    expect(b1?.store.facts().presence(holder.ticketId, 1)).toBe(undefined);

    // A batch signed with A1's old key, on A1's topic: the server refuses it whole (naming the revoked
    // key), logs it on one line and alerts. The embedded broker took A1's old MQTT credentials away
    // at once: the batch comes with the new ones. Mosquitto still takes the old ones until its
    // password file is written again (`sesame mosquitto-config`): the old gate itself sends it.
    const credentials = broker === "embedded" ? fresh.mqtt : venue.provisioningOf("A1").mqtt;
    const asA1 = await rawClient(server().brokerUrl, {
      clientId: credentials.clientId,
      username: credentials.username,
      password: credentials.password,
    });
    if (!asA1.ok) throw new Error(`could not connect with A1's credentials: ${asA1.error}`);
    clients.push(asA1.client);
    const ackedBefore = server().store.gate("A1")?.ackedSeq ?? 0;
    const entered = new MemoryGateStore("A1", { firstGateSeq: ackedBefore + 1 }).append({
      kind: "entered",
      ticketId: holder.ticketId,
      session: 1,
    });
    const oldBatch = signEventBatch("A1", ackedBefore, [entered], oldSeed, venue.signer);
    const eventsTopic = server().topics.gate("A1", "events");
    expect(await publishBounded(asA1.client, eventsTopic, encodeEventBatch(oldBatch))).toBe("acked");
    await logged(
      new RegExp(
        `rejected from A1 on ${eventsTopic}: bad-signature: batch is signed with gate A1's revoked key ${oldKey}`,
      ),
      "the server refused the batch signed with the old key, logging it",
    );
    // Alerted: one open forged-message alert for gate A1. A1 itself may have opened it a moment
    // before, reporting the forged admissions above (signed by its old key too): one alert per gate,
    // whichever refusal came first; the server's line above names the revoked key either way.
    const a1Alerts = alertsOf("forged-message").filter((a) => a.gates.join() === "A1");
    expect(a1Alerts.map((a) => a.detail).join("\n")).toMatch(
      new RegExp(
        `signed with gate A1's revoked key ${oldKey}|admissions batch after \\d+ is not signed by gate A1's key`,
      ),
    );
    expect(
      server()
        .store.eventsOfGate("A1")
        .some((e) => e.eventId === entered.eventId),
    ).toBe(false);
    expect(server().store.gate("A1")?.ackedSeq).toBe(ackedBefore);

    // The holder it named is admitted at B1 (0 false refusals).
    expect((await venue.present(venue.lane("B1"), holder)).result).toBe("passed");
    oneLineEach();
  }, 60_000);
});
