import { randomBytes } from "node:crypto";
import {
  encodeAdmissions,
  encodeFeed,
  type GateProvisioning,
  signAdmissionsOrder,
  signEventBatch,
} from "@sesame/sync";
import { MemoryGateStore } from "@sesame/sync/testing";
import { type MqttClient, publishBounded, rawClient } from "@sesame/testing";
import { createNodeSigner } from "@sesame/ticket";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { audit, DrillVenue, eventually, type Holder } from "./harness.js";

/*
 * Attack drill, the broker's own rules (issue 15, item 4): a running venue — sync-server, its broker
 * (the embedded aedes, then Mosquitto), gates A1 and B1 with their simulated lanes; A2 and B2
 * provisioned but off. An intruder holds A2's credentials and publishes a forged ticket-feed change
 * (revoke the issuer key: every gate would refuse every ticket) and a forged admission (a holder's
 * ticket "already entered") on the server's topics: directly, retained, and as a will — left on the
 * broker, and replayed after a broker restart. Each is refused or not delivered: a subscriber with
 * a gate's read rights (B2's) sees none of it, no gate's feed position moves, the holder walks in;
 * each refusal the broker reports is logged on one line and alerted at the sync-server. What each
 * broker does is in docs/drills.md. (~30 s per broker.)
 */

/** In every forged payload: what the listener must never see. */
const MARK = "forged-by-the-drill";

describe.each(["embedded", "mosquitto"] as const)(
  "drill: the broker is transport only (%s broker)",
  (broker) => {
    let venue: DrillVenue;
    const clients: MqttClient[] = [];
    /** Everything B2's credentials receive on the feed and admissions (and server heartbeats, as a clock). */
    const heard: Array<{ topic: string; text: string }> = [];
    /** A holder whose ticket the forged admission says already entered: must still walk in. */
    let target: Holder;

    beforeAll(async () => {
      venue = await DrillVenue.start({
        name: `attacks-broker-${broker}`,
        spectators: 150,
        entrances: 2,
        lanes: 4,
        lanesPerGate: 1,
        idleGates: ["A2", "B2"],
        broker,
        reservedPerEntrance: 6,
        // aedes sweeps a dead broker's wills every four of its heartbeats (default 60 s).
        serverTuning: { brokerHeartbeatMs: 250 },
      });
      target = venue.holder(1);
      await listen();
    }, 120_000);

    afterAll(async () => {
      for (const c of clients) c.end(true);
      await venue?.stop();
    });

    const server = () => {
      if (!venue.server) throw new Error("the sync-server is not in this process");
      return venue.server;
    };
    const topics = () => server().topics;
    const rejectionsOf = (source: string) => server().store.rejections(1000, source);
    const logged = (pattern: RegExp, what: string) =>
      eventually(() => venue.logLines.some((l) => pattern.test(l)), what, 15_000);
    const esc = (text: string) => text.replace(/[/.+()]/g, (c) => `\\${c}`);

    const connectAs = async (p: GateProvisioning, extra: Record<string, unknown> = {}) =>
      rawClient(server().brokerUrl, {
        clientId: p.mqtt.clientId,
        username: p.mqtt.username,
        password: p.mqtt.password,
        ...extra,
      });
    const asIntruder = async (extra: Record<string, unknown> = {}): Promise<MqttClient> => {
      const conn = await connectAs(venue.provisioningOf("A2"), extra);
      if (!conn.ok) throw new Error(`could not connect with A2's credentials: ${conn.error}`);
      clients.push(conn.client);
      return conn.client;
    };

    /** B2's credentials (a gate's read rights) on the feed, admissions and server topics. */
    async function listen(): Promise<void> {
      const conn = await connectAs(venue.provisioningOf("B2"));
      if (!conn.ok) throw new Error(`listener: ${conn.error}`);
      clients.push(conn.client);
      conn.client.on("message", (topic, payload) => heard.push({ topic, text: payload.toString("utf8") }));
      const t = topics();
      await new Promise<void>((resolve, reject) =>
        conn.client.subscribe([t.feed, t.admissions, t.serverHeartbeat], { qos: 1 }, (error) =>
          error ? reject(error) : resolve(),
        ),
      );
    }

    /** Two server heartbeats heard after this call: whatever the broker was going to deliver before them has come. */
    const twoHeartbeats = async () => {
      const from = heard.length;
      await eventually(
        () => heard.slice(from).filter((h) => h.topic === topics().serverHeartbeat).length >= 2,
        "two server heartbeats at the listener",
      );
    };

    const forgedFeed = () => {
      const next = server().store.feedSequence() + 1;
      // The change of issue 15, unsigned (the feed has no such change kind any more: gates refuse it too).
      const change = { sequence: next, type: "revoke-key", keyId: 1 } as never;
      return `${encodeFeed({ changes: [change] }).slice(0, -1)},"note":"${MARK}"}`;
    };
    const forgedAdmissions = () => {
      const event = new MemoryGateStore("B1", { firstGateSeq: 900_000 }).append({
        kind: "entered",
        ticketId: target.ticketId,
        session: 1,
      });
      const seq = server().store.admissionSeq() + 1;
      // Signed by a key of the intruder's own: the broker must stop it before any gate checks it.
      const batch = signEventBatch("B1", event.gateSeq - 1, [event], randomBytes(32), createNodeSigner());
      // Its order sealed by a key of the intruder's own too (it holds no operations key).
      const seal = (order: string) => signAdmissionsOrder(order, randomBytes(32), createNodeSigner());
      return `${encodeAdmissions({ entries: [{ seq, event, batch }] }, seal).slice(0, -1)},"note":"${MARK}"}`;
    };

    /** Nothing forged reached the listener, and every running gate stands where the server's feed does. */
    const notDelivered = async () => {
      await twoHeartbeats();
      expect(heard.filter((h) => h.text.includes(MARK))).toEqual([]);
      for (const g of ["A1", "B1"])
        expect(venue.gate(g).node?.store.feedSequence, `${g}'s feed position`).toBe(
          server().store.feedSequence(),
        );
    };

    /** The broker's refusal of `topic` for `source`: a rejection, one log line, a broker-denied alert. */
    const refusedAndAlerted = async (source: string, topic: string, action: string, why: RegExp) => {
      await eventually(
        () =>
          rejectionsOf(source).some(
            (r) =>
              r.reason === "denied" && r.detail.includes(`${action} ${topic} denied: `) && why.test(r.detail),
          ),
        `${source}: ${action} ${topic} in the server's rejections`,
      );
      await logged(
        new RegExp(
          `rejected from ${esc(source)} on ${esc(topic)}: denied: client \\S+: ${action} ${esc(topic)} denied: `,
        ),
        `${source}: ${action} ${topic} logged`,
      );
      expect(
        server()
          .store.alerts(100)
          .some((a) => a.type === "broker-denied" && a.detail.includes(source)),
      ).toBe(true);
    };

    it("a forged feed change and a forged admission published with a gate's credentials: refused, not delivered, logged, alerted", async () => {
      onTestFailed(() => console.log(venue.logTail()));
      const t = topics();
      for (const [topic, payload] of [
        [t.feed, forgedFeed()],
        [t.admissions, forgedAdmissions()],
      ] as const) {
        const outcome = await publishBounded(await asIntruder(), topic, payload, 5_000);
        // aedes closes the connection on a refused publish; Mosquitto (3.1.1) acks and drops it.
        expect(broker === "embedded" ? ["closed", "error", "timeout"] : ["acked"], topic).toContain(outcome);
        await refusedAndAlerted(
          "gate-A2",
          topic,
          "publish to",
          /not (a topic of this client|allowed by the ACL)/,
        );
      }
      await notDelivered();
    }, 60_000);

    it("the same as retained messages: refused, nothing kept for a newcomer", async () => {
      onTestFailed(() => console.log(venue.logTail()));
      const t = topics();
      for (const [topic, payload] of [
        [t.feed, forgedFeed()],
        [t.admissions, forgedAdmissions()],
      ] as const) {
        const outcome = await publishBounded(await asIntruder(), topic, payload, 5_000, { retain: true });
        expect(broker === "embedded" ? ["closed", "error", "timeout"] : ["acked"], topic).toContain(outcome);
      }
      await refusedAndAlerted(
        "gate-A2",
        t.admissions,
        "publish to",
        /not (a topic of this client|allowed by the ACL \(retained\))/,
      );
      // A gate connecting now is handed no retained feed change or admission.
      const newcomer = await connectAs(venue.provisioningOf("B2"), { clean: true, clientId: "gate-B2" });
      if (!newcomer.ok) throw new Error(newcomer.error);
      clients.push(newcomer.client);
      const retained: string[] = [];
      newcomer.client.on("message", (topic, payload, packet) => {
        if (packet.retain) retained.push(`${topic} ${payload.toString("utf8")}`);
      });
      await new Promise<void>((resolve) =>
        newcomer.client.subscribe([t.feed, t.admissions], { qos: 1 }, () => resolve()),
      );
      newcomer.client.end(true);
      // The newcomer took over B2's session: the listener comes back.
      await listen();
      await notDelivered();
      expect(retained).toEqual([]);
    }, 60_000);

    it("a will on the feed: refused at CONNECT (embedded) or never delivered (Mosquitto), also across a broker restart", async () => {
      onTestFailed(() => console.log(venue.logTail()));
      const t = topics();
      const will = { topic: t.feed, payload: Buffer.from(forgedFeed()), qos: 1 as const, retain: false };
      const conn = await connectAs(venue.provisioningOf("A2"), { will });
      if (broker === "embedded") {
        expect(conn.ok).toBe(false);
        if (!conn.ok) expect(conn.error).toMatch(/not authori[sz]ed/i);
        await refusedAndAlerted(
          "gate-A2",
          t.feed,
          "will on",
          /a will may only target sesame\/SDF\/gates\/A2\/status/,
        );
      } else {
        // Mosquitto 2.0.11 takes the CONNECT and checks the will against the ACL when it would send it.
        expect(conn.ok).toBe(true);
        if (!conn.ok) return;
        conn.client.stream.destroy();
        await notDelivered();
        // Left on the broker across a restart: a SIGKILL, then Mosquitto again on the same data.
        const again = await connectAs(venue.provisioningOf("A2"), { will });
        expect(again.ok).toBe(true);
        if (again.ok) clients.push(again.client);
        await venue.mosquitto?.kill("SIGKILL");
        await venue.mosquitto?.start();
        await eventually(() => server().mqttConnected, "the server back on Mosquitto");
        await listen();
        await notDelivered();
      }
    }, 90_000);

    it.runIf(broker === "embedded")(
      "a stored will replayed after a broker crash has no client behind it: refused, logged, alerted",
      async () => {
        onTestFailed(() => console.log(venue.logTail()));
        const t = topics();
        // A will the broker accepts (A2's own status), stored in its LevelDB, then the broker killed.
        const own = {
          topic: t.gate("A2", "status"),
          payload: Buffer.from(`{"v":1,"state":"offline"}`),
          qos: 1 as const,
          retain: true,
        };
        await asIntruder({ will: own, clean: false });
        const restarted = new Promise<void>((resolve) =>
          server().brokerProcess?.once("restarted", () => resolve()),
        );
        server().brokerProcess?.kill("SIGKILL");
        await restarted;
        await refusedAndAlerted(
          "(no client)",
          t.gate("A2", "status"),
          "publish to",
          /no connected client to attribute it to \(a stored will replayed after a restart\)/,
        );
        expect(
          rejectionsOf("(no client)").some((r) => r.detail.startsWith("client gate-A2: publish to")),
        ).toBe(true);
        await eventually(() => server().mqttConnected, "the server back on its broker");
        await listen();
        await notDelivered();
      },
      90_000,
    );

    it("afterwards: the holder the forged admission named walks in, the gates admit, the record is whole", async () => {
      onTestFailed(() => console.log(venue.logTail()));
      await eventually(
        async () =>
          (await Promise.all(["A1", "B1"].map((g) => venue.gateReady(venue.gate(g))))).every(Boolean),
        "A1 and B1 connected again",
      );
      const shown = await venue.present(venue.lane("A1"), target);
      expect(shown.result, "the holder named by the forged admission").toBe("passed");
      for (const g of ["A1", "B1"]) {
        const lane = venue.lane(g);
        expect((await venue.present(lane, venue.holder(lane.entrance))).result, g).toBe("passed");
      }
      expect(heard.filter((h) => h.text.includes(MARK))).toEqual([]);
      await venue.settle();
      const report = audit(venue);
      venue.log(`[drill] ${JSON.stringify(report)}`);
      expect(report.falseAccepts).toBe(0);
      expect(report.falseRefusals).toBe(0);
      expect(report.entered).toBe(3);
    }, 90_000);
  },
);
