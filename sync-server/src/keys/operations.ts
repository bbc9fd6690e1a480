import {
  type GateList,
  type GateListEntry,
  parseGateList,
  parseOperationsCertificate,
  type RevokedGateKey,
  type SignedGateList,
  type SignedOperationsCertificate,
  signGateList,
  verifyOperationsCertificate,
} from "@sesame/sync";
import { type Ed25519Signer, type Ed25519Verifier, keyPairFromSeed } from "@sesame/ticket";
import type { ServerStore } from "../store.js";

/*
 * The venue server's operations key (docs/design.md §9): its seed lives in the store (mode 0600),
 * its certificate is signed offline by the venue root (`sesame root operations-certificate`) and
 * installed here; the server never holds the root. It signs the venue gate list and commands.
 */

/** Stored as "command_seed" since before the certificate: the same key, now certified. */
const SEED_META = "command_seed";
const CERTIFICATE_META = "operations_certificate";
const GATE_LIST_META = "gate_list";

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
 * Takes a certificate the root signed offline (`sesame root operations-certificate`): it must be
 * signed by the venue's root, for this venue and this store's operations key, and not yet ended.
 * Throws a specific error otherwise, and then nothing is stored.
 */
export function installOperationsCertificate(
  store: ServerStore,
  value: unknown,
  options: { readonly now: number; readonly verifier: Ed25519Verifier },
): SignedOperationsCertificate {
  const venue = store.venue();
  const check = verifyOperationsCertificate(
    value,
    Buffer.from(venue.rootPublicKey, "hex"),
    options.verifier,
    venue.id,
  );
  if (!check.ok) throw new Error(`operations certificate refused (${check.reason}): ${check.detail}`);
  const certificate = check.value;
  if (certificate.publicKey.toLowerCase() !== operationsPublicKey(store))
    throw new Error(
      `operations certificate refused: it certifies key ${certificate.publicKey}, not this server's operations key ${operationsPublicKey(store)}`,
    );
  if (certificate.notAfter < options.now)
    throw new Error(
      `operations certificate refused: it expired ${new Date(certificate.notAfter).toISOString()}`,
    );
  store.setMeta(CERTIFICATE_META, JSON.stringify(certificate));
  return certificate;
}

/** What to run when the operations certificate is missing or has ended, with this venue's paths. */
export function operationsCertificateSteps(store: ServerStore, venueDir: string, dataDir: string): string {
  return (
    `on the machine holding the venue root key run \`sesame root operations-certificate --root ROOT-KEY-FILE --venue ${venueDir} --key ${operationsPublicKey(store)} --out operations-certificate.json\`, ` +
    `then here \`sesame operations-certificate --venue ${venueDir} --data ${dataDir} --install operations-certificate.json\``
  );
}

/** Why the server may not start with the certificate it holds (missing, ended), or undefined. */
export function operationsCertificateProblem(
  store: ServerStore,
  now: number,
  paths: { readonly venueDir: string; readonly dataDir: string },
): string | undefined {
  const certificate = operationsCertificate(store);
  const steps = operationsCertificateSteps(store, paths.venueDir, paths.dataDir);
  if (!certificate) return `the operations key has no certificate: ${steps}`;
  if (certificate.notAfter < now)
    return `the operations certificate expired ${new Date(certificate.notAfter).toISOString()}: ${steps}`;
  return undefined;
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
