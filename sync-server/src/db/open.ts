import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { readChanges, readGateBundle, readVenue } from "@sesame/venue";
import { mosquittoHash, randomSecret } from "../secrets.js";
import { type IssuerKeyRecord, ServerStore } from "../store.js";

/** Where a data directory keeps what: the store, the embedded broker's persistence. */
export const SERVER_DATA = { db: "sync.db", brokerDir: "broker" } as const;

/**
 * Opens (and on first use initialises) the store of a data directory from a venue directory. On
 * first use the server makes its own operations key; the root certifies it offline (root/set-up.ts).
 */
export function openServerStore(venueDir: string, dataDir: string, now: number): ServerStore {
  mkdirSync(dataDir, { recursive: true });
  const store = new ServerStore(join(dataDir, SERVER_DATA.db));
  const venue = readVenue(venueDir);
  const existing = store.venueOrUndefined();
  if (existing) {
    if (existing.id !== venue.id)
      throw new Error(`data directory ${dataDir} belongs to venue ${existing.id}, not ${venue.id}`);
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
  return store;
}
