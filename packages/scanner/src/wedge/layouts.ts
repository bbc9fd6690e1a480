/**
 * Keyboard layouts a wedge scanner can be configured for. A USB keyboard sends key positions
 * (`KeyboardEvent.code`), not characters; the scanner picks positions from its own layout
 * setting, and the kiosk's OS turns them into characters with *its* layout. Decoding the
 * positions with the scanner's layout gives what the scanner read, whatever the kiosk's layout.
 */
export type ScannerLayoutName = "us" | "fr";

/** Per key position: [no modifier, Shift, AltGr]; undefined where the key types nothing useful. */
type KeyTable = Readonly<Record<string, readonly [string, string, string?]>>;

function letters(swaps: Record<string, string> = {}): Record<string, readonly [string, string]> {
  const table: Record<string, readonly [string, string]> = {};
  for (const letter of "abcdefghijklmnopqrstuvwxyz") {
    const typed = swaps[letter] ?? letter;
    table[`Key${letter.toUpperCase()}`] = [typed, typed.toUpperCase()];
  }
  return table;
}

const NUMPAD: KeyTable = {
  Numpad0: ["0", "0"],
  Numpad1: ["1", "1"],
  Numpad2: ["2", "2"],
  Numpad3: ["3", "3"],
  Numpad4: ["4", "4"],
  Numpad5: ["5", "5"],
  Numpad6: ["6", "6"],
  Numpad7: ["7", "7"],
  Numpad8: ["8", "8"],
  Numpad9: ["9", "9"],
  NumpadAdd: ["+", "+"],
  NumpadSubtract: ["-", "-"],
  NumpadMultiply: ["*", "*"],
  NumpadDivide: ["/", "/"],
  NumpadDecimal: [".", "."],
  Space: [" ", " "],
};

const US: KeyTable = {
  ...letters(),
  ...NUMPAD,
  Digit1: ["1", "!"],
  Digit2: ["2", "@"],
  Digit3: ["3", "#"],
  Digit4: ["4", "$"],
  Digit5: ["5", "%"],
  Digit6: ["6", "^"],
  Digit7: ["7", "&"],
  Digit8: ["8", "*"],
  Digit9: ["9", "("],
  Digit0: ["0", ")"],
  Minus: ["-", "_"],
  Equal: ["=", "+"],
  BracketLeft: ["[", "{"],
  BracketRight: ["]", "}"],
  Backslash: ["\\", "|"],
  IntlBackslash: ["\\", "|"],
  Semicolon: [";", ":"],
  Quote: ["'", '"'],
  Backquote: ["`", "~"],
  Comma: [",", "<"],
  Period: [".", ">"],
  Slash: ["/", "?"],
};

// French AZERTY (the layout of French kiosks): digits need Shift; A/Q, Z/W and M move.
// BracketLeft holds the dead keys ^ and ¨, which a scanner never uses.
const FR: KeyTable = {
  ...letters({ q: "a", a: "q", w: "z", z: "w", m: "," }),
  ...NUMPAD,
  KeyM: [",", "?"],
  Semicolon: ["m", "M"],
  Digit1: ["&", "1"],
  Digit2: ["é", "2", "~"],
  Digit3: ['"', "3", "#"],
  Digit4: ["'", "4", "{"],
  Digit5: ["(", "5", "["],
  Digit6: ["-", "6", "|"],
  Digit7: ["è", "7", "`"],
  Digit8: ["_", "8", "\\"],
  Digit9: ["ç", "9", "^"],
  Digit0: ["à", "0", "@"],
  Minus: [")", "°", "]"],
  Equal: ["=", "+", "}"],
  BracketRight: ["$", "£", "¤"],
  Quote: ["ù", "%"],
  Backslash: ["*", "µ"],
  IntlBackslash: ["<", ">"],
  Comma: [";", "."],
  Period: [":", "/"],
  Slash: ["!", "§"],
  Backquote: ["²", "²"],
  KeyE: ["e", "E", "€"],
};

const LAYOUTS: Readonly<Record<ScannerLayoutName, KeyTable>> = { us: US, fr: FR };

export interface KeyStroke {
  readonly code: string;
  readonly shift: boolean;
  readonly altGraph: boolean;
}

/** The character a scanner configured for `layout` meant by this key stroke, or undefined. */
export function characterFor(layout: ScannerLayoutName, stroke: KeyStroke): string | undefined {
  const entry = LAYOUTS[layout][stroke.code];
  if (entry === undefined) return undefined;
  if (stroke.altGraph) return entry[2];
  return stroke.shift ? entry[1] : entry[0];
}

/** The key strokes a scanner configured for `layout` sends to type `text` (for simulators and tests). */
export function strokesFor(layout: ScannerLayoutName, text: string): KeyStroke[] {
  const reverse = new Map<string, KeyStroke>();
  for (const [code, [plain, shifted, altGraph]] of Object.entries(LAYOUTS[layout])) {
    if (code.startsWith("Numpad") && code !== "Space") continue;
    if (!reverse.has(plain)) reverse.set(plain, { code, shift: false, altGraph: false });
    if (!reverse.has(shifted)) reverse.set(shifted, { code, shift: true, altGraph: false });
    if (altGraph !== undefined && !reverse.has(altGraph))
      reverse.set(altGraph, { code, shift: false, altGraph: true });
  }
  return Array.from(text, (char) => {
    const stroke = reverse.get(char);
    if (stroke === undefined) throw new RangeError(`layout ${layout} cannot type ${JSON.stringify(char)}`);
    return stroke;
  });
}

/** What the kiosk's OS types for a stroke under *its* layout (to simulate a mismatched kiosk). */
export function typedBy(kioskLayout: ScannerLayoutName, stroke: KeyStroke): string | undefined {
  return characterFor(kioskLayout, stroke);
}
