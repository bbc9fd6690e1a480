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

/** Lower case, accents removed, special letters spelled out; separators kept. */
export function foldText(text: string): string {
  return text
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase()
    .replace(FOLD_RE, (c) => FOLD[c] ?? c);
}

const SEPARATOR = /[^\p{L}\p{N}]+/u;

/**
 * The tokens a holder's name is found by: each word, each part of a hyphenated or apostrophized
 * word, and that word joined ("N'Diaye" → n, diaye, ndiaye; "Jean-Baptiste" → jean, baptiste,
 * jeanbaptiste).
 */
export function nameTokens(holder: string): string[] {
  const tokens = new Set<string>();
  for (const word of foldText(holder).split(/\s+/u)) {
    const parts = word.split(SEPARATOR).filter((p) => p !== "");
    for (const p of parts) tokens.add(p);
    if (parts.length > 1) tokens.add(parts.join(""));
  }
  return [...tokens];
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
