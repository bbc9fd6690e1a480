import { ServerStore } from "../store.js";
import { type BrokerAudit, startEmbeddedBroker, storeCredentials } from "./aedes.js";

/*
 * The embedded broker in its own process (the default): it gets a core of its own, and a crash or
 * a SIGKILL of the broker is a real one. Talks to its parent by JSON lines on stdout; exits when its
 * stdin closes, so that it never outlives a killed sync-server.
 */

export interface BrokerChildConfig {
  readonly venueId: string;
  readonly host: string;
  readonly port: number;
  readonly persistenceDir?: string;
  readonly dbPath: string;
  readonly heartbeatMs?: number;
}

export type BrokerChildMessage =
  | { readonly type: "listening"; readonly port: number }
  | { readonly type: "audit"; readonly audit: BrokerAudit }
  | { readonly type: "fatal"; readonly detail: string };

function send(message: BrokerChildMessage): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

export async function runBrokerChild(config: BrokerChildConfig): Promise<void> {
  const store = new ServerStore(config.dbPath, { readonly: true });
  const broker = await startEmbeddedBroker({
    venueId: config.venueId,
    host: config.host,
    port: config.port,
    ...(config.persistenceDir ? { persistenceDir: config.persistenceDir } : {}),
    ...(config.heartbeatMs !== undefined ? { heartbeatMs: config.heartbeatMs } : {}),
    credentials: storeCredentials(store, config.venueId),
    onAudit: (audit) => send({ type: "audit", audit }),
  });
  send({ type: "listening", port: broker.port });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await broker.close();
    store.close();
    process.exit(0);
  };
  process.stdin.on("end", () => void stop());
  process.stdin.on("close", () => void stop());
  process.stdin.resume();
  process.once("SIGTERM", () => void stop());
  process.once("SIGINT", () => void stop());
}
