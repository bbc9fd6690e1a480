import { randomBytes } from "node:crypto";
import type { EntryLogEvent } from "@sesame/gate-core";
import { createNodeSigner, keyPairFromSeed } from "@sesame/ticket";
import { type SignedGateList, signGateList, signOperationsCertificate } from "./operations.js";
import { encodeAdmissions } from "./protocol.js";
import {
  type GateKeyRequest,
  type GateProvisioning,
  gateKeyRequest,
  PROVISIONING_FORMAT,
} from "./provisioning.js";
import { signAdmissionsOrder, signEventBatch } from "./signing.js";

/*
 * A venue's keys for tests without a sync-server: a root, an operations key certified by it, gates
 * with their own keys in a gate list signed by the operations key, and a provisioning per gate.
 * Seeds are fixed bytes (readable in a failing test), never for production.
 */

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const signer = createNodeSigner();

export interface TestGate {
  readonly gateId: string;
  readonly entranceId: number;
  readonly seed: Uint8Array;
}

export class TestVenueKeys {
  readonly rootSeed = Buffer.alloc(32, 1);
  readonly operationsSeed = Buffer.alloc(32, 2);
  readonly gates: readonly TestGate[];
  private version = 0;

  constructor(
    readonly venueId: string,
    gates: readonly { gateId: string; entranceId: number }[],
    /** Certificate validity (Unix ms). */
    readonly validity = { notBefore: 0, notAfter: 4_102_444_800_000 },
  ) {
    this.gates = gates.map((g, i) => ({ ...g, seed: Buffer.alloc(32, 10 + i) }));
  }

  gate(gateId: string): TestGate {
    const g = this.gates.find((x) => x.gateId === gateId);
    if (!g) throw new Error(`no test gate ${gateId}`);
    return g;
  }

  /** A new version of the gate list: every gate, minus `revoked` (listed as revoked). */
  gateList(options: { revoked?: readonly string[]; version?: number } = {}): SignedGateList {
    this.version = options.version ?? this.version + 1;
    const revoked = new Set(options.revoked ?? []);
    return signGateList(
      {
        venue: this.venueId,
        version: this.version,
        issuedAt: 0,
        gates: this.gates
          .filter((g) => !revoked.has(g.gateId))
          .map((g) => ({
            gateId: g.gateId,
            entranceId: g.entranceId,
            publicKey: hex(keyPairFromSeed(g.seed).publicKey),
          })),
        revoked: this.gates
          .filter((g) => revoked.has(g.gateId))
          .map((g) => ({
            gateId: g.gateId,
            publicKey: hex(keyPairFromSeed(g.seed).publicKey),
            at: 0,
            by: "test",
            reason: "quarantined",
          })),
      },
      this.operationsSeed,
      signer,
    );
  }

  provisioning(gateId: string, options: { gateList?: SignedGateList } = {}): GateProvisioning {
    const g = this.gate(gateId);
    return {
      format: PROVISIONING_FORMAT,
      venueId: this.venueId,
      gateId,
      entranceId: g.entranceId,
      rootPublicKey: hex(keyPairFromSeed(this.rootSeed).publicKey),
      operationsCertificate: signOperationsCertificate(
        {
          venue: this.venueId,
          publicKey: hex(keyPairFromSeed(this.operationsSeed).publicKey),
          ...this.validity,
        },
        this.rootSeed,
        signer,
      ),
      ...(options.gateList ? { gateList: options.gateList } : {}),
      gatePublicKey: hex(keyPairFromSeed(g.seed).publicKey),
      mqtt: { username: `gate-${gateId}`, password: "x", clientId: `gate-${gateId}` },
      http: { token: "t" },
    };
  }

  /**
   * An admissions message as the server fans it out: `events` (all of one gate, gateSeq increasing)
   * in one batch signed with `seed` (default: the gate's own), admission sequence from `firstSeq`,
   * its order sealed by the operations key.
   */
  admissions(events: readonly EntryLogEvent[], firstSeq: number, seed?: Uint8Array): string {
    const first = events[0];
    if (!first) throw new Error("no events");
    const batch = signEventBatch(
      first.gateId,
      first.gateSeq - 1,
      events,
      seed ?? this.gate(first.gateId).seed,
      signer,
    );
    return encodeAdmissions(
      { entries: events.map((event, i) => ({ seq: firstSeq + i, event, batch })) },
      (order) => signAdmissionsOrder(order, this.operationsSeed, signer),
    );
  }
}

/**
 * A gate's key pair as the gate would make it (random unless `seed`), with its key request: what a
 * test provisions a gate with (provisionGateInStore, SyncServer.provisionGate), keeping the seed to
 * sign as that gate.
 */
export function testGateKey(
  venueId: string,
  gateId: string,
  seed: Uint8Array = randomBytes(32),
): { readonly seed: Uint8Array; readonly publicKey: string; readonly request: GateKeyRequest } {
  const key = keyPairFromSeed(seed);
  return {
    seed: key.seed,
    publicKey: hex(key.publicKey),
    request: gateKeyRequest(venueId, gateId, key, signer),
  };
}
