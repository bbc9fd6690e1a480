import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  createNodeVerifier,
  type IssuerKey,
  issuerKeyMap,
  type TrustList,
  verifyTrustList,
} from "@sesame/ticket";
import {
  readSecrets,
  readVenue,
  readWallets,
  VENUE_FILES,
  type Venue,
  VenueFileError,
  type WalletEntry,
} from "@sesame/venue";
import { CliError } from "./cli-error.js";

/** Wraps the venue files' own errors as messages for the terminal. */
export function withVenueErrors<T>(dir: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof VenueFileError) throw new CliError(`venue ${dir}: ${error.message}`, 1);
    throw error;
  }
}

export function loadVenue(dir: string): Venue {
  return withVenueErrors(dir, () => readVenue(dir));
}

export function rootKeyOf(venue: Venue): Uint8Array {
  if (!/^[0-9a-f]{64}$/i.test(venue.rootPublicKey))
    throw new CliError("venue.json: rootPublicKey is not 32 bytes of hex", 1);
  return Uint8Array.from(Buffer.from(venue.rootPublicKey, "hex"));
}

/** The trust list of a venue directory, checked against the root key pinned in venue.json. */
export function loadTrust(dir: string, venue: Venue): { list: TrustList; keys: Map<number, IssuerKey> } {
  let text: string;
  try {
    text = readFileSync(join(dir, VENUE_FILES.trustList), "utf8");
  } catch {
    throw new CliError(`venue ${dir}: ${VENUE_FILES.trustList} not found`, 1);
  }
  const r = verifyTrustList(text, rootKeyOf(venue), createNodeVerifier(), { venue: venue.id });
  if (!r.ok)
    throw new CliError(`venue ${dir}: ${VENUE_FILES.trustList} refused (${r.reason}): ${r.detail}`, 1);
  return { list: r.list, keys: issuerKeyMap(r.list) };
}

export function loadWallet(dir: string, ticketId: number, generation?: number): WalletEntry {
  const wallets = withVenueErrors(dir, () => readWallets(dir)).filter((w) => w.body.ticketId === ticketId);
  if (wallets.length === 0)
    throw new CliError(`ticket ${ticketId} is not in ${dir}/${VENUE_FILES.wallets}`, 1);
  if (generation === undefined) {
    return wallets.reduce((a, b) => (b.body.generation > a.body.generation ? b : a));
  }
  const exact = wallets.find((w) => w.body.generation === generation);
  if (!exact) {
    throw new CliError(
      `ticket ${ticketId} has no generation ${generation} (it has ${wallets.map((w) => w.body.generation).join(", ")})`,
      1,
    );
  }
  return exact;
}

export function loadIssuerSeed(dir: string, keyId: number): Uint8Array {
  const secrets = withVenueErrors(dir, () => readSecrets(dir));
  const seed = secrets.issuerSeeds[String(keyId)];
  if (!seed) throw new CliError(`no secret for issuer key ${keyId} in ${dir}/${VENUE_FILES.secrets}`, 1);
  return Uint8Array.from(Buffer.from(seed, "hex"));
}
