import { createHash, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";

/*
 * Passwords and tokens. MQTT passwords are stored only as Mosquitto 2.0 `$7$` hashes
 * (PBKDF2-SHA512, `$7$<iterations>$<base64 salt>$<base64 hash>`, 12-byte salt, 64-byte hash: what
 * `mosquitto_passwd` of Debian's 2.0.11 writes, checked against it), so that one stored value serves
 * both the embedded broker's authenticate hook and Mosquitto's password_file.
 */

const ITERATIONS = 1000;

export function randomSecret(bytes = 24): string {
  return randomBytes(bytes).toString("base64url");
}

export function mosquittoHash(password: string, salt = randomBytes(12), iterations = ITERATIONS): string {
  const hash = pbkdf2Sync(password, salt, iterations, 64, "sha512");
  return `$7$${iterations}$${salt.toString("base64")}$${hash.toString("base64")}`;
}

export function verifyMosquittoHash(password: string, stored: string): boolean {
  const parts = stored.split("$");
  // ["", "7", iterations, salt, hash]
  if (parts.length !== 5 || parts[1] !== "7") return false;
  const iterations = Number(parts[2]);
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > 1_000_000) return false;
  const salt = Buffer.from(parts[3] ?? "", "base64");
  const expected = Buffer.from(parts[4] ?? "", "base64");
  if (expected.length !== 64) return false;
  const actual = pbkdf2Sync(password, salt, iterations, 64, "sha512");
  return timingSafeEqual(actual, expected);
}

/** Bearer tokens are high-entropy random strings: a plain SHA-256 is enough to store them. */
export function tokenHash(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(tokenHash(a), "hex");
  const y = Buffer.from(tokenHash(b), "hex");
  return timingSafeEqual(x, y);
}
