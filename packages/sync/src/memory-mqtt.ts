import { EventEmitter } from "node:events";
import type { SyncClock, SyncMqttClient } from "./gate-sync.js";

/*
 * A gate's MQTT connection without a broker, for the virtual rehearsal and tests: GateSync talks to
 * this client on whatever clock it runs on. What the gate publishes goes to `onPublish` (the
 * rehearsal's modeled uplink to the sync-server's ingest); what the server sends the gate (acks,
 * admissions, the ticket feed) is handed to `deliver`, which the client emits as a message, as
 * mqtt.js does. Subscriptions are granted as asked: the caller delivers only what the gate
 * subscribes to.
 */

export class MemoryMqttClient extends EventEmitter implements SyncMqttClient {
  connected = false;
  private ended = false;

  constructor(
    clock: SyncClock,
    private readonly onPublish: (topic: string, payload: string | Buffer) => void,
  ) {
    super();
    // As a broker's CONNACK: after the caller has attached its listeners.
    clock.setTimeout(() => {
      if (this.ended) return;
      this.connected = true;
      this.emit("connect");
    }, 0);
  }

  publish(
    topic: string,
    payload: string | Buffer,
    _options: { qos: 0 | 1; retain?: boolean },
    callback?: (error?: Error) => void,
  ): this {
    if (!this.connected) {
      callback?.(new Error("not connected"));
      return this;
    }
    this.onPublish(topic, payload);
    callback?.();
    return this;
  }

  async subscribeAsync(filters: string[], options: { qos: 0 | 1 }) {
    return filters.map((topic) => ({ topic, qos: options.qos }));
  }

  /** A message from the server side reaching this client. */
  deliver(topic: string, payload: string): void {
    if (this.connected) this.emit("message", topic, payload);
  }

  end(_force?: boolean, _options?: object, callback?: () => void): this {
    const was = this.connected;
    this.connected = false;
    this.ended = true;
    callback?.();
    if (was) this.emit("close");
    return this;
  }
}
