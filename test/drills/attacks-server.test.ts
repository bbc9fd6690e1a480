import {
  encodeAdmissions,
  encodeEventBatch,
  eventBatchSigningBytes,
  type GateProvisioning,
  SERVER_USERNAME,
  signAdmissionsOrder,
  signEventBatch,
} from "@sesame/sync";
import { MemoryGateStore } from "@sesame/sync/testing";
import { operationsSeed } from "@sesame/sync-server";
import { type MqttClient, publishBounded, rawClient } from "@sesame/testing";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { call, errorOf, INJECTIONS, MALFORMED_JSON, OVERSIZED, type Reply } from "./attack-tools.js";
import { audit, DrillVenue, eventually, sleep, TOKENS } from "./harness.js";

/*
 * Attack drill, sync side (issue 8): a running venue — sync-server, its broker (the embedded aedes,
 * then Mosquitto), gates A1 and B1 in this process with their simulated OSDP lanes, and gate A2
 * provisioned but switched off, whose credentials an intruder has taken. On the broker: clients
 * without credentials, a gate publishing and subscribing as another gate and as the server, forged
 * and malformed event batches (bad JSON, wrong schema, another gate's events, absurd times,
 * duplicate ids, bad signatures). On the HTTP API (once, broker-independent): dashboard commands
 * without the right role, session, CSRF header or origin; injection in every text field; oversized
 * and malformed bodies on every endpoint. Each is refused with its reason and logged where a venue
 * tech looks (the server's rejections and log, Mosquitto's log, the HTTP error body), nothing is
 * recorded from it, and afterwards the gates still admit, the server still ingests and the
 * dashboard still answers. (~20 s per broker.)
 */

const token = (role: string) => TOKENS.find((t) => t.role === role)?.token ?? "";
const FORGED_TICKET = 4_000_000;

describe.each(["embedded", "mosquitto"] as const)(
  "drill: attacks on the sync layer (%s broker)",
  (broker) => {
    let venue: DrillVenue;
    const clients: MqttClient[] = [];

    beforeAll(async () => {
      venue = await DrillVenue.start({
        name: `attacks-sync-${broker}`,
        spectators: 150,
        entrances: 2,
        lanes: 3,
        lanesPerGate: 1,
        idleGates: ["A2"],
        broker,
        reservedPerEntrance: 6,
      });
    }, 120_000);

    afterAll(async () => {
      for (const c of clients) c.end(true);
      await venue?.stop();
    });

    const server = () => {
      if (!venue.server) throw new Error("the sync-server is not in this process");
      return venue.server;
    };
    const base = () => `http://127.0.0.1:${server().httpPort}`;
    const rejectionsOf = (source: string) => server().store.rejections(1000, source);
    const logged = (pattern: RegExp, what: string) =>
      eventually(() => venue.logLines.some((l) => pattern.test(l)), what, 10_000);
    /** Every line the server logged is one line: nothing an intruder sent split it into a forged one. */
    const oneLineEach = () =>
      expect(venue.logLines.filter((l) => l.includes("[sync-server]") && /[\n\r]/.test(l))).toEqual([]);

    /** Connects with a gate's stolen credentials (a new connection each time: aedes drops one on a denied publish). */
    const asGate = async (p: GateProvisioning): Promise<MqttClient> => {
      const conn = await rawClient(server().brokerUrl, {
        clientId: p.mqtt.clientId,
        username: p.mqtt.username,
        password: p.mqtt.password,
      });
      if (!conn.ok) throw new Error(`could not connect as ${p.gateId}: ${conn.error}`);
      clients.push(conn.client);
      return conn.client;
    };

    const admitted = async (gateId: string) => {
      const lane = venue.lane(gateId);
      const shown = await venue.present(lane, venue.holder(lane.entrance));
      expect(shown.result, `a legitimate holder at ${gateId}`).toBe("passed");
    };

    /** A1's entry of the holder just admitted, on the server: the server still ingests. */
    const ingested = (gateId: string) =>
      eventually(() => {
        const last = venue.gate(gateId).node?.store.events(1, 1_000_000).at(-1);
        return (
          last !== undefined &&
          server()
            .store.eventsOfGate(gateId)
            .some((e) => e.eventId === last.eventId)
        );
      }, `gate ${gateId}'s latest event on the server`);

    it("MQTT clients without credentials, with a wrong password or a forged name: refused and logged", async () => {
      onTestFailed(() => console.log(venue.logTail()));
      const url = server().brokerUrl;
      const anonymous = await rawClient(url, { clientId: "intruder" });
      expect(anonymous.ok).toBe(false);
      const a2 = venue.provisioningOf("A2");
      const guessed = await rawClient(url, {
        clientId: a2.mqtt.clientId,
        username: a2.mqtt.username,
        password: "guess",
      });
      expect(guessed.ok).toBe(false);
      if (!guessed.ok) expect(guessed.error).toMatch(/not authori[sz]ed|bad user ?name or password|closed/i);
      // A username that tries to write its own line into the log.
      const forgedLine = await rawClient(url, {
        clientId: "intruder2",
        username: "gate-A1\n[sync-server] ALERT all clear",
        password: "x",
      });
      expect(forgedLine.ok).toBe(false);
      if (broker === "embedded") {
        await eventually(
          () =>
            rejectionsOf("(anonymous)").some(
              (r) => r.reason === "auth-failed" && r.detail.includes("intruder"),
            ),
          "the anonymous client in the server's rejections",
        );
        expect(rejectionsOf("gate-A2").some((r) => r.reason === "auth-failed")).toBe(true);
        await logged(
          /rejected from gate-A2: auth-failed: client gate-A2: unknown user or wrong password/,
          "logged",
        );
        await logged(/rejected from gate-A1\\u000a\[sync-server\] ALERT all clear: auth-failed/, "escaped");
        oneLineEach();
        // A gate's credentials under another client id (to take over that gate's session): refused.
        const takeover = await rawClient(url, {
          clientId: "gate-B1",
          username: a2.mqtt.username,
          password: a2.mqtt.password,
        });
        expect(takeover.ok).toBe(false);
        await eventually(
          () => rejectionsOf("gate-A2").some((r) => r.detail.includes("client id must equal the username")),
          "the session takeover refused",
        );
      } else {
        // Mosquitto logs its refusals itself; a username with a line break is a protocol error to it.
        await eventually(
          () => (venue.mosquitto?.output.match(/disconnected, not authorised/g) ?? []).length >= 2,
          "Mosquitto logged both refusals",
        );
        expect(venue.mosquitto?.output).toMatch(/Client <unknown> disconnected due to protocol error/);
      }
      await admitted("A1");
      await ingested("A1");
    }, 60_000);

    it("gate A2's credentials used as gate B1 and as the server: denied and logged, nothing recorded", async () => {
      onTestFailed(() => console.log(venue.logTail()));
      const topics = server().topics;
      const a2 = venue.provisioningOf("A2");
      const seed = venue.gateSeedOf("A2");
      const forged = new MemoryGateStore("B1", { firstGateSeq: 1 }).append({
        kind: "entered",
        ticketId: FORGED_TICKET,
        session: 1,
      });
      const asB1 = encodeEventBatch(signEventBatch("B1", 0, [forged], seed, venue.signer));
      const targets = [
        topics.gate("B1", "events"),
        topics.gate("B1", "status"),
        topics.trustList,
        topics.feed,
        topics.admissions,
        topics.gate("B1", "commands"),
      ];
      const received: string[] = [];
      for (const topic of targets) {
        const client = await asGate(a2);
        client.on("message", (t) => received.push(t));
        // Listening in on B1's acks and commands is refused too.
        await new Promise<void>((resolve) =>
          client.subscribe([topics.gate("B1", "ack"), topics.gate("B1", "commands")], { qos: 1 }, () =>
            resolve(),
          ),
        );
        const outcome = await publishBounded(client, topic, topic.endsWith("events") ? asB1 : '{"v":1}');
        // aedes closes the connection on a denied publish; Mosquitto (3.1.1) acks and drops it.
        expect(broker === "embedded" ? ["closed", "error", "timeout"] : ["acked"], topic).toContain(outcome);
      }
      // B1 goes on admitting: its acks flow on the topic the intruder asked for, and never reach it.
      await admitted("B1");
      await ingested("B1");
      await sleep(300);
      expect(received).toEqual([]);
      if (broker === "embedded") {
        await eventually(
          () =>
            targets.every((t) =>
              rejectionsOf("gate-A2").some(
                (r) =>
                  r.reason === "denied" &&
                  r.detail === `client gate-A2: publish to ${t} denied: not a topic of this client`,
              ),
            ),
          "every denied publish in the server's rejections",
        );
        expect(rejectionsOf("gate-A2").some((r) => /subscribe to .*B1\/ack denied/.test(r.detail))).toBe(
          true,
        );
        await logged(/rejected from gate-A2 on sesame\/SDF\/gates\/B1\/events: denied/, "the denial logged");
      } else {
        await eventually(
          () => /Denied PUBLISH from gate-A2 .*gates\/B1\/events/.test(venue.mosquitto?.output ?? ""),
          "Mosquitto logged the denied publish",
        );
      }
      expect(
        server()
          .store.eventsOfGate("B1")
          .some((e) => e.ticketId === FORGED_TICKET),
      ).toBe(false);
      expect(server().store.eventsOfGate("A2")).toEqual([]);
      expect(server().store.gate("B1")?.status).toBe("online");
    }, 60_000);

    it("forged admissions on the fan-out (as one who read the server's broker password): no gate applies them, each gate logs and reports, the server alerts", async () => {
      onTestFailed(() => console.log(venue.logTail()));
      const topics = server().topics;
      const conn = await rawClient(server().brokerUrl, {
        clientId: "intruder",
        username: SERVER_USERNAME,
        password: server().store.meta("mqtt_server_password") ?? "",
      });
      if (!conn.ok) throw new Error(`could not connect with the server's password: ${conn.error}`);
      clients.push(conn.client);
      const holder = venue.holder(1);
      const next = server().store.admissionSeq() + 1;
      const claimed = (gateId: string) =>
        new MemoryGateStore(gateId, { firstGateSeq: 900_000 }).append({
          kind: "entered",
          ticketId: holder.ticketId,
          session: 1,
        });
      const a2Seed = venue.gateSeedOf("A2");
      const forgeries = [
        // "A1 admitted the holder", signed by a key that is not A1's.
        { event: claimed("A1"), seed: Buffer.alloc(32, 0x5a) },
        // "B1 admitted the holder", signed with gate A2's stolen key.
        { event: claimed("B1"), seed: a2Seed },
      ];
      // Sealed with the operations key, as a compromised venue server could: the gate keys decide.
      const opsSeed = operationsSeed(server().store);
      const sealed = (order: string) => signAdmissionsOrder(order, opsSeed, venue.signer);
      for (const f of forgeries) {
        const batch = signEventBatch(f.event.gateId, f.event.gateSeq - 1, [f.event], f.seed, venue.signer);
        const payload = encodeAdmissions({ entries: [{ seq: next, event: f.event, batch }] }, sealed);
        expect(await publishBounded(conn.client, topics.admissions, payload)).toBe("acked");
      }
      for (const gateId of ["A1", "B1"])
        await eventually(
          () =>
            venue
              .gate(gateId)
              .lines.filter(
                (l) => l.includes("rejected") && l.includes(topics.admissions) && l.includes("bad-signature"),
              ).length >= 2,
          `gate ${gateId} logged both forged admissions, with topic and sender`,
          10_000,
        );
      if (broker === "embedded") {
        await eventually(
          () => rejectionsOf("A1").some((r) => r.reason === "bad-signature" && r.topic === topics.admissions),
          "the server recorded gate A1's refusal",
        );
        const alerts = server().store.alerts(100);
        expect(alerts.some((a) => a.type === "forged-message" && a.gates.includes("A1"))).toBe(true);
      } else {
        // Mosquitto ties the client id to the username: the intruder's connection took the server's
        // session over, so the server, reconnecting, missed the reports. The broker got them.
        await eventually(
          () => /Received PUBLISH from gate-A1 .*gates\/A1\/refusals/.test(venue.mosquitto?.output ?? ""),
          "gate A1's refusal report reached Mosquitto",
        );
      }
      // Not applied: the holder the forgeries named still gets in (0 false refusals).
      const shown = await venue.present(venue.lane("A1"), holder);
      expect(shown.result, "the holder named in the forged admissions").toBe("passed");
      await ingested("A1");
    }, 60_000);

    it("forged and malformed event batches to the server: none recorded, each refused with its reason and logged", async () => {
      onTestFailed(() => console.log(venue.logTail()));
      const topic = server().topics.gate("A2", "events");
      const a2 = venue.provisioningOf("A2");
      const seed = venue.gateSeedOf("A2");
      const own = new MemoryGateStore("A2");
      const event = (extra: Record<string, unknown> = {}) => ({
        ...own.append({ kind: "entered", ticketId: FORGED_TICKET, session: 1 }),
        ...extra,
      });
      const signed = (after: number, events: unknown[]) =>
        encodeEventBatch(signEventBatch("A2", after, events as never[], seed, venue.signer));
      const signedText = (after: number, eventsJson: string) =>
        JSON.stringify({
          v: 1,
          gateId: "A2",
          after,
          events: eventsJson,
          sig: Buffer.from(venue.signer.sign(eventBatchSigningBytes("A2", after, eventsJson), seed)).toString(
            "hex",
          ),
        });
      const aEventOfA1 = server().store.eventsOfGate("A1")[0];
      if (!aEventOfA1) throw new Error("A1 has no event on the server yet");

      const client = await asGate(a2);
      const batches: Array<[string, string, string]> = [
        ["bad JSON", '{"v":1,"gateId":"A2",\n[sync-server] ALERT all clear', "malformed-json"],
        ["wrong schema", JSON.stringify({ v: 1, gateId: "A2", after: "zero", events: 42 }), "invalid"],
        ["unknown version", JSON.stringify({ v: 99, gateId: "A2" }), "unknown-version"],
        ["oversized", JSON.stringify({ v: 1, pad: "x".repeat(600 * 1024) }), "oversized"],
        [
          "a batch claiming gate B1",
          encodeEventBatch(signEventBatch("B1", 0, [event()], seed, venue.signer)),
          "gate-mismatch",
        ],
        [
          "signed with another key",
          encodeEventBatch(signEventBatch("A2", 0, [event()], Buffer.alloc(32, 7), venue.signer)),
          "bad-signature",
        ],
        ["events that are not JSON, signed", signedText(0, "[{not json"), "malformed-json"],
      ];
      for (const [what, payload, reason] of batches) {
        const before = rejectionsOf("A2").length;
        expect(await publishBounded(client, topic, payload, 5_000), what).toBe("acked");
        await eventually(() => rejectionsOf("A2").length > before, `${what}: refused`);
        expect(rejectionsOf("A2")[0]?.reason, what).toBe(reason);
        await logged(new RegExp(`rejected from A2 on ${topic}: ${reason}: `), `${what}: logged`);
      }
      oneLineEach();

      // A well-signed batch (the intruder has A2's signing key) whose every event is wrong.
      const fresh = new MemoryGateStore("A2");
      const e = (extra: Record<string, unknown>) => ({
        ...fresh.append({ kind: "entered", ticketId: FORGED_TICKET, session: 1 }),
        ...extra,
      });
      const perEvent: Array<[string, Record<string, unknown>, string]> = [
        ["an event of gate B1", e({ gateId: "B1" }), "gate-mismatch"],
        ["an event in the year 3000", e({ at: Date.UTC(3000, 0, 1) }), "implausible-time"],
        ["an event in 1970", e({ at: 0 }), "implausible-time"],
        ["an event id A1 already used", e({ eventId: aEventOfA1.eventId }), "duplicate-event-id"],
        ["an unknown reason code", e({ reason: "LET_IN" }), "invalid"],
      ];
      const before = rejectionsOf("A2").length;
      expect(
        await publishBounded(
          client,
          topic,
          signed(
            0,
            perEvent.map(([, ev]) => ev),
          ),
          5_000,
        ),
      ).toBe("acked");
      await eventually(() => rejectionsOf("A2").length >= before + perEvent.length, "every event refused");
      const refused = rejectionsOf("A2").slice(0, perEvent.length).reverse();
      expect(refused.map((r) => r.reason)).toEqual(perEvent.map(([, , reason]) => reason));
      for (const [i, [what]] of perEvent.entries())
        expect(refused[i]?.detail, what).toMatch(new RegExp(`^gateSeq ${i + 1}: `));
      for (const [, , reason] of perEvent)
        await logged(new RegExp(`rejected from A2 on ${topic}: ${reason}: gateSeq`), reason);

      // Nothing recorded: no event of A2, no forged ticket anywhere, A1's event still A1's.
      expect(server().store.eventsOfGate("A2")).toEqual([]);
      for (const g of ["A1", "B1"])
        expect(
          server()
            .store.eventsOfGate(g)
            .some((x) => x.ticketId === FORGED_TICKET),
        ).toBe(false);
      expect(
        server()
          .store.eventsOfGate("A1")
          .find((x) => x.eventId === aEventOfA1.eventId)?.gateSeq,
      ).toBe(aEventOfA1.gateSeq);
      // Every gate still flows.
      await admitted("A1");
      await ingested("A1");
      await admitted("B1");
      await ingested("B1");
    }, 60_000);

    // ---------------------------------------------------------------------------------------------
    // HTTP: broker-independent, drilled once.

    const http = (method: string, path: string, options: Parameters<typeof call>[3] = {}) =>
      call(base(), method, path, options);
    const signIn = async (role: "supervisor" | "tech") => {
      const r = await http("POST", "/api/session", {
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token: token(role) }),
      });
      expect(r.status, r.text).toBe(200);
      return String(r.headers["set-cookie"]).split(";")[0] ?? "";
    };
    const expectRefusal = (r: Reply, status: number, error: RegExp | string, what: string) => {
      expect(r.status, `${what}: ${r.text.slice(0, 200)}`).toBe(status);
      if (typeof error === "string") expect(errorOf(r), what).toBe(error);
      else expect(errorOf(r), what).toMatch(error);
    };

    it.runIf(broker === "embedded")(
      "dashboard commands need the supervisor role, a session, the CSRF header and the same origin",
      async () => {
        onTestFailed(() => console.log(venue.logTail()));
        const supervisor = await signIn("supervisor");
        const tech = await signIn("tech");
        const command = JSON.stringify({ type: "lock-lane", gate: "A1", lane: 1 });
        const post = (headers: Record<string, string>) =>
          http("POST", "/api/commands", {
            headers: { "content-type": "application/json", ...headers },
            body: command,
          });
        expectRefusal(
          await post({ cookie: tech, "x-sesame": "1" }),
          403,
          "role tech may not do this (needs supervisor)",
          "a tech",
        );
        expectRefusal(await post({}), 401, "sign in first (or send a bearer token)", "no session");
        expectRefusal(
          await post({ cookie: "sesame_session=forged-session-id", "x-sesame": "1" }),
          401,
          "sign in first (or send a bearer token)",
          "an invented session",
        );
        expectRefusal(
          await post({ cookie: supervisor }),
          403,
          "a signed-in dashboard must send the header x-sesame: 1 (CSRF protection)",
          "no CSRF header",
        );
        expectRefusal(
          await post({ cookie: supervisor, "x-sesame": "1", origin: "http://evil.example" }),
          403,
          "cross-origin request refused",
          "another origin",
        );
        expectRefusal(
          await post({ authorization: `Bearer ${token("admin")}` }),
          403,
          "role admin may not do this (needs supervisor)",
          "the ticketing platform's token",
        );
        expectRefusal(
          await post({ authorization: `Bearer ${venue.provisioningOf("A1").http.token}` }),
          403,
          "role gate may not do this (needs supervisor)",
          "a gate's token",
        );
        expectRefusal(
          await http("POST", "/api/keys/trust-list", {
            headers: { cookie: supervisor, "x-sesame": "1", "content-type": "application/json" },
            body: "{}",
          }),
          403,
          "role supervisor may not do this (needs admin)",
          "a supervisor uploading a trust list",
        );
        // The lane was never locked.
        expect(venue.gate("A1").node?.backend.laneViews()[0]?.mode).toBe("normal");

        // A forgery at A1 raises a security alert: a tech may not acknowledge it.
        const holder = venue.holder(1);
        const code = holder.code(Date.now());
        const at = code.length - 3;
        venue
          .lane("A1")
          .sim.reader?.scan(
            `${code.slice(0, at)}${code.charAt(at) === "A" ? "B" : "A"}${code.slice(at + 1)}`,
          );
        await eventually(
          () =>
            server()
              .store.alerts(100)
              .some((a) => a.type === "forgery" && a.gates.includes("A1")),
          "a forgery alert from A1",
        );
        venue.truth.push({
          who: "forger",
          ticketId: holder.ticketId,
          profile: "forged",
          expect: "refuse",
          gateId: "A1",
          lane: 1,
          result: "not-opened",
          free: false,
          walked: true,
          at: Date.now(),
        });
        const alert = server()
          .store.alerts(100)
          .find((a) => a.type === "forgery");
        const ack = (cookie: string, note: unknown) =>
          http("POST", `/api/alerts/${alert?.id}/ack`, {
            headers: { cookie, "x-sesame": "1", "content-type": "application/json" },
            body: JSON.stringify({ note }),
          });
        expectRefusal(
          await ack(tech, "seen"),
          403,
          "role tech may not acknowledge a forgery alert",
          "tech ack",
        );
        expectRefusal(
          await ack(supervisor, "vu\u0000"),
          400,
          "note must not contain control characters other than line breaks (U+0000 at 3)",
          "a NUL in the note",
        );
        // Markup in a note is a note: stored as typed, shown as text.
        const noted = await ack(supervisor, INJECTIONS.html);
        expect(noted.status, noted.text).toBe(200);
        expect((noted.json as { alert: { acknowledgeNote: string } }).alert.acknowledgeNote).toBe(
          INJECTIONS.html,
        );

        // The supervisor's message with markup reaches the kiosk as text; with a NUL it is refused.
        const message = (text: string) =>
          http("POST", "/api/commands", {
            headers: { cookie: supervisor, "x-sesame": "1", "content-type": "application/json" },
            body: JSON.stringify({ type: "message", gate: "A1", text }),
          });
        expectRefusal(
          await message("Porte A\u0000"),
          400,
          "a message must not contain control characters other than line breaks (U+0000 at 8)",
          "a NUL in a message",
        );
        expect((await message(INJECTIONS.htmlAttribute)).status).toBe(202);
        await eventually(
          () => venue.gate("A1").node?.http.state().notices[0]?.text === INJECTIONS.htmlAttribute,
          "the message on A1's kiosk, as typed",
        );
      },
      60_000,
    );

    it.runIf(broker === "embedded")(
      "injection in every text field of the API: refused by name, or kept as inert text",
      async () => {
        onTestFailed(() => console.log(venue.logTail()));
        const supervisor = await signIn("supervisor");
        const read = (path: string) => http("GET", path, { headers: { cookie: supervisor } });
        const admin = (method: string, path: string, body?: unknown) =>
          http(method, path, {
            headers: { authorization: `Bearer ${token("admin")}`, "content-type": "application/json" },
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          });
        const q = (text: string) => encodeURIComponent(text.replace(/[\uD800-\uDFFF]/g, "\uFFFD"));

        // Dashboard sign-in: every name is just a wrong name, logged on one line.
        for (const [name, text] of Object.entries(INJECTIONS)) {
          if (name === "long") continue;
          const r = await http("POST", "/api/session", {
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ name: text, password: INJECTIONS.sqlOr }),
          });
          if (text.length > 64 || text.trim() === "")
            expectRefusal(r, 400, "name must be a text of 1 to 64 characters", name);
          else expectRefusal(r, 401, "wrong name or password", name);
        }
        expectRefusal(
          await http("POST", "/api/session", {
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ name: INJECTIONS.long, password: "x" }),
          }),
          400,
          "name must be a text of 1 to 64 characters",
          "a 10,000-character name",
        );
        await logged(/dashboard sign-in refused for "' OR 1=1 --" from /, "the SQL name logged");
        await logged(/dashboard sign-in refused for "ab\\u0000cd" from /, "the NUL escaped in the log");

        // Query parameters and path segments: each names something that exists, or is refused.
        for (const [name, text] of Object.entries(INJECTIONS)) {
          const short = text.length <= 64;
          expectRefusal(
            await read(`/api/export/entries.csv?session=${q(text)}`),
            short ? 404 : 400,
            short ? /^no session ".*" in venue SDF$/ : "session must be a session id or code",
            `export session ${name}`,
          );
          expectRefusal(
            await read(`/api/events?gate=${q(text)}`),
            400,
            /^gate must be a gate of venue SDF/,
            `gate ${name}`,
          );
          expectRefusal(
            await read(`/api/events?kind=${q(text)}`),
            400,
            /^kind must be one of/,
            `kind ${name}`,
          );
          expectRefusal(
            await read(`/api/events?before=${q(text)}`),
            400,
            "before must be a whole number (an event row id)",
            `before ${name}`,
          );
          const rejections = await read(`/api/rejections?source=${q(text)}`);
          if (short) expect((rejections.json as { rejections: unknown[] }).rejections, name).toEqual([]);
          else expectRefusal(rejections, 400, /^source must be/, `source ${name}`);
          expectRefusal(
            await read(`/api/tickets/${q(text)}`),
            400,
            "ticket id must be a whole number",
            `ticket ${name}`,
          );
          expectRefusal(await read(`/api/commands/${q(text)}`), 404, /^no command /, `command ${name}`);
          // "__" is a well-formed gate id, of no gate of this venue.
          const wellFormed = /^[A-Za-z0-9_-]{1,32}$/.test(text);
          expectRefusal(
            await admin("POST", `/api/gates/${q(text)}/provision`),
            wellFormed ? 404 : 400,
            wellFormed
              ? `gate ${text} is not in venue SDF's gate list`
              : "a gate id is 1 to 32 letters, digits, '-' or '_'",
            `provision ${name}`,
          );
        }
        // An export filter that names a session, with its fields written as data, never formulas.
        const csv = await read("/api/export/entries.csv?session=ATH-S1");
        expect(csv.status).toBe(200);

        // A ticket whose holder's name is SQL and markup (issued at the issuer, which refuses names with
        // NUL, overrides or line breaks): kept as typed, through the feed to the gate, found there by
        // the steward's lookup.
        const zone = venue.demo.venue.entrances[0]?.zones[0] ?? 1;
        const holder = "Robert'); DROP TABLE tickets;-- <script>alert(1)</script>";
        const issuer = venue.issuer;
        if (!issuer) throw new Error("no issuer in this process");
        const { sequence } = issuer.issue({
          id: 910_001,
          generation: 1,
          kind: "printed",
          status: "valid",
          sessions: [1],
          entrance: 1,
          zone,
          seat: "",
          categories: [],
          holder,
          orderReference: "INJ-1",
        });
        const a1 = venue.gate("A1").node;
        await eventually(() => (a1?.store.feedSequence ?? 0) >= sequence, "the new ticket at A1");
        const found = a1?.store.lookup("robert drop", { at: Date.now() });
        expect(found?.hits.map((h) => [h.ticketId, h.holder])).toEqual([[910_001, holder]]);
        expect(a1?.store.lookup("INJ-1", { at: Date.now() }).hits.map((h) => h.holder)).toEqual([holder]);
        expect(
          ((await read("/api/tickets/910001")).json as { ticket: { holder: string } }).ticket.holder,
        ).toBe(holder);
        // The platform's operations are not the venue server's any more: 410, the ticket unchanged.
        expectRefusal(
          await admin("POST", "/api/tickets/910001/resale", { holder: `Eve${INJECTIONS.rtl}` }),
          410,
          /^ticket resale moved to the issuer: /,
          "resale at the venue server",
        );
        expect(
          ((await read("/api/tickets/910001")).json as { ticket: { generation: number } }).ticket.generation,
        ).toBe(1);
      },
      60_000,
    );

    it.runIf(broker === "embedded")(
      "oversized and malformed bodies on every endpoint: 413, 400 or 415 with the reason, never a reset or a 500",
      async () => {
        onTestFailed(() => console.log(venue.logTail()));
        const supervisor = await signIn("supervisor");
        const asAdmin = { authorization: `Bearer ${token("admin")}` };
        const asSupervisor = { cookie: supervisor, "x-sesame": "1" };
        const alertId = server().store.alerts(1)[0]?.id ?? 1;
        // [path, who, body limit (bytes)]
        const endpoints: Array<[string, Record<string, string>, number]> = [
          ["/api/session", {}, 16 * 1024],
          ["/api/keys/trust-list", asAdmin, 1024 * 1024],
          [`/api/alerts/${alertId}/ack`, asSupervisor, 16 * 1024],
          ["/api/commands", asSupervisor, 16 * 1024],
        ];
        for (const [path, who, limit] of endpoints) {
          const headers = { ...who, "content-type": "application/json" };
          const tooBig = limit > OVERSIZED.length ? Buffer.alloc(limit + 1, 0x7b) : OVERSIZED;
          const overLimit = `request body larger than ${limit} bytes`;
          expectRefusal(
            await http("POST", path, { headers, body: tooBig }),
            413,
            overLimit,
            `${path}: oversized`,
          );
          expectRefusal(
            await http("POST", path, { headers, chunked: tooBig.length }),
            413,
            overLimit,
            `${path}: oversized, chunked`,
          );
          for (const bad of MALFORMED_JSON)
            expectRefusal(
              await http("POST", path, { headers, body: bad }),
              400,
              /^body is not JSON: /,
              `${path}: ${bad}`,
            );
          expectRefusal(
            await http("POST", path, { headers, body: "[1,2]" }),
            400,
            "body must be a JSON object",
            `${path}: an array`,
          );
        }
        expectRefusal(
          await http("POST", "/api/session", { headers: { "content-type": "text/plain" }, body: "name=x" }),
          415,
          "send application/json",
          "a form post to the sign-in",
        );
        // A request line no server should read: refused by Node's HTTP parser itself (431).
        const huge = await http("GET", `/api/events?gate=${"x".repeat(20_000)}`, {
          headers: { cookie: supervisor },
        });
        expect(huge.status).toBe(431);
        expect(
          venue.logLines.filter((l) => l.includes("internal error") || /HTTP \w+ \/api/.test(l)),
        ).toEqual([]);
      },
      90_000,
    );

    it("afterwards: the gates admit, the server ingests, the dashboard answers, the record is whole", async () => {
      onTestFailed(() => console.log(venue.logTail()));
      expect(server().mqttConnected).toBe(true);
      await admitted("A1");
      await admitted("B1");
      await ingested("A1");
      await ingested("B1");
      const supervisor = await signIn("supervisor");
      for (const path of ["/api/health", "/api/counts", "/api/gates", "/api/alerts", "/api/rejections"])
        expect((await http("GET", path, { headers: { cookie: supervisor } })).status, path).toBe(200);
      if (broker === "mosquitto") expect(venue.mosquitto?.pid).toBeDefined();
      await venue.settle();
      const report = audit(venue);
      venue.log(`[drill] ${JSON.stringify(report)}`);
      expect(report.falseAccepts).toBe(0);
      expect(report.falseRefusals).toBe(0);
      // One holder per admitting check above, and the one the forged admissions named.
      expect(report.entered).toBe(7);
    }, 60_000);
  },
);
