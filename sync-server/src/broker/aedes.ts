import { mkdirSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { Readable } from "node:stream";
import {
  gateIdOfUsername,
  maySubscribe,
  type Principal,
  publishRefusal,
  SERVER_USERNAME,
  type TopicRights,
  topicRights,
  willRefusal,
} from "@sesame/sync";
import { Aedes, type AuthenticateError, type Client } from "aedes";
import aedesPersistenceLevel from "aedes-persistence-level";
import { Level } from "level";
import { verifyMosquittoHash } from "../secrets.js";
import type { ServerStore } from "../store.js";

/*
 * The embedded broker: aedes 1.2 with LevelDB persistence on disk, and the same identities and
 * topic rights as the generated Mosquitto configuration (acl.ts in @sesame/sync). aedes speaks
 * MQTT 3.1.1 only, which is all the protocol uses. Deny by default (docs/design.md §9): a client
 * publishes and reads only what its role needs, retains only its presence, sets a will only on its
 * own status topic (else its CONNECT is refused), and a publish no connected client made (a stored
 * will replayed after a restart) is refused. Every refusal is reported as a BrokerAudit.
 */

export interface BrokerAudit {
  readonly type: "auth-failed" | "will-denied" | "publish-denied" | "subscribe-denied";
  /** The client id that asked ("?" when there is none). */
  readonly clientId: string;
  /** The username it authenticated (or tried to) with; "" for none. */
  readonly username: string;
  readonly topic?: string;
  /** Why, in a few words. */
  readonly detail: string;
}

/** Who a publish without a connected client is reported as (aedes: a stored will replayed after a restart). */
export const NO_CLIENT = "(no client)";

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
  /**
   * aedes's heartbeat (default 60 s): the wills a dead broker left behind are swept (and refused)
   * every four heartbeats after a restart. Drills shorten it so that the sweep comes soon.
   */
  readonly heartbeatMs?: number;
}

export interface EmbeddedBroker {
  readonly port: number;
  close(): Promise<void>;
}

/** What aedes keeps of a will in its persistence: the packet, with who set it on which broker. */
interface StoredWill {
  readonly topic: string;
  readonly clientId: string;
  readonly brokerId: string;
}

interface WillStore {
  streamWill(brokers: Record<string, number>): AsyncIterable<StoredWill>;
  delWill(client: { id: string; brokerId: string }): Promise<unknown>;
}

/**
 * After a restart aedes publishes the wills its dead predecessor stored, with no client: nobody to
 * hold to the rights. Its sweep reads them through `streamWill`; this one hands it none, and refuses
 * (audits) and deletes each instead, so that it is refused once, not at every sweep. (Refusing in
 * authorizePublish would reject a promise aedes awaits late: an unhandled rejection.) A gate's
 * offline status then comes from its silence (docs/sync-protocol.md §6).
 */
function refuseDeadWills(
  broker: { id: string; persistence: WillStore },
  audit: (a: BrokerAudit) => void,
): void {
  const persistence = broker.persistence;
  const stored = persistence.streamWill.bind(persistence);
  const refuse = async (brokers: Record<string, number>) => {
    for await (const will of stored(brokers)) {
      // A will of this broker's own clients is theirs to publish when they drop.
      if (will.brokerId === broker.id) continue;
      audit({
        type: "publish-denied",
        username: NO_CLIENT,
        clientId: will.clientId,
        topic: will.topic,
        detail: "no connected client to attribute it to (a stored will replayed after a restart)",
      });
      try {
        await persistence.delWill({ id: will.clientId, brokerId: will.brokerId });
      } catch (error) {
        // Still stored: refused again at the next sweep, which says so again.
        process.emitWarning(
          `broker: the replayed will of ${will.clientId} could not be deleted: ${String(error)}`,
        );
      }
    }
  };
  persistence.streamWill = (brokers) => {
    // aedes gets an empty stream, ended once every stored will has been refused.
    const none = new Readable({ objectMode: true, read() {} });
    refuse(brokers)
      // The LevelDB could not be read: nothing published, the next sweep tries again.
      .catch((error: unknown) =>
        process.emitWarning(`broker: stored wills could not be read, none published: ${String(error)}`),
      )
      .finally(() => none.push(null));
    return none;
  };
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
  /** The will of each CONNECT, kept from preConnect until authenticate has its principal. */
  const wills = new WeakMap<Client, { topic: string; retain: boolean }>();
  const audit = (a: BrokerAudit) => options.onAudit?.(a);
  const broker = await Aedes.createBroker({
    ...(level ? { persistence: aedesPersistenceLevel(level) } : {}),
    // A gate that stops reading must not stall delivery to everyone (aedes docs: drainTimeout).
    drainTimeout: 10_000,
    queueLimit: 1000,
    ...(options.heartbeatMs !== undefined ? { heartbeatInterval: options.heartbeatMs } : {}),
    preConnect(client, packet, callback) {
      if (packet.will) wills.set(client, { topic: packet.will.topic, retain: packet.will.retain === true });
      callback(null, true);
    },
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
      const clientRights = topicRights(options.venueId, principal);
      const will = wills.get(client);
      const willDenied = will && willRefusal(clientRights, will);
      if (will && willDenied) {
        // Refused before the will is stored: it can never be published, now or after a restart.
        audit({
          type: "will-denied",
          username: user,
          clientId: client.id,
          topic: will.topic,
          detail: willDenied,
        });
        done(authError(5, "will not allowed"), false);
        return;
      }
      rights.set(client, { username: user, rights: clientRights });
      done(null, true);
    },
    authorizePublish(client, packet, callback) {
      if (client === null) {
        // Nobody to hold to the rights (the stored wills never get here: refuseDeadWills).
        audit({
          type: "publish-denied",
          username: NO_CLIENT,
          clientId: "?",
          topic: packet.topic,
          detail: "no connected client to attribute it to",
        });
        callback(new Error(`publish to ${packet.topic} without a client`));
        return;
      }
      const r = rights.get(client);
      const refused = r ? publishRefusal(r.rights, packet) : "not authenticated";
      if (refused === undefined) {
        callback(null);
        return;
      }
      audit({
        type: "publish-denied",
        username: r?.username ?? "",
        clientId: client.id,
        topic: packet.topic,
        detail: refused,
      });
      // aedes then closes the connection (3.1.1 has no negative PUBACK).
      callback(new Error(`publish to ${packet.topic} not allowed`));
    },
    authorizeSubscribe(client, subscription, callback) {
      const r = rights.get(client);
      if (r && maySubscribe(r.rights, subscription.topic)) {
        callback(null, subscription);
        return;
      }
      audit({
        type: "subscribe-denied",
        username: r?.username ?? "",
        clientId: client.id,
        topic: subscription.topic,
        detail: r ? "not a topic of this client" : "not authenticated",
      });
      callback(null, null);
    },
  });
  refuseDeadWills(broker as unknown as { id: string; persistence: WillStore }, audit);
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
