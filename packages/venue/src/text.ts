/*
 * Text from outside (ticketing rows, supervisor messages, gates' and intruders' payloads) on its way
 * into names, screens and log lines. Control characters have no place in a name: a NUL cuts the
 * text short in some consumers, a line break forges a log line, and the bidirectional overrides
 * (U+202A–U+202E, U+2066–U+2069: "Trojan Source") make a name read differently from what it holds.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL_CLASS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/gu;

const codePoint = (c: string) => `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;

/**
 * The first control or bidirectional-override character of `text` ("U+0000 at 12"), or undefined.
 * `allowLineBreaks` lets a message keep its line feeds.
 */
export function controlCharacter(text: string, allowLineBreaks = false): string | undefined {
  for (const match of text.matchAll(CONTROL_CLASS)) {
    if (allowLineBreaks && match[0] === "\n") continue;
    return `${codePoint(match[0])} at ${match.index + 1}`;
  }
  return undefined;
}

/** `text` for one log line: control characters written as \u escapes, so nothing forges a line. */
export function printable(text: string): string {
  return text.replace(CONTROL_CLASS, (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`);
}
