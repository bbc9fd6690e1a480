import { connect, type IClientOptions, type MqttClient } from "mqtt";

export type { MqttClient };

/** A bare MQTT 3.1.1 client for tests that play an attacker or a broken peer. Every wait is bounded. */
export async function rawClient(
  url: string,
  options: IClientOptions,
  timeoutMs = 5000,
): Promise<{ ok: true; client: MqttClient } | { ok: false; error: string }> {
  const client = connect(url, {
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: timeoutMs,
    ...options,
  });
  return await new Promise((resolve) => {
    const timer = setTimeout(() => {
      client.end(true);
      resolve({ ok: false, error: "timeout" });
    }, timeoutMs);
    client.once("connect", () => {
      clearTimeout(timer);
      resolve({ ok: true, client });
    });
    client.once("error", (error) => {
      clearTimeout(timer);
      client.end(true);
      resolve({ ok: false, error: error.message });
    });
    client.once("close", () => {
      clearTimeout(timer);
      client.end(true);
      resolve({ ok: false, error: "closed" });
    });
  });
}

export type PublishOutcome = "acked" | "error" | "closed" | "timeout";

/**
 * QoS 1 publish that never hangs (aedes closes the connection on a denied publish: MQTT.js #1974).
 * The limit turns a hang into "timeout"; it is generous because tests expect "acked" from a broker
 * that may be slow to answer on a loaded machine.
 */
export function publishBounded(
  client: MqttClient,
  topic: string,
  payload: string | Buffer,
  timeoutMs = 10_000,
  options: { readonly retain?: boolean } = {},
): Promise<PublishOutcome> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => done("timeout"), timeoutMs);
    const onClose = () => done("closed");
    const done = (outcome: PublishOutcome) => {
      clearTimeout(timer);
      client.off("close", onClose);
      resolve(outcome);
    };
    client.once("close", onClose);
    client.publish(topic, payload, { qos: 1, retain: options.retain ?? false }, (error) =>
      done(error ? "error" : "acked"),
    );
  });
}
