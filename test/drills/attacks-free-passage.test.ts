import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { type Command, encodeCommandMessage, signCommandText } from "@sesame/sync";
import { operationsSeed } from "@sesame/sync-server";
import { readRootKeyFile, VENUE_FILES } from "@sesame/venue";
import { certifiedSupervisor, signedCommandsBody, type TestSupervisor } from "@sesame/venue/testing";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { errorOf, serverTools } from "./attack-tools.js";
import { DrillVenue, eventually, TOKENS } from "./harness.js";

/*
 * Attack drill (issue 15, items 3 and 9): free passage without the supervisor who gives it. A
 * compromised venue server holds the operations key and the server's broker connection: it sends
 * every entrance a free-passage command signed by the operations key alone, then one carrying a
 * supervisor signature under a key the venue root never certified. Every gate refuses both before
 * anything changes (the lanes stay closed), logs the refusal on one line with its topic, and reports
 * it on its refusals topic, so that the server raises a forged-message alert per gate. Through the
 * dashboard API, the same forgery is refused 403 and alerted (supervisor-signature-refused).
 * Afterwards, a free passage the supervisor signed with a key the root certified opens every
 * entrance, and ending it closes them again. Through the real sync-server, its broker (the embedded
 * aedes, then Mosquitto) and gates A1 and B1 with their simulated lanes.
 */

const SUPERVISOR = TOKENS.find((t) => t.role === "supervisor");

describe.each(["embedded", "mosquitto"] as const)(
  "drill: free passage without a supervisor (%s broker)",
  (broker) => {
    let venue: DrillVenue;
    let dupont: TestSupervisor;
    let forger: TestSupervisor;

    beforeAll(async () => {
      venue = await DrillVenue.start({
        name: `attacks-free-passage-${broker}`,
        spectators: 120,
        entrances: 2,
        lanes: 2,
        lanesPerGate: 1,
        broker,
        reservedPerEntrance: 4,
      });
      const venueId = venue.demo.venue.id;
      const supervisor = SUPERVISOR?.name ?? "";
      // The supervisor enrolled: a key made for them and certified by the venue root, offline.
      dupont = certifiedSupervisor({
        rootSeed: Buffer.from(readRootKeyFile(join(venue.venueDir, VENUE_FILES.rootKey))).toString("hex"),
        venueId,
        supervisor,
      });
      // The forger's key: "certified" by a root no gate pins.
      forger = certifiedSupervisor({ rootSeed: "66".repeat(32), venueId, supervisor });
    }, 120_000);

    afterAll(async () => {
      await venue?.stop();
    });

    const { server, http, logged } = serverTools(() => venue);
    const entrances = () => venue.demo.venue.entrances.map((e) => e.id);

    /**
     * The compromised server itself publishes, on its own connection (another client with its
     * credentials would take over its MQTT session on Mosquitto, and lose the gates' reports).
     */
    const serverPublishes = (topic: string, payload: string) =>
      (server() as unknown as { publish(topic: string, payload: string): void }).publish(topic, payload);

    /** A free passage for an entrance, signed by the operations key (and a supervisor part, if given). */
    const forgedFreePassage = (entrance: number, supervisor?: TestSupervisor) => {
      const now = Date.now();
      const command: Command = {
        id: randomUUID(),
        type: "free-passage",
        target: { entrance },
        by: SUPERVISOR?.name ?? "",
        issuedAt: now,
        expiresAt: now + 60_000,
      };
      const json = JSON.stringify(command);
      return encodeCommandMessage({
        command: json,
        sig: signCommandText(json, operationsSeed(server().store), venue.signer),
        ...(supervisor ? { supervisor: supervisor.sign(json) } : {}),
      });
    };

    const lanesClosed = () => {
      for (const gate of venue.gates)
        for (const view of gate.node?.backend.laneViews() ?? [])
          expect([gate.gateId, view.lane, view.mode]).toEqual([gate.gateId, view.lane, "normal"]);
      for (const lane of venue.lanes)
        expect(lane.sim.controller.turnstile.isFree("entry"), `${lane.gateId}/${lane.lane} held open`).toBe(
          false,
        );
    };

    const refusedAtEveryGate = async (pattern: RegExp, what: string) => {
      for (const gate of venue.gates) {
        await eventually(
          () => gate.lines.some((l) => pattern.test(l)),
          `${gate.gateId} logged ${what}`,
          10_000,
        );
        const line = gate.lines.find((l) => pattern.test(l)) ?? "";
        expect(line).toContain(`/entrances/${gate.entrance}/commands`);
        expect(line).not.toMatch(/[\n\r]/);
        await eventually(
          () =>
            server()
              .store.rejections(1000, gate.gateId)
              .some((r) => pattern.test(r.detail)),
          `${gate.gateId}'s refusal reported to the server`,
          10_000,
        );
      }
    };

    it("a free passage signed by the operations key alone: every gate refuses it, logs and reports it; lanes stay closed", async () => {
      onTestFailed(() => console.log(venue.logTail()));
      const t = server().topics;
      for (const entrance of entrances())
        serverPublishes(t.entranceCommands(entrance), forgedFreePassage(entrance));
      await refusedAtEveryGate(/carries no supervisor's signature/, "the refusal");
      const alerts = server()
        .store.alerts(1000)
        .filter((a) => a.type === "forged-message");
      for (const gate of venue.gates)
        expect(
          alerts.some((a) => a.gates.includes(gate.gateId)),
          `forged-message alert for ${gate.gateId}`,
        ).toBe(true);
      await logged(
        /ALERT gate A1 refused a message on .*commands.*carries no supervisor's signature/,
        "alert logged",
      );
      lanesClosed();
    }, 60_000);

    it("a free passage signed by a key the root did not certify: refused at every gate and at the API, alerted", async () => {
      onTestFailed(() => console.log(venue.logTail()));
      const t = server().topics;
      for (const entrance of entrances())
        serverPublishes(t.entranceCommands(entrance), forgedFreePassage(entrance, forger));
      await refusedAtEveryGate(/not signed by the venue root key/, "the refusal");
      // Through the dashboard API (a supervisor's stolen session, a forger's key): refused 403, alerted.
      const targets = entrances().map((entrance) => ({ entrance }));
      const r = await http("POST", "/api/commands", {
        headers: { authorization: `Bearer ${SUPERVISOR?.token}`, "content-type": "application/json" },
        body: JSON.stringify(signedCommandsBody(forger, { type: "free-passage", targets })),
      });
      expect(r.status, r.text).toBe(403);
      expect(errorOf(r)).toMatch(/not signed by the venue root key/);
      await logged(
        /supervisor signature refused: .* sent a free-passage command refused/,
        "the API's refusal logged",
      );
      expect(
        server()
          .store.alerts(1000)
          .some((a) => a.type === "supervisor-signature-refused"),
      ).toBe(true);
      lanesClosed();
    }, 60_000);

    it("afterwards, the supervisor's own signed free passage opens every entrance, and ending it closes them", async () => {
      onTestFailed(() => console.log(venue.logTail()));
      const targets = entrances().map((entrance) => ({ entrance }));
      const headers = { authorization: `Bearer ${SUPERVISOR?.token}`, "content-type": "application/json" };
      const open = await http("POST", "/api/commands", {
        headers,
        body: JSON.stringify(signedCommandsBody(dupont, { type: "free-passage", targets })),
      });
      expect(open.status, open.text).toBe(202);
      await eventually(
        () =>
          venue.gates.every((g) =>
            (g.node?.backend.laneViews() ?? []).every((v) => v.mode === "free-passage"),
          ),
        "every lane in free passage",
        10_000,
      );
      await logged(/command free-passage .* signed by supervisor/, "who gave it recorded");
      const end = await http("POST", "/api/commands", {
        headers,
        body: JSON.stringify({ type: "end-free-passage", venue: true }),
      });
      expect(end.status, end.text).toBe(202);
      await eventually(
        () => venue.gates.every((g) => (g.node?.backend.laneViews() ?? []).every((v) => v.mode === "normal")),
        "every lane back to normal",
        10_000,
      );
      // And the gates admit the right people again.
      for (const lane of venue.lanes) {
        const shown = await venue.present(lane, venue.holder(lane.entrance));
        expect(shown.result, `a holder at ${lane.gateId}`).toBe("passed");
      }
    }, 60_000);
  },
);
