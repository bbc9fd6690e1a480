import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { createNodeSigner } from "@sesame/ticket";
import { readChanges, readGateBundle, readSecrets, readVenue, VENUE_FILES } from "@sesame/venue";
import { certifyOperationsKey, operationsCertificate } from "../keys/operations.js";
import { mosquittoHash, randomSecret } from "../secrets.js";
import { type IssuerKeyRecord, ServerStore } from "../store.js";

/** Where a data directory keeps what: the store, the embedded broker's persistence. */
export const SERVER_DATA = { db: "sync.db", brokerDir: "broker" } as const;

/** Opens (and on first use initialises) the store of a data directory from a venue directory. */
export function openServerStore(venueDir: string, dataDir: string, now: number): ServerStore {
  mkdirSync(dataDir, { recursive: true });
  const store = new ServerStore(join(dataDir, SERVER_DATA.db));
  const venue = readVenue(venueDir);
  const existing = store.venueOrUndefined();
  if (existing) {
    if (existing.id !== venue.id)
      throw new Error(`data directory ${dataDir} belongs to venue ${existing.id}, not ${venue.id}`);
    certifyIfNone(store, venueDir, now);
    return store;
  }
  const rootKey = Buffer.from(venue.rootPublicKey, "hex");
  const { bundle } = readGateBundle(venueDir, rootKey);
  const changes = existsSync(join(venueDir, "changes.jsonl")) ? readChanges(venueDir) : [];
  // The issuer keys' public halves, from the root-signed trust list: the seeds stay at the issuer.
  const issuerKeys: IssuerKeyRecord[] = bundle.trustList.keys.map((k) => ({
    keyId: k.keyId,
    publicKey: k.publicKey,
    validFrom: Math.floor(Date.parse(k.validFrom) / 1000),
    validUntil: Math.floor(Date.parse(k.validUntil) / 1000),
    revoked: k.revoked,
  }));
  store.initialize({ venue, bundle, changes, trustList: bundle.trustList, issuerKeys, now });
  const commandSeed = randomBytes(32).toString("hex");
  store.setMeta("command_seed", commandSeed);
  const password = randomSecret();
  store.setMeta("mqtt_server_password", password);
  store.setMeta("mqtt_server_hash", mosquittoHash(password));
  certifyIfNone(store, venueDir, now);
  return store;
}

/**
 * Set-up of a venue whose root seed is at hand (the demo, `npm start`, tests): the operations key is
 * certified as `sesame operations-certificate` would. Where the root is offline (no seed in the
 * venue's secrets), the store waits for that command.
 */
function certifyIfNone(store: ServerStore, venueDir: string, now: number): void {
  if (operationsCertificate(store)) return;
  if (!existsSync(join(venueDir, VENUE_FILES.secrets))) return;
  const { rootSeed } = readSecrets(venueDir);
  certifyOperationsKey(store, Buffer.from(rootSeed, "hex"), { now, signer: createNodeSigner() });
}
