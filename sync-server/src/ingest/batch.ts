import {
  decodeBatchEvents,
  decodeEventBatch,
  encodeAck,
  type FannedOutAdmission,
  type RejectReason,
  type RevokedGateKey,
  verifyEventBatch,
} from "@sesame/sync";
import type { Ed25519Verifier } from "@sesame/ticket";
import type { Quarantine } from "../gates/repository.js";
import type { IngestResult } from "./ingest.js";

/*
 * What the sync-server does with a batch a gate published on its `events` topic: decode it, check
 * that it claims the gate whose topic it came on and carries that gate's signature, refuse it whole
 * when a supervisor quarantined the gate, decode its events, store them (ingest.ts), and say what
 * goes back: the ack to the gate and the admissions
 * fan-out to every gate. The server (server.ts) and the rehearsal's modeled venue network both run
 * this one function, so the rehearsal measures the ingest that ships; publishing, logging and
 * alerts stay with the caller.
 */

/** The part of the server's store a batch needs. */
export interface BatchStore {
  ingest(
    gateId: string,
    batch: { after: number; sig: string; events: string },
    rawEvents: readonly unknown[],
    receivedAt: number,
  ): IngestResult;
  /** The gate's quarantine, while it lasts (until the gate is provisioned again). */
  quarantineOf(gateId: string): Quarantine | undefined;
}

export type BatchOutcome =
  /** Not stored: the batch is malformed, claims another gate, or is not signed by this gate. */
  | { readonly kind: "refused"; readonly reason: RejectReason; readonly detail: string }
  /** The batch does not follow the gate's last ack: nothing stored, the gate resends from `ack`. */
  | { readonly kind: "resync"; readonly ack: string }
  | {
      readonly kind: "stored";
      readonly ack: string;
      readonly result: Extract<IngestResult, { kind: "stored" }>;
      /** What goes to every gate (fan-out.ts paces it): each admission with the batch its gate signed. */
      readonly admissions: readonly FannedOutAdmission[];
    };

export function handleEventBatch(
  store: BatchStore,
  verifier: Ed25519Verifier,
  gateId: string,
  /** The gate's provisioned public key, hex. */
  publicKey: string,
  payload: Buffer | string,
  now: number,
): BatchOutcome {
  const batch = decodeEventBatch(payload);
  if (!batch.ok) return { kind: "refused", reason: batch.reason, detail: batch.detail };
  if (batch.value.gateId !== gateId)
    return {
      kind: "refused",
      reason: "gate-mismatch",
      detail: `batch claims gate ${batch.value.gateId} on gate ${gateId}'s topic`,
    };
  if (!verifyEventBatch(batch.value, Buffer.from(publicKey, "hex"), verifier))
    return {
      kind: "refused",
      reason: "bad-signature",
      detail: `batch is not signed by gate ${gateId}'s key`,
    };
  const quarantine = store.quarantineOf(gateId);
  if (quarantine)
    return {
      kind: "refused",
      reason: "quarantined",
      detail: `gate ${gateId} was quarantined by ${quarantine.by} at ${new Date(quarantine.at).toISOString()} (${quarantine.reason}); provision it again to end it`,
    };
  const events = decodeBatchEvents(batch.value.events);
  if (!events.ok) return { kind: "refused", reason: events.reason, detail: events.detail };
  const result = store.ingest(gateId, batch.value, events.value, now);
  if (result.kind === "resync")
    return {
      kind: "resync",
      ack: encodeAck({ upToGateSeq: result.acked, at: now, resync: { after: batch.value.after } }),
    };
  return {
    kind: "stored",
    ack: encodeAck({
      upToGateSeq: result.acked,
      at: now,
      ...(result.rejected.length ? { rejected: result.rejected } : {}),
    }),
    result,
    // Each admission travels with the batch its gate signed: the receiving gates verify it.
    admissions: result.admissions.map((a) => ({ ...a, batch: batch.value })),
  };
}

/**
 * Which of the gate's revoked keys signed a batch its current key did not (a gate provisioned again
 * or quarantined, or whoever kept its old key file): said in the refusal and its alert. Only run on
 * a refused batch, and only over that gate's revoked keys.
 */
export function revokedKeyOfBatch(
  payload: Buffer | string,
  gateId: string,
  revoked: readonly RevokedGateKey[],
  verifier: Ed25519Verifier,
): RevokedGateKey | undefined {
  const batch = decodeEventBatch(payload);
  if (!batch.ok || batch.value.gateId !== gateId) return undefined;
  return revoked.find(
    (r) => r.gateId === gateId && verifyEventBatch(batch.value, Buffer.from(r.publicKey, "hex"), verifier),
  );
}
