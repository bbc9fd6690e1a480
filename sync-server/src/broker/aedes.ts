import { mkdirSync } from "node:fs";
import { createServer, type Server } from "node:net";
import {
  gateIdOfUsername,
  mayPublish,
  maySubscribe,
  type Principal,
  SERVER_USERNAME,
  type TopicRights,
  topicRights,
} from "@sesame/sync";
import { Aedes, type AuthenticateError, type Client } from "aedes";
import aedesPersistenceLevel from "aedes-persistence-level";
import { Level } from "level";
import { verifyMosquittoHash } from "../secrets.js";
import type { ServerStore } from "../store.js";

/*
 * The embedded broker: aedes 1.2 with LevelDB persistence on disk, and the same identities and
 * topic rights as the generated Mosquitto configuration (acl.ts in @sesame/sync). aedes speaks
 * MQTT 3.1.1 only, which is all the protocol uses.
 */

export type BrokerAudit =
  | {
      readonly type: "auth-failed";
      readonly username: string;
      readonly clientId: string;
      readonly detail: string;
    }
  | { readonly type: "publish-denied"; readonly username: string; readonly topic: string }
  | { readonly type: "subscribe-denied"; readonly username: string; readonly topic: string };

/** Looks credentials up in the server's store (re-read at every connect: provisioning takes effect at once). */
export interface BrokerCredentials {
  principal(username: string, password: string): Principal | undefined;
}

export function storeCredentials(store: ServerStore, venueId: string): BrokerCredentials {
  return {
    principal(username, password) {
      if (username === SERVER_USERNAME) {
        const hash = store.meta("mqtt_server_hash");
        return hash && verifyMosquittoHash(password, hash) ? { kind: "server" } : undefined;
      }
      const gateId = gateIdOfUsername(username);
      if (!gateId) return undefined;
      const gate = store.gate(gateId);
      if (!gate?.mqttHash || !verifyMosquittoHash(password, gate.mqttHash)) return undefined;
      void venueId;
      return { kind: "gate", gateId, entranceId: gate.entrance };
    },
  };
}

export interface EmbeddedBrokerOptions {
  readonly venueId: string;
  readonly host: string;
  /** 0: any free port. */
  readonly port: number;
  /** LevelDB directory; undefined keeps sessions in memory (tests only). */
  readonly persistenceDir?: string;
  readonly credentials: BrokerCredentials;
  readonly onAudit?: (audit: BrokerAudit) => void;
}

export interface EmbeddedBroker {
  readonly port: number;
  close(): Promise<void>;
}

function authError(code: 2 | 4 | 5, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode: code }) as AuthenticateError;
}

export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  let level: Level<string, unknown> | undefined;
  if (options.persistenceDir) {
    mkdirSync(options.persistenceDir, { recursive: true });
    level = await openLevelWithRetry(options.persistenceDir);
  }
  const rights = new WeakMap<Client, { username: string; rights: TopicRights }>();
  const audit = (a: BrokerAudit) => options.onAudit?.(a);
  const broker = await Aedes.createBroker({
    ...(level ? { persistence: aedesPersistenceLevel(level) } : {}),
    // A gate that stops reading must not stall delivery to everyone (aedes docs: drainTimeout).
    drainTimeout: 10_000,
    queueLimit: 1000,
    authenticate(client, username, password, done) {
      const user = username ?? "";
      const principal = options.credentials.principal(user, password ? password.toString("utf8") : "");
      if (!principal) {
        audit({
          type: "auth-failed",
          username: user,
          clientId: client.id,
          detail: "unknown user or wrong password",
        });
        done(authError(4, "bad username or password"), false);
        return;
      }
      if (principal.kind === "gate" && client.id !== user) {
        // One gate must not take over another's session: a gate's client id is its username.
        audit({
          type: "auth-failed",
          username: user,
          clientId: client.id,
          detail: "client id must equal the username",
        });
        done(authError(2, "client id must equal the username"), false);
        return;
      }
      rights.set(client, { username: user, rights: topicRights(options.venueId, principal) });
      done(null, true);
    },
    authorizePublish(client, packet, callback) {
      if (client === null) {
        callback(null);
        return;
      }
      const r = rights.get(client);
      if (r && mayPublish(r.rights, packet.topic)) {
        callback(null);
        return;
      }
      audit({ type: "publish-denied", username: r?.username ?? "?", topic: packet.topic });
      // aedes then closes the connection (3.1.1 has no negative PUBACK).
      callback(new Error(`publish to ${packet.topic} not allowed`));
    },
    authorizeSubscribe(client, subscription, callback) {
      const r = rights.get(client);
      if (r && maySubscribe(r.rights, subscription.topic)) {
        callback(null, subscription);
        return;
      }
      audit({ type: "subscribe-denied", username: r?.username ?? "?", topic: subscription.topic });
      callback(null, null);
    },
  });
  broker.on("clientError", () => {});
  broker.on("connectionError", () => {});
  const server: Server = createServer((socket) => {
    // Acks and single admissions are small: no Nagle delay on the broker's side either.
    socket.setNoDelay(true);
    broker.handle(socket);
  });
  const port = await listenWithRetry(server, options.host, options.port);
  return {
    port,
    async close() {
      await new Promise<void>((resolve) => {
        broker.close(() => resolve());
        setTimeout(resolve, 2000).unref();
      });
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        setTimeout(resolve, 1000).unref();
      });
      await level?.close().catch(() => undefined);
    },
  };
}

async function openLevelWithRetry(dir: string): Promise<Level<string, unknown>> {
  // After a SIGKILL the old process may still hold LevelDB's LOCK for a moment: retry briefly.
  let lastError: unknown;
  for (let attempt = 0; attempt < 50; attempt++) {
    const level = new Level<string, unknown>(dir);
    try {
      await level.open();
      return level;
    } catch (error) {
      lastError = error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`cannot open the broker's LevelDB at ${dir}: ${String(lastError)}`);
}

async function listenWithRetry(server: Server, host: string, port: number): Promise<number> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          resolve();
        });
      });
      const address = server.address();
      if (address === null || typeof address === "string") throw new Error("no TCP address");
      return address.port;
    } catch (error) {
      lastError = error;
      // EADDRINUSE right after a restart: the previous broker's socket is still closing.
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`cannot listen on ${host}:${port}: ${String(lastError)}`);
}
