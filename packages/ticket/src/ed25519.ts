import {
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  sign as nodeSign,
  verify as nodeVerify,
} from "node:crypto";
import { createRequire } from "node:module";
import nacl from "tweetnacl";

/**
 * Interchangeable Ed25519 implementations behind one seam.
 * - tweetnacl: portable (wallet, browser, key tools) and the oracle in differential tests;
 *   ~150 verifications/s on the gate hardware we measured, too slow for the scan path.
 * - node:crypto (OpenSSL 3.0): ~5,700 verifications/s on the 2-core gate machine (~175 µs each).
 * - libsodium (sodium-native's prebuilt binding): ~10,000/s (~100 µs each), the scan path's
 *   verifier when its binding loads (`createScanVerifiers`), node:crypto otherwise.
 * Ed25519 signatures are deterministic, so every signer produces the same bytes.
 */
export interface Ed25519Verifier {
  readonly name: string;
  /**
   * True only for a valid signature; false (never a throw) for any malformed key or signature,
   * and for a public key of small order or non-canonical encoding (`publicKeyProblem`).
   */
  verify(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean;
}

export interface Ed25519Signer {
  readonly name: string;
  /** Signs with a 32-byte seed (RFC 8032 "secret key"). */
  sign(message: Uint8Array, seed: Uint8Array): Uint8Array;
}

export interface Ed25519KeyPair {
  /** 32-byte seed: the secret. */
  readonly seed: Uint8Array;
  /** 32-byte public key. */
  readonly publicKey: Uint8Array;
}

// DER prefixes that wrap a raw 32-byte Ed25519 key as SPKI (public) or PKCS#8 (private).
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");
const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

/** Derives the key pair of a 32-byte seed (with OpenSSL: tweetnacl takes ~7 ms); randomness comes from the caller. */
export function keyPairFromSeed(seed: Uint8Array): Ed25519KeyPair {
  if (seed.length !== 32) throw new RangeError(`an Ed25519 seed is 32 bytes, got ${seed.length}`);
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_PREFIX, seed]),
    format: "der",
    type: "pkcs8",
  });
  const spki = createPublicKey(privateKey).export({ format: "der", type: "spki" });
  return { seed: Uint8Array.from(seed), publicKey: new Uint8Array(spki.subarray(SPKI_PREFIX.length)) };
}

/** The same derivation with tweetnacl, for environments without node:crypto. */
export function keyPairFromSeedPortable(seed: Uint8Array): Ed25519KeyPair {
  if (seed.length !== 32) throw new RangeError(`an Ed25519 seed is 32 bytes, got ${seed.length}`);
  return { seed: Uint8Array.from(seed), publicKey: nacl.sign.keyPair.fromSeed(seed).publicKey };
}

// L, the order of the Ed25519 base point, little-endian. RFC 8032 §5.1.7 requires S < L;
// checking it here keeps both implementations in agreement on non-canonical signatures.
const GROUP_ORDER = Uint8Array.from([
  0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
]);

function hasCanonicalScalar(signature: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    const s = signature[32 + i] ?? 0;
    const l = GROUP_ORDER[i] ?? 0;
    if (s < l) return true;
    if (s > l) return false;
  }
  return false; // S == L
}

/*
 * The y coordinates (little-endian, the sign bit of x cleared) of the eight points of order dividing
 * 8 on edwards25519: the identity (y = 1), the point of order 2 (y = p − 1), the two of order 4
 * (y = 0) and the four of order 8 (two y values, each with both signs of x). The same values as
 * libsodium's small-order blocklist. With such a key A, [k]A takes at most eight values whatever the
 * message, so a signature that "verifies" in a cofactorless check (OpenSSL, tweetnacl) can be made
 * without any private key.
 */
const SMALL_ORDER_Y: readonly Uint8Array[] = [
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0100000000000000000000000000000000000000000000000000000000000000",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
].map((y) => Uint8Array.from(Buffer.from(y, "hex")));

/** y ≥ p = 2^255 − 19 (the sign bit of x ignored): an encoding no honest key has (RFC 8032 §5.1.3). */
function hasNonCanonicalY(key: Uint8Array): boolean {
  if (((key[31] ?? 0) & 0x7f) !== 0x7f) return false;
  for (let i = 30; i >= 1; i--) if (key[i] !== 0xff) return false;
  return (key[0] ?? 0) >= 0xed;
}

function hasSmallOrderY(key: Uint8Array): boolean {
  return SMALL_ORDER_Y.some((y) => {
    for (let i = 0; i < 31; i++) if (key[i] !== y[i]) return false;
    return ((key[31] ?? 0) & 0x7f) === y[31];
  });
}

/**
 * Why an Ed25519 public key is unusable, or undefined for a usable one: not 32 bytes, a
 * non-canonical encoding (y ≥ p), or a point of small order (any encoding of one of the eight,
 * with either sign bit). Pure byte comparisons (well under a microsecond): every verifier runs it
 * before verifying, and whoever issues a ticket runs it on the device key.
 */
export function publicKeyProblem(key: Uint8Array): string | undefined {
  if (key.length !== 32) return `is ${key.length} bytes, not 32`;
  if (hasNonCanonicalY(key)) return "is not a canonical encoding (its y coordinate is not below 2^255 − 19)";
  if (hasSmallOrderY(key))
    return "is a point of small order (one of the eight whose signatures anyone can forge)";
  return undefined;
}

function wellFormed(signature: Uint8Array, publicKey: Uint8Array): boolean {
  return (
    signature.length === 64 && hasCanonicalScalar(signature) && publicKeyProblem(publicKey) === undefined
  );
}

export const tweetnaclVerifier: Ed25519Verifier = {
  name: "tweetnacl",
  verify(message, signature, publicKey) {
    if (!wellFormed(signature, publicKey)) return false;
    try {
      return nacl.sign.detached.verify(message, signature, publicKey);
    } catch {
      return false;
    }
  },
};

export const tweetnaclSigner: Ed25519Signer = {
  name: "tweetnacl",
  sign(message, seed) {
    return nacl.sign.detached(message, nacl.sign.keyPair.fromSeed(seed).secretKey);
  },
};

/**
 * Imports a raw 32-byte public key. As a JWK it is handed to OpenSSL as raw bytes
 * (EVP_PKEY_new_raw_public_key, the same key object a DER import ends with), which skips OpenSSL's
 * generic DER decoder: measured on the 2-core gate hardware, ~15 µs instead of ~180 µs, about as
 * much as the verification itself. Every scan imports its device key, so this is on the hot path.
 */
function importPublicKey(raw: Uint8Array): KeyObject | undefined {
  try {
    const x = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString("base64url");
    return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" });
  } catch {
    return undefined;
  }
}

/**
 * node:crypto verifier. Keys seen often (issuer keys) are kept, which spares even the cheap
 * import; the cache is bounded so that device keys cannot grow it forever.
 */
export function createNodeVerifier(cacheSize = 64): Ed25519Verifier {
  const cache = new Map<string, KeyObject>();
  return {
    name: "node:crypto",
    verify(message, signature, publicKey) {
      if (!wellFormed(signature, publicKey)) return false;
      const id = Buffer.from(publicKey.buffer, publicKey.byteOffset, 32).toString("latin1");
      let key = cache.get(id);
      if (key === undefined) {
        key = importPublicKey(publicKey);
        if (key === undefined) return false;
        if (cache.size >= cacheSize) {
          const oldest = cache.keys().next();
          if (!oldest.done) cache.delete(oldest.value);
        }
        cache.set(id, key);
      }
      try {
        return nodeVerify(null, message, key, signature);
      } catch {
        return false;
      }
    },
  };
}

/** Verifies device proofs: device keys are seen once per scan, so none is cached (the import is cheap). */
export const nodeVerifierNoCache: Ed25519Verifier = {
  name: "node:crypto",
  verify(message, signature, publicKey) {
    if (!wellFormed(signature, publicKey)) return false;
    const key = importPublicKey(publicKey);
    if (key === undefined) return false;
    try {
      return nodeVerify(null, message, key, signature);
    } catch {
      return false;
    }
  },
};

/** node:crypto signer, for bulk issuing (80,000 tickets) where tweetnacl would take minutes. */
export function createNodeSigner(): Ed25519Signer {
  const cache = new Map<string, KeyObject>();
  return {
    name: "node:crypto",
    sign(message, seed) {
      const id = Buffer.from(seed).toString("latin1");
      let key = cache.get(id);
      if (key === undefined) {
        key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: "der", type: "pkcs8" });
        if (cache.size < 1024) cache.set(id, key);
      }
      return new Uint8Array(nodeSign(null, message, key));
    },
  };
}

/** What the gate uses of sodium-native (its prebuilt libsodium binding). */
interface Sodium {
  crypto_sign_verify_detached(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
}

let sodium: Sodium | null | undefined;

/** sodium-native, or null where its binding cannot load (no prebuild for the platform). */
function loadSodium(): Sodium | null {
  if (sodium === undefined) {
    try {
      sodium = createRequire(import.meta.url)("sodium-native") as Sodium;
    } catch {
      sodium = null;
    }
  }
  return sodium;
}

/**
 * libsodium's verifier (crypto_sign_verify_detached), or undefined where sodium-native's binding
 * does not load. It takes the raw 32-byte key (no key import). Small-order and non-canonical keys
 * are refused before any of the three verifiers runs (`publicKeyProblem`); libsodium alone also
 * refuses an R of small order, which only a signer holding the key could put in a signature. A
 * signature by a real key verifies the same everywhere.
 */
export function createSodiumVerifier(): Ed25519Verifier | undefined {
  const lib = loadSodium();
  if (lib === null) return undefined;
  return {
    name: "libsodium",
    verify(message, signature, publicKey) {
      if (!wellFormed(signature, publicKey)) return false;
      try {
        // Strictly true: the binding answers undefined for memory it cannot read (shared memory).
        return lib.crypto_sign_verify_detached(signature, message, publicKey) === true;
      } catch {
        return false;
      }
    },
  };
}

/** The two verifiers of a scan: issuer signatures (few keys) and device proofs (a new key each scan). */
export interface ScanVerifiers {
  readonly issuerVerifier: Ed25519Verifier;
  readonly deviceVerifier: Ed25519Verifier;
}

/**
 * The verifiers for the scan path: libsodium for both where its binding loads (~100 µs a signature
 * on the gate machine, against ~175 µs for node:crypto); otherwise node:crypto, with a key cache
 * for the few issuer keys and none for device keys.
 */
export function createScanVerifiers(): ScanVerifiers {
  const sodium = createSodiumVerifier();
  if (!sodium) return { issuerVerifier: createNodeVerifier(), deviceVerifier: nodeVerifierNoCache };
  return { issuerVerifier: sodium, deviceVerifier: sodium };
}
