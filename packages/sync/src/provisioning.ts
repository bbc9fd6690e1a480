import {
  parseOperationsCertificate,
  type SignedGateList,
  type SignedOperationsCertificate,
} from "./operations.js";
import { HEX_32, int, obj, str } from "./validate.js";

/*
 * What the sync-server hands a gate at provisioning (POST /api/gates/<id>/provision), and what the
 * gate backend keeps on disk: its identity, its event-signing key, its MQTT and HTTP credentials, and
 * the public keys it checks the server's messages with. Secrets: store with mode 0600.
 */

export const PROVISIONING_FORMAT = "sesame-gate-provisioning/1";

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
  /** Hex seed of the gate's Ed25519 event-signing key (secret). */
  readonly gateSigningSeed: string;
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
    gateSigningSeed: str(o.gateSigningSeed, "provisioning.gateSigningSeed", 64, HEX_32),
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
