/**
 * Base45 (RFC 9285): two bytes become three characters of the QR alphanumeric alphabet,
 * so a QR code can use alphanumeric mode (5.5 bits/char) instead of byte mode (8 bits/char).
 */
export const BASE45_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

const VALUE_OF = new Int8Array(128).fill(-1);
for (let i = 0; i < BASE45_ALPHABET.length; i++) VALUE_OF[BASE45_ALPHABET.charCodeAt(i)] = i;

export function encodeBase45(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 1 < bytes.length; i += 2) {
    // Indexes are in range by construction; `?? 0` only satisfies noUncheckedIndexedAccess.
    let n = (bytes[i] ?? 0) * 256 + (bytes[i + 1] ?? 0);
    const c = n % 45;
    n = (n - c) / 45;
    const d = n % 45;
    const e = (n - d) / 45;
    out += BASE45_ALPHABET.charAt(c) + BASE45_ALPHABET.charAt(d) + BASE45_ALPHABET.charAt(e);
  }
  if (i < bytes.length) {
    const n = bytes[i] ?? 0;
    out += BASE45_ALPHABET.charAt(n % 45) + BASE45_ALPHABET.charAt(Math.floor(n / 45));
  }
  return out;
}

export type Base45Result = { ok: true; bytes: Uint8Array } | { ok: false; position: number; detail: string };

/** Decodes Base45 text; never throws: every invalid input names its position and the rule it breaks. */
export function decodeBase45(text: string): Base45Result {
  if (text.length % 3 === 1) {
    return { ok: false, position: text.length - 1, detail: "Base45 text cannot have a length of 3n+1" };
  }
  const out = new Uint8Array(Math.floor(text.length / 3) * 2 + (text.length % 3 === 2 ? 1 : 0));
  let o = 0;
  // Character by character, without a list per group: this runs on every scan.
  for (let i = 0; i < text.length; i += 3) {
    const end = Math.min(i + 3, text.length);
    let n = 0;
    for (let k = end - 1; k >= i; k--) {
      const code = text.charCodeAt(k);
      const v = code < 128 ? (VALUE_OF[code] ?? -1) : -1;
      if (v < 0) return notInAlphabet(text, i, end);
      n = n * 45 + v;
    }
    if (end - i === 2) {
      if (n > 0xff) return { ok: false, position: i, detail: `final pair encodes ${n}, above 255` };
      out[o++] = n;
    } else {
      if (n > 0xffff) return { ok: false, position: i, detail: `triplet encodes ${n}, above 65535` };
      out[o++] = n >> 8;
      out[o++] = n & 0xff;
    }
  }
  return { ok: true, bytes: out };
}

/** The first character of text[from, to) outside the alphabet, as decodeBase45 reports it. */
function notInAlphabet(text: string, from: number, to: number): Base45Result {
  let k = from;
  while (k < to && (VALUE_OF[text.charCodeAt(k)] ?? -1) >= 0) k++;
  return {
    ok: false,
    position: k,
    detail: `character ${JSON.stringify(text[k])} is not in the Base45 alphabet`,
  };
}
