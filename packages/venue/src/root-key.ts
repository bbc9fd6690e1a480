import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { keyPairFromSeed } from "@sesame/ticket";

/*
 * The venue root key file (docs/design.md §9): the root seed alone, in its own file (mode 0600),
 * kept offline by whoever signs for the venue (`sesame root …`). No server opens it: the venue
 * server holds what the root signed (the trust list, its operations certificate), never the root.
 */

export const ROOT_KEY_FORMAT = "sesame-venue-root-key/1";

export interface RootKeyFile {
  readonly format: typeof ROOT_KEY_FORMAT;
  readonly venue: string;
  /** Hex: lets whoever holds the file check which venue's root it is without deriving it. */
  readonly rootPublicKey: string;
  readonly rootSeed: string;
}

export class RootKeyError extends Error {}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** Writes a root seed to its own file, mode 0600 (refusing to overwrite another venue's root). */
export function writeRootKeyFile(path: string, venueId: string, rootSeed: Uint8Array): RootKeyFile {
  if (rootSeed.length !== 32) throw new RootKeyError("a root seed is 32 bytes");
  const file: RootKeyFile = {
    format: ROOT_KEY_FORMAT,
    venue: venueId,
    rootPublicKey: hex(keyPairFromSeed(rootSeed).publicKey),
    rootSeed: hex(rootSeed),
  };
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  // The mode of writeFileSync applies only to a new file.
  chmodSync(path, 0o600);
  return file;
}

/**
 * Reads a root key file: refused when group or others may read it, when it holds no seed, or when
 * its seed is not the root of the venue expected (its public key, hex).
 */
export function readRootKeyFile(path: string, expectedRootPublicKey?: string): Uint8Array {
  if (!existsSync(path)) throw new RootKeyError(`no root key file ${path}`);
  if (process.platform !== "win32" && (statSync(path).mode & 0o077) !== 0)
    throw new RootKeyError(
      `${path} may be read by others than its owner: chmod 600 it (it holds the venue root seed)`,
    );
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    throw new RootKeyError(`${path} is not JSON`);
  }
  // `rootSeed` alone is also read: the demo's secrets/keys.json held it so before the root went offline.
  const seed =
    typeof json === "object" && json !== null ? (json as { rootSeed?: unknown }).rootSeed : undefined;
  if (typeof seed !== "string" || !/^[0-9a-f]{64}$/i.test(seed))
    throw new RootKeyError(`${path} holds no rootSeed (64 hex digits)`);
  const rootSeed = Uint8Array.from(Buffer.from(seed, "hex"));
  if (
    expectedRootPublicKey !== undefined &&
    hex(keyPairFromSeed(rootSeed).publicKey) !== expectedRootPublicKey.toLowerCase()
  )
    throw new RootKeyError(
      `${path} is not the root key of this venue (its public key differs from venue.json's)`,
    );
  return rootSeed;
}
