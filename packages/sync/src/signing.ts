import type { EntryLogEvent } from "@sesame/gate-core";
import type { Ed25519Signer, Ed25519Verifier } from "@sesame/ticket";
import {
  type SignedSupervisorCertificate,
  type SupervisorCheck,
  verifyBundleBytes,
  verifySupervisorCommand,
} from "@sesame/venue";
import {
  operationsKeyAt,
  type SignedOperationsCertificate,
  verifyOperationsCertificate,
} from "./operations.js";
import {
  type AdmissionsMessage,
  type Command,
  type CommandMessage,
  canonicalEvent,
  type EventBatchMessage,
  opensLanes,
  receivedAdmissionsOrder,
} from "./protocol.js";

/*
 * Signatures of the sync protocol. Each has its own domain string so that a signature made for one
 * purpose can never be replayed as another (the same habit as the credential and trust list).
 * One signature per event batch, not per event: the server verifies ~8,000 signatures/s on 2 cores,
 * which would cap ingest below the 10,000 events/s target if every event carried its own.
 */

const EVENTS_DOMAIN = Buffer.from("SESAME-EVENTS-1\0");
const COMMAND_DOMAIN = Buffer.from("SESAME-COMMAND-1\0");
const ADMISSIONS_DOMAIN = Buffer.from("SESAME-ADMISSIONS-1\0");

export function eventBatchSigningBytes(gateId: string, after: number, eventsJson: string): Buffer {
  return Buffer.concat([EVENTS_DOMAIN, Buffer.from(`${gateId}\0${after}\0`), Buffer.from(eventsJson)]);
}

/** Builds a signed batch from outbox rows (in gateSeq order). */
export function signEventBatch(
  gateId: string,
  after: number,
  events: readonly EntryLogEvent[],
  seed: Uint8Array,
  signer: Ed25519Signer,
): EventBatchMessage {
  const eventsJson = JSON.stringify(events.map(canonicalEvent));
  const sig = Buffer.from(signer.sign(eventBatchSigningBytes(gateId, after, eventsJson), seed)).toString(
    "hex",
  );
  return { gateId, after, events: eventsJson, sig };
}

export function verifyEventBatch(
  batch: EventBatchMessage,
  gatePublicKey: Uint8Array,
  verifier: Ed25519Verifier,
): boolean {
  return verifier.verify(
    eventBatchSigningBytes(batch.gateId, batch.after, batch.events),
    Buffer.from(batch.sig, "hex"),
    gatePublicKey,
  );
}

/** The operations key's seal on an admissions message's order (protocol.ts admissionsOrder). */
export function signAdmissionsOrder(order: string, seed: Uint8Array, signer: Ed25519Signer): string {
  return Buffer.from(signer.sign(Buffer.concat([ADMISSIONS_DOMAIN, Buffer.from(order)]), seed)).toString(
    "hex",
  );
}

/** Whether a received admissions message's order is the one the operations key sealed. */
export function verifyAdmissionsSeal(
  message: AdmissionsMessage,
  operationsKey: Uint8Array,
  verifier: Ed25519Verifier,
): boolean {
  return verifier.verify(
    Buffer.concat([ADMISSIONS_DOMAIN, Buffer.from(receivedAdmissionsOrder(message))]),
    Buffer.from(message.sig, "hex"),
    operationsKey,
  );
}

export function signCommandText(commandJson: string, seed: Uint8Array, signer: Ed25519Signer): string {
  return Buffer.from(signer.sign(Buffer.concat([COMMAND_DOMAIN, Buffer.from(commandJson)]), seed)).toString(
    "hex",
  );
}

export function verifyCommandText(
  commandJson: string,
  sigHex: string,
  publicKey: Uint8Array,
  verifier: Ed25519Verifier,
): boolean {
  return verifier.verify(
    Buffer.concat([COMMAND_DOMAIN, Buffer.from(commandJson)]),
    Buffer.from(sigHex, "hex"),
    publicKey,
  );
}

/**
 * The supervisor's part of a command (docs/design.md §9): a command that opens lanes must carry the
 * signature, over its exact text, of a supervisor whose key the venue root certified (valid at
 * `now`), and name that supervisor in `by`. Other commands need none (ok, no certificate). Pure:
 * the gate and the server both ask it before a lane opens.
 */
export function checkSupervisorPart(
  command: Command,
  message: CommandMessage,
  options: {
    readonly rootKey: Uint8Array;
    readonly verifier: Ed25519Verifier;
    readonly venueId: string;
    readonly now: number;
  },
): SupervisorCheck<SignedSupervisorCertificate | undefined> {
  if (!opensLanes(command.type)) return { ok: true, value: undefined };
  if (!message.supervisor)
    return {
      ok: false,
      reason: "bad-signature",
      detail: `${command.type} command ${command.id} carries no supervisor's signature (the operations key alone may not open lanes)`,
    };
  const check = verifySupervisorCommand(message.command, message.supervisor, options);
  if (!check.ok) return { ...check, detail: `${command.type} command ${command.id}: ${check.detail}` };
  if (check.value.supervisor !== command.by)
    return {
      ok: false,
      reason: "wrong-target",
      detail: `${command.type} command ${command.id} names ${command.by} but is signed by supervisor ${check.value.supervisor}`,
    };
  return check;
}

/** The gate bundle signature of docs/venue-files.md: @sesame/venue owns the format. */
export { verifyBundleBytes as verifyBundleSignature } from "@sesame/venue";

/**
 * The key that signed a bundle a gate downloaded: the venue server's operations key (snapshots;
 * its certificate checked against the root and valid at `now`) or the root (a bundle made at
 * set-up); undefined when neither did.
 */
export function bundleSigner(
  bytes: Uint8Array,
  signatureHex: string,
  keys: {
    readonly rootKey: Uint8Array;
    readonly certificate: SignedOperationsCertificate;
    readonly venueId: string;
    readonly now: number;
  },
  verifier: Ed25519Verifier,
): Uint8Array | undefined {
  const certified = verifyOperationsCertificate(keys.certificate, keys.rootKey, verifier, keys.venueId);
  const operations = certified.ok ? operationsKeyAt(certified.value, keys.now) : undefined;
  if (operations?.ok && verifyBundleBytes(bytes, signatureHex, operations.key, verifier))
    return operations.key;
  if (verifyBundleBytes(bytes, signatureHex, keys.rootKey, verifier)) return keys.rootKey;
  return undefined;
}
