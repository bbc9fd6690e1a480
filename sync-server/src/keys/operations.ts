import {
  type GateList,
  type GateListEntry,
  parseGateList,
  parseOperationsCertificate,
  type RevokedGateKey,
  type SignedGateList,
  type SignedOperationsCertificate,
  signGateList,
  signOperationsCertificate,
} from "@sesame/sync";
import { type Ed25519Signer, keyPairFromSeed } from "@sesame/ticket";
import type { ServerStore } from "../store.js";

/*
 * The venue server's operations key (docs/design.md §9): its seed lives in the store (mode 0600),
 * its certificate is signed by the venue root at set-up (`sesame operations-certificate`, which is
 * the only reader of the root seed for this), and it signs the venue gate list and commands.
 */

/** Stored as "command_seed" since before the certificate: the same key, now certified. */
const SEED_META = "command_seed";
const CERTIFICATE_META = "operations_certificate";
const GATE_LIST_META = "gate_list";

/** How long a certificate made by `sesame operations-certificate` is valid by default. */
export const DEFAULT_OPERATIONS_DAYS = 30;

export function operationsSeed(store: ServerStore): Uint8Array {
  const seed = store.meta(SEED_META);
  if (!seed) throw new Error("store has no operations key");
  return Buffer.from(seed, "hex");
}

export function operationsPublicKey(store: ServerStore): string {
  return Buffer.from(keyPairFromSeed(operationsSeed(store)).publicKey).toString("hex");
}

/** The certificate the store holds, if any (checked when it was made; gates check it again). */
export function operationsCertificate(store: ServerStore): SignedOperationsCertificate | undefined {
  const text = store.meta(CERTIFICATE_META);
  return text === undefined ? undefined : parseOperationsCertificate(JSON.parse(text));
}

/**
 * Certifies the store's operations key with the venue root seed, from `now` for `days` days (an
 * hour back: a gate whose clock is behind is alerted for its skew, not cut off from commands and
 * gate lists). Set-up only: the caller holds the root seed.
 */
export function certifyOperationsKey(
  store: ServerStore,
  rootSeed: Uint8Array,
  options: { readonly now: number; readonly days?: number; readonly signer: Ed25519Signer },
): SignedOperationsCertificate {
  const venue = store.venue();
  if (Buffer.from(keyPairFromSeed(rootSeed).publicKey).toString("hex") !== venue.rootPublicKey.toLowerCase())
    throw new Error(`the root seed given is not venue ${venue.id}'s root key`);
  const days = options.days ?? DEFAULT_OPERATIONS_DAYS;
  if (!Number.isInteger(days) || days < 1 || days > 366)
    throw new RangeError("an operations certificate is valid for 1 to 366 days");
  const certificate = signOperationsCertificate(
    {
      venue: venue.id,
      publicKey: operationsPublicKey(store),
      notBefore: options.now - 3_600_000,
      notAfter: options.now + days * 86_400_000,
    },
    rootSeed,
    options.signer,
  );
  store.setMeta(CERTIFICATE_META, JSON.stringify(certificate));
  return certificate;
}

// ---------------------------------------------------------------------------------------------
// The venue gate list

/** The gate list held, or undefined before the first provisioning. */
export function currentGateList(store: ServerStore): SignedGateList | undefined {
  const text = store.meta(GATE_LIST_META);
  if (text === undefined) return undefined;
  // Signed with this store's own key when it was written: its form is what is read back here.
  return parseGateList(JSON.parse(text));
}

export type GateListChange =
  | {
      readonly kind: "key";
      readonly gate: GateListEntry;
      readonly by: string;
      /** Why its previous key is revoked (default: provisioned again). */
      readonly reason?: string;
    }
  | { readonly kind: "revoke"; readonly gateId: string; readonly by: string; readonly reason: string };

/**
 * The next version of the gate list: a gate's (new) key, whose previous key is revoked; or a gate
 * revoked (quarantine). Signed by the operations key and stored; the caller publishes it.
 */
export function changeGateList(
  store: ServerStore,
  change: GateListChange,
  options: { readonly now: number; readonly signer: Ed25519Signer },
): SignedGateList {
  const held = currentGateList(store);
  const gates = [...(held?.gates ?? [])];
  const revoked: RevokedGateKey[] = [...(held?.revoked ?? [])];
  const gateId = change.kind === "key" ? change.gate.gateId : change.gateId;
  const index = gates.findIndex((g) => g.gateId === gateId);
  const previous = gates[index];
  if (index >= 0) gates.splice(index, 1);
  if (previous && previous.publicKey !== (change.kind === "key" ? change.gate.publicKey : ""))
    revoked.push({
      gateId,
      publicKey: previous.publicKey,
      at: options.now,
      by: change.by,
      reason: change.reason ?? "gate provisioned again with a new key",
    });
  if (change.kind === "key") gates.push(change.gate);
  else if (!previous) throw new Error(`gate ${gateId} has no key in the gate list`);
  const list: GateList = {
    venue: store.venue().id,
    version: (held?.version ?? 0) + 1,
    issuedAt: options.now,
    gates: gates.sort((a, b) => a.gateId.localeCompare(b.gateId)),
    revoked,
  };
  const signed = signGateList(list, operationsSeed(store), options.signer);
  store.setMeta(GATE_LIST_META, JSON.stringify(signed));
  return signed;
}
