import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type GateKeyRequest, gateKeyRequest } from "@sesame/sync";
import { createNodeSigner, type Ed25519KeyPair, keyPairFromSeed } from "@sesame/ticket";

/*
 * The gate's own event-signing key (docs/design.md §9): made on the gate, kept in its data
 * directory (mode 0600), never sent anywhere. Provisioning sends only its public key with a proof of
 * possession (gateKeyRequest); the sync-server puts that public key in the venue gate list.
 */

export const GATE_KEY_FILE = "gate-signing.key";

/** The path of the gate's key file in its data directory. */
export function gateKeyFile(dataDir: string): string {
  return join(dataDir, GATE_KEY_FILE);
}

/** A new key pair for a gate; `random` gives the 32-byte seed (default: the system's CSPRNG). */
export function newGateKey(random: (length: number) => Uint8Array = randomBytes): Ed25519KeyPair {
  return keyPairFromSeed(random(32));
}

/**
 * The gate's key from its data directory, made (and written with mode 0600) if there is none yet.
 * A key file that is not a 64-hex-digit seed is refused, never replaced: replacing it would change
 * the gate's identity behind the back of its provisioning.
 */
export function loadOrCreateGateKey(dataDir: string): Ed25519KeyPair & { readonly created: boolean } {
  const file = gateKeyFile(dataDir);
  if (existsSync(file)) {
    // A copied or restored key file may have lost its mode: it holds a secret.
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    const text = readFileSync(file, "utf8").trim();
    if (!/^[0-9a-f]{64}$/i.test(text))
      throw new Error(
        `${file}: not a gate key (64 hex digits); move it away to make a new key, then provision the gate again`,
      );
    return { ...keyPairFromSeed(Buffer.from(text, "hex")), created: false };
  }
  mkdirSync(dataDir, { recursive: true });
  const key = newGateKey();
  writeFileSync(file, `${Buffer.from(key.seed).toString("hex")}\n`, { mode: 0o600, flag: "wx" });
  chmodSync(file, 0o600);
  return { ...key, created: true };
}

/** What the gate sends to be provisioned: its public key, signed with its private key. */
export function provisioningRequestOf(venueId: string, gateId: string, key: Ed25519KeyPair): GateKeyRequest {
  return gateKeyRequest(venueId, gateId, key, createNodeSigner());
}
