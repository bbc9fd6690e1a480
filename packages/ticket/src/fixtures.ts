import {
  Category,
  type Credential,
  type IssuerKey,
  issueCredential,
  proveDevice,
  type TicketBody,
} from "./credential.js";
import { createNodeSigner, type Ed25519KeyPair, type Ed25519Signer, keyPairFromSeed } from "./ed25519.js";
import { type RandomSource, seededRandom } from "./random.js";

/*
 * Test fixtures: a small issuer with keys from a seed, for tests in every package.
 * Imported through "@sesame/ticket/fixtures" so production code never reaches it by accident.
 */

export interface TestIssuer {
  readonly issuerKey: Ed25519KeyPair;
  readonly keyId: number;
  readonly issuerKeys: Map<number, IssuerKey>;
  readonly signer: Ed25519Signer;
  readonly random: RandomSource;
  /** A mobile ticket signed now, with its holder's device key. */
  issue(overrides?: Partial<TicketBody>): { credential: Credential; device: Ed25519KeyPair };
  /** The code the holder's phone shows at `nowMs`. */
  show(credential: Credential, device: Ed25519KeyPair, nowMs: number): Credential;
}

export const T0 = Date.UTC(2026, 6, 26, 17, 0, 0); // doors of a summer evening session
const T0_S = Math.floor(T0 / 1000);

export function createTestIssuer(seed: number | string = 1, keyId = 7): TestIssuer {
  const random = seededRandom(seed);
  const issuerKey = keyPairFromSeed(random.bytes(32));
  const signer = createNodeSigner();
  const issuerKeys = new Map<number, IssuerKey>([
    [
      keyId,
      {
        keyId,
        publicKey: issuerKey.publicKey,
        validFrom: T0_S - 86_400 * 30,
        validUntil: T0_S + 86_400 * 30,
        revoked: false,
      },
    ],
  ]);
  let nextTicket = 100_000;
  return {
    issuerKey,
    keyId,
    issuerKeys,
    signer,
    random,
    issue(overrides = {}) {
      const device = keyPairFromSeed(random.bytes(32));
      const body: TicketBody = {
        kind: "mobile",
        keyId,
        ticketId: nextTicket++,
        generation: 1,
        issueSequence: 1,
        sessions: [1],
        entrance: 1,
        zone: 3,
        seat: "R12-S041",
        categories: Category.ACCESSIBILITY * 0,
        validFrom: T0_S - 6 * 3600,
        validUntil: T0_S + 8 * 3600,
        devicePublicKey: device.publicKey,
        ...overrides,
      };
      return { credential: issueCredential(body, issuerKey.seed, signer), device };
    },
    show(credential, device, nowMs) {
      return proveDevice(credential, device.seed, nowMs, signer);
    },
  };
}
