import { join } from "node:path";
import { createNodeSigner, createNodeVerifier } from "@sesame/ticket";
import { readRootKeyFile, VENUE_FILES } from "@sesame/venue";
import { openServerStore } from "../db/open.js";
import {
  installOperationsCertificate,
  operationsCertificate,
  operationsPublicKey,
} from "../keys/operations.js";
import type { ServerStore } from "../store.js";
import { certifyOperationsKey } from "./root-signing.js";

/*
 * Set-up where the root key file is at hand (the demo, `npm start`, tests, or a real venue's
 * set-up machine before the root goes offline): the server's store is opened (on first use it
 * makes its own operations key) and the root certifies that key, exactly as the two offline steps
 * would. The server itself never calls this.
 */

/** The demo's root key file of a venue directory (a real venue keeps it elsewhere, offline). */
export const demoRootKeyFile = (venueDir: string) => join(venueDir, VENUE_FILES.rootKey);

export interface SetUpOptions {
  readonly now: number;
  /** Default: the demo's, in the venue directory. */
  readonly rootKeyFile?: string;
  /** Certificate validity (default 30 days). */
  readonly days?: number;
  /** Certify again even when the held certificate is still valid. */
  readonly renew?: boolean;
}

/** Opens the store and certifies its operations key when it has no valid certificate (or `renew`). */
export function setUpServerStore(venueDir: string, dataDir: string, options: SetUpOptions): ServerStore {
  const store = openServerStore(venueDir, dataDir, options.now);
  try {
    const held = operationsCertificate(store);
    if (options.renew || !held || held.notAfter < options.now) {
      const venue = store.venue();
      const rootSeed = readRootKeyFile(options.rootKeyFile ?? demoRootKeyFile(venueDir), venue.rootPublicKey);
      const certificate = certifyOperationsKey(rootSeed, venue, operationsPublicKey(store), {
        now: options.now,
        ...(options.days !== undefined ? { days: options.days } : {}),
        signer: createNodeSigner(),
      });
      installOperationsCertificate(store, certificate, { now: options.now, verifier: createNodeVerifier() });
    }
    return store;
  } catch (error) {
    store.close();
    throw error;
  }
}

/** setUpServerStore for a server that starts next: the store is closed again. */
export function setUpServer(venueDir: string, dataDir: string, options: SetUpOptions): void {
  setUpServerStore(venueDir, dataDir, options).close();
}
