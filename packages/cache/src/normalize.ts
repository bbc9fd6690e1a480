/*
 * Text keys for the printed-confirmation search. A steward types on a kiosk keyboard, often
 * without accents and in capitals: "HELENE" must find "Hélène", "ndiaye" "N'Diaye", "ostergaard"
 * "Østergaard". Pure functions, shared by the import (what is indexed) and the query (what is asked).
 */

/** Letters that Unicode decomposition does not split into a base letter and a mark. */
const FOLD: Readonly<Record<string, string>> = {
  ø: "o",
  ł: "l",
  ı: "i",
  đ: "d",
  ð: "d",
  þ: "th",
  ß: "ss",
  æ: "ae",
  œ: "oe",
  ħ: "h",
  ŋ: "n",
};
const FOLD_RE = new RegExp(`[${Object.keys(FOLD).join("")}]`, "gu");
const HAS_FOLD = new RegExp(`[${Object.keys(FOLD).join("")}]`, "u");

/** The folding as specified: compatibility decomposition, marks dropped, lower case, FOLD. */
function foldUnicode(text: string): string {
  const lower = text
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase();
  // A replace with a callback costs ~2 µs even when nothing matches.
  return HAS_FOLD.test(lower) ? lower.replace(FOLD_RE, (c) => FOLD[c] ?? c) : lower;
}

// Shortcuts, same results (normalize.test.ts compares them with foldUnicode): foldUnicode costs
// ~6 µs a name, 0.6 s for a venue of 100,000 distinct holders. Text made only of printable ASCII
// and Latin letters (U+00C0–U+024F) folds character by character: NFKD and dropping marks act on
// each character alone, and lower-casing Latin letters needs no context (only the Greek final
// sigma does). Each Latin letter's folding is computed once, by foldUnicode itself.
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const LATIN_FIRST = 0xc0;
const LATIN_LAST = 0x24f;
const LATIN: readonly string[] = Array.from({ length: LATIN_LAST - LATIN_FIRST + 1 }, (_, i) =>
  foldUnicode(String.fromCharCode(LATIN_FIRST + i)),
);

/** Lower case, accents removed, special letters spelled out; separators kept. */
export function foldText(text: string): string {
  if (PRINTABLE_ASCII.test(text)) return text.toLowerCase();
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e) out += c >= 0x41 && c <= 0x5a ? String.fromCharCode(c + 0x20) : text[i];
    else if (c >= LATIN_FIRST && c <= LATIN_LAST) out += LATIN[c - LATIN_FIRST];
    else return foldUnicode(text);
  }
  return out;
}

const SEPARATOR = /[^\p{L}\p{N}]+/u;

/**
 * The tokens a holder's name is found by: each word, each part of a hyphenated or apostrophized
 * word, and that word joined ("N'Diaye" → n, diaye, ndiaye; "Jean-Baptiste" → jean, baptiste,
 * jeanbaptiste).
 */
export function nameTokens(holder: string): string[] {
  return foldedNameTokens(foldText(holder));
}

/** nameTokens of a name already folded (foldText). */
export function foldedNameTokens(folded: string): string[] {
  const tokens = new Set<string>();
  if (PRINTABLE_ASCII.test(folded)) {
    asciiTokens(folded, tokens);
    return [...tokens];
  }
  for (const word of folded.split(/\s+/u)) {
    const parts = word.split(SEPARATOR).filter((p) => p !== "");
    for (const p of parts) tokens.add(p);
    if (parts.length > 1) tokens.add(parts.join(""));
  }
  return [...tokens];
}

const isAsciiAlnum = (c: number) => (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39);

/**
 * The same for printable ASCII, in one pass (the regular expressions cost ~1.5 µs a name): words
 * end at blanks, parts at anything but a-z and 0-9; tokens go in the same order.
 */
function asciiTokens(folded: string, tokens: Set<string>): void {
  let parts: string[] = [];
  let start = -1;
  for (let i = 0; i <= folded.length; i++) {
    const c = i < folded.length ? folded.charCodeAt(i) : 0x20;
    if (isAsciiAlnum(c)) {
      if (start < 0) start = i;
      continue;
    }
    if (start >= 0) {
      const part = folded.slice(start, i);
      tokens.add(part);
      parts.push(part);
      start = -1;
    }
    if (c === 0x20) {
      if (parts.length > 1) tokens.add(parts.join(""));
      parts = [];
    }
  }
}

/** What the search keeps of a holder's name: the folded name and its tokens, blank-separated. */
export interface HolderKeys {
  readonly folded: string;
  readonly names: string;
}

/** foldText and nameTokens of one name, tokens joined by blanks (as the index stores them). */
export function holderKeys(holder: string): HolderKeys {
  const folded = foldText(holder);
  return { folded, names: foldedNameTokens(folded).join(" ") };
}

/** Latin letters that fold to lower-case ASCII letters and digits only (nearly all of them). */
const LATIN_TO_ALNUM: readonly boolean[] = LATIN.map((f) => /^[a-z0-9]+$/.test(f));

/**
 * Whether `word` folds character by character to printable ASCII without a blank: printable ASCII
 * but the blank, and Latin letters that fold to ASCII letters and digits.
 */
function foldsToAsciiWord(word: string): boolean {
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (c > 0x20 && c <= 0x7e) continue;
    if (c >= LATIN_FIRST && c <= LATIN_LAST && LATIN_TO_ALNUM[c - LATIN_FIRST]) continue;
    return false;
  }
  return true;
}

interface FoldedWord {
  readonly folded: string;
  readonly tokens: readonly string[];
}

/**
 * holderKeys for a whole venue's names (the bundle import). A crowd's names are nearly all
 * different, but they are made of far fewer words, which repeat: each word is folded and split once.
 * Same results as holderKeys (normalize.test.ts compares them): for text that folds character by
 * character to printable ASCII, folding keeps the blanks where they are, and the tokens of a name
 * are those of its blank-separated words in order, each once. Any other name takes holderKeys.
 */
export class HolderKeyCache {
  /** Folded word, or null for a word outside the shortcut (the whole name takes holderKeys). */
  private readonly words = new Map<string, FoldedWord | null>();

  keys(holder: string): HolderKeys {
    const words = holder.split(" ");
    let folded = "";
    const tokens: string[] = [];
    for (let i = 0; i < words.length; i++) {
      const word = this.word(words[i] ?? "");
      if (word === null) return holderKeys(holder);
      folded = i === 0 ? word.folded : `${folded} ${word.folded}`;
      for (const t of word.tokens) if (!tokens.includes(t)) tokens.push(t);
    }
    return { folded, names: tokens.join(" ") };
  }

  private word(raw: string): FoldedWord | null {
    let word = this.words.get(raw);
    if (word === undefined) {
      if (foldsToAsciiWord(raw)) {
        const folded = foldText(raw);
        word = { folded, tokens: foldedNameTokens(folded) };
      } else word = null;
      this.words.set(raw, word);
    }
    return word;
  }
}

/** The words of a name query, each folded and stripped of separators ("n'diaye" → "ndiaye"). */
export function queryWords(query: string): string[] {
  return foldText(query)
    .split(/\s+/u)
    .map((w) => w.split(SEPARATOR).join(""))
    .filter((w) => w !== "");
}

/** Order references compare exactly but case-insensitively, ignoring surrounding blanks. */
export function orderKey(reference: string): string {
  return reference.trim().toUpperCase();
}
