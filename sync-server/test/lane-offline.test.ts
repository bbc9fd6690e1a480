import { encodeGateHeartbeat, type OfflinePeripheral, venueTopics } from "@sesame/sync";
import { publishBounded, rawClient } from "@sesame/testing";
import { afterEach, describe, expect, it } from "vitest";
import { World, waitFor } from "./harness.js";

/*
 * Issue 20: a lane peripheral whose secure channel fails is a tech's alert on the dashboard. The
 * gate says which ones are offline, and why, in its heartbeats; the server alerts once when one
 * starts failing, not at every heartbeat, and the gate table shows them.
 */

describe("lane peripherals offline, from the gates' heartbeats", () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it("alerts once per peripheral whose secure channel starts failing, and shows them all", async () => {
    world = await World.create("aedes");
    const server = world.requireServer();
    const topics = venueTopics(server.venue.id);
    const a = world.provisioning("A1");
    const conn = await rawClient(world.brokerUrl, {
      clientId: a.mqtt.clientId,
      username: a.mqtt.username,
      password: a.mqtt.password,
    });
    if (!conn.ok) throw new Error(conn.error);
    let at = Date.now();
    const heartbeat = (offlinePeripherals: OfflinePeripheral[]) =>
      publishBounded(
        conn.client,
        topics.gate("A1", "heartbeat"),
        encodeGateHeartbeat({
          at: at++,
          feedSequence: 0,
          admissionSeq: 0,
          outboxDepth: 0,
          ackedGateSeq: 0,
          offlinePeripherals,
        }),
        5000,
      );
    const reader: OfflinePeripheral = {
      lane: 2,
      peripheral: "reader",
      reason: "secure channel failed: reply MAC mismatch",
      secureChannelFailed: true,
    };
    const unplugged: OfflinePeripheral = { lane: 1, peripheral: "controller", reason: "no reply for 612 ms" };
    const laneAlerts = () => server.store.alerts(50).filter((x) => x.type === "lane-offline");
    try {
      await heartbeat([unplugged, reader]);
      await waitFor(() => laneAlerts().length === 1, 5000, "the lane-offline alert");
      expect(laneAlerts()[0]).toMatchObject({
        gates: ["A1"],
        detail: "gate A1: lane 2 reader offline: secure channel failed: reply MAC mismatch",
      });
      // The same failure at the next heartbeats: no new alert. A cable is not a secure channel.
      await heartbeat([unplugged, reader]);
      await waitFor(
        () => server.store.gates().find((g) => g.gateId === "A1")?.heartbeat?.at === at - 1,
        5000,
        "the second heartbeat stored",
      );
      expect(laneAlerts()).toHaveLength(1);
      expect(server.store.gates().find((g) => g.gateId === "A1")?.heartbeat?.offlinePeripherals).toEqual([
        unplugged,
        reader,
      ]);
      // Fixed, then failing again: a new alert.
      await heartbeat([]);
      await heartbeat([reader]);
      await waitFor(() => laneAlerts().length === 2, 5000, "the second lane-offline alert");
    } finally {
      conn.client.end(true);
    }
  });
});
