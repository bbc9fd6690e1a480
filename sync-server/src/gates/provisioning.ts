import {
  type GateKeyRequest,
  type GateProvisioning,
  gateUsername,
  isValidId,
  keyRequestProblem,
  PROVISIONING_FORMAT,
} from "@sesame/sync";
import { createNodeSigner, nodeVerifierNoCache } from "@sesame/ticket";
import type { Gate, Venue } from "@sesame/venue";
import { ApiError } from "../errors.js";
import { changeGateList, currentGateList, operationsCertificate } from "../keys/operations.js";
import { mosquittoHash, randomSecret, tokenHash } from "../secrets.js";
import type { ServerStore } from "../store.js";

/*
 * A gate's identity: the public key it made itself (sent with a proof of possession, GateKeyRequest;
 * its private key never leaves the gate), put in the venue gate list; and an MQTT password and an
 * HTTP token, handed out once (only their hashes are stored). Provisioning again replaces them: the
 * old credentials stop working, and the old key is revoked in the gate list. A key that is (or was)
 * another gate's, or that was revoked, is refused. Who provisioned, when, and whether it was forced
 * on a gate that was online are recorded with the gate.
 *
 * Who may call this is decided above it: the HTTP API lets admins only (SyncServer.provisionGate
 * refuses an online gate unless forced); the set-up of a venue (`sesame up`, `sesame mosquitto-config
 * --provision`, the drill harness) calls it in the server's own process, as "set-up".
 */

/** Who a provisioning made at set-up is recorded as (no dashboard account is involved). */
export const SET_UP = "set-up";

/** The venue's gate of this id: 400 for an id no gate can have, 404 for a gate the venue lacks. */
export function venueGate(store: ServerStore, gateId: string): { venue: Venue; gate: Gate } {
  if (!isValidId(gateId)) throw new ApiError(400, "a gate id is 1 to 32 letters, digits, '-' or '_'");
  const venue = store.venue();
  const gate = venue.gates.find((g) => g.id === gateId);
  if (!gate) throw new ApiError(404, `gate ${gateId} is not in venue ${venue.id}'s gate list`);
  return { venue, gate };
}

/** Provisioning without a running server (`sesame mosquitto-config --provision`, tests). */
export function provisionGateInStore(
  store: ServerStore,
  gateId: string,
  key: GateKeyRequest,
  now: number,
  urls: { mqttUrl?: string; httpUrl?: string } = {},
  by = SET_UP,
  forced = false,
): GateProvisioning {
  const { venue, gate } = venueGate(store, gateId);
  const problem = keyRequestProblem(key, venue.id, gateId, nodeVerifierNoCache);
  if (problem) throw new ApiError(400, `gate ${gateId}'s key request is refused: ${problem}`);
  const publicKey = key.publicKey.toLowerCase();
  const reused = keyReuse(store, gateId, publicKey);
  if (reused) throw new ApiError(409, `gate ${gateId}'s key request is refused: ${reused}`);
  const password = randomSecret();
  const token = randomSecret(32);
  const certificate = operationsCertificate(store);
  if (!certificate)
    throw new Error(
      "the venue server's operations key is not certified: run `sesame operations-certificate`",
    );
  store.saveProvisioning(gateId, gate.entrance, publicKey, mosquittoHash(password), tokenHash(token), {
    at: now,
    by,
    forced,
  });
  // The new key speaks for the gate from now on; its previous key (if any) is revoked.
  const gateList = changeGateList(
    store,
    {
      kind: "key",
      gate: { gateId, entranceId: gate.entrance, publicKey },
      by,
      ...(forced ? { reason: "gate provisioned again with a new key, forced while it was online" } : {}),
    },
    { now, signer: createNodeSigner() },
  );
  const username = gateUsername(gateId);
  return {
    format: PROVISIONING_FORMAT,
    venueId: venue.id,
    gateId,
    entranceId: gate.entrance,
    rootPublicKey: venue.rootPublicKey,
    operationsCertificate: certificate,
    gateList,
    gatePublicKey: publicKey,
    mqtt: { ...(urls.mqttUrl ? { url: urls.mqttUrl } : {}), username, password, clientId: username },
    http: { ...(urls.httpUrl ? { baseUrl: urls.httpUrl } : {}), token },
  };
}

/**
 * Why a public key may not become this gate's, or undefined: a key is one gate's, once. A revoked key
 * stays revoked (a replayed key request would otherwise bring it back); the gate's own current key
 * may be provisioned again (new credentials, same key).
 */
function keyReuse(store: ServerStore, gateId: string, publicKey: string): string | undefined {
  const list = currentGateList(store);
  const revoked = list?.revoked.find((r) => r.publicKey.toLowerCase() === publicKey);
  if (revoked)
    return `the key ${publicKey} was gate ${revoked.gateId}'s and is revoked (${revoked.reason}): the gate makes a new key`;
  const other = list?.gates.find((g) => g.publicKey.toLowerCase() === publicKey && g.gateId !== gateId);
  if (other) return `the key ${publicKey} is gate ${other.gateId}'s`;
  return undefined;
}
