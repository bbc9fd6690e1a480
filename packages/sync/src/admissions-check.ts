import type { Ed25519Verifier } from "@sesame/ticket";
import type { GateKeys } from "./operations.js";
import type { AdmissionsMessage, ReceivedAdmission, RejectReason } from "./protocol.js";
import { verifyEventBatch } from "./signing.js";

/*
 * What a gate checks of an admissions message before anything of it is applied (docs/design.md §9):
 * every batch it carries is signed by the current key of the gate it names, in the venue gate list
 * that the operations key signed. One signature check per batch, not per admission (the fan-out of
 * a batch of 250 costs one verify). Pure: the gate list, the verifier and the ticket lookup come in.
 */

export type AdmissionsCheck =
  | {
      readonly ok: true;
      /** The admissions to apply: those that passed the plausibility check. */
      readonly accepted: readonly ReceivedAdmission[];
      /** Authentic, but not plausible: not applied, alerted. */
      readonly implausible: readonly { readonly entry: ReceivedAdmission; readonly detail: string }[];
    }
  | {
      readonly ok: false;
      readonly reason: RejectReason;
      readonly detail: string;
      /** The gate the refused batch claims to come from. */
      readonly sender?: string;
      /**
       * The gate list held is older than the server's, or there is none: the signer may be a gate
       * provisioned since. Not an attack yet: fetch the newer list and ask for the message again.
       */
      readonly behind?: boolean;
    };

export interface AdmissionsCheckContext {
  /** The verified gate list held (undefined before the first one arrives). */
  readonly gateKeys: GateKeys | undefined;
  /** The newest gate-list version the server announced (heartbeat), if known. */
  readonly announcedGateListVersion: number | undefined;
  readonly verifier: Ed25519Verifier;
  /** The entrance of a ticket the gate holds, for the plausibility check; undefined when unknown. */
  ticketEntrance?(ticketId: number): number | undefined;
}

/** Checks a whole admissions message: authentic or refused whole; implausible entries set apart. */
export function verifyAdmissions(
  message: AdmissionsMessage,
  context: AdmissionsCheckContext,
): AdmissionsCheck {
  const keys = context.gateKeys;
  const heldVersion = keys?.version ?? 0;
  const behind = keys === undefined || (context.announcedGateListVersion ?? 0) > heldVersion;
  const used = new Set<number>();
  for (const entry of message.entries) used.add(entry.batch);
  for (const b of used) {
    const batch = message.batches[b];
    if (!batch) return { ok: false, reason: "invalid", detail: `no batch ${b} in the message` };
    const gate = keys?.gate(batch.gateId);
    if (!gate) {
      const revoked = keys?.revocationOf(batch.gateId);
      if (revoked)
        return {
          ok: false,
          reason: "revoked-gate",
          detail: `admissions signed by gate ${batch.gateId}, whose key was revoked by ${revoked.by}: ${revoked.reason}`,
          sender: batch.gateId,
        };
      return {
        ok: false,
        reason: "unknown-gate",
        detail: `admissions signed by gate ${batch.gateId}, which is not in the venue gate list (version ${heldVersion})`,
        sender: batch.gateId,
        ...(behind ? { behind: true } : {}),
      };
    }
    if (!verifyEventBatch(batch, gate.key, context.verifier))
      return {
        ok: false,
        reason: "bad-signature",
        detail: `admissions batch after ${batch.after} is not signed by gate ${batch.gateId}'s key`,
        sender: batch.gateId,
      };
  }
  const accepted: ReceivedAdmission[] = [];
  const implausible: { entry: ReceivedAdmission; detail: string }[] = [];
  for (const entry of message.entries) {
    const detail = implausibility(entry, keys as GateKeys, context);
    if (detail === undefined) accepted.push(entry);
    else implausible.push({ entry, detail });
  }
  return { ok: true, accepted, implausible };
}

/** An entry at a gate of one entrance for a ticket of another, without a supervisor's override. */
function implausibility(
  entry: ReceivedAdmission,
  keys: GateKeys,
  context: AdmissionsCheckContext,
): string | undefined {
  const e = entry.event;
  if (e.kind !== "entered" || e.ticketId === undefined || entry.overridden) return undefined;
  const ticketEntrance = context.ticketEntrance?.(e.ticketId);
  const gateEntrance = keys.gate(e.gateId)?.entranceId;
  if (ticketEntrance === undefined || gateEntrance === undefined || ticketEntrance === gateEntrance)
    return undefined;
  return `gate ${e.gateId} (entrance ${gateEntrance}) admitted ticket ${e.ticketId} of entrance ${ticketEntrance} without a supervisor's override`;
}
