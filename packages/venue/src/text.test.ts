import { describe, expect, it } from "vitest";
import { controlCharacter, printable } from "./text.js";

describe("text from outside", () => {
  it("finds control and bidirectional-override characters, line breaks only where allowed", () => {
    expect(controlCharacter("Hélène Ø'Brien-Nakamura 中村 عائشة")).toBeUndefined();
    expect(controlCharacter("Robert'); DROP TABLE tickets;-- <script>")).toBeUndefined();
    expect(controlCharacter("ab\u0000cd")).toBe("U+0000 at 3");
    expect(controlCharacter("\u202Eevil")).toBe("U+202E at 1");
    expect(controlCharacter("a\u2066b")).toBe("U+2066 at 2");
    expect(controlCharacter("line\nbreak")).toBe("U+000A at 5");
    expect(controlCharacter("line\nbreak", true)).toBeUndefined();
    expect(controlCharacter("tab\there", true)).toBe("U+0009 at 4");
    expect(controlCharacter("del\u007f")).toBe("U+007F at 4");
  });

  it("writes one log line whatever the text holds", () => {
    expect(printable("a\nALERT forged\r\u0000\u202e")).toBe("a\\u000aALERT forged\\u000d\\u0000\\u202e");
    expect(printable("plain, Hélène")).toBe("plain, Hélène");
  });
});
