import { randomBytes, randomUUID } from "node:crypto";
import { createNodeSigner, keyPairFromSeed } from "@sesame/ticket";
import {
  type SignedSupervisorCertificate,
  signSupervisorCertificate,
  signSupervisorCommand,
} from "./supervisor-keys.js";

/* Test doubles of the venue package: an issuer in memory, supervisors with root-certified keys. */
export { MemoryIssuer, type MemoryIssuerOptions } from "./memory-issuer.js";

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

/**
 * The body of `POST /api/commands` for a lane-opening command, as the dashboard sends it: one
 * command per target, each made and signed by the supervisor (`by` is their dashboard account).
 */
export function signedCommandsBody(
  supervisor: TestSupervisor,
  options: {
    readonly type: string;
    readonly targets: ReadonlyArray<{ readonly gate: string } | { readonly entrance: number }>;
    readonly lane?: number;
    readonly now?: number;
    readonly ttlMs?: number;
  },
): {
  type: string;
  signed: Array<{ command: string; sig: string }>;
  certificate: SignedSupervisorCertificate;
} {
  const issuedAt = options.now ?? Date.now();
  const signed = options.targets.map((target) => {
    const command = JSON.stringify({
      id: randomUUID(),
      type: options.type,
      target,
      ...(options.lane === undefined ? {} : { lane: options.lane }),
      by: supervisor.certificate.supervisor,
      issuedAt,
      expiresAt: issuedAt + (options.ttlMs ?? 60_000),
    });
    return { command, sig: supervisor.sign(command).sig };
  });
  return { type: options.type, signed, certificate: supervisor.certificate };
}

/** What the root holder does with a browser's key request (`sesame supervisor-certificate`), for tests. */
export function certifyPublicKey(options: {
  readonly rootSeed: string | Uint8Array;
  readonly venueId: string;
  readonly supervisor: string;
  readonly publicKey: string;
  readonly name?: string;
  readonly now?: number;
}): SignedSupervisorCertificate {
  const now = options.now ?? Date.now();
  const rootSeed =
    typeof options.rootSeed === "string" ? Buffer.from(options.rootSeed, "hex") : options.rootSeed;
  return signSupervisorCertificate(
    {
      venue: options.venueId,
      supervisor: options.supervisor,
      name: options.name ?? options.supervisor,
      publicKey: options.publicKey,
      notBefore: now - 60_000,
      notAfter: now + 24 * 3600_000,
    },
    rootSeed,
    createNodeSigner(),
  );
}
