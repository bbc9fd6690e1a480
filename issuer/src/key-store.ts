import { randomBytes, timingSafeEqual } from "node:crypto";
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { keyPairFromSeed } from "@sesame/ticket";

/*
 * The issuer's secrets, as files of its data directory: the issuer keys (the seeds that sign
 * credentials and ticket changes) in keys.json, and the ticketing platform's and the venues' bearer
 * tokens. Each is written 0600 and refused at start when its group or others can read it: a
 * readable seed is a seed that may already be copied, and the operator must know.
 */

export const KEY_FILE = "keys.json";
export const PLATFORM_TOKEN_FILE = "platform-token";
export const VENUE_TOKEN_FILE = "venue-token";

export class SecretFileError extends Error {}

/** Reads a secret file, refusing it when group or others may read or write it. */
export function readSecretFile(path: string): string {
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0)
    throw new SecretFileError(
      `${path} is mode ${mode.toString(8).padStart(4, "0")}: group and others can reach a secret; ` +
        `make it 0600 (chmod 600 ${path}) and, if others may have read it, replace what it holds`,
    );
  return readFileSync(path, "utf8");
}

/** Writes a secret file 0600 (the mode is set again: an existing file keeps its own otherwise). */
export function writeSecretFile(path: string, content: string): void {
  writeFileSync(path, content, { mode: 0o600 });
  chmodSync(path, 0o600);
}

export interface IssuerKeyEntry {
  readonly keyId: number;
  /** Hex of the 32-byte seed. */
  readonly seed: string;
  readonly publicKey: string;
  /** Unix seconds. */
  readonly validFrom: number;
  readonly validUntil: number;
}

export interface KeyFile {
  readonly format: "sesame-issuer-keys/1";
  readonly keys: readonly IssuerKeyEntry[];
}

function checkKeyFile(value: unknown, path: string): KeyFile {
  const o = value as Partial<KeyFile> | null;
  if (typeof o !== "object" || o === null || o.format !== "sesame-issuer-keys/1" || !Array.isArray(o.keys))
    throw new SecretFileError(`${path} is not an issuer key file (format sesame-issuer-keys/1)`);
  for (const k of o.keys) {
    if (!Number.isInteger(k?.keyId) || k.keyId < 1 || k.keyId > 0xffff)
      throw new SecretFileError(
        `${path}: key id ${JSON.stringify(k?.keyId)} is not a whole number from 1 to 65535`,
      );
    if (typeof k.seed !== "string" || !/^[0-9a-f]{64}$/.test(k.seed))
      throw new SecretFileError(`${path}: key ${k.keyId} has no 32-byte hex seed`);
    const publicKey = Buffer.from(keyPairFromSeed(Buffer.from(k.seed, "hex")).publicKey).toString("hex");
    if (publicKey !== k.publicKey)
      throw new SecretFileError(`${path}: key ${k.keyId}'s public key is not the one of its seed`);
  }
  return o as KeyFile;
}

/** The issuer keys in the data directory; refused when the file's mode lets others read it. */
export class IssuerKeyStore {
  private constructor(
    private readonly path: string,
    private file: KeyFile,
  ) {}

  /**
   * Opens the key file of `dataDir`. When there is none: the seeds of `importSeeds` (an existing
   * venue's issuer keys, so that its gates' trust list still holds) or else one new key.
   */
  static open(
    dataDir: string,
    options: { nowSeconds: number; importSeeds?: Readonly<Record<string, string>>; validDays?: number },
  ): { store: IssuerKeyStore; created: "imported" | "generated" | undefined } {
    const path = join(dataDir, KEY_FILE);
    if (existsSync(path))
      return {
        store: new IssuerKeyStore(path, checkKeyFile(JSON.parse(readSecretFile(path)), path)),
        created: undefined,
      };
    const validUntil = options.nowSeconds + (options.validDays ?? 365) * 86_400;
    const entry = (keyId: number, seed: Buffer): IssuerKeyEntry => ({
      keyId,
      seed: seed.toString("hex"),
      publicKey: Buffer.from(keyPairFromSeed(seed).publicKey).toString("hex"),
      validFrom: options.nowSeconds - 60,
      validUntil,
    });
    const imported = Object.entries(options.importSeeds ?? {});
    const keys =
      imported.length > 0
        ? imported.map(([id, seed]) => entry(Number(id), Buffer.from(seed, "hex")))
        : [entry(1, randomBytes(32))];
    const file = checkKeyFile({ format: "sesame-issuer-keys/1", keys }, path);
    writeSecretFile(path, `${JSON.stringify(file, null, 2)}\n`);
    return { store: new IssuerKeyStore(path, file), created: imported.length > 0 ? "imported" : "generated" };
  }

  /** The newest key valid at `nowSeconds`: the one that signs. */
  signingKey(nowSeconds: number): { keyId: number; seed: Uint8Array } | undefined {
    const usable = this.file.keys.filter((k) => k.validFrom <= nowSeconds && nowSeconds <= k.validUntil);
    const key = usable.sort((a, b) => a.keyId - b.keyId)[usable.length - 1];
    return key === undefined ? undefined : { keyId: key.keyId, seed: Buffer.from(key.seed, "hex") };
  }

  /** Public halves, for the root key's holder to sign into the venues' trust lists. */
  publicKeys(): Array<Omit<IssuerKeyEntry, "seed">> {
    return this.file.keys.map(({ seed: _seed, ...rest }) => rest);
  }

  get location(): string {
    return this.path;
  }
}

/** A bearer token from its file in `dataDir`, made (random, 0600) when missing. */
export function bearerToken(dataDir: string, name: string): string {
  const path = join(dataDir, name);
  if (!existsSync(path)) writeSecretFile(path, `${randomBytes(24).toString("base64url")}\n`);
  const token = readSecretFile(path).trim();
  if (token.length < 16) throw new SecretFileError(`${path} holds no token of at least 16 characters`);
  return token;
}

/** Compares a presented token with the expected one in constant time. */
export function sameToken(presented: string, expected: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
