import { randomBytes } from "node:crypto";
import { createNodeSigner, keyPairFromSeed } from "@sesame/ticket";
import {
  type SignedSupervisorCertificate,
  signSupervisorCertificate,
  signSupervisorCommand,
} from "./supervisor-keys.js";

/*
 * A supervisor with a root-certified key, made in Node: what a supervisor's browser holds after
 * enrolment (its private key stays in IndexedDB there). For tests and drills only.
 */

export interface TestSupervisor {
  readonly certificate: SignedSupervisorCertificate;
  readonly seed: Uint8Array;
  /** The supervisor's part of a command message for this JSON text. */
  sign(commandJson: string): { readonly sig: string; readonly certificate: SignedSupervisorCertificate };
}

export function certifiedSupervisor(options: {
  /** Hex seed of the venue root (or of another key, for a forged certificate). */
  readonly rootSeed: string | Uint8Array;
  readonly venueId: string;
  /** The dashboard account commands name in `by`. */
  readonly supervisor: string;
  readonly name?: string;
  readonly now?: number;
  readonly validMs?: number;
}): TestSupervisor {
  const signer = createNodeSigner();
  const seed = randomBytes(32);
  const now = options.now ?? Date.now();
  const rootSeed =
    typeof options.rootSeed === "string" ? Buffer.from(options.rootSeed, "hex") : options.rootSeed;
  const certificate = signSupervisorCertificate(
    {
      venue: options.venueId,
      supervisor: options.supervisor,
      name: options.name ?? options.supervisor,
      publicKey: Buffer.from(keyPairFromSeed(seed).publicKey).toString("hex"),
      notBefore: now - 60_000,
      notAfter: now + (options.validMs ?? 24 * 3600_000),
    },
    rootSeed,
    signer,
  );
  return {
    certificate,
    seed,
    sign: (commandJson) => ({ sig: signSupervisorCommand(commandJson, seed, signer), certificate }),
  };
}
