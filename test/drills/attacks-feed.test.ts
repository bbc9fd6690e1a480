import { encodeFeed, SERVER_USERNAME } from "@sesame/sync";
import { type MqttClient, publishBounded, rawClient } from "@sesame/testing";
import { issuerChangeSigner } from "@sesame/venue";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { audit, DrillVenue, eventually, TOKENS } from "./harness.js";

/*
 * Attack drill, ticket feed (issue 15): a running venue — sync-server with its embedded broker,
 * gates A1 and B1 in this process with their simulated OSDP lanes — and forged ticket changes put
 * on the feed by someone who is on the broker (here with the server's stolen password: what the
 * broker lets through is not the point, the gates' signature check is). Before the feed was signed,
 * one forged `revoke-key` made every gate refuse every ticket and moved its feed position past the
 * server's. Now each forgery is refused at every gate: nothing applied, the feed position kept, one
 * log line with topic and sender, a forged-message alert at the server; the gates keep admitting
 * and the server's next genuine change still applies everywhere. (~20 s.)
 */

const _ADMIN = TOKENS.find((t) => t.role === "admin")?.token ?? "";

describe("drill: forged ticket-feed changes", () => {
  let venue: DrillVenue;
  let intruder: MqttClient | undefined;

  beforeAll(async () => {
    venue = await DrillVenue.start({
      name: "attacks-feed",
      spectators: 120,
      entrances: 2,
      lanes: 2,
      lanesPerGate: 1,
      reservedPerEntrance: 6,
    });
  }, 120_000);

  afterAll(async () => {
    intruder?.end(true);
    await venue?.stop();
  });

  const server = () => {
    if (!venue.server) throw new Error("the sync-server is not in this process");
    return venue.server;
  };
  const gateIds = () => venue.gates.map((g) => g.gateId);
  const store = (gateId: string) => {
    const node = venue.gate(gateId).node;
    if (!node) throw new Error(`gate ${gateId} is not running`);
    return node.store;
  };
  const admitted = async (gateId: string) => {
    const lane = venue.lane(gateId);
    const shown = await venue.present(lane, venue.holder(lane.entrance));
    expect(shown.result, `a legitimate holder at ${gateId}`).toBe("passed");
  };
  const onTheBroker = async (): Promise<MqttClient> => {
    if (intruder?.connected) return intruder;
    const conn = await rawClient(server().brokerUrl, {
      clientId: "intruder-on-the-feed",
      username: SERVER_USERNAME,
      password: server().store.meta("mqtt_server_password") ?? "",
    });
    if (!conn.ok) throw new Error(`could not connect to the broker: ${conn.error}`);
    intruder = conn.client;
    return conn.client;
  };
  /** Every gate refused `count` more messages on `topic` (its log), and the server heard of each. */
  const refusedEverywhere = async (topic: string, pattern: RegExp, what: string) => {
    for (const gateId of gateIds()) {
      await eventually(
        () => venue.gate(gateId).lines.some((l) => l.includes(`rejected: ${topic}: `) && pattern.test(l)),
        `gate ${gateId} logged the refusal of ${what}`,
        10_000,
      );
      await eventually(
        () =>
          server()
            .store.rejections(1000, gateId)
            .some((r) => r.topic === topic && pattern.test(r.detail)),
        `the server recorded gate ${gateId}'s refusal of ${what}`,
        10_000,
      );
    }
  };

  it("a forged revoke-key change on the feed: refused at every gate, nothing moves, alerted", async () => {
    onTestFailed(() => console.log(venue.logTail()));
    const head = server().store.feedSequence();
    for (const gateId of gateIds())
      await eventually(() => store(gateId).feedSequence === head, `${gateId} at ${head}`);
    const broker = await onTheBroker();
    // What was published in issue 15's attack, byte for byte: a key revocation, unsigned.
    const forged = JSON.stringify({
      v: 1,
      stream: "feed",
      changes: [{ sequence: head + 1, type: "revoke-key", keyId: 1 }],
    });
    expect(await publishBounded(broker, server().topics.feed, forged)).toBe("acked");
    await refusedEverywhere(server().topics.feed, /revoke-key/, "the revoke-key change");
    for (const gateId of gateIds()) {
      expect(store(gateId).feedSequence, `${gateId}'s feed position`).toBe(head);
      expect(store(gateId).venue.issuerKeys.get(1)?.revoked, `${gateId}'s issuer key 1`).toBe(false);
      expect(
        venue.gate(gateId).lines.filter((l) => l.includes("revoke-key")),
        "one line",
      ).toHaveLength(1);
    }
    await eventually(
      () => gateIds().every((g) => server().store.openAlertOf("forged-message", g) !== undefined),
      "a forged-message alert for every gate",
      10_000,
    );
    expect(venue.logLines.some((l) => /ALERT gate A1 refused a message on .*\/feed/.test(l))).toBe(true);
    // The gates keep admitting: nothing of the forgery reached their cache.
    for (const gateId of gateIds()) await admitted(gateId);
  }, 60_000);

  it("changes signed by a stranger's key or altered on the way: refused; the server's next change applies", async () => {
    onTestFailed(() => console.log(venue.logTail()));
    const head = server().store.feedSequence();
    const broker = await onTheBroker();
    const stranger = issuerChangeSigner(
      venue.demo.venue.id,
      { keyId: 1, seed: Buffer.alloc(32, 7) },
      venue.signer,
    );
    const victim = venue.holder(venue.lane("A1").entrance).ticketId;
    const resoldTicket = venue.holder(venue.lane("B1").entrance).ticketId;
    // A cancellation of a holder's ticket, signed by a key that is not the issuer's. (Left retained,
    // the broker refuses it before any gate sees it: the feed keeps no retained message.)
    const cancel = stranger.sign({ sequence: head + 1, type: "cancel", ticketId: victim });
    expect(await publishBounded(broker, server().topics.feed, encodeFeed({ changes: [cancel] }))).toBe(
      "acked",
    );
    await refusedEverywhere(
      server().topics.feed,
      /change \d+ \(cancel\): the signature does not verify/,
      "the stranger's cancel",
    );
    // A genuine change (the issuer's, followed by the server), its holder altered on the way (resent as a replay answer).
    venue.issuer?.reassign(resoldTicket, "resale", "Nouveau Détenteur");
    await eventually(
      () => server().store.feedSequence() === head + 1,
      "the server followed the issuer's resale",
    );
    const [genuine] = server().store.changesFrom(head + 1, 1);
    if (!genuine) throw new Error("the resale is not in the feed");
    for (const gateId of gateIds())
      await eventually(() => store(gateId).feedSequence === head + 1, `${gateId} applied the genuine resale`);
    const altered = { ...genuine, sequence: head + 2, holder: "Complice" };
    expect(
      await publishBounded(broker, server().topics.gate("A1", "changes"), encodeFeed({ changes: [altered] })),
    ).toBe("acked");
    await eventually(
      () => venue.gate("A1").lines.some((l) => /rejected: .*\/gates\/A1\/changes: bad-signature/.test(l)),
      "A1 refused the altered change",
      10_000,
    );
    for (const gateId of gateIds()) {
      expect(store(gateId).feedSequence, `${gateId}'s feed position`).toBe(server().store.feedSequence());
      expect(store(gateId).facts().ticket(victim)?.status).toBe("valid");
      await admitted(gateId);
    }
    await venue.settle();
    const report = audit(venue);
    venue.log(`[drill] ${JSON.stringify(report)}`);
    expect(report.falseAccepts).toBe(0);
    expect(report.falseRefusals).toBe(0);
  }, 90_000);
});
