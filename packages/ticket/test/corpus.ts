import { encodeBase45 } from "../src/base45.js";
import {
  type Credential,
  encodeCredentialText,
  parseCredentialText,
  STEP_SECONDS,
  TEXT_PREFIX,
} from "../src/credential.js";
import { createTestIssuer, T0 } from "../src/fixtures.js";
import { type RandomSource, randomInt, seededRandom } from "../src/random.js";

/*
 * Generators for the differential and fuzz tests: valid credentials of two issuers (one unknown
 * to the gate), and mutations that reach every stage of verification.
 */

export const issuer = createTestIssuer("corpus-issuer", 7);
const stranger = createTestIssuer("corpus-stranger", 8);

function bytesOf(c: Credential): Uint8Array {
  const proof = c.proof;
  const parts = [...c.bodyBytes, ...c.issuerSignature];
  if (proof) parts.push(proof.stepLow >> 8, proof.stepLow & 0xff, ...proof.signature);
  return Uint8Array.from(parts);
}

export interface CorpusEntry {
  readonly text: string;
  readonly nowMs: number;
  readonly kind: string;
}

/** A valid, freshly shown credential (mobile or printed) and the time it is scanned. */
export function validEntry(random: RandomSource): { credential: Credential; text: string; nowMs: number } {
  const who = random.next() < 0.9 ? issuer : stranger;
  const printed = random.next() < 0.15;
  const shownAt = T0 + randomInt(random, 4 * 3600) * 1000;
  const { credential, device } = who.issue({
    sessions: [1 + randomInt(random, 3)],
    seat: `R${randomInt(random, 40)}-S${randomInt(random, 300)}`,
    generation: 1 + randomInt(random, 3),
    ...(printed ? { kind: "printed" as const, devicePublicKey: undefined } : {}),
  });
  const shown = printed ? credential : who.show(credential, device, shownAt);
  const lag = randomInt(random, 5) - 2;
  return { credential: shown, text: encodeCredentialText(shown), nowMs: shownAt + lag * STEP_SECONDS * 1000 };
}

export type ValidEntry = ReturnType<typeof validEntry>;

/** Valid entries to mutate: issuing costs milliseconds, mutating microseconds. */
export function validPool(random: RandomSource, size: number): ValidEntry[] {
  return Array.from({ length: size }, () => validEntry(random));
}

/** A mutation of a valid credential's bytes that still parses, so that it reaches the signature checks. */
export function mutatedEntry(random: RandomSource, pool: readonly ValidEntry[]): CorpusEntry {
  const entry = pool[randomInt(random, pool.length)];
  if (!entry) throw new RangeError("empty pool");
  const { credential, nowMs } = entry;
  const bytes = bytesOf(credential);
  const choice = randomInt(random, 5);
  const parsedLength = credential.bodyBytes.length;
  let kind: string;
  if (choice === 0) {
    // Flip one bit in the issuer signature or the device proof signature.
    const start = parsedLength;
    const i = start + randomInt(random, bytes.length - start);
    bytes[i] = (bytes[i] ?? 0) ^ (1 << randomInt(random, 8));
    kind = "signature bit";
  } else if (choice === 1) {
    // Change a fixed-width field of the body (ids, generation, sequence, times, flags).
    const i = 2 + randomInt(random, 26);
    bytes[i] = (bytes[i] ?? 0) ^ (1 << randomInt(random, 8));
    kind = "body field";
  } else if (choice === 2 && credential.proof) {
    // Another time step: a replayed or predicted code.
    const delta = 1 + randomInt(random, 50);
    const step = ((credential.proof.stepLow + (random.next() < 0.5 ? delta : -delta)) & 0xffff) >>> 0;
    bytes[bytes.length - 66] = step >> 8;
    bytes[bytes.length - 65] = step & 0xff;
    kind = "proof step";
  } else if (choice === 3 && credential.body.devicePublicKey) {
    // Swap the device key for another one (a forwarded ticket re-signed by the wrong phone).
    const keyAt = parsedLength - 32;
    bytes.set(random.bytes(32), keyAt);
    kind = "device key";
  } else {
    const i = randomInt(random, bytes.length);
    bytes[i] = ((bytes[i] ?? 0) + 1 + randomInt(random, 255)) & 0xff; // always a different value
    kind = "any byte";
  }
  return { text: TEXT_PREFIX + encodeBase45(bytes), nowMs, kind };
}

/** Arbitrary strings: random characters, random Base45 after the prefix, and cut or spliced codes. */
export function fuzzString(random: RandomSource, validText: string): string {
  const choice = randomInt(random, 6);
  const length = randomInt(random, 400);
  const chars = (alphabet: string, n: number) =>
    Array.from({ length: n }, () => alphabet.charAt(randomInt(random, alphabet.length))).join("");
  switch (choice) {
    case 0:
      return String.fromCharCode(...Array.from({ length }, () => randomInt(random, 0x3000)));
    case 1:
      return TEXT_PREFIX + chars("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:", length);
    case 2:
      return validText.slice(0, randomInt(random, validText.length));
    case 3: {
      const i = randomInt(random, validText.length);
      return (
        validText.slice(0, i) + chars(" $%*+-./:AZ09", 1 + randomInt(random, 3)) + validText.slice(i + 1)
      );
    }
    case 4:
      return validText + chars("0123456789ABCDEF", 1 + randomInt(random, 9));
    default:
      return chars("\u0000\u0007\r\n\t\u001d]Q1SE:é€😀abc", length);
  }
}

export function corpusRandom(seed: string): RandomSource {
  return seededRandom(seed);
}

export function isParsable(text: string): boolean {
  return parseCredentialText(text).ok;
}
