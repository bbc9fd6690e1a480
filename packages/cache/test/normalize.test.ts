import { describe, expect, it } from "vitest";
import { foldText, HolderKeyCache, holderKeys, nameTokens, queryWords } from "../src/normalize.js";

/*
 * normalize.ts takes shortcuts (printable ASCII skips Unicode normalization; the special letters
 * are replaced only when present): the results must be those of the plain Unicode algorithm, or
 * a name indexed one way would not be found when typed the other way.
 */

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
const reference = {
  fold: (text: string) =>
    text
      .normalize("NFKD")
      .replace(/\p{M}+/gu, "")
      .toLowerCase()
      .replace(/[øłıđðþßæœħŋ]/gu, (c) => FOLD[c] ?? c),
  tokens(holder: string) {
    const tokens = new Set<string>();
    for (const word of reference.fold(holder).split(/\s+/u)) {
      const parts = word.split(/[^\p{L}\p{N}]+/u).filter((p) => p !== "");
      for (const p of parts) tokens.add(p);
      if (parts.length > 1) tokens.add(parts.join(""));
    }
    return [...tokens];
  },
  words: (query: string) =>
    reference
      .fold(query)
      .split(/\s+/u)
      .map((w) => w.split(/[^\p{L}\p{N}]+/u).join(""))
      .filter((w) => w !== ""),
};

describe("name folding shortcuts", () => {
  it("give the plain Unicode algorithm's results", () => {
    const alphabet = [
      ..."abcXYZ019 -'._,\t\n\u00a0\u2009éÉèçÇñÑøØłŁßæœÆŒİıđðþħŋǅǄŉŦȸȹƁɃ\u0301\u0308ΑβγΣσςЖжüÜÅåﬁ²Ⅻ①!@#$%*\"()",
    ];
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const pick = (chars: readonly string[]) =>
      Array.from(
        { length: 1 + Math.floor(next() * 16) },
        () => chars[Math.floor(next() * chars.length)],
      ).join("");
    const ascii = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i));
    const samples = [
      "Hélène Dupré",
      "N'Diaye",
      "Søren Østergaard",
      "Marie-Ève",
      "JEAN-BAPTISTE O'NEILL",
      "  spaced   out  ",
      ...Array.from({ length: 20_000 }, () => pick(alphabet)),
      ...Array.from({ length: 20_000 }, () => pick(ascii)),
    ];
    // One comparison per function (an expect per sample would take seconds); the first
    // disagreement is named.
    const differs = (ours: (s: string) => unknown, theirs: (s: string) => unknown) =>
      samples.find((s) => JSON.stringify(ours(s)) !== JSON.stringify(theirs(s)));
    expect(differs(foldText, reference.fold)).toBeUndefined();
    expect(differs(nameTokens, reference.tokens)).toBeUndefined();
    expect(differs(queryWords, reference.words)).toBeUndefined();
    // Every character up to Cyrillic alone, then after an ASCII letter and before a mark.
    const chars = Array.from({ length: 0x530 }, (_, i) => String.fromCharCode(i));
    for (const c of chars)
      for (const t of [c, `A${c}b`, `${c}\u0301`, `Ab-${c}`])
        if (
          foldText(t) !== reference.fold(t) ||
          JSON.stringify(nameTokens(t)) !== JSON.stringify(reference.tokens(t))
        )
          expect.fail(`${JSON.stringify(t)}: ${foldText(t)} ≠ ${reference.fold(t)}`);
  });

  it("the import's per-word cache gives each name the keys of the name folded whole", () => {
    // Words that repeat across names (so that the cache serves them), in every mix of case,
    // accents, separators, doubled and edge blanks, and characters outside its shortcut.
    const words = [
      "Hélène",
      "HELENE",
      "Dupré",
      "N'Diaye",
      "n'diaye",
      "Søren",
      "Østergaard",
      "Marie-Ève",
      "O'Neill",
      "Jean-Baptiste",
      "ßtraße",
      "Æsir",
      "Łukasz",
      "İlker",
      "Ŧom",
      "×",
      "a×b",
      "ŉa",
      "Ǆura",
      "Σίσυφος",
      "Жанна",
      "e\u0301",
      "tab\tbed",
      "nb\u00a0sp",
      "x2",
      "-",
      "''",
      "",
    ];
    let seed = 11;
    const next = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const names = Array.from({ length: 20_000 }, () =>
      Array.from({ length: 1 + Math.floor(next() * 4) }, () => words[Math.floor(next() * words.length)]).join(
        " ",
      ),
    );
    const cache = new HolderKeyCache();
    const differs = names.find((n) => {
      const ours = cache.keys(n);
      const whole = holderKeys(n);
      return (
        ours.folded !== whole.folded ||
        ours.names !== whole.names ||
        whole.names !== reference.tokens(n).join(" ") ||
        whole.folded !== reference.fold(n)
      );
    });
    expect(differs).toBeUndefined();
    expect(cache.keys("Hélène  N'Diaye ")).toEqual({
      folded: "helene  n'diaye ",
      names: "helene n diaye ndiaye",
    });
  });
});
