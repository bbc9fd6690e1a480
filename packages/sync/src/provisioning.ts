import { type Ed25519Signer, type Ed25519Verifier, publicKeyProblem } from "@sesame/ticket";
import {
  parseOperationsCertificate,
  type SignedGateList,
  type SignedOperationsCertificate,
} from "./operations.js";
import { HEX_32, HEX_64, int, obj, str } from "./validate.js";

/*
 * Provisioning a gate (docs/design.md §9). The gate makes its own Ed25519 key pair and keeps the
 * private half (a 0600 file in its data directory); what goes to the sync-server is a key request:
 * the public key and a proof of possession (the gate signs the request with the new key). The
 * server adds the key to the venue gate list and answers with the rest of the gate's identity: its
 * MQTT and HTTP credentials and the public keys it checks the server's messages with. The gate keeps
 * that answer on disk (mode 0600: it holds the MQTT password and HTTP token); no one but the gate
 * ever holds its private key.
 */

/** Format 1 carried a signing key made by the server: refused, the gate is provisioned again. */
export const PROVISIONING_FORMAT = "sesame-gate-provisioning/2";
const SERVER_KEYED_FORMAT = "sesame-gate-provisioning/1";
const KEY_REQUEST_DOMAIN = Buffer.from("SESAME-GATE-KEY-REQUEST-1\0");

export interface GateProvisioning {
  readonly format: typeof PROVISIONING_FORMAT;
  readonly venueId: string;
  readonly gateId: string;
  readonly entranceId: number;
  /** Hex: venue root key (trust lists and gate bundles). */
  readonly rootPublicKey: string;
  /**
   * The venue server's operations key, certified by the root for a bounded period: it signs the
   * venue gate list and commands. Checked against rootPublicKey (a gate pins the root, not this key).
   */
  readonly operationsCertificate: SignedOperationsCertificate;
  /** The venue gate list at provisioning (newer ones come over MQTT), signed by the operations key. */
  readonly gateList?: SignedGateList;
  /** Hex: the public key the gate asked for, now its key in the gate list (its private key stays on the gate). */
  readonly gatePublicKey: string;
  readonly mqtt: {
    /** As the server knows it; a gate may override it (e.g. a venue DNS name). */
    readonly url?: string;
    readonly username: string;
    /** Secret. */
    readonly password: string;
    readonly clientId: string;
  };
  readonly http: {
    readonly baseUrl?: string;
    /** Bearer token for the snapshot download (secret). */
    readonly token: string;
  };
}

/** Checks a provisioning file read from disk; throws a FieldError naming the bad field. */
export function parseProvisioning(value: unknown): GateProvisioning {
  const o = obj(value, "provisioning");
  if (o.format === SERVER_KEYED_FORMAT)
    throw new TypeError(
      `provisioning.format ${SERVER_KEYED_FORMAT} holds a signing key made by the sync-server, which no longer speaks for the gate: provision the gate again (it makes its own key)`,
    );
  if (o.format !== PROVISIONING_FORMAT)
    throw new TypeError(`provisioning.format must be ${PROVISIONING_FORMAT}`);
  const mqtt = obj(o.mqtt, "provisioning.mqtt");
  const http = obj(o.http, "provisioning.http");
  return {
    format: PROVISIONING_FORMAT,
    venueId: str(o.venueId, "provisioning.venueId", 32),
    gateId: str(o.gateId, "provisioning.gateId", 32),
    entranceId: int(o.entranceId, "provisioning.entranceId", 0, 0xffff),
    rootPublicKey: str(o.rootPublicKey, "provisioning.rootPublicKey", 64, HEX_32),
    // Its form here; GateSync checks its signature against the root key it pins.
    operationsCertificate: parseOperationsCertificate(
      o.operationsCertificate,
      "provisioning.operationsCertificate",
    ),
    ...(o.gateList === undefined
      ? {}
      : { gateList: obj(o.gateList, "provisioning.gateList") as unknown as SignedGateList }),
    gatePublicKey: str(o.gatePublicKey, "provisioning.gatePublicKey", 64, HEX_32),
    mqtt: {
      ...(mqtt.url === undefined ? {} : { url: str(mqtt.url, "provisioning.mqtt.url", 200) }),
      username: str(mqtt.username, "provisioning.mqtt.username", 64),
      password: str(mqtt.password, "provisioning.mqtt.password", 200),
      clientId: str(mqtt.clientId, "provisioning.mqtt.clientId", 64),
    },
    http: {
      ...(http.baseUrl === undefined ? {} : { baseUrl: str(http.baseUrl, "provisioning.http.baseUrl", 200) }),
      token: str(http.token, "provisioning.http.token", 200),
    },
  };
}

/**
 * What a gate sends to be provisioned: its new public key and a signature with the matching private
 * key over the venue, the gate and the key (proof of possession: nobody registers a key they cannot
 * sign with, such as another gate's).
 */
export interface GateKeyRequest {
  /** Hex: the gate's new Ed25519 public key. */
  readonly publicKey: string;
  /** Hex: the signature of keyRequestBytes by that key. */
  readonly proof: string;
}

function keyRequestBytes(venueId: string, gateId: string, publicKey: string): Buffer {
  const text = JSON.stringify({ venue: venueId, gate: gateId, publicKey: publicKey.toLowerCase() });
  return Buffer.concat([KEY_REQUEST_DOMAIN, Buffer.from(text)]);
}

/** The gate's side: its key request, signed with the seed it just made (and keeps). */
export function gateKeyRequest(
  venueId: string,
  gateId: string,
  key: { readonly seed: Uint8Array; readonly publicKey: Uint8Array },
  signer: Ed25519Signer,
): GateKeyRequest {
  const publicKey = Buffer.from(key.publicKey).toString("hex");
  const proof = signer.sign(keyRequestBytes(venueId, gateId, publicKey), key.seed);
  return { publicKey, proof: Buffer.from(proof).toString("hex") };
}

/** Checks a key request's form (throws a FieldError naming the field). */
export function parseGateKeyRequest(value: unknown, field = "key request"): GateKeyRequest {
  const o = obj(value, field);
  return {
    publicKey: str(o.publicKey, `${field}.publicKey`, 64, HEX_32).toLowerCase(),
    proof: str(o.proof, `${field}.proof`, 128, HEX_64),
  };
}

/** The server's side: why this request is refused for this gate, or undefined if its proof holds. */
export function keyRequestProblem(
  request: GateKeyRequest,
  venueId: string,
  gateId: string,
  verifier: Ed25519Verifier,
): string | undefined {
  const key = Buffer.from(request.publicKey, "hex");
  const problem = publicKeyProblem(key);
  if (problem) return `the public key ${problem}`;
  const signed = verifier.verify(
    keyRequestBytes(venueId, gateId, request.publicKey),
    Buffer.from(request.proof, "hex"),
    key,
  );
  return signed
    ? undefined
    : `the proof is not a signature by that key of gate ${gateId}'s request in venue ${venueId}`;
}
